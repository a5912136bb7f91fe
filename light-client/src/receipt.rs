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

/// How a transaction's execution ended. Included transactions always have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecStatus {
    /// Applied.
    Success,
    /// The sender could not cover amount + fee at execution; only the fee was charged.
    InsufficientBalance,
}

impl ExecStatus {
    /// In words, for people (and CSV: the names are stable).
    pub fn label(self) -> &'static str {
        match self {
            ExecStatus::Success => "Success",
            ExecStatus::InsufficientBalance => "InsufficientBalance",
        }
    }

    /// The status's one-byte code.
    pub fn code(self) -> u8 {
        match self {
            ExecStatus::Success => 0,
            ExecStatus::InsufficientBalance => 1,
        }
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
        let status = match r.u8()? {
            0 => ExecStatus::Success,
            1 => ExecStatus::InsufficientBalance,
            tag => {
                return Err(CodecError::UnknownTag {
                    kind: "exec status",
                    tag,
                })
            }
        };
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
