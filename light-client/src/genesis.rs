//! The genesis header: what a chain's genesis hash commits to, so a client that pins the hash
//! can check the chain's parameters (chain id, shards, fee) without trusting the node.
//!
//! Encoding: `chain_id str(≤32) | genesis_time_ms u64 | shard_count u16 |
//! block_interval_ms u64 | min_fee u64 | max_txs_per_shard_block u32 |
//! validator_set_hash [32] | accounts_hash [32] | faucet | market | objects_root [32]`, where
//! `faucet` is `0u8` for none or `1u8 | address [20] | amount u64`, `market` is the market's
//! parameters at genesis ([`MarketParams`]'s encoding; later values are objects in state) and
//! `objects_root` is the root of one object tree ([`crate::object::objects_root`]) over every
//! object in state at genesis, all shards together (the parameters, meters registered at
//! genesis). The genesis hash is that encoding hashed in the `genesis` domain. `accounts_hash` is `count u64 | (address [20] | balance u64)*` over the funded
//! accounts in the genesis document's order, hashed in the `genesis accounts` domain (a client
//! never needs the list itself, only that the node cannot change it under the same hash).
//!
//! The first block's `parent_hash` is the genesis hash, so the header chain starts at it.

use serde::{Deserialize, Serialize};

use crate::address::{Address, ShardId};
use crate::codec::{self, put_str, CodecError, Decode, Encode, Reader};
use crate::hash::{Domain, Hash};
use crate::market::MarketParams;
use crate::transaction::MAX_CHAIN_ID_LEN;

/// The devnet faucet as genesis fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisFaucet {
    /// The faucet's account.
    pub address: Address,
    /// Tokens per request.
    pub amount: u64,
}

/// The chain's parameters and first validator set, as its genesis hash names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisHeader {
    /// The chain id every header and transaction names.
    pub chain_id: String,
    /// Genesis time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Number of shards.
    pub shard_count: ShardId,
    /// Target time between blocks.
    pub block_interval_ms: u64,
    /// Flat fee per transaction (burned); a transaction's `max_fee` must cover it.
    pub min_fee: u64,
    /// Most transactions in one shard block.
    pub max_txs_per_shard_block: u32,
    /// Hash of the validator set that signs the first block.
    pub validator_set_hash: Hash,
    /// Hash over the accounts funded at genesis ([`accounts_hash`]).
    pub accounts_hash: Hash,
    /// The devnet faucet, if the chain has one.
    pub faucet: Option<GenesisFaucet>,
    /// The energy market's parameters at genesis.
    pub market: MarketParams,
    /// Root over every object in state at genesis (see the module doc).
    pub objects_root: Hash,
}

impl GenesisHeader {
    /// The genesis hash: what a checkpoint pins and the first block names as its parent.
    pub fn hash(&self) -> Hash {
        Domain::Genesis.hash_encoded(self)
    }
}

/// The hash over the accounts funded at genesis, in order (see the module doc).
pub fn accounts_hash<'a>(accounts: impl ExactSizeIterator<Item = (&'a Address, u64)>) -> Hash {
    let mut buf = Vec::with_capacity(8 + accounts.len() * 28);
    (accounts.len() as u64).encode_to(&mut buf);
    for (address, balance) in accounts {
        address.encode_to(&mut buf);
        balance.encode_to(&mut buf);
    }
    Domain::GenesisAccounts.hash(&buf)
}

impl Encode for GenesisHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_str(out, &self.chain_id);
        self.genesis_time_ms.encode_to(out);
        self.shard_count.encode_to(out);
        self.block_interval_ms.encode_to(out);
        self.min_fee.encode_to(out);
        self.max_txs_per_shard_block.encode_to(out);
        self.validator_set_hash.encode_to(out);
        self.accounts_hash.encode_to(out);
        match &self.faucet {
            None => 0u8.encode_to(out),
            Some(f) => {
                1u8.encode_to(out);
                f.address.encode_to(out);
                f.amount.encode_to(out);
            }
        }
        self.market.encode_to(out);
        self.objects_root.encode_to(out);
    }
}

impl Decode for GenesisHeader {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(GenesisHeader {
            chain_id: r.string("chain_id", MAX_CHAIN_ID_LEN)?,
            genesis_time_ms: r.u64()?,
            shard_count: r.u16()?,
            block_interval_ms: r.u64()?,
            min_fee: r.u64()?,
            max_txs_per_shard_block: r.u32()?,
            validator_set_hash: Hash::decode_from(r)?,
            accounts_hash: Hash::decode_from(r)?,
            faucet: match r.u8()? {
                0 => None,
                1 => Some(GenesisFaucet {
                    address: Address::decode_from(r)?,
                    amount: r.u64()?,
                }),
                tag => {
                    return Err(CodecError::UnknownTag {
                        kind: "genesis faucet",
                        tag,
                    })
                }
            },
            market: MarketParams::decode_from(r)?,
            objects_root: Hash::decode_from(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn header() -> GenesisHeader {
        GenesisHeader {
            chain_id: "t".into(),
            genesis_time_ms: 1,
            shard_count: 4,
            block_interval_ms: 500,
            min_fee: 1_000,
            max_txs_per_shard_block: 10_000,
            validator_set_hash: Hash([1; 32]),
            accounts_hash: accounts_hash([(&Address([2; 20]), 5u64)].into_iter()),
            faucet: Some(GenesisFaucet {
                address: Address([2; 20]),
                amount: 5,
            }),
            market: MarketParams::DEVNET,
            objects_root: Hash([3; 32]),
        }
    }

    #[test]
    fn round_trips_and_every_field_changes_the_hash() {
        let h = header();
        assert_eq!(
            codec::decode_exact::<GenesisHeader>(&h.encode()),
            Ok(h.clone())
        );
        let changes: [fn(&mut GenesisHeader); 11] = [
            |g| g.chain_id.push('x'),
            |g| g.genesis_time_ms += 1,
            |g| g.shard_count += 1,
            |g| g.block_interval_ms += 1,
            |g| g.min_fee += 1,
            |g| g.max_txs_per_shard_block += 1,
            |g| g.validator_set_hash = Hash::ZERO,
            |g| g.accounts_hash = Hash::ZERO,
            |g| g.faucet = None,
            |g| g.market.fee_bps += 1,
            |g| g.objects_root = Hash::ZERO,
        ];
        for change in changes {
            let mut other = h.clone();
            change(&mut other);
            assert_ne!(other.hash(), h.hash());
        }
        let mut none = h;
        none.faucet = None;
        assert_eq!(
            codec::decode_exact::<GenesisHeader>(&none.encode()),
            Ok(none)
        );
    }

    #[test]
    fn accounts_hash_depends_on_order_and_balances() {
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let ab = accounts_hash([(&a, 1u64), (&b, 2)].into_iter());
        assert_ne!(ab, accounts_hash([(&b, 2u64), (&a, 1)].into_iter()));
        assert_ne!(ab, accounts_hash([(&a, 1u64), (&b, 3)].into_iter()));
        assert_ne!(ab, accounts_hash([(&a, 1u64)].into_iter()));
    }
}
