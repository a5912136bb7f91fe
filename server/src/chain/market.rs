//! The market's system steps: work a block does at a scheduled height, before its
//! transactions, the same on every node.
//!
//! **At an interval's gate** (the first height at which its book refuses orders) every shard's
//! open orders for it are read from the state before the block, in key order, and become that
//! shard's curve ([`Book`], written on the shard); the curves of all shards are cleared
//! together ([`clear`]) into the interval's [`IntervalRecord`] (written on shard 0); each
//! order's fill is written into it ([`fill_orders`]); and a bid's escrow beyond the most its
//! fill can cost — every filled Wh at the clearing price plus the market fee — goes back to its
//! owner.
//!
//! **At an interval's readings' deadline** it settles: each offer is worth what its meter
//! showed it delivered, up to its fill (a meter backing several offers fills them in key
//! order); the community's delivered Wh go to the buyers in proportion to their fills (by
//! largest remainder, shard by shard, then order by order); everyone trades at the clearing
//! price — a seller receives its delivered Wh × price less the market fee, a buyer pays its
//! received Wh × price plus the fee out of its escrow and gets the rest back —; certificates of
//! origin follow the energy (a renewable delivery takes its Wh out of the meter's lot for the
//! day; buyers receive them, kind by kind, in proportion to what they received, in lots naming
//! the community's pool as origin); every fee goes to the community treasury; the interval's orders are deleted and its record notes the
//! delivered Wh and the fees. Buyers pay for exactly what sellers are paid for, so tokens are
//! conserved to the unit.
//!
//! Every block carries every shard and commits them together, so a step can read all shards'
//! books as the previous block left them and write each shard's share in this one: the
//! community's single price needs no round of receipts, and a light client checks it by
//! recomputing it from the books proven in this block (`market::verify_clearing`). Shards are
//! worked in parallel; within a shard the orders are independent.

use joule_light_client::codec::decode_exact;
use joule_light_client::dao::GovParams;
use joule_light_client::event::{Event, Stage, Trade};
use joule_light_client::market::MarketParams;
use joule_light_client::market::{
    book_key, cert_lot_key, clear, fill_orders, interval_key, market_fee, meter_key, split,
    treasury, Book, BookOrder, CertLot, Curve, IntervalRecord, Meter, MeterKind, Order, Settlement,
    Side,
};
use joule_light_client::object::StateKey;
use joule_light_client::{Address, Encode, Hash};
use rayon::prelude::*;

use super::state::{ObjectWrite, ShardState};
use super::vm::MarketContext;

/// What a block's system steps did to one shard before its transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemWrites {
    /// Tokens credited to accounts (escrow returned, a treasury spend received), in order.
    pub credits: Vec<(Address, u64)>,
    /// Tokens debited from accounts after the credits (a treasury spend), in order; the step
    /// checked each against the balance before the block.
    pub debits: Vec<(Address, u64)>,
    /// Objects written (sorted by key, no repeats).
    pub objects: Vec<ObjectWrite>,
    /// What the steps did, for the shard header's `events_root`: the gate's fills, then
    /// settlement's trades, each in order key order.
    pub events: Vec<Event>,
}

/// No system writes (a block between scheduled heights; benchmarks and tests).
pub static NO_SYSTEM: SystemWrites = SystemWrites {
    credits: Vec::new(),
    debits: Vec::new(),
    objects: Vec::new(),
    events: Vec::new(),
};

/// Under schedule `p`, the interval whose book closes at `height`, if one does.
fn closes(p: &MarketParams, height: u64) -> Option<u64> {
    let interval = p.first_open(height.checked_sub(1)?);
    (p.gate(interval) == Some(height)).then_some(interval)
}

/// Under schedule `p`, the interval whose readings' deadline is `height`, if one's is.
fn settles(p: &MarketParams, height: u64) -> Option<u64> {
    let ended = p.interval_at(height.checked_sub(u64::from(p.reading_blocks))?)?;
    let interval = ended.checked_sub(1)?;
    (p.deadline(interval) == Some(height)).then_some(interval)
}

