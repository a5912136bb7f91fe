//! `/market/intervals/:interval`: one delivery interval — its clearing recomputed in this
//! browser from every shard's proven book (the ✓ says so only when the light client's
//! `verify_clearing` got the record's result), each shard's curve, and every order's fill and
//! settlement, each proven in its block's events root.

use std::collections::BTreeMap;

use joule_light_client::api::{EventItem, IntervalResponse, Page};
use joule_light_client::event::{Stage, Trade};
use joule_light_client::market::Side;
use joule_light_client::units::format_amount;
use joule_light_client::ProvenBlock;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{format_energy, format_price, iso_utc, local_time};
use crate::proofs::{prove_interval, prove_trade, Recomputed, Trust};
use crate::ui::{loaded, AccountLink, BlockLink, NotVerified, VerifiedMark};

#[derive(Clone)]
struct Interval {
    answer: IntervalResponse,
    /// The clearing recomputed (`Ok(None)`: the gate has not passed), or why not.
    recomputed: Result<Option<Recomputed>, String>,
    /// Every order's fill and settlement, each proven (or why not).
    trades: Vec<(Trade, Result<(), String>)>,
    /// The chain's clock from the trusted genesis: its start and block interval, ms.
    clock: Option<(u64, u64)>,
}

/// Proves each event in its own block, fetching each block once.
pub(crate) async fn prove_trades(
    trust: Result<&Trust, &str>,
    items: &[EventItem],
) -> Vec<(Trade, Result<(), String>)> {
    let mut blocks: BTreeMap<u64, Result<ProvenBlock, String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let verdict = match trust {
            Err(e) => Err(e.to_owned()),
            Ok(t) => {
                if let std::collections::btree_map::Entry::Vacant(e) = blocks.entry(item.height) {
                    e.insert(live::proven_block_at(t, item.height).await);
                }
                blocks[&item.height]
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|b| prove_trade(b, item))
                    .map(|_| ())
            }
        };
        let joule_light_client::event::Event::Trade(t) = item.event;
        out.push((t, verdict));
    }
    out
}

async fn load(lc: LightClient, interval: String) -> Result<Interval, String> {
    let interval: u64 = interval
        .parse()
        .map_err(|_| format!("“{interval}” is not an interval number"))?;
    let answer: IntervalResponse = api::get(&format!("/market/intervals/{interval}")).await?;
    let trust = live::trusted(lc).await;
    let recomputed = match &trust {
        Err(e) => Err(e.clone()),
        Ok(t) => live::proven_block_at(t, answer.height)
            .await
            .and_then(|b| prove_interval(&b, interval, &answer)),
    };
    let page: Page<EventItem> =
        api::get(&format!("/market/intervals/{interval}/trades?limit=100")).await?;
    let trades = prove_trades(trust.as_ref().map_err(String::as_str), &page.items).await;
    let clock = trust.as_ref().ok().map(Trust::clock);
    Ok(Interval {
        clock,
        answer,
        recomputed,
        trades,
    })
}

/// `/market/intervals/:interval`.
#[component]
pub fn IntervalPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let data =
        loaded(move || Box::pin(load(lc, params.read().get("interval").unwrap_or_default())));
    view! {
        {move || data.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Ok(i) => view! { <IntervalView i=i/> }.into_any(),
        }).unwrap_or_else(|| view! { <p class="muted">"Loading the interval…"</p> }.into_any())}
    }
}

/// A trade in words: "sold 3.2 kWh", "settled: received 2.9 kWh, paid 0.33 JOULE".
pub(crate) fn trade_words(t: &Trade) -> String {
    let energy = format_energy(t.wh);
    match (t.stage, t.side) {
        (Stage::Filled, Side::Bid) => format!(
            "bought {energy} at the gate ({} JOULE back from escrow)",
            format_amount(t.refund)
        ),
        (Stage::Filled, Side::Ask) => format!("sold {energy} at the gate"),
        (Stage::Settled, Side::Bid) => format!(
            "received {energy}, paid {} JOULE with the {} JOULE fee ({} back)",
            format_amount(t.tokens),
            format_amount(t.fee),
            format_amount(t.refund)
        ),
        (Stage::Settled, Side::Ask) => format!(
            "delivered {energy}, was paid {} JOULE after the {} JOULE fee",
            format_amount(t.tokens),
            format_amount(t.fee)
        ),
    }
}

