//! The auction against hand cases and against a brute-force reference on random books.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::codec::decode_exact;

fn order(n: u8, side: Side, price: u64, qty_wh: u64) -> BookOrder {
    BookOrder {
        id: Hash([n; 32]),
        side,
        price,
        qty_wh,
    }
}

fn one_book(orders: &[BookOrder]) -> (Option<Clearing>, Vec<u64>) {
    let clearing = clear(&[Curve::of(orders)]).unwrap();
    let fills = clearing
        .as_ref()
        .map_or(vec![0; orders.len()], |c| fill_orders(c, 0, orders));
    (clearing, fills)
}

#[test]
fn nothing_clears_when_no_bid_reaches_an_offer_or_a_side_is_empty() {
    let apart = [order(1, Side::Bid, 10, 100), order(2, Side::Ask, 11, 100)];
    assert_eq!(one_book(&apart).0, None);
    assert_eq!(one_book(&[order(1, Side::Bid, 10, 100)]).0, None);
    assert_eq!(one_book(&[order(1, Side::Ask, 10, 100)]).0, None);
    assert_eq!(clear(&[]).unwrap(), None);
}

#[test]
fn an_exact_cross_fills_both_at_their_price() {
    let (c, fills) = one_book(&[order(1, Side::Bid, 50, 100), order(2, Side::Ask, 50, 100)]);
    let c = c.unwrap();
    assert_eq!((c.price, c.volume_wh), (50, 100));
    assert_eq!(fills, [100, 100]);
}

#[test]
fn the_price_is_the_middle_of_the_range_that_maximises_volume() {
    // One bid of 10 Wh at 100, one offer of 5 Wh at 10: any price in 10..=100 matches 5 Wh.
    let (c, fills) = one_book(&[order(1, Side::Bid, 100, 10), order(2, Side::Ask, 10, 5)]);
    let c = c.unwrap();
    assert_eq!((c.price, c.volume_wh), (55, 5));
    assert_eq!(fills, [5, 5]);
    // Rounded down.
    let (c, _) = one_book(&[order(1, Side::Bid, 11, 1), order(2, Side::Ask, 10, 1)]);
    assert_eq!(c.unwrap().price, 10);
}

#[test]
fn volume_beats_price_and_the_margin_is_split_by_quantity() {
    // Bids: 300 Wh at 30, 200 at 20. Offers: 100 at 10, 100 at 20, 400 at 25.
    // At 20: demand 500, supply 200 → 200. At 25: demand 300, supply 600 → 300. At 30: 300.
    // Volume 300 at 25..=30 → price 27. Bids: 300 at 30 in full. Offers: 100 + 100 + 100 of 400.
    let book = [
        order(1, Side::Bid, 30, 300),
        order(2, Side::Bid, 20, 200),
        order(3, Side::Ask, 10, 100),
        order(4, Side::Ask, 20, 100),
        order(5, Side::Ask, 25, 100),
        order(6, Side::Ask, 25, 300),
    ];
    let (c, fills) = one_book(&book);
    let c = c.unwrap();
    assert_eq!((c.price, c.volume_wh), (27, 300));
    assert_eq!((c.asks.price, c.asks.per_curve), (25, vec![100]));
    // 100 Wh over 100 and 300 at the margin: 25 and 75.
    assert_eq!(fills, [300, 0, 100, 100, 25, 75]);
}

#[test]
fn split_gives_leftovers_to_the_largest_remainders_then_the_earliest() {
    assert_eq!(split(10, &[5, 5, 5]), [4, 3, 3]);
    assert_eq!(split(2, &[1, 1, 1]), [1, 1, 0]);
    assert_eq!(split(7, &[10, 0, 4]), [5, 0, 2]);
    assert_eq!(split(5, &[0, 0]), [0, 0]);
    assert_eq!(
        split(u64::MAX, &[u64::MAX, u64::MAX])
            .iter()
            .map(|&x| u128::from(x))
            .sum::<u128>(),
        u128::from(u64::MAX)
    );
    // Never above a weight, even when asked for more than the weights hold.
    assert_eq!(split(9, &[2, 3]), [2, 3]);
}

