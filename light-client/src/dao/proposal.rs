//! Proposals: what a member asks the community to decide, and the lifecycle every node walks
//! it through at scheduled heights.
//!
//! A [`Proposal`] lives under its proposer (identity: the id of the transaction that made it)
//! and carries its own schedule and rules, fixed when it is made: `start = created + delay`
//! (the power snapshot), `end = start + period`, `eta = end + timelock`, and the quorum and
//! threshold in force then. Its [`ProposalState`] moves only forward:
//!
//! ```text
//! pending ──start──▶ active ──end──▶ queued ──eta──▶ executed
//!    │                          └──▶ defeated          └──▶ expired (the action cannot apply)
//!    └─ cancel (proposer, before start) ─▶ canceled
//! ```
//!
//! "Succeeded" is not a resting state: a vote that passes is queued for its `eta` at once.
//! The transitions are functions of the proposal and a height ([`Proposal::begin`],
//! [`Proposal::decide`], [`Proposal::execute`]) that refuse, by name, anything out of turn — a
//! step before its height, a second execution —, so the node's system steps and a light
//! client apply the same rules.
//!
//! Encodings: an [`Action`] is `0` (text) | `1 param u8 | value u64` | `2 to [20] | amount
//! u64`; a proposal is `id [32] | proposer [20] | action | title str(≤96) | body_hash [32] |
//! created u64 | start u64 | end u64 | eta u64 | quorum_bps u16 | threshold_bps u16 | state u8
//! | total_power u64 | for u64 | against u64 | abstain u64 | voters u64 | executed_at u64 |
//! previous u64`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::address::Address;
use crate::codec::{self, put_str, CodecError, Decode, Encode, Reader};
use crate::dao::params::GovParams;
use crate::hash::Hash;
use crate::market::{MarketParams, ParamError};
use crate::object::{Object, ObjectKind, StateKey};

/// The longest title, in bytes (the body lives off chain, committed by its hash).
pub const MAX_TITLE_BYTES: usize = 96;

/// A chain parameter a proposal may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Param {
    /// The market fee, basis points.
    FeeBps = 1,
    /// Blocks per delivery interval.
    IntervalBlocks = 2,
    /// Blocks before an interval at which its book closes.
    GateBlocks = 3,
    /// Blocks after an interval for its readings.
    ReadingBlocks = 4,
    /// The smallest order, Wh.
    MinOrderWh = 5,
    /// Intervals ahead an order may be placed for.
    MaxAhead = 6,
    /// Blocks from a proposal to its vote.
    VotingDelay = 7,
    /// Blocks a vote lasts.
    VotingPeriod = 8,
    /// Blocks from a passed vote to its execution.
    Timelock = 9,
    /// Quorum, basis points of the power locked at a proposal's start.
    QuorumBps = 10,
    /// Share of for among for and against that passes, basis points.
    ThresholdBps = 11,
    /// Tokens a proposer must have locked.
    ProposalMinPower = 12,
}

/// Every parameter, in tag order.
pub const PARAMS: [Param; 12] = [
    Param::FeeBps,
    Param::IntervalBlocks,
    Param::GateBlocks,
    Param::ReadingBlocks,
    Param::MinOrderWh,
    Param::MaxAhead,
    Param::VotingDelay,
    Param::VotingPeriod,
    Param::Timelock,
    Param::QuorumBps,
    Param::ThresholdBps,
    Param::ProposalMinPower,
];

/// The chain's parameters a proposal reads and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainParams {
    /// The market's.
    pub market: MarketParams,
    /// Governance's.
    pub gov: GovParams,
}

/// Why an action cannot be proposed or applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActionError {
    /// The value leaves the parameter's bounds (or makes the set inconsistent).
    #[error(transparent)]
    OutOfBounds(#[from] ParamError),
    /// A value that does not fit the parameter's type.
    #[error("{name} = {value} does not fit the parameter")]
    TooLarge {
        /// The parameter.
        name: &'static str,
        /// The value.
        value: u64,
    },
    /// A treasury spend of nothing.
    #[error("a spend must move at least one unit")]
    EmptySpend,
    /// The value is the parameter's value already: nothing to decide.
    #[error("{name} is {value} already")]
    Unchanged {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: u64,
    },
}

