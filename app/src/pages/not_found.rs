//! The 404 page.

use leptos::prelude::*;
use leptos_router::components::A;

/// Shown for unknown paths.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. " <A href="/">"Back to the dashboard"</A></p>
    }
}
