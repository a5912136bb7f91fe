//! Votes and tallies.
//!
//! - At a proposal's start a system step fixes each member's [`Weight`] for it (under the
//!   member): its own lock if it delegates to no one, plus every lock delegated to it — all as
//!   they stood before the start. A vote then reads only the voter's own objects, so a block
//!   of 10,000 votes on one proposal runs in parallel, and nothing can be counted twice: each
//!   lock went to exactly one weight when the snapshot was taken.
//! - A [`Vote`] (under the voter, one per proposal) records the choice and the weight; a later
//!   vote replaces it until the end, so a mistake can be fixed and the last one counts.
//! - At the end a system step sums each shard's votes into that shard's [`Tally`] (under the
//!   shard's system home). [`verify_tally`] adds up every shard's tally and recomputes the
//!   quorum and the threshold: what a light client checks against the proposal's state.
//!
//! Encodings: `Weight` = `proposal [32] | member [20] | power u64 | end u64`; `Vote` =
//! `proposal [32] | voter [20] | choice u8 (0 for, 1 against, 2 abstain) | power u64 |
//! height u64`; `Tally` = `proposal [32] | shard u16 | for u64 | against u64 | abstain u64 |
//! voters u64`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::address::{Address, ShardId};
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::dao::proposal::{Proposal, ProposalState, Totals};
use crate::hash::Hash;
use crate::object::{Object, ObjectKind, StateKey};

/// A voter's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Choice {
    /// For.
    For = 0,
    /// Against.
    Against = 1,
    /// Abstain: counts toward quorum only.
    Abstain = 2,
}

impl Choice {
    /// The choice with this code.
    pub fn from_u8(code: u8) -> Option<Choice> {
        [Choice::For, Choice::Against, Choice::Abstain]
            .get(usize::from(code))
            .copied()
    }

    /// One voter's `power` for this choice.
    pub fn totals(self, power: u64) -> Totals {
        let mut t = Totals {
            voters: 1,
            ..Totals::default()
        };
        match self {
            Choice::For => t.for_power = power,
            Choice::Against => t.against_power = power,
            Choice::Abstain => t.abstain_power = power,
        }
        t
    }
}

/// A member's power on one proposal, fixed at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weight {
    /// The proposal.
    pub proposal: Hash,
    /// The member.
    pub member: Address,
    /// Its own lock (unless delegated) plus the locks delegated to it, before the start.
    pub power: u64,
    /// The proposal's end: no vote at or after it.
    pub end: u64,
}

/// A member's vote on one proposal (the last one it cast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The proposal.
    pub proposal: Hash,
    /// The voter.
    pub voter: Address,
    /// Its choice.
    pub choice: Choice,
    /// Its weight on the proposal.
    pub power: u64,
    /// The block it was cast in.
    pub height: u64,
}

/// One shard's votes on a proposal, summed at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The proposal.
    pub proposal: Hash,
    /// The shard whose votes these are.
    pub shard: ShardId,
    /// The sums.
    pub totals: Totals,
}

/// The key of `member`'s weight on `proposal`.
pub fn weight_key(member: &Address, proposal: &Hash) -> StateKey {
    StateKey::new(member, ObjectKind::Weight, &proposal.0)
}

/// The key of `voter`'s vote on `proposal`.
pub fn vote_key(voter: &Address, proposal: &Hash) -> StateKey {
    StateKey::new(voter, ObjectKind::Vote, &proposal.0)
}

/// The key of shard `shard`'s tally of `proposal`.
pub fn tally_key(shard: ShardId, proposal: &Hash) -> StateKey {
    StateKey::system(shard, ObjectKind::Tally, &proposal.0)
}

