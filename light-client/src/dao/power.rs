//! Voting power: tokens a member locks for governance, and to whom it delegates them.
//!
//! - A member's [`Power`] (under the member's key) holds its locked tokens, its delegate (one
//!   hop: a delegate's own delegation does not forward what it was given) and how many
//!   checkpoints its history has.
//! - Every change appends a [`PowerCheckpoint`] `n` (under the member, identity `n`): the lock
//!   and delegate in force **from** its height on. Two changes in one block share one
//!   checkpoint (the later overwrites it).
//! - A proposal snapshots power at its start height `S`: what counts is the checkpoint in force
//!   *before* `S` — the last with `height < S` ([`power_at`]). Tokens locked, moved or delegated
//!   in block `S` or later cannot vote on it, so unlock → transfer → relock counts nothing
//!   twice, and a delegation made mid-vote moves nothing.
//!
//! Unlocking is immediate: the tokens go back to the balance at once, and snapshots already
//! taken keep what they counted (the history is never rewritten), so nothing needs to wait for
//! a vote to end.
//!
//! Encodings: `Power` = `member [20] | locked u64 | delegate option<[20]> | checkpoints u32`;
//! `PowerCheckpoint` = `member [20] | height u64 | locked u64 | delegate option<[20]>`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::address::Address;
use crate::codec::{self, Decode, Encode, Reader};
use crate::object::{Object, ObjectKind, StateKey};

/// A member's lock and delegation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Power {
    /// The member.
    pub member: Address,
    /// Tokens locked (out of the balance; still part of the supply).
    pub locked: u64,
    /// The member its power goes to; `None`: it votes itself.
    pub delegate: Option<Address>,
    /// Checkpoints in its history (`0..checkpoints`).
    pub checkpoints: u32,
}

/// What held for a member from `height` on (until its next checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerCheckpoint {
    /// The member.
    pub member: Address,
    /// The block whose change it records.
    pub height: u64,
    /// Tokens locked from then on.
    pub locked: u64,
    /// The delegate from then on.
    pub delegate: Option<Address>,
}

/// The key of `member`'s power.
pub fn power_key(member: &Address) -> StateKey {
    StateKey::new(member, ObjectKind::Power, &member.0)
}

/// The key of `member`'s checkpoint `n`.
pub fn checkpoint_key(member: &Address, n: u32) -> StateKey {
    let mut identity = [0u8; 24];
    identity[..20].copy_from_slice(&member.0);
    identity[20..].copy_from_slice(&n.to_le_bytes());
    StateKey::new(member, ObjectKind::PowerCheckpoint, &identity)
}

/// Why a checkpoint named for a snapshot is not the one in force there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PowerHistoryError {
    /// The checkpoint came at or after the snapshot: it cannot count.
    #[error("checkpoint at height {height} is not before the snapshot at {snapshot}")]
    NotBefore {
        /// The checkpoint's height.
        height: u64,
        /// The snapshot's.
        snapshot: u64,
    },
    /// A later checkpoint is still before the snapshot: that one is in force.
    #[error("a later checkpoint, at height {next}, is in force at the snapshot {snapshot}")]
    Superseded {
        /// The later checkpoint's height.
        next: u64,
        /// The snapshot's.
        snapshot: u64,
    },
}

/// Checks that `checkpoint`, followed in the member's history by `next` (`None`: it is the
/// last), is the one in force before `snapshot`, and returns it.
pub fn power_at(
    checkpoint: &PowerCheckpoint,
    next: Option<&PowerCheckpoint>,
    snapshot: u64,
) -> Result<PowerCheckpoint, PowerHistoryError> {
    if checkpoint.height >= snapshot {
        return Err(PowerHistoryError::NotBefore {
            height: checkpoint.height,
            snapshot,
        });
    }
    if let Some(n) = next.filter(|n| n.height < snapshot) {
        return Err(PowerHistoryError::Superseded {
            next: n.height,
            snapshot,
        });
    }
    Ok(*checkpoint)
}

impl Object for Power {
    const KIND: ObjectKind = ObjectKind::Power;
}

impl Object for PowerCheckpoint {
    const KIND: ObjectKind = ObjectKind::PowerCheckpoint;
}

impl Encode for Power {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.member.encode_to(out);
        self.locked.encode_to(out);
        self.delegate.encode_to(out);
        self.checkpoints.encode_to(out);
    }
}

impl Decode for Power {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Power {
            member: Address::decode_from(r)?,
            locked: r.u64()?,
            delegate: Option::decode_from(r)?,
            checkpoints: r.u32()?,
        })
    }
}

impl Encode for PowerCheckpoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.member.encode_to(out);
        self.height.encode_to(out);
        self.locked.encode_to(out);
        self.delegate.encode_to(out);
    }
}

impl Decode for PowerCheckpoint {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(PowerCheckpoint {
            member: Address::decode_from(r)?,
            height: r.u64()?,
            locked: r.u64()?,
            delegate: Option::decode_from(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;

    fn ckpt(height: u64, locked: u64) -> PowerCheckpoint {
        PowerCheckpoint {
            member: Address([1; 20]),
            height,
            locked,
            delegate: None,
        }
    }

    #[test]
    fn power_and_checkpoints_round_trip_with_golden_vectors() {
        let p = Power {
            member: Address([1; 20]),
            locked: 500,
            delegate: Some(Address([2; 20])),
            checkpoints: 3,
        };
        assert_eq!(decode_exact::<Power>(&p.encode()), Ok(p));
        assert_eq!(
            hex::encode(p.encode()),
            "0101010101010101010101010101010101010101\
             f401000000000000\
             01\
             0202020202020202020202020202020202020202\
             03000000"
        );
        let c = ckpt(42, 500);
        assert_eq!(decode_exact::<PowerCheckpoint>(&c.encode()), Ok(c));
        assert_eq!(
            hex::encode(c.encode()),
            "0101010101010101010101010101010101010101\
             2a00000000000000\
             f401000000000000\
             00"
        );
    }

    #[test]
    fn the_checkpoint_in_force_is_the_last_before_the_snapshot() {
        let (a, b) = (ckpt(10, 100), ckpt(20, 300));
        // Snapshot at 20: the change made in block 20 does not count yet.
        assert_eq!(power_at(&a, Some(&b), 20), Ok(a));
        assert_eq!(
            power_at(&b, None, 20),
            Err(PowerHistoryError::NotBefore {
                height: 20,
                snapshot: 20
            })
        );
        // Snapshot at 21: b is in force, a is superseded.
        assert_eq!(power_at(&b, None, 21), Ok(b));
        assert_eq!(
            power_at(&a, Some(&b), 21),
            Err(PowerHistoryError::Superseded {
                next: 20,
                snapshot: 21
            })
        );
    }

    #[test]
    fn keys_live_with_their_member() {
        let (m, n) = (Address([5; 20]), Address([6; 20]));
        assert_eq!(power_key(&m).kind(), Some(ObjectKind::Power));
        assert_eq!(checkpoint_key(&m, 0).shard(4), m.shard(4));
        assert_ne!(checkpoint_key(&m, 0), checkpoint_key(&m, 1));
        assert_ne!(checkpoint_key(&m, 0), checkpoint_key(&n, 0));
    }
}
