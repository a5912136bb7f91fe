//! Pages whose code loads when first opened: with the `split` feature (the release build,
//! scripts/build-wasm.sh) each lives in its own wasm module, fetched on the first visit, so the
//! module every visitor downloads stays small; without it (tests) the page renders directly.

/// Declares `$route`, a component for a `<Route>`, that shows `$page` once its code is loaded.
/// `$loader` names the split point (and its module, `split_<loader>_<hash>.wasm`).
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident, $loader:ident, $page:path) => {
        #[cfg(feature = "split")]
        #[leptos::lazy]
        fn $loader() -> leptos::prelude::AnyView {
            leptos::prelude::IntoAny::into_any($page())
        }

        #[cfg(not(feature = "split"))]
        async fn $loader() -> leptos::prelude::AnyView {
            leptos::prelude::IntoAny::into_any($page())
        }

        $(#[$doc])*
        #[leptos::component]
        pub fn $route() -> impl leptos::prelude::IntoView {
            use leptos::prelude::*;
            view! {
                <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading the page…"</p> }>
                    {Suspend::new(async move { $loader().await })}
                </Suspense>
            }
        }
    };
}

lazy_page!(
    /// The wallet: its key derivation, vault and signing load with it.
    WalletRoute,
    wallet_page,
    crate::pages::WalletPage
);

lazy_page!(
    /// The DAO: proposals by state, governance's parameters and their history.
    DaoRoute,
    dao_page,
    crate::pages::DaoPage
);

lazy_page!(
    /// One proposal: its tallies recomputed from proven shard tallies, its votes, voting.
    ProposalRoute,
    proposal_page,
    crate::pages::ProposalPage
);

lazy_page!(
    /// The energy market: its clock, cleared intervals, open book and community energy.
    MarketRoute,
    market_page,
    crate::pages::MarketPage
);

lazy_page!(
    /// One interval: its clearing recomputed from the proven books, its fills.
    IntervalRoute,
    interval_page,
    crate::pages::IntervalPage
);

lazy_page!(
    /// My energy: orders, trades, meters and certificates, signed in the page.
    EnergyRoute,
    energy_page,
    crate::pages::EnergyPage
);
