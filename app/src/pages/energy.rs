//! `/energy`: the wallet's first account in the market — place a bid or an offer (a preview of
//! exactly what is signed), its open orders (cancel), its fills and settlements, its meters
//! with their readings and any maintenance flag, and its certificates (claim them). Every
//! object and trade shown is proven; orders are drafted from proven parameters only.

use std::sync::Arc;

use joule_light_client::api::{
    AccountResponse, AnomaliesResponse, EventItem, MarketResponse, OwnedObjects, Page,
};
use joule_light_client::market::{meter_key, order_key, CertLot, MarketParams, Meter, Order, Side};
use joule_light_client::object::StateKey;
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Hash, Payload};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{format_energy, format_power, format_price, meter_kind, short_hash};
use crate::now_ms;
use crate::pages::interval::{prove_trades, trade_words};
use crate::pages::market::verified_head;
use crate::pages::wallet::act::sign_and_send;
use crate::proofs::{prove_market_params, prove_owned};
use crate::ui::{line, loaded, AccountLink, Claimed, NotVerified, Shape, ShapeChart, VerifiedMark};
use crate::wallet::order::{draft_order, OrderDraft};
use crate::wallet::session::{Unlocked, WalletSession};

/// A meter of the account's, its readings (interval, produced, consumed; oldest first) and
/// the node's flag on it, if any.
#[derive(Clone)]
struct MyMeter {
    address: Address,
    meter: Meter,
    readings: Vec<(u64, u64, u64)>,
    flag: Option<String>,
}

/// What the page proved about the account.
#[derive(Clone)]
struct Mine {
    params: MarketParams,
    tx_fee: u64,
    /// Open orders, with the id that placed each when this account's history names it.
    orders: Vec<(Order, Option<Hash>)>,
    trades: Vec<joule_light_client::event::Trade>,
    meters: Vec<MyMeter>,
    /// Certificate lots: the holder's meter (`None`: the account's own lot) and the lot.
    lots: Vec<(Option<Address>, CertLot)>,
}

async fn owned<T: joule_light_client::object::Object + Clone>(
    trust: &crate::proofs::Trust,
    holder: Address,
    kind: &str,
    is_owners: impl Fn(&T) -> bool,
) -> Result<Vec<(StateKey, T)>, String> {
    let listing: OwnedObjects =
        api::get(&format!("/accounts/{holder}/objects?kind={kind}")).await?;
    let block = live::proven_block_at(trust, listing.height).await?;
    prove_owned(&block, &listing, is_owners)
        .into_iter()
        .collect()
}

/// A meter's readings from its own transactions (each is a `Reading` it signed).
async fn readings(meter: Address) -> Vec<(u64, u64, u64)> {
    let Ok(a) = api::get::<AccountResponse>(&format!("/accounts/{meter}?limit=96")).await else {
        return Vec::new();
    };
    let mut r: Vec<(u64, u64, u64)> = a
        .transactions
        .items
        .iter()
        .filter_map(|t| match t.tx.tx.payload {
            Payload::Reading {
                interval,
                produced_wh,
                consumed_wh,
            } => Some((interval, produced_wh, consumed_wh)),
            _ => None,
        })
        .collect();
    r.sort_unstable();
    r
}