impl Param {
    /// The parameter with this tag.
    pub fn from_u8(tag: u8) -> Option<Param> {
        PARAMS.get(usize::from(tag).checked_sub(1)?).copied()
    }

    /// Its name (as in JSON).
    pub fn name(self) -> &'static str {
        match self {
            Param::FeeBps => "fee_bps",
            Param::IntervalBlocks => "interval_blocks",
            Param::GateBlocks => "gate_blocks",
            Param::ReadingBlocks => "reading_blocks",
            Param::MinOrderWh => "min_order_wh",
            Param::MaxAhead => "max_ahead",
            Param::VotingDelay => "voting_delay",
            Param::VotingPeriod => "voting_period",
            Param::Timelock => "timelock",
            Param::QuorumBps => "quorum_bps",
            Param::ThresholdBps => "threshold_bps",
            Param::ProposalMinPower => "proposal_min_power",
        }
    }

    /// Whether it moves the market's schedule (intervals' heights).
    pub fn is_schedule(self) -> bool {
        matches!(
            self,
            Param::IntervalBlocks | Param::GateBlocks | Param::ReadingBlocks
        )
    }

    /// Its value in `p`.
    pub fn get(self, p: &ChainParams) -> u64 {
        let (m, g) = (&p.market, &p.gov);
        match self {
            Param::FeeBps => m.fee_bps.into(),
            Param::IntervalBlocks => m.interval_blocks.into(),
            Param::GateBlocks => m.gate_blocks.into(),
            Param::ReadingBlocks => m.reading_blocks.into(),
            Param::MinOrderWh => m.min_order_wh,
            Param::MaxAhead => m.max_ahead.into(),
            Param::VotingDelay => g.voting_delay.into(),
            Param::VotingPeriod => g.voting_period.into(),
            Param::Timelock => g.timelock.into(),
            Param::QuorumBps => g.quorum_bps.into(),
            Param::ThresholdBps => g.threshold_bps.into(),
            Param::ProposalMinPower => g.proposal_min_power,
        }
    }

    /// `p` with this parameter set to `value`, decided in the block at `height`, checked
    /// against every bound. A schedule change takes effect at an interval boundary
    /// ([`MarketParams::rescheduled`]), so intervals already traded keep their heights.
    pub fn set(self, p: &ChainParams, value: u64, height: u64) -> Result<ChainParams, ActionError> {
        let too_large = || ActionError::TooLarge {
            name: self.name(),
            value,
        };
        let u32_ = || u32::try_from(value).map_err(|_| too_large());
        let u16_ = || u16::try_from(value).map_err(|_| too_large());
        if self.get(p) == value {
            return Err(ActionError::Unchanged {
                name: self.name(),
                value,
            });
        }
        let mut next = *p;
        let mut m = p.market;
        match self {
            Param::FeeBps => next.market.fee_bps = u16_()?,
            Param::IntervalBlocks => m.interval_blocks = u32_()?,
            Param::GateBlocks => m.gate_blocks = u32_()?,
            Param::ReadingBlocks => m.reading_blocks = u32_()?,
            Param::MinOrderWh => next.market.min_order_wh = value,
            Param::MaxAhead => next.market.max_ahead = u32_()?,
            Param::VotingDelay => next.gov.voting_delay = u32_()?,
            Param::VotingPeriod => next.gov.voting_period = u32_()?,
            Param::Timelock => next.gov.timelock = u32_()?,
            Param::QuorumBps => next.gov.quorum_bps = u16_()?,
            Param::ThresholdBps => next.gov.threshold_bps = u16_()?,
            Param::ProposalMinPower => next.gov.proposal_min_power = value,
        }
        if self.is_schedule() {
            next.market = p.market.rescheduled(height, m);
            // The last old interval's readings must close before the first new one's open.
            let min = u64::from(p.market.reading_blocks);
            if u64::from(next.market.interval_blocks) < min {
                return Err(ParamError {
                    name: "interval_blocks",
                    value: next.market.interval_blocks.into(),
                    min,
                    max: crate::market::schedule::bounds::INTERVAL_BLOCKS.1.into(),
                }
                .into());
            }
        }
        next.market.check()?;
        next.gov.check()?;
        Ok(next)
    }
}