#[component]
fn IntervalView(i: Interval) -> impl IntoView {
    let a = &i.answer;
    // Each height in the user's local time, UTC on hover: the chain's nominal clock (the
    // trusted genesis' start plus a block interval per height).
    let clock = i.clock;
    let at = move |h: Option<u64>| {
        h.map(|h| {
            let when = clock.map(|(t0, ms)| t0 + h * ms);
            view! {
                <BlockLink height=h/>" "
                {when.map(|t| view! { <span title=format!("{} UTC", iso_utc(t))>{local_time(t)}</span> })}
            }
        })
    };
    let heights = view! {
        <dl class="kv">
            <dt>"Book closes (gate)"</dt><dd>{at(a.gate_height)}</dd>
            <dt>"Delivery starts"</dt><dd id="delivery-start">{at(a.start_height)}</dd>
            <dt>"Readings close"</dt><dd>{at(a.deadline_height)}</dd>
        </dl>
    };
    let result = match i.recomputed {
        Err(e) => view! { <NotVerified reason=e/> }.into_any(),
        Ok(None) => view! { <p class="muted" id="not-cleared">"Its book is still open: it clears at the gate."</p> }.into_any(),
        Ok(Some(r)) => {
            let rec = r.record;
            let outcome = match &rec.clearing {
                Some(c) => format!(
                    "{} for {}: every fill pays this one price.",
                    format_price(c.price),
                    format_energy(c.volume_wh)
                ),
                None => "No bid reached an offer: nothing traded.".to_owned(),
            };
            let settled = rec.settlement.map_or("Not settled yet: meters report until the readings close.".to_owned(), |s| {
                format!(
                    "Settled at block #{}: {} delivered, {} JOULE in fees to the treasury.",
                    s.height,
                    format_energy(s.delivered_wh),
                    format_amount(s.fees)
                )
            });
            let margin = |m: Option<&joule_light_client::market::Margin>, s: usize| {
                m.and_then(|m| m.per_curve.get(s).copied()).unwrap_or(0)
            };
            let curves = r
                .books
                .iter()
                .enumerate()
                .map(|(s, b)| {
                    let bid: u64 = b.curve.levels.iter().map(|l| l.bid_wh).sum();
                    let ask: u64 = b.curve.levels.iter().map(|l| l.ask_wh).sum();
                    let c = rec.clearing.as_ref();
                    view! {
                        <tr>
                            <td>{s}</td>
                            <td>{b.curve.levels.len()}</td>
                            <td>{format_energy(bid)}</td>
                            <td>{format_energy(ask)}</td>
                            <td>{format_energy(margin(c.map(|c| &c.bids), s))}" / "{format_energy(margin(c.map(|c| &c.asks), s))}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <VerifiedMark id="clearing-recomputed" covers="recomputed in your browser: the light client cleared every shard's proven book and got this record's result".into()/>
                <p id="clearing">{outcome}</p>
                <p id="settlement">{settled}</p>
                <h2>"Per-shard curves"</h2>
                <table class="rows">
                    <thead><tr><th>"Shard"</th><th>"Price levels"</th><th>"Bid"</th><th>"Offered"</th><th>"Shared at the margin (bids / offers)"</th></tr></thead>
                    <tbody>{curves}</tbody>
                </table>
            }
            .into_any()
        }
    };
    let trades = i
        .trades
        .iter()
        .map(|(t, ok)| {
            view! {
                <tr class=if ok.is_ok() { "" } else { "unverified" }>
                    <td><AccountLink address=t.owner/></td>
                    <td>{if t.side == Side::Bid { "bid" } else { "offer" }}</td>
                    <td>{trade_words(t)}</td>
                    <td>{match ok { Ok(()) => "✓ proven".to_owned(), Err(e) => e.clone() }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>{format!("Interval {}", a.interval)}</h1>
        {heights}
        {result}
        <h2>{format!("Fills and settlements ({})", i.trades.len())}</h2>
        <table class="rows" id="trades">
            <thead><tr><th>"Order of"</th><th>"Side"</th><th>"What happened"</th><th>"Proof"</th></tr></thead>
            <tbody>{trades}</tbody>
        </table>
    }
}
