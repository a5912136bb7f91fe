//! The genesis document: chain id, shards, parameters, validators and initial balances.
//! Written once into the data directory as `genesis.json`; later starts read it back.

use std::collections::HashSet;
use std::path::Path;

use joule_light_client::block::MAX_SHARDS;
use joule_light_client::dao::{
    checkpoint_key, gov_params_key, power_key, GovParams, Power, PowerCheckpoint,
};
use joule_light_client::genesis::{accounts_hash, GenesisFaucet};
use joule_light_client::market::{self, params_key, MarketParams, Meter, MeterKind};
use joule_light_client::object::{objects_root, StateKey};
use joule_light_client::transaction::MAX_CHAIN_ID_LEN;
use joule_light_client::{Address, Checkpoint, Encode, GenesisHeader, Hash, ValidatorSet};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Shortest block interval a genesis may set.
pub const MIN_BLOCK_INTERVAL_MS: u64 = 50;
/// Longest block interval a genesis may set.
pub const MAX_BLOCK_INTERVAL_MS: u64 = 3_600_000;
/// Most transactions per shard block a genesis may allow (a network's decoder bound).
pub const MAX_TXS_PER_SHARD_BLOCK: u32 = crate::network::wire::MAX_WIRE_TXS_PER_SHARD as u32;

/// Why a genesis document was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// Reading or writing the file failed.
    #[error("genesis file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not valid genesis JSON.
    #[error("genesis file is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A field breaks a rule.
    #[error("invalid genesis: {0}")]
    Invalid(String),
}

/// One pre-funded account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Its address.
    pub address: Address,
    /// Its starting balance, in the smallest unit.
    pub balance: u64,
}

/// The devnet faucet: an account whose key the node holds, and how much it gives per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaucetConfig {
    /// The faucet's address (must be funded in `accounts`).
    pub address: Address,
    /// Tokens per request.
    pub amount: u64,
}

/// A meter registered at genesis (a devnet's, so a fresh chain has a market to show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisMeter {
    /// The meter's own address (its key signs its readings); on its owner's shard.
    pub address: Address,
    /// The prosumer it belongs to.
    pub owner: Address,
    /// What it measures.
    pub kind: MeterKind,
    /// Rated power, W.
    pub capacity_w: u64,
}

/// Tokens locked for governance at genesis (beside the member's balance, part of the supply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisPower {
    /// The member.
    pub member: Address,
    /// Tokens locked.
    pub locked: u64,
    /// Its delegate, if it delegates.
    #[serde(default)]
    pub delegate: Option<Address>,
}

/// The chain's starting point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The chain id.
    pub chain_id: String,
    /// Time of genesis, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Number of shards.
    pub shard_count: u16,
    /// Target time between blocks.
    pub block_interval_ms: u64,
    /// Flat fee per transaction (burned).
    pub min_fee: u64,
    /// Most transactions in one shard block.
    pub max_txs_per_shard_block: u32,
    /// The validators.
    pub validators: ValidatorSet,
    /// Initial balances.
    pub accounts: Vec<GenesisAccount>,
    /// The devnet faucet, if any.
    pub faucet: Option<FaucetConfig>,
    /// The energy market's parameters at genesis (later, objects in state that governance
    /// changes).
    pub market: MarketParams,
    /// Governance's parameters at genesis (later, an object in state that governance changes).
    pub governance: GovParams,
    /// Meters registered at genesis.
    #[serde(default)]
    pub meters: Vec<GenesisMeter>,
    /// Governance locks at genesis, so a new chain can govern from its first block.
    #[serde(default)]
    pub powers: Vec<GenesisPower>,
}

