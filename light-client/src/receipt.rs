//! Execution results that shard headers commit to: transaction outcomes and cross-shard receipts.
//!
//! - A **transaction outcome** (`tx_id [32] | status u8 | fee u64`) is a leaf of the shard's
//!   `tx_root`, so an inclusion proof also proves whether the transaction succeeded and what it
//!   paid.
//! - A **receipt** (`source_shard u16 | dest_shard u16 | source_height u64 | tx_id [32] |
//!   from [20] | to [20] | amount u64`) is emitted by a transfer to another shard. Its id
//!   (domain `receipt`) is a leaf of the source shard's `outgoing_receipts_root` in the block that
//!   debited it, and of the destination's `incoming_receipts_root` in the block that credited it.

use serde::{Deserialize, Serialize};

use crate::address::{Address, ShardId};
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::hash::{Domain, Hash};
use crate::merkle::MerkleTree;

/// How a transaction's execution ended. Included transactions always have one; every status
/// but `Success` charged the fee, advanced the nonce and changed nothing else. In JSON, its
/// [`ExecStatus::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecStatus {
    /// Applied.
    Success,
    /// The sender could not cover the amount (or a bid's escrow) at execution.
    InsufficientBalance,
    /// The order's interval has passed its gate (or a cancel came after it).
    MarketClosed,
    /// No meter is registered under that key.
    UnknownMeter,
    /// The meter belongs to someone else.
    NotMeterOwner,
    /// The meter is registered already.
    MeterExists,
    /// A reading not after the meter's last one, or outside its interval's reading window.
    StaleReading,
    /// A reading above what the meter's rated power delivers in an interval.
    OverCapacity,
    /// The sender has no order with that id.
    UnknownOrder,
    /// An order below the market's minimum quantity, or at price zero.
    OrderTooSmall,
    /// A consumption-only meter reported production or was named for an offer.
    NotAProducer,
    /// A limit price off the price grid (`market::price_on_grid`).
    BadPrice,
    /// The holder has fewer certificates of that origin, day and kind than it claims.
    InsufficientCertificates,
    /// The member has fewer tokens locked than it unlocks.
    InsufficientLocked,
    /// No proposal with that id.
    UnknownProposal,
    /// The proposal was canceled.
    ProposalCanceled,
    /// A vote before the proposal's start.
    VotingNotStarted,
    /// A vote at or after the proposal's end.
    VotingClosed,
    /// The voter had no power on the proposal at its start (none locked, or all delegated).
    NoPower,
    /// A cancel by someone other than the proposer.
    NotProposer,
    /// A cancel at or after the proposal's start.
    VotingStarted,
    /// The proposer has less locked than proposing takes.
    BelowProposalThreshold,
    /// A parameter change out of its bounds (or an empty spend).
    InvalidAction,
    /// The proposer has a proposal pending or active already (one at a time).
    AlreadyProposing,
}

/// Every status, by code.
const STATUSES: [ExecStatus; 24] = [
    ExecStatus::Success,
    ExecStatus::InsufficientBalance,
    ExecStatus::MarketClosed,
    ExecStatus::UnknownMeter,
    ExecStatus::NotMeterOwner,
    ExecStatus::MeterExists,
    ExecStatus::StaleReading,
    ExecStatus::OverCapacity,
    ExecStatus::UnknownOrder,
    ExecStatus::OrderTooSmall,
    ExecStatus::NotAProducer,
    ExecStatus::BadPrice,
    ExecStatus::InsufficientCertificates,
    ExecStatus::InsufficientLocked,
    ExecStatus::UnknownProposal,
    ExecStatus::ProposalCanceled,
    ExecStatus::VotingNotStarted,
    ExecStatus::VotingClosed,
    ExecStatus::NoPower,
    ExecStatus::NotProposer,
    ExecStatus::VotingStarted,
    ExecStatus::BelowProposalThreshold,
    ExecStatus::InvalidAction,
    ExecStatus::AlreadyProposing,
];

/// JSON names, by code.
const NAMES: [&str; 24] = [
    "success",
    "insufficient_balance",
    "market_closed",
    "unknown_meter",
    "not_meter_owner",
    "meter_exists",
    "stale_reading",
    "over_capacity",
    "unknown_order",
    "order_too_small",
    "not_a_producer",
    "bad_price",
    "insufficient_certificates",
    "insufficient_locked",
    "unknown_proposal",
    "proposal_canceled",
    "voting_not_started",
    "voting_closed",
    "no_power",
    "not_proposer",
    "voting_started",
    "below_proposal_threshold",
    "invalid_action",
    "already_proposing",
];

impl Serialize for ExecStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ExecStatus {
    // By hand: the derived visitor costs the browser's bundle more than this table.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STATUSES
            .iter()
            .copied()
            .find(|x| x.name() == s)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &NAMES))
    }
}

