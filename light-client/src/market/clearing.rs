//! The community market's clearing: a uniform-price double auction over every shard's book.
//!
//! Each shard closes its book at the gate into a [`Curve`]: for each price (token units per Wh)
//! the Wh bid and the Wh offered at exactly that price. [`clear`] sums the curves and finds one
//! price for the whole community:
//!
//! - **Volume first.** At price `p` buyers want `D(p)` (bids at `p` or above) and sellers offer
//!   `S(p)` (offers at `p` or below); the matched volume is `min(D(p), S(p))`. The clearing
//!   volume `V` is its maximum over all prices.
//! - **Price: the middle of the maximising range.** The prices that reach `V` form one range
//!   `[lo, hi]` whose ends are order prices; the clearing price is `lo + (hi − lo) / 2`,
//!   rounded down. Buyer and seller surplus at the margin are shared, and no order price is
//!   favoured by where it sits in a list.
//! - **Fills by price priority.** Bids fill from the highest price down, offers from the lowest
//!   up, until `V`; the last level reached (the *margin*) is split. Every filled bid is at or
//!   above the price and every filled offer at or below it.
//! - **Splits by largest remainder.** The margin's Wh are split over the shards in proportion to
//!   what each bid (or offered) at that price, then over a shard's orders at that price in
//!   proportion to their quantities ([`split`]): floors first, the leftover Wh one each to the
//!   largest remainders, ties to the earlier shard or the smaller order id.
//!
//! The price, the volume and the Wh filled at each price level depend only on the sum of the
//! curves: not on the order of orders, nor on how they are spread over shards. The split of a
//! margin between orders of different shards is made in two steps, shard then order, so it can
//! differ by less than 1 Wh per order from a split made over all of them at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec::{self, Decode, Encode, Reader};
use crate::hash::Hash;

/// The most price levels a shard's curve may have: every valid price ([`price_on_grid`]).
pub const MAX_LEVELS: usize = 8_192;

/// The highest price, token units per Wh (999,000 JOULE per kWh).
pub const MAX_PRICE: u64 = 999_000_000;

/// Whether `price` is a valid limit price: from 1 to [`MAX_PRICE`], with at most three
/// significant digits (110,000 and 123,000 are; 123,400 is not). The grid bounds how many
/// distinct prices a book can hold — 9 decades of 900 (fewer than [`MAX_LEVELS`]) — and so the
/// size of every curve, whatever the orders.
pub fn price_on_grid(price: u64) -> bool {
    if price == 0 || price > MAX_PRICE {
        return false;
    }
    let mut p = price;
    while p >= 1_000 {
        if !p.is_multiple_of(10) {
            return false;
        }
        p /= 10;
    }
    true
}

/// Wh bid and offered at exactly one price, on one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Token units per Wh.
    pub price: u64,
    /// Wh that buyers bid at this price.
    pub bid_wh: u64,
    /// Wh that sellers offer at this price.
    pub ask_wh: u64,
}

/// One shard's book at the gate, by price.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Curve {
    /// Levels in ascending price, no two at one price, none empty.
    pub levels: Vec<Level>,
}

/// Why curves cannot be cleared.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClearingError {
    /// A curve's levels are not in strictly ascending price.
    #[error("curve {curve}: levels are not in strictly ascending price")]
    Unsorted {
        /// Which curve.
        curve: usize,
    },
    /// A curve has a level with nothing bid or offered.
    #[error("curve {curve}: a level at price {price} is empty")]
    EmptyLevel {
        /// Which curve.
        curve: usize,
        /// Its price.
        price: u64,
    },
    /// A curve has more levels than [`MAX_LEVELS`].
    #[error("curve {curve} has {levels} levels; at most {MAX_LEVELS}")]
    TooManyLevels {
        /// Which curve.
        curve: usize,
        /// How many.
        levels: usize,
    },
    /// The matched volume does not fit 64 bits.
    #[error("the matched volume exceeds 2^64 Wh")]
    TooLarge,
}

/// Where one side's fills stop: every order of that side at a better price is filled in full,
/// the orders at `price` share `per_curve` (Wh, one entry per curve, in the curves' order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Margin {
    /// The last price level reached.
    pub price: u64,
    /// Wh filled at that price, per curve.
    pub per_curve: Vec<u64>,
}

