//! The warning every page shows instead of its verified mark when a check fails.

use leptos::prelude::*;

/// "✗ Not verified: {reason}", announced to screen readers.
#[component]
pub fn NotVerified(reason: String) -> impl IntoView {
    view! { <p class="unverified" role="alert">{format!("✗ Not verified: {reason}")}</p> }
}
