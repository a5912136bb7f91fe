//! Governance: the community's members vote with tokens they lock, directly or through a
//! delegate. This module holds the state a browser checks: governance's parameters, a member's
//! lock and delegation, and the history that fixes a member's power at any height (a
//! proposal's snapshot), proposals and their lifecycle, votes and the tallies a browser adds
//! up itself.

pub mod params;
pub mod power;
pub mod proposal;
pub mod vote;

pub use params::{gov_params_key, GovParams};
pub use power::{checkpoint_key, power_at, power_key, Power, PowerCheckpoint, PowerHistoryError};
pub use proposal::{
    live_proposal_key, proposal_key, Action, ActionError, ChainParams, LifecycleError,
    LiveProposal, Param, Proposal, ProposalState, Totals, MAX_TITLE_BYTES, PARAMS,
};
pub use vote::{
    tally_key, verify_tally, vote_key, weight_key, Choice, Tally, TallyError, Vote, Weight,
};
