//! Governance: the community's members vote with tokens they lock, directly or through a
//! delegate. This module holds the state a browser checks: governance's parameters, a member's
//! lock and delegation, and the history that fixes a member's power at any height (a
//! proposal's snapshot).

pub mod params;
pub mod power;

pub use params::{gov_params_key, GovParams};
pub use power::{checkpoint_key, power_at, power_key, Power, PowerCheckpoint, PowerHistoryError};
