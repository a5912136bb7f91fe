//! The market's clock: delivery intervals in block heights, when each one's book closes, when
//! its readings are due, and the parameters that set them (with the bounds no vote can pass).
//!
//! Interval `I` delivers energy during heights `[start(I), start(I + 1))`. Orders for it are
//! accepted in blocks below its **gate**, `start(I) − gate_blocks`, and at most
//! `max_ahead` intervals ahead; the book closes and clears at the gate. Its meters' readings
//! are accepted once it has ended, in blocks `[start(I + 1), deadline(I))` with
//! `deadline(I) = start(I + 1) + reading_blocks`; settlement runs at the deadline.
//!
//! A change of `interval_blocks` takes effect at an interval boundary: the schedule keeps an
//! **anchor** (an interval and the height it starts at) and counts from there, so intervals
//! already traded keep their heights. The schedule answers for intervals from the anchor on;
//! an interval before it (closed, waiting for readings or settlement) is known by the record
//! its gate wrote, which holds its own start, end and deadline.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec::{self, Decode, Encode, Reader};

/// The market's parameters, chain state set at genesis and changed by governance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketParams {
    /// Blocks per delivery interval.
    pub interval_blocks: u32,
    /// Blocks before an interval's start at which its book closes.
    pub gate_blocks: u32,
    /// Blocks after an interval's end during which its readings are accepted.
    pub reading_blocks: u32,
    /// Intervals ahead an order may be placed for.
    pub max_ahead: u32,
    /// The market fee, in basis points of each fill's value, charged to buyer and seller.
    pub fee_bps: u16,
    /// The smallest order, in Wh.
    pub min_order_wh: u64,
    /// The interval that starts at `anchor_height`.
    pub anchor_interval: u64,
    /// Where the schedule counts from.
    pub anchor_height: u64,
}

/// The bounds each parameter must keep, whoever sets it (a captured vote included).
pub mod bounds {
    /// Blocks per interval.
    pub const INTERVAL_BLOCKS: (u32, u32) = (4, 100_000);
    /// Reading window.
    pub const READING_BLOCKS: (u32, u32) = (1, 100_000);
    /// Intervals ahead.
    pub const MAX_AHEAD: (u32, u32) = (1, 10_000);
    /// Fee: at most 10 %.
    pub const FEE_BPS: (u16, u16) = (0, 1_000);
    /// Smallest order.
    pub const MIN_ORDER_WH: (u64, u64) = (1, 1_000_000);
}

/// A parameter outside its bounds, by name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name} = {value} is outside {min}..={max}")]
pub struct ParamError {
    /// Which parameter.
    pub name: &'static str,
    /// Its value.
    pub value: u64,
    /// The least allowed.
    pub min: u64,
    /// The most allowed.
    pub max: u64,
}

pub(crate) fn within(
    name: &'static str,
    value: u64,
    (min, max): (u64, u64),
) -> Result<(), ParamError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamError {
            name,
            value,
            min,
            max,
        })
    }
}

impl MarketParams {
    /// The devnet's: 20-block (10 s) intervals, books closing 4 blocks ahead, 10 blocks for
    /// readings, orders up to 96 intervals ahead, a 0.5 % fee, 1 Wh minimum.
    pub const DEVNET: MarketParams = MarketParams {
        interval_blocks: 20,
        gate_blocks: 4,
        reading_blocks: 10,
        max_ahead: 96,
        fee_bps: 50,
        min_order_wh: 1,
        anchor_interval: 1,
        anchor_height: 20,
    };

    /// Checks every parameter against its bounds (the gate must leave an interval's book open
    /// for at least one block after the previous one closed).
    pub fn check(&self) -> Result<(), ParamError> {
        let w = |b: (u32, u32)| (u64::from(b.0), u64::from(b.1));
        within(
            "interval_blocks",
            self.interval_blocks.into(),
            w(bounds::INTERVAL_BLOCKS),
        )?;
        within(
            "gate_blocks",
            self.gate_blocks.into(),
            (1, u64::from(self.interval_blocks) - 1),
        )?;
        // Readings for the next interval start one interval after this one's: the window
        // must close by then, so settlement sees each meter's reading for its interval last.
        let r = bounds::READING_BLOCKS;
        within(
            "reading_blocks",
            self.reading_blocks.into(),
            (u64::from(r.0), u64::from(r.1.min(self.interval_blocks))),
        )?;
        within("max_ahead", self.max_ahead.into(), w(bounds::MAX_AHEAD))?;
        let f = bounds::FEE_BPS;
        within("fee_bps", self.fee_bps.into(), (f.0.into(), f.1.into()))?;
        within("min_order_wh", self.min_order_wh, bounds::MIN_ORDER_WH)?;
        within(
            "anchor_height",
            self.anchor_height,
            (u64::from(self.gate_blocks) + 1, u64::MAX / 2),
        )
    }

