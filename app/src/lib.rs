//! Joule's browser app: the explorer, with the light client verifying what it shows.
#![warn(missing_docs)]

pub mod api;
pub mod follow;
pub mod model;
pub mod pages;
pub mod search;
pub mod storage;
pub mod wallet;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// `Date.now()`, in milliseconds.
pub fn now_ms() -> u64 {
    date_now() as u64
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

/// Runs the light client in the background for the whole session, a step a second.
fn start_light_client() -> follow::LightClient {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    let lc = follow::LightClient {
        follower: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    let busy = Rc::new(Cell::new(false));
    let run = move || {
        if busy.replace(true) {
            return; // the previous step is still fetching
        }
        let busy = busy.clone();
        leptos::task::spawn_local(async move {
            let current = lc.follower.get_untracked();
            match follow::step(current, now_ms()).await {
                Ok(f) => {
                    lc.follower.set(Some(f));
                    lc.error.set(None);
                }
                Err(e) => lc.error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    run();
    if let Ok(handle) = set_interval_with_handle(run, Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    lc
}

/// The app: header and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_context(start_light_client());
    let wallet = wallet::session::WalletSession::new();
    provide_context(wallet);
    // The idle lock: checked every few seconds, whatever page is open.
    if let Ok(handle) = set_interval_with_handle(
        move || wallet.lock_if_idle(now_ms()),
        std::time::Duration::from_secs(5),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <Router>
            <header>
                <A href="/" attr:class="brand">"⚡ Joule"</A>
                <span class="muted">"explorer · devnet"</span>
                <A href="/wallet" attr:id="nav-wallet">"Wallet"</A>
                <search::SearchBox/>
            </header>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::Dashboard/>
                    <Route path=path!("/blocks/:height") view=pages::BlockPage/>
                    <Route path=path!("/blocks/:height/shards/:shard") view=pages::ShardBlockPage/>
                    <Route path=path!("/accounts/:address") view=pages::AccountPage/>
                    <Route path=path!("/transactions/:id") view=pages::TransactionPage/>
                    <Route path=path!("/wallet") view=pages::WalletPage/>
                </Routes>
            </main>
        </Router>
    }
}