#[test]
fn prices_have_three_significant_digits_at_most() {
    for ok in [1, 9, 999, 1_000, 1_230, 110_000, 123_000, MAX_PRICE] {
        assert!(price_on_grid(ok), "{ok}");
    }
    for bad in [0, 1_001, 1_234, 123_400, MAX_PRICE + 1_000_000, u64::MAX] {
        assert!(!price_on_grid(bad), "{bad}");
    }
    // 999 one- to three-digit prices, then 900 per decade for six more decades.
    const { assert!(999 + 6 * 900 <= MAX_LEVELS) };
}

#[test]
fn malformed_curves_are_refused_by_name() {
    let l = |price, bid_wh, ask_wh| Level {
        price,
        bid_wh,
        ask_wh,
    };
    let unsorted = Curve {
        levels: vec![l(5, 1, 0), l(5, 0, 1)],
    };
    assert_eq!(
        clear(&[unsorted]),
        Err(ClearingError::Unsorted { curve: 0 })
    );
    let empty = Curve {
        levels: vec![l(5, 0, 0)],
    };
    assert_eq!(
        clear(&[Curve::default(), empty]),
        Err(ClearingError::EmptyLevel { curve: 1, price: 5 })
    );
    let long = Curve {
        levels: (0..=MAX_LEVELS as u64).map(|p| l(p, 1, 0)).collect(),
    };
    assert!(matches!(
        clear(&[long]),
        Err(ClearingError::TooManyLevels { .. })
    ));
}

#[test]
fn curve_encoding_golden_vector() {
    let curve = Curve {
        levels: vec![Level {
            price: 110_000,
            bid_wh: 3_200,
            ask_wh: 0,
        }],
    };
    let bytes = curve.encode();
    assert_eq!(
        hex::encode(&bytes),
        "01000000b0ad010000000000800c0000000000000000000000000000"
    );
    assert_eq!(decode_exact::<Curve>(&bytes).unwrap(), curve);
}

/// A small deterministic generator (no dependency, the same in wasm).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The reference: every integer price tried, volume counted order by order.
fn brute_force(orders: &[BookOrder]) -> Option<(u64, u64)> {
    let max_price = orders.iter().map(|o| o.price).max()?;
    let volume_at = |p: u64| {
        let side = |s: Side, ok: &dyn Fn(u64) -> bool| -> u64 {
            orders
                .iter()
                .filter(|o| o.side == s && ok(o.price))
                .map(|o| o.qty_wh)
                .sum()
        };
        side(Side::Bid, &|q| q >= p).min(side(Side::Ask, &|q| q <= p))
    };
    let volumes: Vec<u64> = (0..=max_price).map(volume_at).collect();
    let best = *volumes.iter().max()?;
    if best == 0 {
        return None;
    }
    let lo = volumes.iter().position(|&v| v == best)? as u64;
    let hi = volumes.iter().rposition(|&v| v == best)? as u64;
    // The maximising prices are one range.
    assert!((lo..=hi).all(|p| volumes[p as usize] == best));
    Some((lo + (hi - lo) / 2, best))
}

fn random_book(rng: &mut Rng) -> Vec<BookOrder> {
    let n = 1 + rng.below(40);
    let top = 2 + rng.below(60);
    (0..n)
        .map(|i| {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&rng.next().to_le_bytes());
            id[31] = i as u8;
            BookOrder {
                id: Hash(id),
                side: if rng.below(2) == 0 {
                    Side::Bid
                } else {
                    Side::Ask
                },
                price: 1 + rng.below(top),
                qty_wh: {
                    let small = rng.below(4) == 0;
                    1 + rng.below(if small { 5 } else { 1_000 })
                },
            }
        })
        .collect()
}