/// What a proposal does if it passes. In JSON, an object whose `kind` is `text`, `set_param`
/// (with `param`, `value`) or `spend` (with `to`, `amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing on chain: a signal.
    Text,
    /// Sets a parameter.
    SetParam {
        /// Which.
        param: Param,
        /// To what.
        value: u64,
    },
    /// Pays tokens from the community treasury.
    Spend {
        /// The recipient.
        to: Address,
        /// Tokens.
        amount: u64,
    },
}

/// The JSON form of every action at once: one flat object, which costs the browser's bundle
/// less than an internally tagged enum (as [`crate::Payload`]'s does).
#[derive(Serialize, Deserialize, Default)]
struct ActionJson {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    param: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<u64>,
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut j = ActionJson::default();
        match *self {
            Action::Text => j.kind = "text".into(),
            Action::SetParam { param, value } => {
                j.kind = "set_param".into();
                (j.param, j.value) = (Some(param), Some(value));
            }
            Action::Spend { to, amount } => {
                j.kind = "spend".into();
                (j.to, j.amount) = (Some(to), Some(amount));
            }
        }
        j.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let j = ActionJson::deserialize(d)?;
        let need = |v: Option<u64>, f: &'static str| v.ok_or_else(|| D::Error::missing_field(f));
        Ok(match j.kind.as_str() {
            "text" => Action::Text,
            "set_param" => Action::SetParam {
                param: j.param.ok_or_else(|| D::Error::missing_field("param"))?,
                value: need(j.value, "value")?,
            },
            "spend" => Action::Spend {
                to: j.to.ok_or_else(|| D::Error::missing_field("to"))?,
                amount: need(j.amount, "amount")?,
            },
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["text", "set_param", "spend"],
                ))
            }
        })
    }
}

impl Action {
    /// Checks the action against the parameters in force at `height`: a parameter change
    /// must stay in bounds (a captured vote cannot break the chain), a spend must move
    /// something. The node checks again when it executes (other changes may have come first).
    pub fn check(&self, p: &ChainParams, height: u64) -> Result<(), ActionError> {
        match *self {
            Action::Text => Ok(()),
            Action::SetParam { param, value } => param.set(p, value, height).map(|_| ()),
            Action::Spend { amount: 0, .. } => Err(ActionError::EmptySpend),
            Action::Spend { .. } => Ok(()),
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ProposalState {
    /// Made; its vote has not started (the proposer may cancel it).
    Pending = 0,
    /// Open for votes.
    Active = 1,
    /// Canceled by its proposer before its vote.
    Canceled = 2,
    /// Its vote ended without quorum or majority.
    Defeated = 3,
    /// Passed, waiting out the timelock.
    Queued = 4,
    /// Its action applied, once.
    Executed = 5,
    /// Passed, but its action could not apply when its time came (an empty treasury, a
    /// parameter another change made inconsistent).
    Expired = 6,
}

impl ProposalState {
    /// Every state, by code.
    pub const ALL: [ProposalState; 7] = [
        ProposalState::Pending,
        ProposalState::Active,
        ProposalState::Canceled,
        ProposalState::Defeated,
        ProposalState::Queued,
        ProposalState::Executed,
        ProposalState::Expired,
    ];

    /// Its name in JSON and URLs.
    pub fn name(self) -> &'static str {
        match self {
            ProposalState::Pending => "pending",
            ProposalState::Active => "active",
            ProposalState::Canceled => "canceled",
            ProposalState::Defeated => "defeated",
            ProposalState::Queued => "queued",
            ProposalState::Executed => "executed",
            ProposalState::Expired => "expired",
        }
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProposalState::Canceled
                | ProposalState::Defeated
                | ProposalState::Executed
                | ProposalState::Expired
        )
    }
}

/// A vote's sums: power for, against and abstaining, and how many voted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Power for.
    pub for_power: u64,
    /// Power against.
    pub against_power: u64,
    /// Power abstaining (counts for quorum only).
    pub abstain_power: u64,
    /// Members who voted.
    pub voters: u64,
}

impl Totals {
    /// `self` plus `other` (sums of locked tokens fit in a u64: the supply does).
    pub fn add(&self, other: &Totals) -> Totals {
        Totals {
            for_power: self.for_power.saturating_add(other.for_power),
            against_power: self.against_power.saturating_add(other.against_power),
            abstain_power: self.abstain_power.saturating_add(other.abstain_power),
            voters: self.voters.saturating_add(other.voters),
        }
    }

