//! One account: balance and nonce verified against a shard state root, its history
//! (paginated), and a CSV export of the whole history.

use joule_light_client::api::{AccountResponse, BlockResponse};
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Payload};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{history_csv, short_hash, under, verify_account_state, Verdict};
use crate::ui::{download_text, page_param, CopyButton, NotVerified, Pager};

/// Transactions per page.
const PAGE: u32 = 25;

/// Page size when exporting (the API's largest).
const EXPORT_PAGE: u32 = 100;

/// Rows exported at most (a devnet faucet account can have a very long history).
const EXPORT_MAX: u64 = 10_000;

async fn load(
    lc: LightClient,
    address: String,
    page: u32,
) -> Result<(AccountResponse, Verdict), String> {
    // Checked here too, so a typo gets a clear message without a round trip.
    let address = Address::parse(&address).map_err(|e| format!("not an address: {e}"))?;
    verified_account_page(lc, address, page).await
}

/// An account's state from the node, verified in this browser (commit → shard header →
/// state proof).
pub async fn verified_account(
    lc: LightClient,
    address: Address,
) -> Result<(AccountResponse, Verdict), String> {
    verified_account_page(lc, address, 0).await
}

async fn verified_account_page(
    lc: LightClient,
    address: Address,
    page: u32,
) -> Result<(AccountResponse, Verdict), String> {
    let acc: AccountResponse =
        api::get(&format!("/accounts/{address}?page={page}&limit={PAGE}")).await?;
    let verdict = match &acc.proof {
        Some(p) => {
            let block: BlockResponse = api::get(&format!("/blocks/{}", p.at.height)).await?;
            let trust = live::trusted(lc).await;
            under(&trust, |t| verify_account_state(t, &block, &acc))
        }
        None => Verdict::Failed("no block yet: nothing to verify against".into()),
    };
    Ok((acc, verdict))
}

/// Every page of `address`'s history as CSV (at most [`EXPORT_MAX`] rows); the row count.
async fn export(address: Address) -> Result<usize, String> {
    let mut items = Vec::new();
    for page in 0.. {
        let acc: AccountResponse = api::get(&format!(
            "/accounts/{address}?page={page}&limit={EXPORT_PAGE}"
        ))
        .await?;
        let done = acc.transactions.items.len() < EXPORT_PAGE as usize;
        items.extend(acc.transactions.items);
        if done || items.len() as u64 >= acc.transactions.total.min(EXPORT_MAX) {
            break;
        }
    }
    items.truncate(EXPORT_MAX as usize);
    download_text(
        &format!("joule-{address}.csv"),
        "text/csv;charset=utf-8",
        &history_csv(&address, &items),
    )?;
    Ok(items.len())
}

/// `/accounts/:address?page=N`.
#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let lc = expect_context::<LightClient>();
    let data = LocalResource::new(move || {
        let page = page_param(query);
        load(lc, params.read().get("address").unwrap_or_default(), page)
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading account…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((acc, verdict)) => view! { <AccountView acc=acc verdict=verdict/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The export button and what became of the last export.
#[component]
fn ExportButton(address: Address, total: u64) -> impl IntoView {
    let note = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let run = move |_| {
        busy.set(true);
        spawn_local(async move {
            note.set(Some(export(address).await.map(|n| {
                let capped = if total > EXPORT_MAX {
                    format!(" (the newest {EXPORT_MAX})")
                } else {
                    String::new()
                };
                let noun = if n == 1 {
                    "transaction"
                } else {
                    "transactions"
                };
                format!("Saved {n} {noun}{capped} as CSV.")
            })));
            busy.set(false);
        });
    };
    view! {
        <button type="button" id="export-csv" on:click=run disabled=move || busy.get() || total == 0>
            {move || if busy.get() { "Exporting…" } else { "Export history (CSV)" }}
        </button>
        {move || note.get().map(|r| match r {
            Ok(m) => view! { <span class="muted" id="export-note" role="status">" "{m}</span> }.into_any(),
            Err(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
        })}
    }
}

#[component]
fn AccountView(acc: AccountResponse, verdict: Verdict) -> impl IntoView {
    let at = acc.proof.as_ref().map(|p| p.at.height);
    let mark = match verdict {
        Verdict::Verified => {
            let what = if acc.exists {
                "Balance and nonce"
            } else {
                "That no account exists here"
            };
            view! {
                <p class="verified" id="account-verified">{format!(
                    "✓ {what} verified in your browser against the state root of block #{}, whose commit you verified.",
                    at.unwrap_or_default()
                )}</p>
            }
            .into_any()
        }
        Verdict::Failed(reason) => view! { <NotVerified reason=reason/> }.into_any(),
    };
    let fields = vec![
        ("Shard", acc.shard.to_string()),
        (
            "Balance",
            format!("{} JOULE", format_amount(acc.account.balance)),
        ),
        ("Nonce", acc.account.nonce.to_string()),
        ("Next nonce (with pending)", acc.next_nonce.to_string()),
    ];
    let history = acc
        .transactions
        .items
        .iter()
        .map(|t| {
            let (to, amount) = match &t.tx.tx.payload {
                Payload::Transfer { to, amount } => (to.to_string(), format_amount(*amount)),
                _ => ("—".to_owned(), "—".to_owned()),
            };
            let (id_href, id_text) = (format!("/transactions/{}", t.id), short_hash(&t.id));
            let (block_href, block_text) =
                (format!("/blocks/{}", t.height), format!("#{}", t.height));
            view! {
                <tr>
                    <td class="mono"><A href=id_href>{id_text}</A></td>
                    <td><A href=block_href>{block_text}</A></td>
                    <td class="mono hide-narrow">{t.sender.to_string()}</td>
                    <td class="mono hide-narrow">{to}</td>
                    <td>{amount}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = acc.transactions.items.is_empty();
    let total = acc.transactions.total;
    let pages = total.div_ceil(u64::from(PAGE)).max(1);
    let page = acc.transactions.page;
    let address = acc.address;
    view! {
        <h1>"Account"</h1>
        {mark}
        <table><tbody>
            <tr><th>"Address"</th><td class="mono" id="acc-address">{address.to_string()}" "<CopyButton text=address.to_string() what="address"/></td></tr>
            {fields.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono" id=format!("acc-{}", k.split(' ').next().unwrap_or(k).to_lowercase())>{v}</td></tr> }).collect_view()}
        </tbody></table>
        <h2>{format!("Transactions ({total})")}</h2>
        <p><ExportButton address=address total=total/></p>
        {if empty {
            view! { <p class="muted">"No transactions yet."</p> }.into_any()
        } else {
            view! {
                <p class="muted">{format!("Page {} of {pages}, newest first.", page + 1)}</p>
                <table>
                    <thead><tr><th>"Id"</th><th>"Block"</th><th class="hide-narrow">"From"</th><th class="hide-narrow">"To"</th><th>"Amount"</th></tr></thead>
                    <tbody>{history}</tbody>
                </table>
                <Pager base=format!("/accounts/{address}") page=page pages=pages/>
            }.into_any()
        }}
    }
}