impl ExecStatus {
    /// Its name in JSON (snake case).
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.code())]
    }

    /// In words, for people (and CSV: the names are stable).
    pub fn label(self) -> &'static str {
        match self {
            ExecStatus::Success => "Success",
            ExecStatus::InsufficientBalance => "InsufficientBalance",
            ExecStatus::MarketClosed => "MarketClosed",
            ExecStatus::UnknownMeter => "UnknownMeter",
            ExecStatus::NotMeterOwner => "NotMeterOwner",
            ExecStatus::MeterExists => "MeterExists",
            ExecStatus::StaleReading => "StaleReading",
            ExecStatus::OverCapacity => "OverCapacity",
            ExecStatus::UnknownOrder => "UnknownOrder",
            ExecStatus::OrderTooSmall => "OrderTooSmall",
            ExecStatus::NotAProducer => "NotAProducer",
            ExecStatus::BadPrice => "BadPrice",
            ExecStatus::InsufficientCertificates => "InsufficientCertificates",
            ExecStatus::InsufficientLocked => "InsufficientLocked",
            ExecStatus::UnknownProposal => "UnknownProposal",
            ExecStatus::ProposalCanceled => "ProposalCanceled",
            ExecStatus::VotingNotStarted => "VotingNotStarted",
            ExecStatus::VotingClosed => "VotingClosed",
            ExecStatus::NoPower => "NoPower",
            ExecStatus::NotProposer => "NotProposer",
            ExecStatus::VotingStarted => "VotingStarted",
            ExecStatus::BelowProposalThreshold => "BelowProposalThreshold",
            ExecStatus::InvalidAction => "InvalidAction",
            ExecStatus::AlreadyProposing => "AlreadyProposing",
        }
    }

    /// The status's one-byte code (its position in the list above).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status with this code.
    pub fn from_code(code: u8) -> Option<ExecStatus> {
        STATUSES.get(usize::from(code)).copied()
    }
}

/// A transaction's result, as committed in `tx_root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxOutcome {
    /// The transaction's id.
    pub tx_id: Hash,
    /// How it ended.
    pub status: ExecStatus,
    /// Fee charged.
    pub fee: u64,
}

/// A credit on its way from one shard to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Shard that debited the sender.
    pub source_shard: ShardId,
    /// Shard that credits the recipient.
    pub dest_shard: ShardId,
    /// Height of the block that debited the sender.
    pub source_height: u64,
    /// The transaction that caused it.
    pub tx_id: Hash,
    /// The sender.
    pub from: Address,
    /// The recipient.
    pub to: Address,
    /// Tokens to credit.
    pub amount: u64,
}

impl Receipt {
    /// The receipt's id (its Merkle leaf).
    pub fn id(&self) -> Hash {
        Domain::Receipt.hash_encoded(self)
    }
}

/// The tree whose root is a shard header's `tx_root`: one leaf per outcome, its encoding.
pub fn outcomes_tree(outcomes: &[TxOutcome]) -> MerkleTree {
    let leaves: Vec<Vec<u8>> = outcomes.iter().map(Encode::encode).collect();
    MerkleTree::from_leaves(leaves.iter().map(Vec::as_slice))
}

/// The tree whose root is a shard header's `outgoing_receipts_root` or `incoming_receipts_root`:
/// one leaf per receipt, its id.
pub fn receipts_tree(receipts: &[Receipt]) -> MerkleTree {
    let ids: Vec<Hash> = receipts.iter().map(Receipt::id).collect();
    MerkleTree::from_leaves(ids.iter().map(|h| h.as_bytes().as_slice()))
}

impl Encode for TxOutcome {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx_id.encode_to(out);
        out.push(self.status.code());
        self.fee.encode_to(out);
    }
}

impl Decode for TxOutcome {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let tx_id = Hash::decode_from(r)?;
        let tag = r.u8()?;
        let status = ExecStatus::from_code(tag).ok_or(CodecError::UnknownTag {
            kind: "exec status",
            tag,
        })?;
        Ok(TxOutcome {
            tx_id,
            status,
            fee: r.u64()?,
        })
    }
}

impl Encode for Receipt {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.source_shard.encode_to(out);
        self.dest_shard.encode_to(out);
        self.source_height.encode_to(out);
        self.tx_id.encode_to(out);
        self.from.encode_to(out);
        self.to.encode_to(out);
        self.amount.encode_to(out);
    }
}

impl Decode for Receipt {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Receipt {
            source_shard: r.u16()?,
            dest_shard: r.u16()?,
            source_height: r.u64()?,
            tx_id: Hash::decode_from(r)?,
            from: Address::decode_from(r)?,
            to: Address::decode_from(r)?,
            amount: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn every_status_code_round_trips_and_unknown_codes_are_refused() {
        for (i, s) in STATUSES.iter().enumerate() {
            assert_eq!(usize::from(s.code()), i);
            assert_eq!(ExecStatus::from_code(s.code()), Some(*s));
            let o = TxOutcome {
                tx_id: Hash([1; 32]),
                status: *s,
                fee: 9,
            };
            assert_eq!(codec::decode_exact::<TxOutcome>(&o.encode()), Ok(o));
        }
        let mut bytes = TxOutcome {
            tx_id: Hash([1; 32]),
            status: ExecStatus::Success,
            fee: 9,
        }
        .encode();
        bytes[32] = STATUSES.len() as u8;
        assert!(codec::decode_exact::<TxOutcome>(&bytes).is_err());
        // JSON: snake-case names, each read back; an unknown one refused.
        for s in STATUSES {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<ExecStatus>(&json).unwrap(), s);
        }
        assert_eq!(
            ExecStatus::InsufficientBalance.name(),
            "insufficient_balance"
        );
        assert!(serde_json::from_str::<ExecStatus>("\"rich\"").is_err());
    }
}