    /// Whether these votes pass: at least `quorum_bps` of `total_power` voted (for, against
    /// or abstain), and for is more than `threshold_bps` of for and against.
    pub fn passes(&self, total_power: u64, quorum_bps: u16, threshold_bps: u16) -> bool {
        let turnout = u128::from(self.for_power)
            + u128::from(self.against_power)
            + u128::from(self.abstain_power);
        let quorum = turnout * 10_000 >= u128::from(total_power) * u128::from(quorum_bps);
        let decided = u128::from(self.for_power) + u128::from(self.against_power);
        let majority = u128::from(self.for_power) * 10_000 > decided * u128::from(threshold_bps);
        turnout > 0 && quorum && majority
    }
}

/// A proposal, under its proposer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The id of the transaction that made it.
    pub id: Hash,
    /// Who made it (the only one who may cancel it).
    pub proposer: Address,
    /// What it does if it passes.
    pub action: Action,
    /// A short title.
    pub title: String,
    /// blake3 of its full text (kept off chain; anyone can check a copy against it).
    pub body_hash: Hash,
    /// The block that made it.
    pub created: u64,
    /// Its vote opens here; power is what held before this height.
    pub start: u64,
    /// Its vote closes here (no vote at or after it); the tally runs here.
    pub end: u64,
    /// It executes here if it passed.
    pub eta: u64,
    /// Quorum in force when it was made.
    pub quorum_bps: u16,
    /// Threshold in force when it was made.
    pub threshold_bps: u16,
    /// Where it stands.
    pub state: ProposalState,
    /// Power locked at its start (the quorum's base; 0 before the start).
    pub total_power: u64,
    /// Its final tally (zero before the end).
    pub totals: Totals,
    /// The height its action applied at (0: not executed).
    pub executed_at: u64,
    /// A parameter change's value before it (0 otherwise).
    pub previous: u64,
}

/// A lifecycle step out of turn, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LifecycleError {
    /// The step's height has not come.
    #[error("not before height {at}")]
    TooEarly {
        /// Its height.
        at: u64,
    },
    /// Execution before the timelock has passed.
    #[error("timelocked until height {eta}")]
    Timelocked {
        /// Its execution height.
        eta: u64,
    },
    /// A second execution.
    #[error("executed already, at height {at}")]
    AlreadyExecuted {
        /// When it was.
        at: u64,
    },
    /// The step does not apply to the proposal's state.
    #[error("a {state} proposal cannot take this step")]
    WrongState {
        /// Its state's name.
        state: &'static str,
    },
    /// Canceled after its vote started, or by someone else.
    #[error("only the proposer may cancel, and only before the vote starts")]
    CannotCancel,
}

impl Proposal {
    /// A new proposal made by transaction `id` in the block at `created` under `gov`.
    pub fn new(
        id: Hash,
        proposer: Address,
        (action, title, body_hash): (Action, String, Hash),
        created: u64,
        gov: &GovParams,
    ) -> Proposal {
        let start = created.saturating_add(gov.voting_delay.into());
        let end = start.saturating_add(gov.voting_period.into());
        Proposal {
            id,
            proposer,
            action,
            title,
            body_hash,
            created,
            start,
            end,
            eta: end.saturating_add(gov.timelock.into()),
            quorum_bps: gov.quorum_bps,
            threshold_bps: gov.threshold_bps,
            state: ProposalState::Pending,
            total_power: 0,
            totals: Totals::default(),
            executed_at: 0,
            previous: 0,
        }
    }

    fn wrong(&self) -> LifecycleError {
        LifecycleError::WrongState {
            state: self.state.name(),
        }
    }

    /// Cancels it: by its proposer, at a height before its start.
    pub fn cancel(&mut self, by: &Address, height: u64) -> Result<(), LifecycleError> {
        if *by != self.proposer || height >= self.start {
            return Err(LifecycleError::CannotCancel);
        }
        if self.state != ProposalState::Pending {
            return Err(self.wrong());
        }
        self.state = ProposalState::Canceled;
        Ok(())
    }