/// The intervals `at` gives at `height` under the current schedule and, for intervals before
/// its anchor, the previous one (after a schedule change both may be due at once).
fn due_under(
    market: &MarketContext,
    height: u64,
    at: fn(&MarketParams, u64) -> Option<u64>,
) -> Vec<u64> {
    let anchor = market.params.anchor_interval;
    let previous = market
        .previous
        .as_ref()
        .and_then(|p| at(p, height))
        .filter(|i| *i < anchor);
    let current = at(&market.params, height).filter(|i| market.previous.is_none() || *i >= anchor);
    previous.into_iter().chain(current).collect()
}

/// The intervals whose books close at `height`.
pub fn closing_at(market: &MarketContext, height: u64) -> Vec<u64> {
    due_under(market, height, closes)
}

/// The intervals whose readings' deadline is `height`.
pub fn settling_at(market: &MarketContext, height: u64) -> Vec<u64> {
    due_under(market, height, settles)
}

/// The system steps of the block at `height`, one entry per shard (all empty when nothing is
/// due): the market's gates and settlements, then governance's steps
/// ([`super::governance`]). They touch different objects, read the same state (the one before
/// the block), and their writes are merged.
pub fn system_steps(
    shards: &[ShardState],
    market: &MarketContext,
    gov: &GovParams,
    height: u64,
) -> Vec<SystemWrites> {
    let mut out = vec![SystemWrites::default(); shards.len()];
    let closing = closing_at(market, height);
    let settling = settling_at(market, height);
    let steps = closing
        .into_iter()
        .map(|i| close_interval(shards, market, height, i))
        .chain(
            settling
                .into_iter()
                .map(|i| settle_interval(shards, market, height, i)),
        )
        .chain(std::iter::once(super::governance::gov_steps(
            shards, market, gov, height,
        )));
    for step in steps {
        for (all, w) in out.iter_mut().zip(step) {
            all.credits.extend(w.credits);
            all.debits.extend(w.debits);
            all.objects.extend(w.objects);
            all.events.extend(w.events);
        }
    }
    for w in &mut out {
        w.objects.sort_unstable_by_key(|(k, _)| *k);
    }
    out
}

/// The renewable kinds certificates are kept for, in the order settlement splits them.
const RENEWABLE: [MeterKind; 2] = [MeterKind::Solar, MeterKind::Wind];

/// The origin named by certificates a buyer received through the market: the community's
/// renewable meters of that day, pooled (the sellers' own lots name their meters).
pub const POOLED_ORIGIN: Address = Address([0; 20]);

/// What one shard's orders of a settling interval come to.
struct ShardSettlement {
    /// Each order, with what it delivered (an offer) or filled (a bid), in key order.
    orders: Vec<(StateKey, Order, u64)>,
    /// Wh its offers delivered.
    delivered: u64,
    /// Wh its bids filled.
    bought: u64,
    /// The sellers' certificate lots after giving up what they delivered.
    lots: Vec<(StateKey, CertLot)>,
    /// Certificate Wh given up, per renewable kind.
    certified: [u64; 2],
}

