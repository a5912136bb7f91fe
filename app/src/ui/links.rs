//! Links for every id the app shows: an address to its account page, a transaction id to its
//! transaction page, a height to its block page — so no id is a dead end.

use joule_light_client::{Address, Hash};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::model::{short_address, short_hash};

/// An address linking to its account page: shortened (whole on hover) unless `full`.
#[component]
pub fn AccountLink(address: Address, #[prop(optional)] full: bool) -> impl IntoView {
    let text = address.to_string();
    let shown = if full {
        text.clone()
    } else {
        short_address(&address)
    };
    view! { <A href=format!("/accounts/{text}") attr:class="mono" attr:title=text>{shown}</A> }
}

/// A transaction id linking to its page, shortened (whole on hover) unless `full`.
#[component]
pub fn TxLink(id: Hash, #[prop(optional)] full: bool) -> impl IntoView {
    let text = id.to_hex();
    let shown = if full { text.clone() } else { short_hash(&id) };
    view! { <A href=format!("/transactions/{text}") attr:class="mono" attr:title=text>{shown}</A> }
}

/// A block linking to its page, named by height.
#[component]
pub fn BlockLink(height: u64) -> impl IntoView {
    view! { <A href=format!("/blocks/{height}")>{format!("#{height}")}</A> }
}
