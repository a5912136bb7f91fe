//! A delivery interval once its book has closed: each shard's closed book (its curve) and the
//! community's clearing, as objects in state, and the check a browser runs on them — the
//! clearing recomputed from the proven curves.
//!
//! At the block at an interval's gate, every shard's open orders for it become that shard's
//! [`Book`] (under `StateKey::system(shard, Book, interval)`), the clearing of all the curves
//! is written to shard 0 as the [`IntervalRecord`] (under `StateKey::system(0, Interval,
//! interval)`), and each order's fill is written into the order. Both objects are in the same
//! block's object roots, so a light client that proved them can recompute the clearing
//! ([`verify_clearing`]) and needs to trust no one's arithmetic.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::clearing::{clear, Clearing, ClearingError, Curve, Margin};
use crate::address::ShardId;
use crate::codec::{self, Decode, Encode, Reader};
use crate::object::{Object, ObjectKind, StateKey};

/// The most shards a clearing spans (as many curves and margin shares).
pub const MAX_CURVES: usize = 256;

/// One shard's closed book of an interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// The interval.
    pub interval: u64,
    /// The shard.
    pub shard: ShardId,
    /// Its open orders' curve at the gate.
    pub curve: Curve,
}

/// An interval's clearing, kept by shard 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalRecord {
    /// The interval.
    pub interval: u64,
    /// The height its book closed at (the gate).
    pub gate_height: u64,
    /// Shards whose books were cleared together (each has a [`Book`]).
    pub shards: u16,
    /// The result; `None` when no bid reached an offer.
    pub clearing: Option<Clearing>,
    /// What settlement found, once the readings' deadline has passed.
    pub settlement: Option<Settlement>,
}

/// An interval's settlement: what the sellers' meters showed they delivered of what they sold,
/// and the fees the treasury received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The height it settled at (the readings' deadline).
    pub height: u64,
    /// Wh delivered: each seller's fill up to its meter's reading, summed over every shard.
    pub delivered_wh: u64,
    /// Tokens charged in market fees, buyers' and sellers', sent to the treasury.
    pub fees: u64,
}

impl Object for Book {
    const KIND: ObjectKind = ObjectKind::Book;
}

impl Object for IntervalRecord {
    const KIND: ObjectKind = ObjectKind::Interval;
}

/// The key of `shard`'s book of `interval`.
pub fn book_key(shard: ShardId, interval: u64) -> StateKey {
    StateKey::system(shard, ObjectKind::Book, &interval.to_le_bytes())
}

/// The key of `interval`'s record (on shard 0).
pub fn interval_key(interval: u64) -> StateKey {
    StateKey::system(0, ObjectKind::Interval, &interval.to_le_bytes())
}

/// Why a recomputed clearing does not match its record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClearingCheckError {
    /// Not one book per shard, in shard order, for the record's interval.
    #[error("expected the books of {expected} shards for interval {interval}, in shard order")]
    WrongBooks {
        /// The record's interval.
        interval: u64,
        /// Shards the record names.
        expected: u16,
    },
    /// The books do not clear.
    #[error("the books do not clear: {0}")]
    Clearing(#[from] ClearingError),
    /// The recomputed result differs from the record.
    #[error("the record's clearing is not what its books clear to")]
    Mismatch,
}

/// Recomputes `record`'s clearing from `books` (one per shard, in shard order, each proven by
/// the caller against that shard's objects root in the same block as the record) and checks it
/// equals the record's. Returns the clearing.
pub fn verify_clearing(
    record: &IntervalRecord,
    books: &[Book],
) -> Result<Option<Clearing>, ClearingCheckError> {
    let in_order = books.len() == usize::from(record.shards)
        && books
            .iter()
            .enumerate()
            .all(|(s, b)| usize::from(b.shard) == s && b.interval == record.interval);
    if !in_order {
        return Err(ClearingCheckError::WrongBooks {
            interval: record.interval,
            expected: record.shards,
        });
    }
    let curves: Vec<Curve> = books.iter().map(|b| b.curve.clone()).collect();
    let recomputed = clear(&curves)?;
    if recomputed == record.clearing {
        Ok(recomputed)
    } else {
        Err(ClearingCheckError::Mismatch)
    }
}

impl Encode for Book {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.interval.encode_to(out);
        self.shard.encode_to(out);
        self.curve.encode_to(out);
    }
}