    /// Opens its vote at `height` with `total_power` locked.
    pub fn begin(&mut self, height: u64, total_power: u64) -> Result<(), LifecycleError> {
        if self.state != ProposalState::Pending {
            return Err(self.wrong());
        }
        if height < self.start {
            return Err(LifecycleError::TooEarly { at: self.start });
        }
        self.state = ProposalState::Active;
        self.total_power = total_power;
        Ok(())
    }

    /// Closes its vote at `height` with `totals`: queued if they pass, else defeated.
    pub fn decide(&mut self, height: u64, totals: Totals) -> Result<(), LifecycleError> {
        if self.state != ProposalState::Active {
            return Err(self.wrong());
        }
        if height < self.end {
            return Err(LifecycleError::TooEarly { at: self.end });
        }
        self.totals = totals;
        self.state = if totals.passes(self.total_power, self.quorum_bps, self.threshold_bps) {
            ProposalState::Queued
        } else {
            ProposalState::Defeated
        };
        Ok(())
    }

    /// Marks it executed at `height` (`applied`: its action took effect; otherwise expired),
    /// once, and not before its `eta`.
    pub fn execute(&mut self, height: u64, applied: bool) -> Result<(), LifecycleError> {
        match self.state {
            ProposalState::Executed => {
                return Err(LifecycleError::AlreadyExecuted {
                    at: self.executed_at,
                })
            }
            ProposalState::Queued => {}
            _ => return Err(self.wrong()),
        }
        if height < self.eta {
            return Err(LifecycleError::Timelocked { eta: self.eta });
        }
        self.executed_at = height;
        self.state = if applied {
            ProposalState::Executed
        } else {
            ProposalState::Expired
        };
        Ok(())
    }
}

/// The proposal a member has pending or active, under the member: a member has at most one
/// at a time (as in Compound's governor), so one member cannot flood the chain with
/// proposals — each start writes a weight for every member with power. Encoding: the
/// proposal's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveProposal(pub Hash);

/// The key of `proposer`'s live proposal marker.
pub fn live_proposal_key(proposer: &Address) -> StateKey {
    StateKey::new(proposer, ObjectKind::LiveProposal, &proposer.0)
}

impl Object for LiveProposal {
    const KIND: ObjectKind = ObjectKind::LiveProposal;
}

impl Encode for LiveProposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for LiveProposal {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(LiveProposal(Hash::decode_from(r)?))
    }
}

/// The key of the proposal made by transaction `id` of `proposer`.
pub fn proposal_key(proposer: &Address, id: &Hash) -> StateKey {
    StateKey::new(proposer, ObjectKind::Proposal, &id.0)
}

impl Object for Proposal {
    const KIND: ObjectKind = ObjectKind::Proposal;
}

impl Encode for Param {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}

impl Decode for Param {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let tag = r.u8()?;
        Param::from_u8(tag).ok_or(CodecError::UnknownTag {
            kind: "parameter",
            tag,
        })
    }
}

impl Encode for Action {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Action::Text => out.push(0),
            Action::SetParam { param, value } => {
                out.push(1);
                param.encode_to(out);
                value.encode_to(out);
            }
            Action::Spend { to, amount } => {
                out.push(2);
                to.encode_to(out);
                amount.encode_to(out);
            }
        }
    }
}

impl Decode for Action {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(match r.u8()? {
            0 => Action::Text,
            1 => Action::SetParam {
                param: Param::decode_from(r)?,
                value: r.u64()?,
            },
            2 => Action::Spend {
                to: Address::decode_from(r)?,
                amount: r.u64()?,
            },
            tag => {
                return Err(CodecError::UnknownTag {
                    kind: "action",
                    tag,
                })
            }
        })
    }
}

impl Encode for Totals {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.for_power.encode_to(out);
        self.against_power.encode_to(out);
        self.abstain_power.encode_to(out);
        self.voters.encode_to(out);
    }
}

impl Decode for Totals {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Totals {
            for_power: r.u64()?,
            against_power: r.u64()?,
            abstain_power: r.u64()?,
            voters: r.u64()?,
        })
    }
}

impl Encode for Proposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.id.encode_to(out);
        self.proposer.encode_to(out);
        self.action.encode_to(out);
        put_str(out, &self.title);
        self.body_hash.encode_to(out);
        for h in [self.created, self.start, self.end, self.eta] {
            h.encode_to(out);
        }
        self.quorum_bps.encode_to(out);
        self.threshold_bps.encode_to(out);
        out.push(self.state as u8);
        self.total_power.encode_to(out);
        self.totals.encode_to(out);
        self.executed_at.encode_to(out);
        self.previous.encode_to(out);
    }
}