/// A shard's orders of `interval`, offers valued by their meters' last readings; each
/// renewable delivery takes its Wh of certificates out of the meter's lot for the day.
fn delivered_on(state: &ShardState, interval: u64, day: u32) -> ShardSettlement {
    // Per meter: Wh still to deliver, its kind, and its lot (as settlement leaves it).
    let mut meters: std::collections::BTreeMap<Address, (u64, MeterKind, Option<CertLot>)> =
        Default::default();
    let mut s = ShardSettlement {
        orders: Vec::new(),
        delivered: 0,
        bought: 0,
        lots: Vec::new(),
        certified: [0; 2],
    };
    for (key, order) in book_of(state, interval) {
        let amount = match (order.side, order.meter) {
            (Side::Ask, Some(meter)) => {
                let (available, kind, lot) = meters.entry(meter).or_insert_with(|| {
                    let m = state
                        .object(&meter_key(&meter))
                        .and_then(|b| decode_exact::<Meter>(b).ok());
                    // The meter's last reading counts if it is this interval's.
                    let available = m
                        .filter(|m| m.next_interval == interval + 1)
                        .map_or(0, |m| m.last_produced_wh);
                    let kind = m.map_or(MeterKind::Consumption, |m| m.kind);
                    let lot = state
                        .object(&cert_lot_key(&meter, &meter, day, kind))
                        .and_then(|b| decode_exact::<CertLot>(b).ok());
                    (available, kind, lot)
                });
                let d = order.filled_wh.min(*available);
                *available -= d;
                s.delivered += d;
                if let (Some(k), Some(lot)) = (RENEWABLE.iter().position(|r| r == kind), lot) {
                    let c = d.min(lot.wh);
                    lot.wh -= c;
                    s.certified[k] += c;
                }
                d
            }
            (Side::Ask, None) => 0,
            (Side::Bid, _) => {
                s.bought += order.filled_wh;
                order.filled_wh
            }
        };
        s.orders.push((key, order, amount));
    }
    for (meter, (_, kind, lot)) in meters {
        if let Some(lot) = lot {
            s.lots.push((cert_lot_key(&meter, &meter, day, kind), lot));
        }
    }
    s
}