impl Decode for Book {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Book {
            interval: r.u64()?,
            shard: r.u16()?,
            curve: Curve::decode_from(r)?,
        })
    }
}

impl Encode for Margin {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.price.encode_to(out);
        codec::put_vec(out, &self.per_curve);
    }
}

impl Decode for Margin {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Margin {
            price: r.u64()?,
            per_curve: r.vec("margin shares", MAX_CURVES, 8)?,
        })
    }
}

impl Encode for Clearing {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.price.encode_to(out);
        self.volume_wh.encode_to(out);
        self.bids.encode_to(out);
        self.asks.encode_to(out);
    }
}

impl Decode for Clearing {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Clearing {
            price: r.u64()?,
            volume_wh: r.u64()?,
            bids: Margin::decode_from(r)?,
            asks: Margin::decode_from(r)?,
        })
    }
}

impl Encode for IntervalRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.interval.encode_to(out);
        self.gate_height.encode_to(out);
        self.shards.encode_to(out);
        self.clearing.encode_to(out);
        self.settlement.encode_to(out);
    }
}

impl Encode for Settlement {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.delivered_wh.encode_to(out);
        self.fees.encode_to(out);
    }
}

impl Decode for Settlement {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Settlement {
            height: r.u64()?,
            delivered_wh: r.u64()?,
            fees: r.u64()?,
        })
    }
}

impl Decode for IntervalRecord {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(IntervalRecord {
            interval: r.u64()?,
            gate_height: r.u64()?,
            shards: r.u16()?,
            clearing: Option::decode_from(r)?,
            settlement: Option::decode_from(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;
    use crate::market::clearing::Level;

    fn books() -> Vec<Book> {
        let l = |price, bid_wh, ask_wh| Level {
            price,
            bid_wh,
            ask_wh,
        };
        vec![
            Book {
                interval: 9,
                shard: 0,
                curve: Curve {
                    levels: vec![l(100, 0, 300), l(130, 200, 0)],
                },
            },
            Book {
                interval: 9,
                shard: 1,
                curve: Curve {
                    levels: vec![l(110, 0, 100), l(140, 100, 0)],
                },
            },
        ]
    }

    fn record() -> IntervalRecord {
        let curves: Vec<Curve> = books().into_iter().map(|b| b.curve).collect();
        IntervalRecord {
            interval: 9,
            gate_height: 176,
            shards: 2,
            clearing: clear(&curves).unwrap(),
            settlement: Some(Settlement {
                height: 196,
                delivered_wh: 150,
                fees: 9,
            }),
        }
    }

    #[test]
    fn a_record_recomputed_from_its_books_verifies_and_round_trips() {
        let r = record();
        assert!(r.clearing.is_some());
        assert_eq!(verify_clearing(&r, &books()), Ok(r.clearing.clone()));
        assert_eq!(decode_exact::<IntervalRecord>(&r.encode()), Ok(r));
        for b in books() {
            assert_eq!(decode_exact::<Book>(&b.encode()), Ok(b));
        }
        assert_eq!(book_key(1, 9).shard(4), 1);
        assert_eq!(interval_key(9).shard(4), 0);
        assert_eq!(interval_key(9).kind(), Some(ObjectKind::Interval));
    }

    #[test]
    fn changed_price() {
        let mut r = record();
        if let Some(c) = r.clearing.as_mut() {
            c.price += 1;
        }
        assert_eq!(
            verify_clearing(&r, &books()),
            Err(ClearingCheckError::Mismatch)
        );
    }

    #[test]
    fn dropped_curve() {
        let r = record();
        let mut b = books();
        b.pop();
        assert!(matches!(
            verify_clearing(&r, &b),
            Err(ClearingCheckError::WrongBooks { .. })
        ));
        // A shard's book emptied instead: it no longer clears to the record.
        let mut b = books();
        b[1].curve.levels.clear();
        assert_eq!(verify_clearing(&r, &b), Err(ClearingCheckError::Mismatch));
    }

    #[test]
    fn books_of_another_interval_or_out_of_order() {
        let r = record();
        let mut b = books();
        b.swap(0, 1);
        assert!(verify_clearing(&r, &b).is_err());
        let mut b = books();
        b[0].interval = 8;
        assert!(verify_clearing(&r, &b).is_err());
    }
}