/// Why per-shard tallies do not add up to a proposal's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TallyError {
    /// The proposal's vote has not ended (or never ran).
    #[error("the proposal is {0}: it has no final tally")]
    NotTallied(&'static str),
    /// Not one tally per shard.
    #[error("{got} shard tallies for {expected} shards")]
    ShardCount {
        /// Shards in the chain.
        expected: u16,
        /// Tallies given.
        got: usize,
    },
    /// A tally of another proposal, or out of shard order.
    #[error("tally {index} is shard {shard}'s of another proposal or shard")]
    Foreign {
        /// Its position.
        index: usize,
        /// The shard it names.
        shard: ShardId,
    },
    /// The shards' sums are not the proposal's.
    #[error("the shards' tallies sum to {sum:?}, the proposal records {recorded:?}")]
    Totals {
        /// What the shards add up to.
        sum: Totals,
        /// What the proposal says.
        recorded: Totals,
    },
    /// Quorum and threshold, recomputed, disagree with the proposal's state.
    #[error("the tally {passes} but the proposal is {state}")]
    Outcome {
        /// "passes" or "fails".
        passes: &'static str,
        /// The proposal's state.
        state: &'static str,
    },
}

/// Checks that `tallies` (shard `0..shards`, in order) are `proposal`'s, that they sum to the
/// totals it records, and that quorum and threshold recomputed from them give its state.
/// Returns the totals.
pub fn verify_tally(
    proposal: &Proposal,
    tallies: &[Tally],
    shards: u16,
) -> Result<Totals, TallyError> {
    let passed = match proposal.state {
        ProposalState::Queued | ProposalState::Executed | ProposalState::Expired => true,
        ProposalState::Defeated => false,
        s => return Err(TallyError::NotTallied(s.name())),
    };
    if tallies.len() != usize::from(shards) {
        return Err(TallyError::ShardCount {
            expected: shards,
            got: tallies.len(),
        });
    }
    let mut sum = Totals::default();
    for (i, t) in tallies.iter().enumerate() {
        if t.proposal != proposal.id || usize::from(t.shard) != i {
            return Err(TallyError::Foreign {
                index: i,
                shard: t.shard,
            });
        }
        sum = sum.add(&t.totals);
    }
    if sum != proposal.totals {
        return Err(TallyError::Totals {
            sum,
            recorded: proposal.totals,
        });
    }
    let passes = sum.passes(
        proposal.total_power,
        proposal.quorum_bps,
        proposal.threshold_bps,
    );
    if passes != passed {
        return Err(TallyError::Outcome {
            passes: if passes { "passes" } else { "fails" },
            state: proposal.state.name(),
        });
    }
    Ok(sum)
}

impl Object for Weight {
    const KIND: ObjectKind = ObjectKind::Weight;
}

impl Object for Vote {
    const KIND: ObjectKind = ObjectKind::Vote;
}

impl Object for Tally {
    const KIND: ObjectKind = ObjectKind::Tally;
}

impl Encode for Choice {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}

impl Decode for Choice {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let tag = r.u8()?;
        Choice::from_u8(tag).ok_or(CodecError::UnknownTag {
            kind: "choice",
            tag,
        })
    }
}

impl Encode for Weight {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.proposal.encode_to(out);
        self.member.encode_to(out);
        self.power.encode_to(out);
        self.end.encode_to(out);
    }
}

impl Decode for Weight {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Weight {
            proposal: Hash::decode_from(r)?,
            member: Address::decode_from(r)?,
            power: r.u64()?,
            end: r.u64()?,
        })
    }
}

impl Encode for Vote {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.proposal.encode_to(out);
        self.voter.encode_to(out);
        self.choice.encode_to(out);
        self.power.encode_to(out);
        self.height.encode_to(out);
    }
}

impl Decode for Vote {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Vote {
            proposal: Hash::decode_from(r)?,
            voter: Address::decode_from(r)?,
            choice: Choice::decode_from(r)?,
            power: r.u64()?,
            height: r.u64()?,
        })
    }
}

impl Encode for Tally {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.proposal.encode_to(out);
        self.shard.encode_to(out);
        self.totals.encode_to(out);
    }
}