/// An interval's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearing {
    /// The uniform price every fill pays (token units per Wh).
    pub price: u64,
    /// Wh matched: bought = sold.
    pub volume_wh: u64,
    /// Bids' margin (at or above `price`).
    pub bids: Margin,
    /// Offers' margin (at or below `price`).
    pub asks: Margin,
}

/// Side of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy at no more than the price.
    Bid,
    /// Sell at no less than the price.
    Ask,
}

/// What [`fill_orders`] needs of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookOrder {
    /// Its id (ties in a margin split go to the smaller id).
    pub id: Hash,
    /// Bid or ask.
    pub side: Side,
    /// Limit price (token units per Wh).
    pub price: u64,
    /// Wh.
    pub qty_wh: u64,
}

impl Curve {
    /// The curve of these orders (any order, any number).
    pub fn of(orders: &[BookOrder]) -> Curve {
        let mut levels: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for o in orders.iter().filter(|o| o.qty_wh > 0) {
            let level = levels.entry(o.price).or_default();
            match o.side {
                Side::Bid => level.0 = level.0.saturating_add(o.qty_wh),
                Side::Ask => level.1 = level.1.saturating_add(o.qty_wh),
            }
        }
        Curve {
            levels: levels
                .into_iter()
                .map(|(price, (bid_wh, ask_wh))| Level {
                    price,
                    bid_wh,
                    ask_wh,
                })
                .collect(),
        }
    }

    /// Checks the shape [`clear`] relies on.
    pub fn check(&self, curve: usize) -> Result<(), ClearingError> {
        if self.levels.len() > MAX_LEVELS {
            return Err(ClearingError::TooManyLevels {
                curve,
                levels: self.levels.len(),
            });
        }
        if self.levels.windows(2).any(|w| w[0].price >= w[1].price) {
            return Err(ClearingError::Unsorted { curve });
        }
        match self.levels.iter().find(|l| l.bid_wh == 0 && l.ask_wh == 0) {
            Some(l) => Err(ClearingError::EmptyLevel {
                curve,
                price: l.price,
            }),
            None => Ok(()),
        }
    }

    fn at(&self, price: u64, side: Side) -> u64 {
        match self.levels.binary_search_by_key(&price, |l| l.price) {
            Ok(i) => match side {
                Side::Bid => self.levels[i].bid_wh,
                Side::Ask => self.levels[i].ask_wh,
            },
            Err(_) => 0,
        }
    }
}

/// Clears the community market from every shard's curve. `None`: no bid reaches an offer.
pub fn clear(curves: &[Curve]) -> Result<Option<Clearing>, ClearingError> {
    for (i, c) in curves.iter().enumerate() {
        c.check(i)?;
    }
    // The community's levels: (price, Wh bid, Wh offered), ascending.
    let mut sum: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
    for level in curves.iter().flat_map(|c| &c.levels) {
        let e = sum.entry(level.price).or_default();
        e.0 += u128::from(level.bid_wh);
        e.1 += u128::from(level.ask_wh);
    }
    let levels: Vec<(u64, u128, u128)> = sum.into_iter().map(|(p, (b, a))| (p, b, a)).collect();
    // Matched volume at each level's price: demand counts bids at or above, supply offers at
    // or below.
    let mut demand: u128 = levels.iter().map(|l| l.1).sum();
    let mut supply: u128 = 0;
    let mut matched = Vec::with_capacity(levels.len());
    for &(_, bid, ask) in &levels {
        supply += ask;
        matched.push(demand.min(supply));
        demand -= bid;
    }
    let volume = matched.iter().copied().max().unwrap_or(0);
    if volume == 0 {
        return Ok(None);
    }
    let volume_wh = u64::try_from(volume).map_err(|_| ClearingError::TooLarge)?;
    // min(non-increasing, non-decreasing) rises then falls: its maxima are one run of levels,
    // and every price between two of them reaches the maximum too.
    let lo = matched.iter().position(|&m| m == volume).unwrap_or(0);
    let hi = matched.iter().rposition(|&m| m == volume).unwrap_or(lo);
    let (p_lo, p_hi) = (levels[lo].0, levels[hi].0);
    let price = p_lo + (p_hi - p_lo) / 2;
    let bid_level = margin_price(levels.iter().rev().map(|l| (l.0, l.1)), volume);
    let ask_level = margin_price(levels.iter().map(|l| (l.0, l.2)), volume);
    Ok(Some(Clearing {
        price,
        volume_wh,
        bids: margin(curves, bid_level, Side::Bid),
        asks: margin(curves, ask_level, Side::Ask),
    }))
}