fn settle_interval(
    shards: &[ShardState],
    market: &MarketContext,
    height: u64,
    interval: u64,
) -> Vec<SystemWrites> {
    let n = shards.len();
    let states = shards;
    let mut out = vec![SystemWrites::default(); n];
    let Some(mut record) = shards[0]
        .object(&interval_key(interval))
        .and_then(|b| decode_exact::<IntervalRecord>(b).ok())
    else {
        // Never closed here (a chain started after its gate): nothing to settle.
        return out;
    };
    let price = record.clearing.as_ref().map_or(0, |c| c.price);
    let fee_bps = market.params.fee_bps;
    let day = market.day_of(interval);
    let per_shard: Vec<ShardSettlement> = shards
        .par_iter()
        .map(|s| delivered_on(s, interval, day))
        .collect();
    let delivered: u64 = per_shard.iter().map(|s| s.delivered).sum();
    let bought: Vec<u64> = per_shard.iter().map(|s| s.bought).collect();
    // The delivered Wh, to each shard's buyers in proportion to what they bought; the
    // certificates that came with them likewise, kind by kind, in proportion to that.
    let shares = split(delivered, &bought);
    let cert_shares: Vec<Vec<u64>> = (0..RENEWABLE.len())
        .map(|k| split(per_shard.iter().map(|s| s.certified[k]).sum(), &shares))
        .collect();
    let fees: Vec<u64> = per_shard
        .into_par_iter()
        .zip(out.par_iter_mut())
        .zip(shares)
        .enumerate()
        .map(|(shard, ((s, w), share))| {
            let bids: Vec<u64> = s
                .orders
                .iter()
                .filter(|(_, o, _)| o.side == Side::Bid)
                .map(|(_, _, f)| *f)
                .collect();
            let got: Vec<u64> = split(share, &bids);
            let mut received = got.clone().into_iter();
            // Each buyer's certificates, kind by kind, in proportion to what it received.
            let mut bought_lots: std::collections::BTreeMap<StateKey, CertLot> = Default::default();
            let buyers: Vec<Address> = s
                .orders
                .iter()
                .filter(|(_, o, _)| o.side == Side::Bid)
                .map(|(_, o, _)| o.owner)
                .collect();
            for (k, kind) in RENEWABLE.iter().enumerate() {
                for (buyer, wh) in buyers.iter().zip(split(cert_shares[k][shard], &got)) {
                    if wh == 0 {
                        continue;
                    }
                    let key = cert_lot_key(buyer, &POOLED_ORIGIN, day, *kind);
                    let lot = bought_lots.entry(key).or_insert_with(|| {
                        states[shard]
                            .object(&key)
                            .and_then(|b| decode_exact::<CertLot>(b).ok())
                            .unwrap_or(CertLot {
                                holder: *buyer,
                                origin: POOLED_ORIGIN,
                                day,
                                kind: *kind,
                                wh: 0,
                                claimed_wh: 0,
                            })
                    });
                    lot.wh += wh;
                }
            }
            let lots = s.lots.iter().map(|(k, l)| (k, l)).chain(&bought_lots);
            for (key, lot) in lots {
                w.objects.push((*key, Some(lot.encode())));
            }
            let mut fees = 0u64;
            for (key, order, amount) in s.orders {
                let trade = |wh, tokens, fee, refund| {
                    Event::Trade(Trade {
                        stage: Stage::Settled,
                        interval,
                        order: key,
                        owner: order.owner,
                        side: order.side,
                        price,
                        wh,
                        tokens,
                        fee,
                        refund,
                    })
                };
                match order.side {
                    Side::Ask => {
                        let value = amount.saturating_mul(price);
                        let fee = market_fee(value, fee_bps).min(value);
                        fees += fee;
                        if value > fee {
                            w.credits.push((order.owner, value - fee));
                        }
                        w.events.push(trade(amount, value - fee, fee, 0));
                    }
                    Side::Bid => {
                        let got = received.next().unwrap_or(0);
                        let value = got.saturating_mul(price);
                        // At most the fill's cost, which the gate kept in escrow.
                        let pay = value
                            .saturating_add(market_fee(value, fee_bps))
                            .min(order.escrow);
                        let fee = pay - value.min(pay);
                        fees += fee;
                        let refund = order.escrow - pay;
                        if refund > 0 {
                            w.credits.push((order.owner, refund));
                        }
                        w.events.push(trade(got, pay, fee, refund));
                    }
                }
                w.objects.push((key, None));
            }
            fees
        })
        .collect();
    let fees: u64 = fees.iter().sum();
    if fees > 0 {
        let t = treasury();
        out[usize::from(t.shard(n as u16))].credits.push((t, fees));
    }
    record.settlement = Some(Settlement {
        height,
        delivered_wh: delivered,
        fees,
    });
    out[0]
        .objects
        .push((interval_key(interval), Some(record.encode())));
    out
}

/// A shard's open orders for `interval`, in key order.
/// The gate's event for one order: its fill at `price` and the escrow it got back.
fn filled_event(interval: u64, key: StateKey, order: &Order, price: u64, refund: u64) -> Event {
    Event::Trade(Trade {
        stage: Stage::Filled,
        interval,
        order: key,
        owner: order.owner,
        side: order.side,
        price,
        wh: order.filled_wh,
        tokens: 0,
        fee: 0,
        refund,
    })
}

/// A shard's orders for `interval`, in key order (from the state's interval index).
fn book_of(state: &ShardState, interval: u64) -> Vec<(StateKey, Order)> {
    state.orders_of(interval).map(|(k, o)| (*k, *o)).collect()
}

fn book_order((key, o): &(StateKey, Order)) -> BookOrder {
    BookOrder {
        // The order's key is unique and fixed when it is placed: the tie-break of margin splits.
        id: Hash(key.0),
        side: o.side,
        price: o.price,
        qty_wh: o.qty_wh,
    }
}