impl Decode for Tally {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Tally {
            proposal: Hash::decode_from(r)?,
            shard: r.u16()?,
            totals: Totals::decode_from(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;
    use crate::dao::proposal::Action;
    use crate::dao::GovParams;

    #[test]
    fn weights_votes_and_tallies_round_trip_with_golden_vectors() {
        let w = Weight {
            proposal: Hash([1; 32]),
            member: Address([2; 20]),
            power: 500,
            end: 52,
        };
        let v = Vote {
            proposal: Hash([1; 32]),
            voter: Address([2; 20]),
            choice: Choice::Against,
            power: 500,
            height: 20,
        };
        let t = Tally {
            proposal: Hash([1; 32]),
            shard: 3,
            totals: Totals {
                for_power: 1,
                against_power: 2,
                abstain_power: 3,
                voters: 4,
            },
        };
        assert_eq!(decode_exact::<Weight>(&w.encode()), Ok(w));
        assert_eq!(decode_exact::<Vote>(&v.encode()), Ok(v));
        assert_eq!(decode_exact::<Tally>(&t.encode()), Ok(t));
        let h = "0101010101010101010101010101010101010101010101010101010101010101";
        let a = "0202020202020202020202020202020202020202";
        assert_eq!(
            hex::encode(w.encode()),
            format!("{h}{a}f4010000000000003400000000000000")
        );
        assert_eq!(
            hex::encode(v.encode()),
            format!("{h}{a}01f4010000000000001400000000000000")
        );
        assert_eq!(
            hex::encode(t.encode()),
            format!(
                "{h}0300\
                 0100000000000000020000000000000003000000000000000400000000000000"
            )
        );
        assert!(decode_exact::<Choice>(&[3]).is_err());
        assert_eq!(tally_key(3, &Hash([1; 32])).shard(4), 3);
        assert_eq!(
            vote_key(&Address([2; 20]), &Hash([1; 32])).shard(4),
            Address([2; 20]).shard(4)
        );
    }

    fn decided(totals: Totals, state: ProposalState) -> Proposal {
        let mut p = Proposal::new(
            Hash([1; 32]),
            Address([2; 20]),
            (Action::Text, "t".into(), Hash([0; 32])),
            1,
            &GovParams::DEVNET,
        );
        p.total_power = 1_000;
        p.totals = totals;
        p.state = state;
        p
    }

    fn tallies(parts: &[(u64, u64)]) -> Vec<Tally> {
        parts
            .iter()
            .enumerate()
            .map(|(s, (f, a))| Tally {
                proposal: Hash([1; 32]),
                shard: s as ShardId,
                totals: Totals {
                    for_power: *f,
                    against_power: *a,
                    abstain_power: 0,
                    voters: 1,
                },
            })
            .collect()
    }

    #[test]
    fn a_final_tally_is_the_sum_of_every_shard_and_gives_the_state() {
        let parts = tallies(&[(200, 0), (0, 100), (50, 0)]);
        let sum = Totals {
            for_power: 250,
            against_power: 100,
            abstain_power: 0,
            voters: 3,
        };
        let p = decided(sum, ProposalState::Queued);
        assert_eq!(verify_tally(&p, &parts, 3), Ok(sum));
        // Altered tally: one shard's for raised.
        let mut altered = parts.clone();
        altered[1].totals.for_power = 100;
        assert!(matches!(
            verify_tally(&p, &altered, 3),
            Err(TallyError::Totals { .. })
        ));
        // Dropped shard tally.
        assert_eq!(
            verify_tally(&p, &parts[..2], 3),
            Err(TallyError::ShardCount {
                expected: 3,
                got: 2
            })
        );
        // Another proposal's tally in its place.
        let mut foreign = parts.clone();
        foreign[2].proposal = Hash([9; 32]);
        assert!(matches!(
            verify_tally(&p, &foreign, 3),
            Err(TallyError::Foreign { index: 2, .. })
        ));
        // The same sums but a state they do not give.
        let lying = decided(sum, ProposalState::Defeated);
        assert!(matches!(
            verify_tally(&lying, &parts, 3),
            Err(TallyError::Outcome { .. })
        ));
        let pending = decided(sum, ProposalState::Active);
        assert_eq!(
            verify_tally(&pending, &parts, 3),
            Err(TallyError::NotTallied("active"))
        );
    }
}
