//! The governance parameters: how long a proposal waits, is voted on and is held before it
//! executes, and what it takes to pass — an object in state under shard 0's system home, set
//! at genesis and changeable only by governance itself, inside bounds no vote can leave (a
//! captured vote cannot set a zero-block vote or a threshold below a majority).
//!
//! Encoding: `voting_delay u32 | voting_period u32 | timelock u32 | quorum_bps u16 |
//! threshold_bps u16 | proposal_min_power u64`.

use serde::{Deserialize, Serialize};

use crate::codec::{self, Decode, Encode, Reader};
use crate::market::schedule::within;
use crate::market::ParamError;
use crate::object::{Object, ObjectKind, StateKey};

/// Governance's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovParams {
    /// Blocks from a proposal to the start of its vote (its power snapshot).
    pub voting_delay: u32,
    /// Blocks its vote lasts.
    pub voting_period: u32,
    /// Blocks from a passed vote's end to its execution.
    pub timelock: u32,
    /// Power that must vote (for, against or abstain), in basis points of all power locked at
    /// the start.
    pub quorum_bps: u16,
    /// Share of for among for and against that passes, in basis points (above it, strictly).
    pub threshold_bps: u16,
    /// Tokens a proposer must have locked.
    pub proposal_min_power: u64,
}

/// Each parameter's bounds.
pub mod bounds {
    /// At least a block between a proposal and its snapshot.
    pub const VOTING_DELAY: (u32, u32) = (1, 1_000_000);
    /// A vote lasts long enough to be seen.
    pub const VOTING_PERIOD: (u32, u32) = (10, 10_000_000);
    /// Time to react before anything executes.
    pub const TIMELOCK: (u32, u32) = (1, 10_000_000);
    /// Someone must vote.
    pub const QUORUM_BPS: (u16, u16) = (1, 10_000);
    /// At least a majority.
    pub const THRESHOLD_BPS: (u16, u16) = (5_000, 10_000);
    /// Proposing costs some lock.
    pub const PROPOSAL_MIN_POWER: (u64, u64) = (1, u64::MAX);
}

impl GovParams {
    /// The devnet's: a 2-block delay, 40-block votes (20 s), a 20-block timelock, a 20 %
    /// quorum, a simple majority, 1,000 JOULE locked to propose.
    pub const DEVNET: GovParams = GovParams {
        voting_delay: 2,
        voting_period: 40,
        timelock: 20,
        quorum_bps: 2_000,
        threshold_bps: 5_000,
        proposal_min_power: 1_000 * crate::units::UNITS_PER_TOKEN,
    };

    /// Checks every parameter against its bounds.
    pub fn check(&self) -> Result<(), ParamError> {
        let w = |b: (u32, u32)| (u64::from(b.0), u64::from(b.1));
        let h = |b: (u16, u16)| (u64::from(b.0), u64::from(b.1));
        within(
            "voting_delay",
            self.voting_delay.into(),
            w(bounds::VOTING_DELAY),
        )?;
        within(
            "voting_period",
            self.voting_period.into(),
            w(bounds::VOTING_PERIOD),
        )?;
        within("timelock", self.timelock.into(), w(bounds::TIMELOCK))?;
        within("quorum_bps", self.quorum_bps.into(), h(bounds::QUORUM_BPS))?;
        within(
            "threshold_bps",
            self.threshold_bps.into(),
            h(bounds::THRESHOLD_BPS),
        )?;
        within(
            "proposal_min_power",
            self.proposal_min_power,
            bounds::PROPOSAL_MIN_POWER,
        )
    }
}

/// The key of governance's parameters.
pub fn gov_params_key() -> StateKey {
    StateKey::system(0, ObjectKind::GovParams, b"")
}

impl Object for GovParams {
    const KIND: ObjectKind = ObjectKind::GovParams;
}

impl Encode for GovParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.voting_delay.encode_to(out);
        self.voting_period.encode_to(out);
        self.timelock.encode_to(out);
        self.quorum_bps.encode_to(out);
        self.threshold_bps.encode_to(out);
        self.proposal_min_power.encode_to(out);
    }
}

impl Decode for GovParams {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(GovParams {
            voting_delay: r.u32()?,
            voting_period: r.u32()?,
            timelock: r.u32()?,
            quorum_bps: r.u16()?,
            threshold_bps: r.u16()?,
            proposal_min_power: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;

    #[test]
    fn devnet_params_are_in_bounds_and_round_trip_with_a_golden_vector() {
        let p = GovParams::DEVNET;
        assert_eq!(p.check(), Ok(()));
        assert_eq!(decode_exact::<GovParams>(&p.encode()), Ok(p));
        assert_eq!(
            hex::encode(p.encode()),
            "02000000\
             28000000\
             14000000\
             d007\
             8813\
             0010a5d4e8000000"
        );
        assert_eq!(gov_params_key().kind(), Some(ObjectKind::GovParams));
        assert_eq!(gov_params_key().shard(4), 0);
    }

    #[test]
    fn a_captured_vote_cannot_leave_the_bounds() {
        type Change = fn(&mut GovParams);
        let cases: [(Change, &str); 5] = [
            (|p| p.voting_delay = 0, "voting_delay"),
            (|p| p.voting_period = 1, "voting_period"),
            (|p| p.quorum_bps = 0, "quorum_bps"),
            (|p| p.threshold_bps = 4_999, "threshold_bps"),
            (|p| p.proposal_min_power = 0, "proposal_min_power"),
        ];
        for (change, name) in cases {
            let mut p = GovParams::DEVNET;
            change(&mut p);
            assert_eq!(p.check().map_err(|e| e.name), Err(name));
        }
    }
}