impl Genesis {
    /// Checks the rules a genesis must follow.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        if self.chain_id.is_empty() || self.chain_id.len() > MAX_CHAIN_ID_LEN {
            return bad(format!("chain id must have 1 to {MAX_CHAIN_ID_LEN} bytes"));
        }
        if self.shard_count == 0 || self.shard_count > MAX_SHARDS {
            return bad(format!("shard count must be 1 to {MAX_SHARDS}"));
        }
        if self.min_fee == 0 {
            return bad("min fee must be positive".into());
        }
        // A block interval of 1 ms once produced 700 blocks a second; an hour between blocks
        // is no chain anyone waits on.
        if !(MIN_BLOCK_INTERVAL_MS..=MAX_BLOCK_INTERVAL_MS).contains(&self.block_interval_ms) {
            return bad(format!(
                "block interval must be {MIN_BLOCK_INTERVAL_MS} to {MAX_BLOCK_INTERVAL_MS} ms, not {}",
                self.block_interval_ms
            ));
        }
        if self.max_txs_per_shard_block == 0
            || self.max_txs_per_shard_block > MAX_TXS_PER_SHARD_BLOCK
        {
            return bad(format!(
                "block size must be 1 to {MAX_TXS_PER_SHARD_BLOCK} transactions per shard"
            ));
        }
        let mut seen = HashSet::new();
        let mut supply: u64 = 0;
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return bad(format!("account {} listed twice", a.address));
            }
            supply = match supply.checked_add(a.balance) {
                Some(s) => s,
                None => return bad("total supply overflows u64".into()),
            };
        }
        if let Some(f) = &self.faucet {
            if !seen.contains(&f.address) {
                return bad("faucet account is not funded".into());
            }
        }
        if let Err(e) = self.market.check() {
            return bad(format!("market parameter {e}"));
        }
        if let Err(e) = self.governance.check() {
            return bad(format!("governance parameter {e}"));
        }
        let mut members = HashSet::new();
        for p in &self.powers {
            if !members.insert(p.member) {
                return bad(format!("member {} locked twice", p.member));
            }
            if p.delegate == Some(p.member) {
                return bad(format!("member {} delegates to itself", p.member));
            }
            supply = match supply.checked_add(p.locked) {
                Some(s) => s,
                None => return bad("total supply overflows u64".into()),
            };
        }
        let mut meters = HashSet::new();
        for m in &self.meters {
            if !meters.insert(m.address) {
                return bad(format!("meter {} listed twice", m.address));
            }
            if m.capacity_w == 0 {
                return bad(format!("meter {} has no capacity", m.address));
            }
            if m.address == m.owner
                || m.address.shard(self.shard_count) != m.owner.shard(self.shard_count)
            {
                return bad(format!(
                    "meter {} must have its own address, on its owner's shard",
                    m.address
                ));
            }
        }
        Ok(())
    }

    /// The objects in state at genesis, sorted by key: the market's and governance's
    /// parameters, the meters
    /// (each expecting its first reading for the anchor interval) and the governance locks
    /// (each with its first checkpoint, at height 0).
    pub fn objects(&self) -> Vec<(StateKey, Vec<u8>)> {
        let mut all = vec![
            (params_key(), self.market.encode()),
            (gov_params_key(), self.governance.encode()),
        ];
        all.extend(self.meters.iter().map(|m| {
            let meter = Meter {
                owner: m.owner,
                kind: m.kind,
                capacity_w: m.capacity_w,
                next_interval: self.market.anchor_interval,
                produced_wh: 0,
                consumed_wh: 0,
                last_produced_wh: 0,
            };
            (market::meter_key(&m.address), meter.encode())
        }));
        for p in &self.powers {
            let power = Power {
                member: p.member,
                locked: p.locked,
                delegate: p.delegate,
                checkpoints: 1,
            };
            let first = PowerCheckpoint {
                member: p.member,
                height: 0,
                locked: p.locked,
                delegate: p.delegate,
            };
            all.push((power_key(&p.member), power.encode()));
            all.push((checkpoint_key(&p.member, 0), first.encode()));
        }
        all.sort_unstable_by_key(|(k, _)| *k);
        all
    }

    /// Total tokens at genesis: balances and governance locks.
    pub fn total_supply(&self) -> u64 {
        let balances: u64 = self.accounts.iter().map(|a| a.balance).sum();
        balances + self.powers.iter().map(|p| p.locked).sum::<u64>()
    }

    /// What the genesis hash commits to (what light clients check against a checkpoint).
    pub fn header(&self) -> GenesisHeader {
        GenesisHeader {
            chain_id: self.chain_id.clone(),
            genesis_time_ms: self.genesis_time_ms,
            shard_count: self.shard_count,
            block_interval_ms: self.block_interval_ms,
            min_fee: self.min_fee,
            max_txs_per_shard_block: self.max_txs_per_shard_block,
            validator_set_hash: self.validators.hash(),
            accounts_hash: accounts_hash(self.accounts.iter().map(|a| (&a.address, a.balance))),
            faucet: self.faucet.as_ref().map(|f| GenesisFaucet {
                address: f.address,
                amount: f.amount,
            }),
            market: self.market,
            objects_root: objects_root(&self.objects()),
        }
    }

    /// Names this chain's genesis: the hash of [`Genesis::header`], which block 1 names as
    /// its parent.
    pub fn hash(&self) -> Hash {
        self.header().hash()
    }

    /// The checkpoint users pin to trust this chain.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint::of_genesis(&self.header())
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, GenesisError> {
        let g: Genesis = serde_json::from_slice(&std::fs::read(path)?)?;
        g.validate()?;
        Ok(g)
    }

    /// Writes `path` (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<(), GenesisError> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::devnet::{genesis, DevnetKeys, DevnetOptions};

    fn with_interval(ms: u64) -> super::Genesis {
        genesis(
            &DevnetOptions {
                shard_count: 4,
                block_interval_ms: ms,
                genesis_time_ms: 1,
            },
            &DevnetKeys::generate(),
        )
    }

    #[test]
    fn block_interval_and_size_have_bounds() {
        assert!(with_interval(500).validate().is_ok());
        for ms in [0, 1, 49, 3_600_001] {
            let err = with_interval(ms).validate().unwrap_err().to_string();
            assert!(
                err.contains("block interval must be 50 to 3600000 ms"),
                "{err}"
            );
        }
        let mut g = with_interval(500);
        g.max_txs_per_shard_block = 0;
        assert!(g.validate().unwrap_err().to_string().contains("block size"));
        g.max_txs_per_shard_block = super::MAX_TXS_PER_SHARD_BLOCK + 1;
        assert!(g.validate().is_err());
    }
}
