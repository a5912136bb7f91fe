//! Deterministic keys, validator sets and blocks for the tests.

use joule_light_client::commit::sign_commit;
use joule_light_client::receipt::TxOutcome;
use joule_light_client::*;

pub const CHAIN: &str = "joule-test";

pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// A set of `n` validators with seeds `base..base+n`, power 10 each.
pub fn validator_keys(base: u8, n: u8) -> Vec<SecretKey> {
    (base..base + n).map(key).collect()
}

pub fn set_of(keys: &[SecretKey]) -> ValidatorSet {
    ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .unwrap()
}

pub fn outcome(i: u8) -> TxOutcome {
    TxOutcome {
        tx_id: Domain::Transaction.hash(&[i]),
        status: ExecStatus::Success,
        fee: 1000,
    }
}

pub fn shard_header(shard: u16, height: u64, outcomes: &[TxOutcome]) -> ShardHeader {
    let leaves: Vec<Vec<u8>> = outcomes.iter().map(Encode::encode).collect();
    ShardHeader {
        shard,
        height,
        tx_root: merkle::merkle_root(leaves.iter().map(Vec::as_slice)),
        outgoing_receipts_root: merkle::merkle_root(std::iter::empty()),
        incoming_receipts_root: merkle::merkle_root(std::iter::empty()),
        state_root: Hash::ZERO,
        objects_root: Hash::ZERO,
        events_root: Hash::ZERO,
        tx_count: outcomes.len() as u32,
        fees: 1000 * outcomes.len() as u64,
    }
}

pub fn header(
    height: u64,
    parent: Hash,
    shards: &[ShardHeader],
    set: &ValidatorSet,
    next: &ValidatorSet,
) -> BlockHeader {
    BlockHeader {
        chain_id: CHAIN.into(),
        height,
        parent_hash: parent,
        timestamp_ms: 1_700_000_000_000 + height * 500,
        proposer: set.validators()[0].public_key,
        shards_root: block::shards_tree(shards).root(),
        shard_count: shards.len() as u16,
        validator_set_hash: set.hash(),
        next_validator_set_hash: next.hash(),
    }
}

/// A block at `height` on `parent`, signed by all of `keys`.
pub fn signed_block(height: u64, parent: Hash, keys: &[SecretKey]) -> (BlockHeader, Commit) {
    let set = set_of(keys);
    let shards: Vec<ShardHeader> = (0..4)
        .map(|s| shard_header(s, height, &[outcome(s as u8)]))
        .collect();
    let h = header(height, parent, &shards, &set, &set);
    let c = sign_commit(&h, keys);
    (h, c)
}