    /// The height interval `interval` starts delivering at (`None` before the anchor or past
    /// the heights a chain can reach).
    pub fn start(&self, interval: u64) -> Option<u64> {
        let n = interval.checked_sub(self.anchor_interval)?;
        n.checked_mul(self.interval_blocks.into())?
            .checked_add(self.anchor_height)
    }

    /// The first height at which orders for `interval` are refused (its book closes there).
    pub fn gate(&self, interval: u64) -> Option<u64> {
        Some(self.start(interval)? - u64::from(self.gate_blocks))
    }

    /// The first height at which readings for `interval` are refused (it settles there).
    pub fn deadline(&self, interval: u64) -> Option<u64> {
        self.start(interval.checked_add(1)?)?
            .checked_add(self.reading_blocks.into())
    }

    /// The interval delivering at `height` (`None` before the anchor).
    pub fn interval_at(&self, height: u64) -> Option<u64> {
        let since = height.checked_sub(self.anchor_height)?;
        Some(self.anchor_interval + since / u64::from(self.interval_blocks))
    }

    /// The first interval whose book is still open at `height`.
    pub fn first_open(&self, height: u64) -> u64 {
        // The interval after the one whose gate is at or below `height`.
        let ahead = height + u64::from(self.gate_blocks);
        self.interval_at(ahead)
            .map_or(self.anchor_interval, |i| i + 1)
    }

    /// Why an order for `interval` cannot be placed in the block at `height`, if it cannot.
    pub fn order_window(&self, interval: u64, height: u64) -> Result<(), WindowError> {
        let first = self.first_open(height);
        if interval < first {
            return Err(WindowError::Closed { interval, first });
        }
        let last = first + u64::from(self.max_ahead) - 1;
        if interval > last {
            return Err(WindowError::TooFarAhead { interval, last });
        }
        Ok(())
    }

    /// Why a reading for `interval` cannot be accepted in the block at `height`, if it cannot.
    pub fn reading_window(&self, interval: u64, height: u64) -> Result<(), WindowError> {
        let (Some(end), Some(deadline)) = (
            self.start(interval.saturating_add(1)),
            self.deadline(interval),
        ) else {
            return Err(WindowError::NotEnded { interval });
        };
        if height < end {
            return Err(WindowError::NotEnded { interval });
        }
        if height >= deadline {
            return Err(WindowError::ReadingsClosed { interval, deadline });
        }
        Ok(())
    }

    /// These parameters with `next`'s schedule (interval length, gate, reading window) decided
    /// in the block at `height`. The new schedule counts from an anchor: the first interval
    /// whose book is still open under the old gate and the new one alike (its new gate is
    /// still ahead), starting at the height the old schedule gave it. Intervals before it keep
    /// the old schedule (the node keeps the old parameters for them until they settle), so
    /// nothing already traded moves and no book is skipped.
    pub fn rescheduled(&self, height: u64, next: MarketParams) -> MarketParams {
        let gate = u64::from(self.gate_blocks.max(next.gate_blocks));
        let first = self
            .interval_at(height.saturating_add(gate))
            .map_or(self.anchor_interval, |i| i + 1)
            .max(self.anchor_interval);
        MarketParams {
            anchor_interval: first,
            anchor_height: self.start(first).unwrap_or(self.anchor_height),
            ..next
        }
    }
}

/// Why an order or a reading is outside its window.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WindowError {
    /// The interval's book has closed.
    #[error("the book of interval {interval} has closed; the first open one is {first}")]
    Closed {
        /// The interval named.
        interval: u64,
        /// The first interval still open.
        first: u64,
    },
    /// The interval is further ahead than orders may be placed.
    #[error("interval {interval} is too far ahead; the last open one is {last}")]
    TooFarAhead {
        /// The interval named.
        interval: u64,
        /// The last interval open.
        last: u64,
    },
    /// The interval has not ended: its readings are not due yet.
    #[error("interval {interval} has not ended")]
    NotEnded {
        /// The interval named.
        interval: u64,
    },
    /// The interval's reading window has passed.
    #[error("readings for interval {interval} closed at height {deadline}")]
    ReadingsClosed {
        /// The interval named.
        interval: u64,
        /// Where its window ended.
        deadline: u64,
    },
}

impl Encode for MarketParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.interval_blocks.encode_to(out);
        self.gate_blocks.encode_to(out);
        self.reading_blocks.encode_to(out);
        self.max_ahead.encode_to(out);
        self.fee_bps.encode_to(out);
        self.min_order_wh.encode_to(out);
        self.anchor_interval.encode_to(out);
        self.anchor_height.encode_to(out);
    }
}

