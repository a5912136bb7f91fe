//! `/market`: the community's energy market — its rules and clock proven (the gate's countdown
//! from the proven parameters and the verified head), the last clearing and the history of
//! prices and volumes from proven interval records, the open book's depth and the community's
//! production and consumption with the node's forecast and anomaly flags, labelled as the
//! node's.

use joule_light_client::api::{
    AnomaliesResponse, BookDepth, ForecastResponse, IntervalsPage, MarketResponse,
};
use joule_light_client::market::{IntervalRecord, MarketParams};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{format_bps, format_energy, format_price, mape_words};
use crate::proofs::{prove_market_params, prove_records};
use crate::ui::{
    depth, energy, price_band, price_volume, AccountLink, Claimed, NotVerified, ShapeChart,
    VerifiedMark,
};

/// Closed intervals the history chart shows.
const HISTORY: u64 = 48;

/// Pause between loads of the page's data.
const RELOAD_MS: u32 = 4_000;

/// What the page proved and what it shows as the node's.
#[derive(Clone)]
struct Market {
    block_interval_ms: u64,
    /// The parameters, proven (or why not).
    params: Result<MarketParams, String>,
    /// The latest closed intervals' records, newest first, proven (or why the page was not).
    records: Result<Vec<IntervalRecord>, String>,
    depth: Option<BookDepth>,
    forecast: Option<ForecastResponse>,
    flags: AnomaliesResponse,
}

async fn load(lc: LightClient) -> Result<Market, String> {
    let trust = live::trusted(lc).await;
    let answer: MarketResponse = api::get("/market").await?;
    let page: IntervalsPage = api::get(&format!("/market/intervals?limit={HISTORY}")).await?;
    let (params, records) = match &trust {
        Err(e) => (Err(e.clone()), Err(e.clone())),
        Ok(t) => {
            let params = match &answer.proof {
                None => Err("no block yet".to_owned()),
                Some(at) => live::proven_block_at(t, at.at.height)
                    .await
                    .and_then(|b| prove_market_params(&b, &answer)),
            };
            let records = live::proven_block_at(t, page.height).await.and_then(|b| {
                prove_records(&b, &page)
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()
            });
            (params, records)
        }
    };
    let depth = api::get(&format!("/market/intervals/{}/book", answer.open_interval))
        .await
        .ok();
    Ok(Market {
        block_interval_ms: trust.map_or(0, |t| t.genesis.block_interval_ms),
        params,
        records,
        depth,
        forecast: api::get("/market/forecast").await.ok(),
        flags: api::get("/market/anomalies")
            .await
            .unwrap_or(AnomaliesResponse { flags: Vec::new() }),
    })
}

/// The light client's verified head height (0 before the first).
pub(crate) fn verified_head(lc: LightClient) -> u64 {
    lc.follower
        .with(|f| f.as_ref().map_or(0, |f| f.trust().head_height))
}

/// `/market`.
#[component]
pub fn MarketPage() -> impl IntoView {
    let lc = expect_context::<LightClient>();
    // Loaded again a few seconds after each load completes (intervals clear and settle as the
    // chain moves): one load at a time, however slow, and none once the page is gone (the
    // signal is disposed, `try_set` fails).
    let data = RwSignal::new_local(None::<Result<Market, String>>);
    leptos::task::spawn_local(async move {
        loop {
            let m = load(lc).await;
            if data.try_set(Some(m)).is_some() {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(RELOAD_MS).await;
        }
    });
    view! {
        <h1>"Energy market"</h1>
        <p class="muted">"Prosumers offer what their meters will produce and bid for what they will use, interval by interval; each interval's book closes at its gate and clears at one price for everyone. Place orders from "<A href="/energy">"My energy"</A>"."</p>
        {move || data.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Ok(m) => view! { <MarketView m=m/> }.into_any(),
        }).unwrap_or_else(|| view! { <p class="muted">"Loading the market…"</p> }.into_any())}
    }
}

