//! `/blocks?before=N`: every block, newest first, 25 a page, as the node lists them; each
//! links to its page, where its commit is verified.

use joule_light_client::api::BlockList;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::dashboard::BlockTable;
use crate::api;
use crate::ui::loaded;

/// Blocks a page.
const PAGE: u64 = 25;

/// `/blocks`.
#[component]
pub fn BlockListPage() -> impl IntoView {
    let query = use_query_map();
    let data = loaded(move || {
        let before = query.read().get("before");
        Box::pin(async move {
            let at = before.map_or(String::new(), |b| format!("&before={b}"));
            api::get::<BlockList>(&format!("/blocks?limit={PAGE}{at}")).await
        })
    });
    view! {
        <h1>"Blocks"</h1>
        <p class="claim-label">"As the node lists them, newest first; open one to verify it."</p>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(list) => {
                    let newer = list.blocks.first().map(|b| b.height + PAGE + 1);
                    let older = list.next_before;
                    let blocks = Signal::stored(list.blocks);
                    view! {
                        <BlockTable blocks=blocks rows=PAGE as usize/>
                        <nav class="pager" aria-label="Pages">
                            <A href="/blocks">"« Newest"</A>" "
                            {newer.map(|n| view! { <A href=format!("/blocks?before={n}")>"← Newer"</A>" " })}
                            {older.map(|o| view! { <A href=format!("/blocks?before={o}")>"Older →"</A>" " })}
                            <A href=format!("/blocks?before={}", PAGE + 1)>"Oldest »"</A>
                        </nav>
                    }
                    .into_any()
                }
            }).unwrap_or_else(|| view! { <p class="muted">"Loading blocks…"</p> }.into_any())}
    }
}
