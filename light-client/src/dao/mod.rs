//! Governance: the community's members vote with tokens they lock, directly or through a
//! delegate. This module holds the state a browser checks: a member's lock and delegation, and
//! the history that fixes a member's power at any height (a proposal's snapshot).

pub mod power;

pub use power::{checkpoint_key, power_at, power_key, Power, PowerCheckpoint, PowerHistoryError};