impl Decode for Proposal {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Proposal {
            id: Hash::decode_from(r)?,
            proposer: Address::decode_from(r)?,
            action: Action::decode_from(r)?,
            title: r.string("title", MAX_TITLE_BYTES)?,
            body_hash: Hash::decode_from(r)?,
            created: r.u64()?,
            start: r.u64()?,
            end: r.u64()?,
            eta: r.u64()?,
            quorum_bps: r.u16()?,
            threshold_bps: r.u16()?,
            state: {
                let tag = r.u8()?;
                *ProposalState::ALL
                    .get(usize::from(tag))
                    .ok_or(CodecError::UnknownTag {
                        kind: "proposal state",
                        tag,
                    })?
            },
            total_power: r.u64()?,
            totals: Totals::decode_from(r)?,
            executed_at: r.u64()?,
            previous: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;

    const P: ChainParams = ChainParams {
        market: MarketParams::DEVNET,
        gov: GovParams::DEVNET,
    };

    fn proposal() -> Proposal {
        let action = Action::SetParam {
            param: Param::FeeBps,
            value: 100,
        };
        let body = (action, "Fee to 1 %".to_owned(), Hash([3; 32]));
        Proposal::new(Hash([1; 32]), Address([2; 20]), body, 10, &P.gov)
    }

