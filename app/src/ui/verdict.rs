//! The marks that say what this browser proved, and the frame around what it did not.

use leptos::prelude::*;

/// "✗ Not verified: {reason}", announced to screen readers.
#[component]
pub fn NotVerified(reason: String) -> impl IntoView {
    view! { <p class="unverified" role="alert">{format!("✗ Not verified: {reason}")}</p> }
}

/// "✓ {covers}": `covers` says exactly what the browser proved, and the mark covers only the
/// values rendered from the light client's proven types beside it.
#[component]
pub fn VerifiedMark(
    /// The element id (tests and links find the mark by it).
    id: &'static str,
    /// What the mark covers.
    covers: String,
) -> impl IntoView {
    view! { <p class="verified" id=id>{format!("✓ {covers}")}</p> }
}

/// What the node says but nothing here proves: outside every mark, and labelled so.
#[component]
pub fn Claimed(
    /// What it is ("this account's history").
    what: &'static str,
    /// Why it is not proven, or how to get it proven.
    note: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="claimed">
            <p class="claim-label">{format!("Reported by the node, not verified: {what}. ")}<span class="muted">{note}</span></p>
            {children()}
        </section>
    }
}
