//! "« Newest · ← Newer · page 2 of 9 · Older → · Oldest »" links for a paginated list whose
//! page is in the `?page=` query.

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

/// Links to the first, neighbouring and last pages of `base` (a path without query), page
/// `page` (from 0) of `pages`.
#[component]
pub fn Pager(base: String, page: u32, pages: u64) -> impl IntoView {
    let last = pages.saturating_sub(1).min(u64::from(u32::MAX)) as u32;
    let link = |to: u32, text: &'static str| {
        let href = format!("{base}?page={to}");
        view! { <A href=href>{text}</A>" " }
    };
    let back = (page > 0).then(|| (link(0, "« Newest"), link(page - 1, "← Newer")));
    let forward = (page < last).then(|| (link(page + 1, "Older →"), link(last, "Oldest »")));
    view! {
        <nav class="pager" aria-label="Pages">
            {back}
            <span class="muted">{format!("page {} of {} ", page + 1, pages.max(1))}</span>
            {forward}
        </nav>
    }
}