/// Fills of every order, the book spread over `shards` curves by `shard_of`.
fn fills_spread(
    orders: &[BookOrder],
    shards: usize,
    shard_of: impl Fn(usize) -> usize,
) -> (Option<Clearing>, Vec<u64>) {
    let books: Vec<Vec<usize>> = (0..shards)
        .map(|s| (0..orders.len()).filter(|&i| shard_of(i) == s).collect())
        .collect();
    let curves: Vec<Curve> = books
        .iter()
        .map(|b| Curve::of(&b.iter().map(|&i| orders[i]).collect::<Vec<_>>()))
        .collect();
    let clearing = clear(&curves).unwrap();
    let mut fills = vec![0; orders.len()];
    if let Some(c) = &clearing {
        for (s, book) in books.iter().enumerate() {
            let mine: Vec<BookOrder> = book.iter().map(|&i| orders[i]).collect();
            for (&i, f) in book.iter().zip(fill_orders(c, s, &mine)) {
                fills[i] = f;
            }
        }
    }
    (clearing, fills)
}

#[test]
fn clearing_equals_the_brute_force_reference_on_random_books() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..400 {
        let orders = random_book(&mut rng);
        let shards = 1 + rng.below(4) as usize;
        let spread: Vec<usize> = (0..orders.len())
            .map(|_| rng.below(shards as u64) as usize)
            .collect();
        let (clearing, fills) = fills_spread(&orders, shards, |i| spread[i]);
        let want = brute_force(&orders);
        assert_eq!(
            clearing.as_ref().map(|c| (c.price, c.volume_wh)),
            want,
            "case {case}: {orders:?}"
        );
        let Some(c) = clearing else {
            assert!(fills.iter().all(|&f| f == 0));
            continue;
        };
        // Bought = sold = volume; nothing beyond an order's quantity or outside its limit.
        let total = |s: Side| -> u64 {
            orders
                .iter()
                .zip(&fills)
                .filter(|(o, _)| o.side == s)
                .map(|(_, f)| f)
                .sum()
        };
        assert_eq!(total(Side::Bid), c.volume_wh, "case {case}");
        assert_eq!(total(Side::Ask), c.volume_wh, "case {case}");
        for (o, &f) in orders.iter().zip(&fills) {
            assert!(f <= o.qty_wh, "case {case}: overfilled {o:?}");
            if f > 0 {
                match o.side {
                    Side::Bid => assert!(o.price >= c.price, "case {case}: {o:?}"),
                    Side::Ask => assert!(o.price <= c.price, "case {case}: {o:?}"),
                }
            }
        }
        // Price priority: a better order is full before a worse one gets anything.
        for (a, &fa) in orders.iter().zip(&fills) {
            for (b, &fb) in orders.iter().zip(&fills) {
                let better = a.side == b.side
                    && match a.side {
                        Side::Bid => a.price > b.price,
                        Side::Ask => a.price < b.price,
                    };
                if better && fb > 0 {
                    assert_eq!(fa, a.qty_wh, "case {case}: {a:?} before {b:?}");
                }
            }
        }
        // The same orders in another order, and all on one shard: the same price, volume and
        // Wh per price level; within one shard, the same fill per order.
        let mut shuffled: Vec<usize> = (0..orders.len()).collect();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let permuted: Vec<BookOrder> = shuffled.iter().map(|&i| orders[i]).collect();
        let (one, one_fills) = fills_spread(&orders, 1, |_| 0);
        let (perm, perm_fills) = fills_spread(&permuted, 1, |_| 0);
        let one = one.unwrap();
        assert_eq!((one.price, one.volume_wh), (c.price, c.volume_wh));
        assert_eq!(perm, Some(one.clone()), "case {case}");
        for (k, &i) in shuffled.iter().enumerate() {
            assert_eq!(perm_fills[k], one_fills[i], "case {case}");
        }
        let per_level = |fills: &[u64]| {
            let mut m = BTreeMap::new();
            for (o, f) in orders.iter().zip(fills) {
                *m.entry((o.price, o.side == Side::Bid)).or_insert(0u64) += f;
            }
            m
        };
        assert_eq!(per_level(&fills), per_level(&one_fills), "case {case}");
    }
}