    #[test]
    fn proposals_and_actions_round_trip_with_golden_vectors() {
        let p = proposal();
        assert_eq!((p.start, p.end, p.eta), (12, 52, 72));
        assert_eq!(decode_exact::<Proposal>(&p.encode()), Ok(p.clone()));
        assert_eq!(
            hex::encode(p.encode()),
            "0101010101010101010101010101010101010101010101010101010101010101\
             0202020202020202020202020202020202020202\
             01016400000000000000\
             0a00000046656520746f20312025\
             0303030303030303030303030303030303030303030303030303030303030303\
             0a00000000000000\
             0c00000000000000\
             3400000000000000\
             4800000000000000\
             d007\
             8813\
             00\
             0000000000000000\
             0000000000000000000000000000000000000000000000000000000000000000\
             0000000000000000\
             0000000000000000"
        );
        let spend = Action::Spend {
            to: Address([9; 20]),
            amount: 5,
        };
        assert_eq!(
            hex::encode(spend.encode()),
            "0209090909090909090909090909090909090909090500000000000000"
        );
        assert_eq!(hex::encode(Action::Text.encode()), "00");
        let live = LiveProposal(Hash([1; 32]));
        assert_eq!(live.encode(), vec![1; 32]);
        assert_eq!(decode_exact::<LiveProposal>(&live.encode()), Ok(live));
        assert_eq!(
            live_proposal_key(&Address([2; 20])).kind(),
            Some(ObjectKind::LiveProposal)
        );
        for a in [Action::Text, spend] {
            assert_eq!(decode_exact::<Action>(&a.encode()), Ok(a));
        }
        assert!(decode_exact::<Action>(&[1, 13, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(decode_exact::<Action>(&[3]).is_err());
        let mut long = p;
        long.title = "x".repeat(MAX_TITLE_BYTES + 1);
        assert!(decode_exact::<Proposal>(&long.encode()).is_err());
    }

    #[test]
    fn actions_in_json() {
        let cases = [
            (Action::Text, r#"{"kind":"text"}"#),
            (
                Action::SetParam {
                    param: Param::QuorumBps,
                    value: 2500,
                },
                r#"{"kind":"set_param","param":"quorum_bps","value":2500}"#,
            ),
            (
                Action::Spend {
                    to: Address([0; 20]),
                    amount: 7,
                },
                r#"{"kind":"spend","to":"joule1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq7rdxa7","amount":7}"#,
            ),
        ];
        for (action, json) in cases {
            assert_eq!(serde_json::to_string(&action).unwrap(), json);
            assert_eq!(serde_json::from_str::<Action>(json).unwrap(), action);
        }
        assert!(serde_json::from_str::<Action>(r#"{"kind":"set_param","value":1}"#).is_err());
        assert!(serde_json::from_str::<Action>(r#"{"kind":"mint"}"#).is_err());
    }

    #[test]
    fn a_captured_vote_cannot_set_a_parameter_out_of_bounds() {
        let set = |param, value| Action::SetParam { param, value }.check(&P, 100);
        assert_eq!(set(Param::FeeBps, 100), Ok(()));
        // A 100 % fee, a zero-length interval, a vote of one block, a minority threshold.
        let out = |param, value| match set(param, value) {
            Err(ActionError::OutOfBounds(e)) => e.name,
            other => panic!("{param:?} = {value}: {other:?}"),
        };
        assert_eq!(out(Param::FeeBps, 10_000), "fee_bps");
        assert_eq!(out(Param::IntervalBlocks, 0), "interval_blocks");
        assert_eq!(out(Param::GateBlocks, 20), "gate_blocks");
        assert_eq!(out(Param::VotingPeriod, 1), "voting_period");
        assert_eq!(out(Param::ThresholdBps, 4_000), "threshold_bps");
        assert_eq!(out(Param::MinOrderWh, 0), "min_order_wh");
        assert!(matches!(
            set(Param::FeeBps, 1 << 20),
            Err(ActionError::TooLarge { .. })
        ));
        assert!(matches!(
            set(Param::FeeBps, 50),
            Err(ActionError::Unchanged { .. })
        ));
        let spend = |amount| Action::Spend {
            to: Address([1; 20]),
            amount,
        };
        assert_eq!(spend(0).check(&P, 1), Err(ActionError::EmptySpend));
        assert_eq!(spend(1).check(&P, 1), Ok(()));
        for p in PARAMS {
            assert_eq!(Param::from_u8(p as u8), Some(p));
        }
    }

    #[test]
    fn the_lifecycle_moves_forward_once_at_its_heights() {
        let mut p = proposal();
        let proposer = p.proposer;
        assert_eq!(p.begin(11, 100), Err(LifecycleError::TooEarly { at: 12 }));
        p.begin(12, 100).unwrap();
        assert_eq!(
            p.cancel(&proposer, 12),
            Err(LifecycleError::CannotCancel),
            "the vote started"
        );
        let totals = Totals {
            for_power: 30,
            against_power: 10,
            abstain_power: 0,
            voters: 3,
        };
        assert_eq!(
            p.decide(51, totals),
            Err(LifecycleError::TooEarly { at: 52 })
        );
        p.decide(52, totals).unwrap();
        assert_eq!(p.state, ProposalState::Queued);
        assert_eq!(
            p.execute(71, true),
            Err(LifecycleError::Timelocked { eta: 72 })
        );
        p.execute(72, true).unwrap();
        assert_eq!(p.state, ProposalState::Executed);
        assert_eq!(
            p.execute(73, true),
            Err(LifecycleError::AlreadyExecuted { at: 72 })
        );
        // Canceling: the proposer, before the start; no one else.
        let mut q = proposal();
        assert_eq!(
            q.cancel(&Address([7; 20]), 11),
            Err(LifecycleError::CannotCancel)
        );
        q.cancel(&proposer, 11).unwrap();
        assert_eq!(q.state, ProposalState::Canceled);
        assert_eq!(
            q.begin(12, 1),
            Err(LifecycleError::WrongState { state: "canceled" })
        );
    }

    #[test]
    fn quorum_counts_abstentions_and_the_threshold_is_strict() {
        let t = |f, a, x| Totals {
            for_power: f,
            against_power: a,
            abstain_power: x,
            voters: 1,
        };
        // 20 % of 1,000 must vote; more than half of for + against must be for.
        assert!(t(150, 0, 50).passes(1_000, 2_000, 5_000));
        assert!(!t(150, 0, 49).passes(1_000, 2_000, 5_000), "no quorum");
        assert!(!t(100, 100, 0).passes(1_000, 2_000, 5_000), "a tie fails");
        assert!(t(101, 100, 0).passes(1_000, 2_000, 5_000));
        assert!(!t(0, 0, 0).passes(0, 2_000, 5_000), "no votes, no pass");
        assert!(
            !t(0, 0, 500).passes(1_000, 2_000, 5_000),
            "abstentions alone"
        );
    }
}