async fn load(lc: LightClient, me: Address) -> Result<Mine, String> {
    let trust = live::trusted(lc).await?;
    let market: MarketResponse = api::get("/market").await?;
    let at = market.proof.as_ref().ok_or("no block yet")?;
    let block = live::proven_block_at(&trust, at.at.height).await?;
    let params = prove_market_params(&block, &market)?;
    let orders = owned::<Order>(&trust, me, "order", |o| o.owner == me).await?;
    // This account's history names the transactions that placed its orders and registered
    // its meters; each is matched here by the key it gives, not by the node's word.
    let history: AccountResponse = api::get(&format!("/accounts/{me}?limit=100")).await?;
    let mine = || history.transactions.items.iter().filter(|t| t.sender == me);
    let orders = orders
        .into_iter()
        .map(|(key, o)| {
            let id = mine().map(|t| t.id).find(|id| order_key(&me, id) == key);
            (o, id)
        })
        .collect();
    let events: Page<EventItem> = api::get(&format!("/accounts/{me}/trades?limit=50")).await?;
    let trades = prove_trades(Ok(&trust), &events.items)
        .await
        .into_iter()
        .map(|(t, verdict)| verdict.map(|()| t))
        .collect::<Result<Vec<_>, String>>()?;
    let flags: AnomaliesResponse = api::get("/market/anomalies")
        .await
        .unwrap_or(AnomaliesResponse { flags: Vec::new() });
    let mut meters = Vec::new();
    let mut lots: Vec<(Option<Address>, CertLot)> =
        owned::<CertLot>(&trust, me, "cert_lot", |l| l.holder == me)
            .await?
            .into_iter()
            .map(|(_, l)| (None, l))
            .collect();
    for (key, meter) in owned::<Meter>(&trust, me, "meter", |m| m.owner == me).await? {
        let Some(address) = mine().find_map(|t| match &t.tx.tx.payload {
            Payload::RegisterMeter { meter, .. } => {
                let a = Address::from_public_key(meter);
                (meter_key(&a) == key).then_some(a)
            }
            _ => None,
        }) else {
            continue;
        };
        for (_, lot) in
            owned::<CertLot>(&trust, address, "cert_lot", |l| l.holder == address).await?
        {
            lots.push((Some(address), lot));
        }
        meters.push(MyMeter {
            address,
            meter,
            readings: readings(address).await,
            flag: flags
                .flags
                .iter()
                .find(|f| f.meter == address)
                .map(|f| format!("{} (from interval {})", f.anomaly, f.interval)),
        });
    }
    Ok(Mine {
        params,
        tx_fee: trust.genesis.min_fee,
        orders,
        trades,
        meters,
        lots,
    })
}

/// `/energy`.
#[component]
pub fn EnergyPage() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    view! {
        <h1>"My energy"</h1>
        {move || match session.unlocked.get() {
            None => view! { <p class="muted" id="energy-locked">"Open your "<A href="/wallet">"wallet"</A>" to trade: bids and offers are signed with your first account's key, in this page."</p> }.into_any(),
            Some(u) => view! { <Energy u=u/> }.into_any(),
        }}
    }
}

#[component]
fn Energy(u: Arc<Unlocked>) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let me = u.address(0);
    let reload = RwSignal::new(0u32);
    let data = loaded(move || {
        reload.track();
        Box::pin(load(lc, me))
    });
    view! {
        <p>"Trading as "<AccountLink address=me/>" (your first account)."</p>
        {move || data.get().map(|r| match r {
            Err(e) => view! { <NotVerified reason=e/> }.into_any(),
            Ok(m) => view! { <EnergyView m=m u=u.clone() reload=reload/> }.into_any(),
        }).unwrap_or_else(|| view! { <p class="muted">"Proving your orders, trades, meters and certificates…"</p> }.into_any())}
    }
}

