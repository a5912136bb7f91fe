//! Joule's browser app: the explorer, wallet, energy market and DAO, with the light client
//! verifying what they show against a checkpoint the user trusts.
#![warn(missing_docs)]

pub mod api;
pub mod follow;
pub mod lazy;
pub mod live;
pub mod model;
pub mod pages;
pub mod proofs;
pub mod search;
pub mod storage;
pub mod stream;
pub mod trust_root;
pub mod ui;
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

/// "Simulated community" in the header when the node runs its simulator: the prosumers
/// trading and voting are not people (the node's word, shown as such, not under a ✓).
#[component]
fn SimulatedBadge() -> impl IntoView {
    let sim = RwSignal::new(None::<joule_light_client::api::SimulationInfo>);
    leptos::task::spawn_local(async move {
        if let Ok(chain) = api::get::<joule_light_client::api::ChainInfo>("/chain").await {
            sim.set(chain.simulation);
        }
    });
    move || {
        sim.get().map(|s| {
            let title = format!(
                "The node runs a community simulator (seed {}): its {} prosumers' meters follow simulated sun, wind and load, one market interval standing for {} simulated minutes.",
                s.seed, s.prosumers, s.minutes_per_interval
            );
            view! {
                <span class="badge" id="simulated" title=title>
                    {format!("simulated community · {} prosumers", s.prosumers)}
                </span>
            }
        })
    }
}

/// The app: header and routes.
#[component]
pub fn App() -> impl IntoView {
    ui::apply_stored_theme();
    let lc = live::start();
    provide_context(lc);
    // The trust gate replaces every page until the user has settled which chain to trust.
    let gate = Memo::new(move |_| lc.root.get().filter(|r| r.trusted().is_none()));
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
                <SimulatedBadge/>
                <A href="/market" attr:id="nav-market">"Market"</A>
                <A href="/energy" attr:id="nav-energy">"My energy"</A>
                <A href="/dao" attr:id="nav-dao">"DAO"</A>
                <A href="/wallet" attr:id="nav-wallet">"Wallet"</A>
                <search::SearchBox/>
                <ui::ThemeToggle/>
            </header>
            <main>
                {move || lc.link.get().and_then(Result::err).map(|e| view! { <p class="error" role="alert" id="link-error">{e}</p> })}
                <Show
                    when=move || gate.with(Option::is_none)
                    fallback=move || gate.get().map(|root| view! { <pages::TrustGate root=root/> })
                >
                    <Routes fallback=|| view! { <pages::NotFound/> }>
                        <Route path=path!("/") view=pages::Dashboard/>
                        <Route path=path!("/blocks") view=pages::BlockListPage/>
                        <Route path=path!("/blocks/:height") view=pages::BlockPage/>
                        <Route path=path!("/blocks/:height/shards/:shard") view=pages::ShardBlockPage/>
                        <Route path=path!("/accounts/:address") view=pages::AccountPage/>
                        <Route path=path!("/transactions/:id") view=pages::TransactionPage/>
                        <Route path=path!("/wallet") view=lazy::WalletRoute/>
                        <Route path=path!("/market") view=lazy::MarketRoute/>
                        <Route path=path!("/market/intervals/:interval") view=lazy::IntervalRoute/>
                        <Route path=path!("/energy") view=lazy::EnergyRoute/>
                        <Route path=path!("/dao") view=lazy::DaoRoute/>
                        <Route path=path!("/dao/proposals/:id") view=lazy::ProposalRoute/>
                    </Routes>
                </Show>
            </main>
        </Router>
    }
}