impl Decode for MarketParams {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(MarketParams {
            interval_blocks: r.u32()?,
            gate_blocks: r.u32()?,
            reading_blocks: r.u32()?,
            max_ahead: r.u32()?,
            fee_bps: r.u16()?,
            min_order_wh: r.u64()?,
            anchor_interval: r.u64()?,
            anchor_height: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const P: MarketParams = MarketParams::DEVNET;

    #[test]
    fn intervals_gates_and_deadlines_in_heights() {
        P.check().unwrap();
        assert_eq!(P.start(1), Some(20));
        assert_eq!(P.start(2), Some(40));
        assert_eq!(P.gate(2), Some(36));
        assert_eq!(P.deadline(1), Some(50));
        assert_eq!(P.start(0), None);
        assert_eq!(P.start(u64::MAX), None);
        assert_eq!(P.interval_at(19), None);
        assert_eq!(P.interval_at(20), Some(1));
        assert_eq!(P.interval_at(39), Some(1));
        assert_eq!(P.interval_at(40), Some(2));
    }

    #[test]
    fn orders_are_taken_until_the_gate_and_not_too_far_ahead() {
        // Interval 2's gate is 36: open at 35, closed at 36.
        assert_eq!(P.first_open(35), 2);
        assert_eq!(P.order_window(2, 35), Ok(()));
        assert_eq!(
            P.order_window(2, 36),
            Err(WindowError::Closed {
                interval: 2,
                first: 3
            })
        );
        // Before the anchor, the first interval is open.
        assert_eq!(P.first_open(1), 1);
        assert_eq!(P.order_window(1, 15), Ok(()));
        assert_eq!(
            P.order_window(1, 16),
            Err(WindowError::Closed {
                interval: 1,
                first: 2
            })
        );
        let last = 3 + u64::from(P.max_ahead) - 1;
        assert_eq!(P.order_window(last, 36), Ok(()));
        assert_eq!(
            P.order_window(last + 1, 36),
            Err(WindowError::TooFarAhead {
                interval: last + 1,
                last
            })
        );
    }

    #[test]
    fn readings_are_taken_after_the_interval_until_its_deadline() {
        // Interval 1 delivers at 20..40; readings at 40..50.
        assert_eq!(
            P.reading_window(1, 39),
            Err(WindowError::NotEnded { interval: 1 })
        );
        assert_eq!(P.reading_window(1, 40), Ok(()));
        assert_eq!(P.reading_window(1, 49), Ok(()));
        assert_eq!(
            P.reading_window(1, 50),
            Err(WindowError::ReadingsClosed {
                interval: 1,
                deadline: 50
            })
        );
        assert_eq!(
            P.reading_window(0, 100),
            Err(WindowError::ReadingsClosed {
                interval: 0,
                deadline: 30
            })
        );
        assert!(P.reading_window(u64::MAX, 100).is_err());
    }

    #[test]
    fn a_new_schedule_starts_at_the_first_interval_open_under_both_gates() {
        // At height 37 interval 2 (delivering from 40) has closed: 3 is the first open one.
        let q = P.rescheduled(
            37,
            MarketParams {
                interval_blocks: 40,
                ..P
            },
        );
        q.check().unwrap();
        // Before the anchor the new schedule does not answer (the old parameters do).
        assert_eq!(q.start(2), None);
        assert_eq!(q.start(3), Some(60));
        assert_eq!(q.deadline(2), Some(70));
        assert_eq!(q.start(4), Some(100));
        assert_eq!(q.interval_at(99), Some(3));
        // A longer gate: interval 3's new gate (60 - 30) would be behind height 37, so the
        // new schedule starts at 4, whose new gate (80 - 30 = 50) is ahead.
        let g = P.rescheduled(
            37,
            MarketParams {
                gate_blocks: 30,
                interval_blocks: 40,
                ..P
            },
        );
        assert_eq!((g.anchor_interval, g.anchor_height), (4, 80));
        assert_eq!(g.gate(4), Some(50));
        assert_eq!(P.gate(3), Some(56), "interval 3 closes under the old gate");
    }

    #[test]
    fn parameters_outside_their_bounds_are_named() {
        let bad = |f: fn(&mut MarketParams)| {
            let mut p = P;
            f(&mut p);
            p.check().unwrap_err().name
        };
        assert_eq!(bad(|p| p.interval_blocks = 0), "interval_blocks");
        assert_eq!(bad(|p| p.gate_blocks = 20), "gate_blocks");
        assert_eq!(bad(|p| p.gate_blocks = 0), "gate_blocks");
        assert_eq!(bad(|p| p.fee_bps = 10_000), "fee_bps");
        assert_eq!(bad(|p| p.min_order_wh = 0), "min_order_wh");
        assert_eq!(bad(|p| p.reading_blocks = 0), "reading_blocks");
        assert_eq!(bad(|p| p.reading_blocks = 21), "reading_blocks");
        assert_eq!(bad(|p| p.max_ahead = 0), "max_ahead");
        assert_eq!(bad(|p| p.anchor_height = 1), "anchor_height");
    }

    #[test]
    fn params_golden_vector() {
        let bytes = P.encode();
        assert_eq!(
            hex::encode(&bytes),
            "14000000040000000a0000006000000032000100000000000000010000000000000014000000\
             00000000"
        );
        assert_eq!(codec::decode_exact::<MarketParams>(&bytes), Ok(P));
    }
}
