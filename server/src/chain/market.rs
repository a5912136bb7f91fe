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
//! Every block carries every shard and commits them together, so a step can read all shards'
//! books as the previous block left them and write each shard's share in this one: the
//! community's single price needs no round of receipts, and a light client checks it by
//! recomputing it from the books proven in this block (`market::verify_clearing`). Shards are
//! worked in parallel; within a shard the orders are independent.

use joule_light_client::codec::decode_exact;
use joule_light_client::market::{
    book_key, clear, fill_orders, interval_key, market_fee, Book, BookOrder, Curve, IntervalRecord,
    Order, Side,
};
use joule_light_client::object::{ObjectKind, StateKey};
use joule_light_client::{Address, Encode, Hash};
use rayon::prelude::*;

use super::state::{ObjectWrite, ShardState};
use super::vm::MarketContext;

/// What a block's system steps did to one shard before its transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemWrites {
    /// Tokens credited to accounts (escrow returned), in order.
    pub credits: Vec<(Address, u64)>,
    /// Objects written (sorted by key, no repeats).
    pub objects: Vec<ObjectWrite>,
}

/// No system writes (a block between scheduled heights; benchmarks and tests).
pub static NO_SYSTEM: SystemWrites = SystemWrites {
    credits: Vec::new(),
    objects: Vec::new(),
};

/// The interval whose book closes at `height`, if one does.
pub fn closing_at(market: &MarketContext, height: u64) -> Option<u64> {
    let p = &market.params;
    let interval = p.first_open(height.checked_sub(1)?);
    (p.gate(interval) == Some(height)).then_some(interval)
}

/// The system steps of the block at `height`, one entry per shard (all empty when nothing is
/// due).
pub fn system_steps(
    shards: &[ShardState],
    market: &MarketContext,
    height: u64,
) -> Vec<SystemWrites> {
    match closing_at(market, height) {
        Some(interval) => close_interval(shards, market, height, interval),
        None => vec![SystemWrites::default(); shards.len()],
    }
}

/// A shard's open orders for `interval`, in key order.
fn book_of(state: &ShardState, interval: u64) -> Vec<(StateKey, Order)> {
    state
        .objects_in(..)
        .filter(|(k, _)| k.kind() == Some(ObjectKind::Order))
        .filter_map(|(k, v)| decode_exact::<Order>(v).ok().map(|o| (*k, o)))
        .filter(|(_, o)| o.interval == interval)
        .collect()
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
                    if order.side == Side::Bid {
                        // The most this fill can cost: every Wh at the clearing price and the
                        // fee on it; the escrow held more (its own price was at least this).
                        let value = c.price.saturating_mul(filled);
                        let keep = value
                            .saturating_add(market_fee(value, fee_bps))
                            .min(order.escrow);
                        if order.escrow > keep {
                            w.credits.push((order.owner, order.escrow - keep));
                            order.escrow = keep;
                        }
                    }
                    w.objects.push((key, Some(order.encode())));
                }
            } else {
                // Nothing crossed: every bid's escrow goes back; the orders stay, unfilled,
                // for settlement to delete.
                for (key, mut order) in book {
                    if order.escrow > 0 {
                        w.credits.push((order.owner, order.escrow));
                        order.escrow = 0;
                        w.objects.push((key, Some(order.encode())));
                    }
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
            .filter_map(|h| closing_at(&m, h).map(|i| (h, i)))
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
        let w = system_steps(&shards, &m, gate);
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
        assert!(system_steps(&shards, &m, gate + 1)
            .iter()
            .all(|w| w == &SystemWrites::default()));
    }
}