/// The price level at which `volume` is reached walking `levels` (price, Wh) in priority
/// order, and the Wh filled there.
fn margin_price(levels: impl Iterator<Item = (u64, u128)>, volume: u128) -> (u64, u128) {
    let mut before = 0u128;
    let mut last = (0, 0);
    for (price, wh) in levels.filter(|l| l.1 > 0) {
        if before + wh >= volume {
            return (price, volume - before);
        }
        before += wh;
        last = (price, wh);
    }
    last // unreachable when volume ≤ the side's total
}

/// The margin at `price` where `filled` Wh are filled, split over the curves.
fn margin(curves: &[Curve], (price, filled): (u64, u128), side: Side) -> Margin {
    let weights: Vec<u64> = curves.iter().map(|c| c.at(price, side)).collect();
    // `filled` ≤ the level's total, which is the sum of `weights`.
    let filled = u64::try_from(filled).unwrap_or(u64::MAX);
    Margin {
        price,
        per_curve: split(filled, &weights),
    }
}

/// Splits `total` in proportion to `weights` (whose sum is at least `total`): each gets the
/// floor of its share, then the Wh left over go one each to the largest remainders, ties to
/// the earlier weight. The parts sum to `total` and none exceeds its weight.
pub fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let total = u128::from(total).min(sum);
    let mut parts = Vec::with_capacity(weights.len());
    let mut rests = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = total * u128::from(w);
        parts.push((exact / sum) as u64);
        rests.push((exact % sum, i));
    }
    let given: u128 = parts.iter().map(|&p| u128::from(p)).sum();
    let left = (total - given) as usize; // < weights.len()
                                         // Largest remainder first, then the earlier index.
    rests.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rests.iter().take(left) {
        parts[i] += 1;
    }
    parts
}

/// Each order's fill (Wh, in `orders`' order) on the shard whose curve is `curve` (its index
/// in the curves given to [`clear`]); `orders` must be exactly that shard's book.
pub fn fill_orders(clearing: &Clearing, curve: usize, orders: &[BookOrder]) -> Vec<u64> {
    let mut fills = vec![0u64; orders.len()];
    for (side, margin) in [(Side::Bid, &clearing.bids), (Side::Ask, &clearing.asks)] {
        let better = |p: u64| match side {
            Side::Bid => p > margin.price,
            Side::Ask => p < margin.price,
        };
        let mut at_margin: Vec<usize> = Vec::new();
        for (i, o) in orders.iter().enumerate().filter(|(_, o)| o.side == side) {
            if better(o.price) {
                fills[i] = o.qty_wh;
            } else if o.price == margin.price {
                at_margin.push(i);
            }
        }
        at_margin.sort_unstable_by_key(|&i| orders[i].id);
        let weights: Vec<u64> = at_margin.iter().map(|&i| orders[i].qty_wh).collect();
        let share = margin.per_curve.get(curve).copied().unwrap_or(0);
        for (&i, part) in at_margin.iter().zip(split(share, &weights)) {
            fills[i] = part;
        }
    }
    fills
}

impl Encode for Level {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.price.encode_to(out);
        self.bid_wh.encode_to(out);
        self.ask_wh.encode_to(out);
    }
}

impl Decode for Level {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Level {
            price: r.u64()?,
            bid_wh: r.u64()?,
            ask_wh: r.u64()?,
        })
    }
}

impl Encode for Curve {
    fn encode_to(&self, out: &mut Vec<u8>) {
        codec::put_vec(out, &self.levels);
    }
}

impl Decode for Curve {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Curve {
            levels: r.vec("curve levels", MAX_LEVELS, 24)?,
        })
    }
}

#[cfg(test)]
mod tests;
