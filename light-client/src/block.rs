//! Block headers and shard headers.
//!
//! A block carries one shard header per shard. The block header commits to them with
//! `shards_root`, a Merkle root (see [`crate::merkle`]) over the shard header hashes in shard
//! order; validators sign the block header's hash once (see [`crate::commit`]).
//!
//! Encodings:
//! - block header: `chain_id str(≤32) | height u64 | parent_hash [32] | timestamp_ms u64 |
//!   proposer [32] | shards_root [32] | shard_count u16 | validator_set_hash [32] |
//!   next_validator_set_hash [32]`;
//! - shard header: `shard u16 | height u64 | tx_root [32] | outgoing_receipts_root [32] |
//!   incoming_receipts_root [32] | state_root [32] | objects_root [32] | events_root [32] |
//!   tx_count u32 | fees u64`.

use serde::{Deserialize, Serialize};

use crate::address::ShardId;
use crate::codec::{self, put_str, Decode, Encode, Reader};
use crate::crypto::PublicKey;
use crate::hash::{Domain, Hash};
use crate::merkle::{leaf_hash, MerkleTree};
use crate::transaction::MAX_CHAIN_ID_LEN;

/// The most shards a chain may have.
pub const MAX_SHARDS: u16 = 256;

/// What validators sign: one per block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain this block belongs to.
    pub chain_id: String,
    /// Height; genesis state is height 0, the first block is 1.
    pub height: u64,
    /// Hash of the previous block's header ([`Hash::ZERO`] for the first block).
    pub parent_hash: Hash,
    /// Milliseconds since the Unix epoch, as the proposer saw it.
    pub timestamp_ms: u64,
    /// The validator that proposed the block.
    pub proposer: PublicKey,
    /// Merkle root over the hashes of the shard headers, in shard order.
    pub shards_root: Hash,
    /// How many shard headers the block has.
    pub shard_count: u16,
    /// Hash of the validator set that signs this block.
    pub validator_set_hash: Hash,
    /// Hash of the validator set that signs the next block (a hand-over when it differs).
    pub next_validator_set_hash: Hash,
}

/// One shard's part of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardHeader {
    /// Which shard.
    pub shard: ShardId,
    /// The block height it belongs to.
    pub height: u64,
    /// Merkle root over the outcomes of the shard's transactions, in execution order.
    pub tx_root: Hash,
    /// Merkle root over the ids of the cross-shard receipts this shard emitted.
    pub outgoing_receipts_root: Hash,
    /// Merkle root over the ids of the receipts this shard applied, in order.
    pub incoming_receipts_root: Hash,
    /// Commitment to the shard's accounts after the block.
    pub state_root: Hash,
    /// Commitment to the shard's objects (meters, orders, certificates, parameters) after the
    /// block: the root of its object tree ([`crate::object`]).
    pub objects_root: Hash,
    /// Merkle root over the events of the block's system steps on this shard, in order
    /// ([`crate::event`]): trades' fills and settlements.
    pub events_root: Hash,
    /// Number of transactions.
    pub tx_count: u32,
    /// Total fees charged (burned) in this shard block.
    pub fees: u64,
}

impl BlockHeader {
    /// The header's hash, which names the block.
    pub fn hash(&self) -> Hash {
        Domain::BlockHeader.hash_encoded(self)
    }
}

impl ShardHeader {
    /// The shard header's hash (its leaf in the block's `shards_root`).
    pub fn hash(&self) -> Hash {
        Domain::ShardHeader.hash_encoded(self)
    }
}

/// The Merkle tree over shard headers whose root a block header carries.
pub fn shards_tree(shards: &[ShardHeader]) -> MerkleTree {
    MerkleTree::from_leaf_hashes(
        shards
            .iter()
            .map(|s| leaf_hash(s.hash().as_bytes()))
            .collect(),
    )
}

impl Encode for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_str(out, &self.chain_id);
        self.height.encode_to(out);
        self.parent_hash.encode_to(out);
        self.timestamp_ms.encode_to(out);
        self.proposer.encode_to(out);
        self.shards_root.encode_to(out);
        self.shard_count.encode_to(out);
        self.validator_set_hash.encode_to(out);
        self.next_validator_set_hash.encode_to(out);
    }
}

impl Decode for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(BlockHeader {
            chain_id: r.string("chain_id", MAX_CHAIN_ID_LEN)?,
            height: r.u64()?,
            parent_hash: Hash::decode_from(r)?,
            timestamp_ms: r.u64()?,
            proposer: PublicKey::decode_from(r)?,
            shards_root: Hash::decode_from(r)?,
            shard_count: r.u16()?,
            validator_set_hash: Hash::decode_from(r)?,
            next_validator_set_hash: Hash::decode_from(r)?,
        })
    }
}

impl Encode for ShardHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.shard.encode_to(out);
        self.height.encode_to(out);
        self.tx_root.encode_to(out);
        self.outgoing_receipts_root.encode_to(out);
        self.incoming_receipts_root.encode_to(out);
        self.state_root.encode_to(out);
        self.objects_root.encode_to(out);
        self.events_root.encode_to(out);
        self.tx_count.encode_to(out);
        self.fees.encode_to(out);
    }
}

impl Decode for ShardHeader {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(ShardHeader {
            shard: r.u16()?,
            height: r.u64()?,
            tx_root: Hash::decode_from(r)?,
            outgoing_receipts_root: Hash::decode_from(r)?,
            incoming_receipts_root: Hash::decode_from(r)?,
            state_root: Hash::decode_from(r)?,
            objects_root: Hash::decode_from(r)?,
            events_root: Hash::decode_from(r)?,
            tx_count: r.u32()?,
            fees: r.u64()?,
        })
    }
}
