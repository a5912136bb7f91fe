//! "← Newer · Older →" links for a paginated list whose page is in the `?page=` query.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::params::ParamsMap;

/// The page number in the `?page=` query (0 when absent or not a number).
pub fn page_param(query: Memo<ParamsMap>) -> u32 {
    query
        .read()
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Links to the neighbouring pages of `base` (a path without query), page `page` (from 0)
/// of `pages`.
#[component]
pub fn Pager(base: String, page: u32, pages: u64) -> impl IntoView {
    let prev = (page > 0).then(|| {
        let href = format!("{base}?page={}", page - 1);
        view! { <A href=href>"← Newer"</A> }
    });
    let next = (u64::from(page) + 1 < pages).then(|| {
        let href = format!("{base}?page={}", page + 1);
        view! { <A href=href>"Older →"</A> }
    });
    view! { <nav class="pager" aria-label="Pages">{prev}" "{next}</nav> }
}