#[component]
fn MarketView(m: Market) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let block_ms = m.block_interval_ms;
    let clock = match m.params {
        Ok(p) => {
            let countdown = move || {
                let head = verified_head(lc);
                let open = p.first_open(head);
                let gate = p.gate(open).unwrap_or(head);
                let blocks = gate.saturating_sub(head);
                format!(
                    "Interval {open} takes orders until block #{gate}: {blocks} blocks, about {} s.",
                    blocks * block_ms / 1000
                )
            };
            let delivering = move || {
                p.interval_at(verified_head(lc))
                    .map_or("none yet".to_owned(), |i| i.to_string())
            };
            view! {
                <VerifiedMark id="market-verified" covers="the market's parameters proven in your browser; the clock computed from them and your verified head".into()/>
                <p id="countdown" role="timer">{countdown}</p>
                <dl class="kv">
                    <dt>"Delivering now"</dt><dd>"interval "{delivering}</dd>
                    <dt>"Interval"</dt><dd>{format!("{} blocks", p.interval_blocks)}</dd>
                    <dt>"Gate"</dt><dd>{format!("{} blocks before delivery", p.gate_blocks)}</dd>
                    <dt>"Readings"</dt><dd>{format!("within {} blocks after delivery", p.reading_blocks)}</dd>
                    <dt>"Market fee"</dt><dd id="market-fee">{format_bps(p.fee_bps.into())}</dd>
                    <dt>"Smallest order"</dt><dd>{format_energy(p.min_order_wh)}</dd>
                </dl>
            }
            .into_any()
        }
        Err(e) => view! { <NotVerified reason=e/> }.into_any(),
    };
    let history = match m.records {
        Ok(records) => {
            let cleared: Vec<(u64, u64, u64)> = records
                .iter()
                .rev()
                .map(|r| {
                    r.clearing
                        .as_ref()
                        .map_or((r.interval, 0, 0), |c| (r.interval, c.price, c.volume_wh))
                })
                .collect();
            let last = records
                .iter()
                .find_map(|r| r.clearing.as_ref().map(|c| (r.interval, c.clone())));
            let summary = last.map_or_else(
                || view! { <p class="muted">"No interval has cleared yet."</p> }.into_any(),
                |(i, c)| view! {
                    <p id="last-clearing">
                        "Last clearing: "<A href=format!("/market/intervals/{i}")>{format!("interval {i}")}</A>
                        {format!(" at {} for {}.", format_price(c.price), format_energy(c.volume_wh))}
                    </p>
                }
                .into_any(),
            );
            let rows = records
                .into_iter()
                .take(12)
                .map(|r| {
                    let (price, volume) = r
                        .clearing
                        .as_ref()
                        .map_or(("no cross".to_owned(), "—".to_owned()), |c| {
                            (format_price(c.price), format_energy(c.volume_wh))
                        });
                    let delivered = r.settlement.map_or("not yet settled".to_owned(), |s| {
                        format_energy(s.delivered_wh)
                    });
                    let i = r.interval;
                    view! {
                        <tr>
                            <td><A href=format!("/market/intervals/{i}")>{i}</A></td>
                            <td>{price}</td><td>{volume}</td><td>{delivered}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <VerifiedMark id="records-verified" covers="every closed interval below proven in your browser".into()/>
                {summary}
                <ShapeChart id="price-chart" caption="Clearing price (line) and volume (bars) per interval" label="Clearing price and matched volume of the latest intervals"
                    shapes=price_volume(&cleared) legend=format!("{} intervals, oldest on the left", cleared.len())/>
                <table class="rows">
                    <thead><tr><th>"Interval"</th><th>"Price"</th><th>"Volume"</th><th>"Delivered"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
        Err(e) => view! { <NotVerified reason=e/> }.into_any(),
    };
    let book = m.depth.map(|d| {
        let bid: u64 = d.bids.iter().map(|l| l.qty_wh).sum();
        let ask: u64 = d.asks.iter().map(|l| l.qty_wh).sum();
        let legend = format!(
            "As of block #{}{}: {} bid in {} orders, {} offered in {} orders",
            d.height,
            if d.open { "" } else { " (closed at its gate)" },
            format_energy(bid),
            d.bids.iter().map(|l| l.orders).sum::<u32>(),
            format_energy(ask),
            d.asks.iter().map(|l| l.orders).sum::<u32>()
        );
        view! {
            <Claimed what="the open book's depth" note="the sum of every open order: your browser would have to fetch each to check it. The closed book is proven after the gate.">
                <ShapeChart id="depth-chart" caption=format!("Interval {}'s book: bids (falling) and offers (rising) by price", d.interval)
                    label="Cumulative bids and offers by price" shapes=depth(&d.bids, &d.asks) legend=legend/>
            </Claimed>
        }
    });
    let community = m.forecast.map(|f| {
        let legend = format!(
            "Production and consumption per settled interval, then the forecast of the next {} with its band. One interval ahead, production's error (MAPE) {}; consumption's {}; the clearing price's {}.",
            f.forecast.len(),
            mape_words(&f.production_error),
            mape_words(&f.consumption_error),
            mape_words(&f.price_error)
        );
        let band = (!f.price_forecast.is_empty()).then(|| view! {
            <ShapeChart id="price-forecast-chart" caption="Clearing price forecast for the open intervals, with its band"
                label="Expected clearing price of the next intervals inside its band" shapes=price_band(&f.price_forecast)
                legend=format!("intervals {} to {}", f.price_forecast.first().map_or(0, |p| p.0), f.price_forecast.last().map_or(0, |p| p.0))/>
        });
        let prices = f
            .price_forecast
            .iter()
            .map(|(i, p)| {
                let whole = |v: f64| if v.is_finite() && v > 0.0 { v as u64 } else { 0 };
                view! { <li>{format!("interval {i}: about {} (between {} and {})", format_price(whole(p[0])), format_price(whole(p[1])), format_price(whole(p[2])))}</li> }
            })
            .collect_view();
        view! {
            <Claimed what="the community's energy and its forecast" note="computed by the node from the readings its chain accepted: an opinion, with its measured error.">
                <ShapeChart id="energy-chart" caption="Community production and consumption" label="Production and consumption per interval with the forecast"
                    shapes=energy(&f.history, &f.forecast) legend=legend/>
                {band}
                <ul id="price-forecast">{prices}</ul>
            </Claimed>
        }
    });
    let flags = (!m.flags.flags.is_empty()).then(|| {
        let items = m
            .flags
            .flags
            .iter()
            .map(|f| view! { <li><AccountLink address=f.meter/>{format!(" {} (from interval {})", f.anomaly, f.interval)}</li> })
            .collect_view();
        view! {
            <Claimed what="meters flagged for maintenance" note="the node's anomaly rules compare each meter with its kind, capacity, neighbours and own history.">
                <ul id="anomalies">{items}</ul>
            </Claimed>
        }
    });
    view! {
        <section><h2>"Now"</h2>{clock}</section>
        <section><h2>"Cleared intervals"</h2>{history}</section>
        <section><h2>"Open book"</h2>{book}</section>
        <section><h2>"Community energy"</h2>{community}{flags}</section>
    }
}