fn close_interval(
    shards: &[ShardState],
    market: &MarketContext,
    height: u64,
    interval: u64,
) -> Vec<SystemWrites> {
    let books: Vec<Vec<(StateKey, Order)>> =
        shards.par_iter().map(|s| book_of(s, interval)).collect();
    let curves: Vec<Curve> = books
        .par_iter()
        .map(|b| Curve::of(&b.iter().map(book_order).collect::<Vec<_>>()))
        .collect();
    // Curves built from orders are well formed and within the price grid's levels.
    let clearing = clear(&curves).unwrap_or(None);
    let record = IntervalRecord {
        interval,
        gate_height: height,
        shards: shards.len() as u16,
        clearing: clearing.clone(),
        settlement: None,
    };
    let fee_bps = market.params.fee_bps;
    books
        .into_par_iter()
        .zip(curves)
        .enumerate()
        .map(|(s, (book, curve))| {
            let mut w = SystemWrites::default();
            let shard = s as u16;
            w.objects.push((
                book_key(shard, interval),
                Some(
                    Book {
                        interval,
                        shard,
                        curve,
                    }
                    .encode(),
                ),
            ));
            if s == 0 {
                w.objects
                    .push((interval_key(interval), Some(record.encode())));
            }
            if let Some(c) = &clearing {
                let orders: Vec<BookOrder> = book.iter().map(book_order).collect();
                let fills = fill_orders(c, s, &orders);
                for ((key, mut order), filled) in book.into_iter().zip(fills) {
                    order.filled_wh = filled;
                    let mut refund = 0;
                    if order.side == Side::Bid {
                        // The most this fill can cost: every Wh at the clearing price and the
                        // fee on it; the escrow held more (its own price was at least this).
                        let value = c.price.saturating_mul(filled);
                        let keep = value
                            .saturating_add(market_fee(value, fee_bps))
                            .min(order.escrow);
                        if order.escrow > keep {
                            refund = order.escrow - keep;
                            w.credits.push((order.owner, refund));
                            order.escrow = keep;
                        }
                    }
                    w.events
                        .push(filled_event(interval, key, &order, c.price, refund));
                    w.objects.push((key, Some(order.encode())));
                }
            } else {
                // Nothing crossed: every bid's escrow goes back; the orders stay, unfilled,
                // for settlement to delete.
                for (key, mut order) in book {
                    let refund = order.escrow;
                    if refund > 0 {
                        w.credits.push((order.owner, refund));
                        order.escrow = 0;
                        w.objects.push((key, Some(order.encode())));
                    }
                    w.events
                        .push(filled_event(interval, key, &order, 0, refund));
                }
            }
            w.objects.sort_unstable_by_key(|(k, _)| *k);
            w
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use joule_light_client::market::{order_key, verify_clearing, MarketParams};
    use joule_light_client::Account;

    use super::*;

    fn market() -> MarketContext {
        MarketContext::default()
    }

    #[test]
    fn each_interval_closes_once_at_its_gate() {
        let m = market();
        let p = MarketParams::DEVNET;
        let closes: Vec<(u64, u64)> = (1..200)
            .flat_map(|h| closing_at(&m, h).into_iter().map(move |i| (h, i)))
            .collect();
        for (h, i) in &closes {
            assert_eq!(p.gate(*i), Some(*h));
        }
        let intervals: Vec<u64> = closes.iter().map(|(_, i)| *i).collect();
        assert_eq!(intervals, (1..=intervals.len() as u64).collect::<Vec<_>>());
        assert_eq!(closes[0], (p.gate(1).unwrap(), 1));
    }

    fn order(n: u8, side: Side, price: u64, qty_wh: u64, escrow: u64) -> (StateKey, Order) {
        let owner = Address([n; 20]);
        let key = order_key(&owner, &Hash([n; 32]));
        let o = Order {
            owner,
            interval: 1,
            side,
            price,
            qty_wh,
            meter: (side == Side::Ask).then_some(owner),
            escrow,
            filled_wh: 0,
        };
        (key, o)
    }

    fn shard_with(orders: &[(StateKey, Order)]) -> ShardState {
        let mut objects: Vec<(StateKey, Vec<u8>)> =
            orders.iter().map(|(k, o)| (*k, o.encode())).collect();
        objects.sort_unstable_by_key(|(k, _)| *k);
        ShardState::from_parts(&[(Address([0; 20]), Account::default())], &objects)
    }

    #[test]
    fn the_gate_clears_all_shards_together_fills_orders_and_returns_spare_escrow() {
        let m = market();
        let gate = m.params.gate(1).unwrap();
        let fee = |v: u64| market_fee(v, m.params.fee_bps);
        // Shard 0 sells 300 Wh at 100; shard 1 bids 200 Wh at 130 and 100 Wh at 90.
        let bid = |o, p: u64, q: u64| order(o, Side::Bid, p, q, p * q + fee(p * q));
        let s0 = vec![order(1, Side::Ask, 100, 300, 0)];
        let s1 = vec![bid(2, 130, 200), bid(3, 90, 100)];
        let shards = vec![shard_with(&s0), shard_with(&s1)];
        let w = system_steps(&shards, &m, &GovParams::DEVNET, gate);
        assert_eq!(w.len(), 2);
        // The record on shard 0 recomputes from the two books.
        let obj = |s: usize, k: &StateKey| {
            w[s].objects
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.clone())
                .unwrap()
        };
        let record: IntervalRecord = decode_exact(&obj(0, &interval_key(1))).unwrap();
        let books: Vec<Book> = (0..2)
            .map(|s| decode_exact(&obj(s, &book_key(s as u16, 1))).unwrap())
            .collect();
        let c = verify_clearing(&record, &books).unwrap().expect("crossed");
        assert_eq!((c.price, c.volume_wh), (115, 200));
        // Fills written into the orders; the 130 bid keeps 200 × 115 + fee, the rest returns.
        let filled =
            |s: usize, o: &(StateKey, Order)| -> Order { decode_exact(&obj(s, &o.0)).unwrap() };
        assert_eq!(filled(0, &s0[0]).filled_wh, 200);
        let b = filled(1, &s1[0]);
        assert_eq!((b.filled_wh, b.escrow), (200, 200 * 115 + fee(200 * 115)));
        let back = s1[0].1.escrow - b.escrow;
        let unfilled = filled(1, &s1[1]);
        assert_eq!((unfilled.filled_wh, unfilled.escrow), (0, 0));
        assert_eq!(
            w[1].credits,
            vec![(Address([2; 20]), back), (Address([3; 20]), s1[1].1.escrow)]
        );
        assert!(w[0].credits.is_empty());
        // Not a gate: nothing.
        assert!(system_steps(&shards, &m, &GovParams::DEVNET, gate + 1)
            .iter()
            .all(|w| w == &SystemWrites::default()));
    }

    #[test]
    fn settlement_pays_for_what_meters_delivered_and_conserves_every_token() {
        let m = market();
        let price = 115;
        let fee = |v: u64| market_fee(v, m.params.fee_bps);
        // After the gate of interval 1: the seller filled 200 Wh but its meter read 150; two
        // buyers on another shard filled 120 and 80 Wh, their escrow kept for those fills.
        let seller = Address([1; 20]);
        let filled = |(k, mut o): (StateKey, Order), f: u64| {
            o.filled_wh = f;
            if o.side == Side::Bid {
                o.escrow = f * price + fee(f * price);
            }
            (k, o)
        };
        let ask = filled(order(1, Side::Ask, 100, 300, 0), 200);
        let b1 = filled(order(2, Side::Bid, 130, 120, 0), 120);
        let b2 = filled(order(3, Side::Bid, 120, 80, 0), 80);
        let meter = Meter {
            owner: seller,
            kind: joule_light_client::market::MeterKind::Solar,
            capacity_w: 1_000_000,
            next_interval: 2,
            produced_wh: 150,
            consumed_wh: 0,
            last_produced_wh: 150,
        };
        let record = IntervalRecord {
            interval: 1,
            gate_height: 16,
            shards: 2,
            clearing: Some(joule_light_client::market::Clearing {
                price,
                volume_wh: 200,
                bids: joule_light_client::market::Margin {
                    price: 120,
                    per_curve: vec![0, 80],
                },
                asks: joule_light_client::market::Margin {
                    price: 100,
                    per_curve: vec![200, 0],
                },
            }),
            settlement: None,
        };
        // The seller's meter reads 150 Wh solar: minted as its lot for the interval's day.
        let day = m.day_of(1);
        let lot = CertLot {
            holder: seller,
            origin: seller,
            day,
            kind: MeterKind::Solar,
            wh: 150,
            claimed_wh: 0,
        };
        let mut objects0: Vec<(StateKey, Vec<u8>)> = vec![
            (ask.0, ask.1.encode()),
            (meter_key(&seller), meter.encode()),
            (interval_key(1), record.encode()),
            (
                cert_lot_key(&seller, &seller, day, MeterKind::Solar),
                lot.encode(),
            ),
        ];
        objects0.sort_unstable_by_key(|(k, _)| *k);
        let s0 = ShardState::from_parts(&[], &objects0);
        let s1 = shard_with(&[b1, b2]);
        let deadline = m.params.deadline(1).unwrap();
        assert_eq!(settling_at(&m, deadline), vec![1]);
        assert!(settling_at(&m, deadline - 1).is_empty());
        let w = system_steps(&[s0, s1], &m, &GovParams::DEVNET, deadline);
        // 150 Wh delivered: the seller is paid for them, the buyers get 90 and 60.
        let sold = 150 * price;
        let (got1, got2) = (90 * price, 60 * price);
        let credit = |s: usize, a: Address| -> u64 {
            w[s].credits
                .iter()
                .filter(|(to, _)| *to == a)
                .map(|(_, v)| v)
                .sum()
        };
        assert_eq!(credit(0, seller), sold - fee(sold));
        assert_eq!(credit(1, b1.1.owner), b1.1.escrow - got1 - fee(got1));
        assert_eq!(credit(1, b2.1.owner), b2.1.escrow - got2 - fee(got2));
        let t = treasury();
        let fees = fee(sold) + fee(got1) + fee(got2);
        assert_eq!(credit(usize::from(t.shard(2)), t), fees);
        // Every escrowed token is accounted for, exactly.
        let paid_out: u64 = w.iter().flat_map(|w| &w.credits).map(|(_, v)| v).sum();
        assert_eq!(paid_out, b1.1.escrow + b2.1.escrow);
        // The orders are gone; the record notes the settlement.
        for (k, _) in [&ask, &b1, &b2] {
            assert!(w
                .iter()
                .flat_map(|w| &w.objects)
                .any(|(key, v)| key == k && v.is_none()));
        }
        // The certificates followed the energy: the meter's lot gave up 150 Wh, the buyers
        // got 90 and 60 in pooled lots.
        let lot_after = |s: usize, k: StateKey| -> CertLot {
            w[s].objects
                .iter()
                .find(|(key, _)| *key == k)
                .and_then(|(_, v)| v.as_ref())
                .map(|v| decode_exact(v).unwrap())
                .unwrap()
        };
        let sold_lot = cert_lot_key(&seller, &seller, day, MeterKind::Solar);
        assert_eq!(lot_after(0, sold_lot).wh, 0);
        let pooled = |a: Address| cert_lot_key(&a, &POOLED_ORIGIN, day, MeterKind::Solar);
        assert_eq!(lot_after(1, pooled(b1.1.owner)).wh, 90);
        assert_eq!(lot_after(1, pooled(b2.1.owner)).wh, 60);
        let settled: IntervalRecord = w[0]
            .objects
            .iter()
            .find(|(k, _)| *k == interval_key(1))
            .and_then(|(_, v)| v.as_ref())
            .map(|v| decode_exact(v).unwrap())
            .unwrap();
        assert_eq!(
            settled.settlement,
            Some(Settlement {
                height: deadline,
                delivered_wh: 150,
                fees
            })
        );
    }
}
