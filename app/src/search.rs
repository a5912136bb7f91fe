//! The search box in the header: a height, a block or transaction hash (or its first digits),
//! or an address goes to its page; a prefix several share lists them; anything else says why
//! not.

use joule_light_client::api::SearchResult;
use joule_light_client::Hash;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api;
use crate::model::short_hash;

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode_query(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a search result lives in the app.
pub fn route_of(result: &SearchResult) -> String {
    match result {
        SearchResult::Block { height, .. } => format!("/blocks/{height}"),
        SearchResult::Transaction { id } => format!("/transactions/{id}"),
        SearchResult::Account { address } => format!("/accounts/{address}"),
        // Listed for the user to pick; the route is only a fallback.
        SearchResult::Several {
            blocks,
            transactions,
        } => match (blocks.first(), transactions.first()) {
            (Some(height), _) => format!("/blocks/{height}"),
            (None, Some(id)) => format!("/transactions/{id}"),
            (None, None) => "/".into(),
        },
    }
}

/// The links a prefix several hashes share offers: (route, label).
fn matches_of(blocks: &[u64], transactions: &[Hash]) -> Vec<(String, String)> {
    let blocks = blocks
        .iter()
        .map(|h| (format!("/blocks/{h}"), format!("Block #{h}")));
    let txs = transactions.iter().map(|id| {
        (
            format!("/transactions/{id}"),
            format!("Transaction {}", short_hash(id)),
        )
    });
    blocks.chain(txs).collect()
}

/// The header's search form.
#[component]
pub fn SearchBox() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let several = RwSignal::new(Vec::<(String, String)>::new());
    let navigate = use_navigate();
    // An error is about the query that caused it: it goes when the page changes.
    let location = use_location();
    // (A memo's `track()` does not make it recompute, so its value is read instead.)
    Effect::new(move |_| {
        let _path = location.pathname.get();
        error.set(None);
        several.set(Vec::new());
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked().trim().to_owned();
        if q.is_empty() {
            error.set(Some("Type a height, a hash or an address.".into()));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            let path = format!("/search?q={}", encode_query(&q));
            match api::get::<SearchResult>(&path).await {
                Ok(SearchResult::Several {
                    blocks,
                    transactions,
                }) => {
                    error.set(None);
                    several.set(matches_of(&blocks, &transactions));
                }
                Ok(r) => {
                    error.set(None);
                    query.set(String::new());
                    navigate(&route_of(&r), Default::default());
                }
                Err(e) => {
                    several.set(Vec::new());
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <form class="search" role="search" on:submit=on_submit>
            <label for="search" class="visually-hidden">"Search by height, hash or address"</label>
            <input id="search" type="search" placeholder="Height, hash or address"
                aria-describedby="search-error"
                prop:value=move || query.get()
                on:input=move |ev| {
                    error.set(None);
                    several.set(Vec::new());
                    query.set(event_target_value(&ev))
                }/>
            <button type="submit">"Search"</button>
            {move || error.get().map(|e| view! { <p class="error" id="search-error" role="alert">{e}</p> })}
            {move || {
                let matches = several.get();
                (!matches.is_empty()).then(move || view! {
                    <div id="search-matches" role="status">
                        <p>{format!("{} hashes start with that:", matches.len())}</p>
                        <ul>
                            {matches.into_iter().map(|(href, label)| view! {
                                <li><a href=href>{label}</a></li>
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::Address;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn queries_are_encoded_and_results_routed() {
        assert_eq!(encode_query("joule1ab c&d"), "joule1ab%20c%26d");
        assert_eq!(
            route_of(&SearchResult::Block {
                height: 7,
                hash: Hash::ZERO
            }),
            "/blocks/7"
        );
        let id = Hash([1; 32]);
        assert_eq!(
            route_of(&SearchResult::Transaction { id }),
            format!("/transactions/{id}")
        );
        let address = Address([2; 20]);
        assert_eq!(
            route_of(&SearchResult::Account { address }),
            format!("/accounts/{address}")
        );
        let several = SearchResult::Several {
            blocks: vec![],
            transactions: vec![id],
        };
        assert_eq!(route_of(&several), format!("/transactions/{id}"));
        let listed = matches_of(&[3], &[id]);
        assert_eq!(listed[0], ("/blocks/3".to_owned(), "Block #3".to_owned()));
        assert!(listed[1].1.starts_with("Transaction 0101"));
    }
}