#[component]
fn EnergyView(m: Mine, u: Arc<Unlocked>, reload: RwSignal<u32>) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let session = expect_context::<WalletSession>();
    let status = RwSignal::new(None::<String>);
    let send = {
        move |payload: Payload, out: u64, what: &'static str| {
            session.touch(now_ms());
            status.set(Some(format!("Signing and sending the {what}…")));
            let key = u.key(0);
            spawn_local(async move {
                let r = sign_and_send(lc, key, payload, out).await;
                status.set(Some(match r {
                    Ok(id) => format!(
                        "{what} sent (transaction {}); it takes effect in the next block.",
                        short_hash(&id)
                    ),
                    Err(e) => format!("Not sent: {e}"),
                }));
                gloo_timers::future::TimeoutFuture::new(1_500).await;
                reload.update(|n| *n += 1);
            });
        }
    };
    let producing: Vec<Address> = m
        .meters
        .iter()
        .filter(|mm| mm.meter.kind.produces())
        .map(|mm| mm.address)
        .collect();
    let orders = m
        .orders
        .into_iter()
        .map(|(o, id)| {
            let send = send.clone();
            let cancel = id.map(|id| {
                view! { <button class="cancel-order" on:click=move |_| send(Payload::CancelOrder { order: id }, 0, "cancellation")>"Cancel"</button> }
            });
            view! {
                <tr>
                    <td><A href=format!("/market/intervals/{}", o.interval)>{o.interval}</A></td>
                    <td>{if o.side == Side::Bid { "bid" } else { "offer" }}</td>
                    <td>{format_energy(o.qty_wh)}</td>
                    <td>{format_price(o.price)}</td>
                    <td>{format!("{} JOULE", format_amount(o.escrow))}</td>
                    <td>{if o.filled_wh > 0 { format_energy(o.filled_wh) } else { "—".into() }}</td>
                    <td>{cancel}</td>
                </tr>
            }
        })
        .collect_view();
    let trades = m
        .trades
        .into_iter()
        .map(|t| view! { <li><A href=format!("/market/intervals/{}", t.interval)>{format!("Interval {}", t.interval)}</A>{format!(": {} at {}", trade_words(&t), format_price(t.price))}</li> })
        .collect_view();
    let meters = m
        .meters
        .into_iter()
        .map(|mm| {
            let produced: Vec<u64> = mm.readings.iter().map(|r| r.1).collect();
            let consumed: Vec<u64> = mm.readings.iter().map(|r| r.2).collect();
            let peak = produced.iter().chain(&consumed).copied().max().unwrap_or(0);
            let shapes = vec![
                Shape { d: line(&produced, peak), class: "series-production" },
                Shape { d: line(&consumed, peak), class: "series-consumption" },
            ];
            let flag = mm.flag.clone().map(|f| view! { <p class="unverified meter-flag">{format!("⚠ Flagged by the node: {f}. Check the meter.")}</p> });
            view! {
                <li class="meter">
                    <AccountLink address=mm.address/>{format!(" {} meter, {} rated, {} produced and {} consumed in all", meter_kind(mm.meter.kind), format_power(mm.meter.capacity_w), format_energy(mm.meter.produced_wh), format_energy(mm.meter.consumed_wh))}
                    {flag}
                    <Claimed what="this meter's readings" note="its signed transactions as the node lists them; each one's inclusion is proven on its transaction's page.">
                        <ShapeChart id=format!("meter-chart-{}", mm.address) caption="Its readings: production and consumption per interval" label="A meter's readings per interval"
                            shapes=shapes legend=format!("{} readings", mm.readings.len())/>
                    </Claimed>
                </li>
            }
        })
        .collect_view();
    let lots = m
        .lots
        .into_iter()
        .map(|(holder, l)| {
            let send = send.clone();
            let held = l.wh - l.claimed_wh;
            let payload = Payload::ClaimCertificates {
                meter: holder,
                origin: l.origin,
                day: l.day,
                kind: l.kind,
                wh: held,
            };
            let claim = (held > 0).then(|| view! { <button class="claim" on:click=move |_| send(payload.clone(), 0, "claim")>"Claim"</button> });
            view! {
                <tr>
                    <td>{meter_kind(l.kind)}</td>
                    <td><AccountLink address=l.origin/></td>
                    <td>{format!("day {}", l.day)}</td>
                    <td>{format_energy(held)}</td>
                    <td>{format_energy(l.claimed_wh)}</td>
                    <td>{claim}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <VerifiedMark id="energy-verified" covers="the market's parameters and each order, trade, meter and certificate lot below proven in your browser (readings and flags are the node's, labelled)".into()/>
        <OrderForm params=m.params tx_fee=m.tx_fee meters=producing send=send.clone()/>
        {move || status.get().map(|s| view! { <p role="status" id="energy-status">{s}</p> })}
        <h2>"My open orders"</h2>
        <table class="rows" id="my-orders">
            <thead><tr><th>"Interval"</th><th>"Side"</th><th>"Quantity"</th><th>"Limit"</th><th>"Escrow"</th><th>"Filled"</th><th></th></tr></thead>
            <tbody>{orders}</tbody>
        </table>
        <h2>"My fills and settlements"</h2>
        <ul id="my-trades">{trades}</ul>
        <h2>"My meters"</h2>
        <ul id="my-meters">{meters}</ul>
        <h2>"My certificates"</h2>
        <table class="rows" id="my-certificates">
            <thead><tr><th>"Kind"</th><th>"Origin"</th><th>"Produced"</th><th>"Held"</th><th>"Claimed"</th><th></th></tr></thead>
            <tbody>{lots}</tbody>
        </table>
    }
}

/// The order form: what the user types, the exact preview, then signing.
#[component]
fn OrderForm<F>(params: MarketParams, tx_fee: u64, meters: Vec<Address>, send: F) -> impl IntoView
where
    F: Fn(Payload, u64, &'static str) + Clone + Send + Sync + 'static,
{
    let lc = expect_context::<LightClient>();
    let side = RwSignal::new(Side::Bid);
    let first_open = params.first_open(verified_head(lc));
    let interval = RwSignal::new(first_open.to_string());
    let kwh = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let meter = meters.first().copied();
    let preview = RwSignal::new(None::<Result<OrderDraft, String>>);
    let review = move |_| {
        let i = interval.get_untracked().trim().parse::<u64>();
        preview.set(Some(match i {
            Err(_) => Err("the interval is a number".to_owned()),
            Ok(i) => draft_order(
                &params,
                verified_head(lc),
                side.get_untracked(),
                i,
                &kwh.get_untracked(),
                &price.get_untracked(),
                meter,
            )
            .map_err(|e| e.to_string()),
        }));
    };
    let shown = move || {
        preview.get().map(|p| match p {
            Err(e) => view! { <p class="error" role="alert" id="order-error">{e}</p> }.into_any(),
            Ok(d) => {
                let send = send.clone();
                let words = format!(
                    "{} {} for interval {} at {} ({} units per Wh). {} Market fee {} JOULE ({} bps of the value); transaction fee {} JOULE.",
                    if d.side == Side::Bid { "Buy" } else { "Sell" },
                    format_energy(d.qty_wh),
                    d.interval,
                    format_price(d.price),
                    d.price,
                    if d.side == Side::Bid {
                        format!("Held in escrow until settlement: {} JOULE (what is not filled comes back at the gate).", format_amount(d.escrow))
                    } else {
                        format!("Delivered by meter {}.", d.meter.map(|m| m.to_string()).unwrap_or_default())
                    },
                    format_amount(d.market_fee),
                    params.fee_bps,
                    format_amount(tx_fee),
                );
                view! {
                    <div class="preview" id="order-preview">
                        <p>{words}</p>
                        <button id="order-confirm" on:click=move |_| {
                            preview.set(None);
                            send(d.payload(), d.escrow, "order");
                        }>"Sign and send"</button>" "
                        <button on:click=move |_| preview.set(None)>"Cancel"</button>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="card">
            <h2>"Place an order"</h2>
            <label>"Side "
                <select id="order-side" on:change=move |ev| side.set(if event_target_value(&ev) == "ask" { Side::Ask } else { Side::Bid })>
                    <option value="bid">"Bid (buy)"</option>
                    <option value="ask">"Offer (sell from my meter)"</option>
                </select>
            </label>" "
            <label>"Interval "<input id="order-interval" inputmode="numeric" prop:value=interval on:input=move |ev| interval.set(event_target_value(&ev))/></label>" "
            <label>"kWh "<input id="order-kwh" inputmode="decimal" placeholder="3.2" prop:value=kwh on:input=move |ev| kwh.set(event_target_value(&ev))/></label>" "
            <label>"JOULE per kWh "<input id="order-price" inputmode="decimal" placeholder="0.11" prop:value=price on:input=move |ev| price.set(event_target_value(&ev))/></label>" "
            <button id="order-review" on:click=review>"Review"</button>
            <p class="muted">{format!("Interval {first_open} is the first whose book is open.")}</p>
            {shown}
        </section>
    }
}
