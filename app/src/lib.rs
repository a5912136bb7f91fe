//! Joule's browser app: the explorer, with the light client verifying what it shows.
#![warn(missing_docs)]

pub mod api;
pub mod model;
pub mod pages;
pub mod search;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The app: header and routes.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header>
                <A href="/" attr:class="brand">"⚡ Joule"</A>
                <span class="muted">"explorer · devnet"</span>
                <search::SearchBox/>
            </header>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::Dashboard/>
                    <Route path=path!("/blocks/:height") view=pages::BlockPage/>
                    <Route path=path!("/blocks/:height/shards/:shard") view=pages::ShardBlockPage/>
                    <Route path=path!("/accounts/:address") view=pages::AccountPage/>
                    <Route path=path!("/transactions/:id") view=pages::TransactionPage/>
                </Routes>
            </main>
        </Router>
    }
}
