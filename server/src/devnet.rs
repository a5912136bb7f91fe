//! The single-process devnet: deterministic keys and the default genesis.
//!
//! Devnet keys are derived from public strings, so anyone can recompute them: fine for a local
//! devnet (the load generator and tests sign with them), never for a real network.

use joule_light_client::units::UNITS_PER_TOKEN;
use joule_light_client::{Address, SecretKey, Validator, ValidatorSet};

use crate::genesis::{FaucetConfig, Genesis, GenesisAccount};

/// Chain id of the devnet.
pub const DEVNET_CHAIN_ID: &str = "joule-devnet";
/// Validators held in-process.
pub const DEVNET_VALIDATORS: u32 = 4;
/// Pre-funded devnet accounts (`account_key(0..DEVNET_ACCOUNTS)`).
pub const DEVNET_ACCOUNTS: u32 = 256;
/// Starting balance of each devnet account.
pub const DEVNET_ACCOUNT_BALANCE: u64 = 1_000_000 * UNITS_PER_TOKEN;
/// Starting balance of the faucet.
pub const FAUCET_BALANCE: u64 = 1_000_000_000 * UNITS_PER_TOKEN;
/// Tokens per faucet request.
pub const FAUCET_AMOUNT: u64 = 1_000 * UNITS_PER_TOKEN;
/// Flat fee per transaction: 0.000001 JOULE.
pub const DEVNET_MIN_FEE: u64 = 1_000;

fn derived_key(context: &str, index: u32) -> SecretKey {
    SecretKey::from_seed(&blake3::derive_key(context, &index.to_le_bytes()))
}

/// Signing key of devnet validator `i`.
pub fn validator_key(i: u32) -> SecretKey {
    derived_key("joule devnet validator key", i)
}

/// Signing key of pre-funded devnet account `i`.
pub fn account_key(i: u32) -> SecretKey {
    derived_key("joule devnet account key", i)
}

/// Signing key of the devnet faucet.
pub fn faucet_key() -> SecretKey {
    derived_key("joule devnet faucet key", 0)
}

/// The devnet's validator keys.
pub fn validator_keys() -> Vec<SecretKey> {
    (0..DEVNET_VALIDATORS).map(validator_key).collect()
}

/// Options of a devnet genesis.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Shards.
    pub shard_count: u16,
    /// Milliseconds between blocks.
    pub block_interval_ms: u64,
    /// Genesis time.
    pub genesis_time_ms: u64,
}

/// The devnet genesis.
pub fn genesis(opts: &DevnetOptions) -> Genesis {
    let validators = ValidatorSet::new(
        validator_keys()
            .iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("devnet validator set is valid");
    let faucet = Address::from_public_key(&faucet_key().public_key());
    let mut accounts = vec![GenesisAccount {
        address: faucet,
        balance: FAUCET_BALANCE,
    }];
    accounts.extend((0..DEVNET_ACCOUNTS).map(|i| GenesisAccount {
        address: Address::from_public_key(&account_key(i).public_key()),
        balance: DEVNET_ACCOUNT_BALANCE,
    }));
    Genesis {
        chain_id: DEVNET_CHAIN_ID.into(),
        genesis_time_ms: opts.genesis_time_ms,
        shard_count: opts.shard_count,
        block_interval_ms: opts.block_interval_ms,
        min_fee: DEVNET_MIN_FEE,
        max_txs_per_shard_block: 10_000,
        validators,
        accounts,
        faucet: Some(FaucetConfig {
            address: faucet,
            amount: FAUCET_AMOUNT,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_genesis_is_valid_and_deterministic() {
        let opts = DevnetOptions {
            shard_count: 4,
            block_interval_ms: 500,
            genesis_time_ms: 1,
        };
        let g = genesis(&opts);
        g.validate().unwrap();
        assert_eq!(g.hash(), genesis(&opts).hash());
        assert_eq!(g.accounts.len(), 1 + DEVNET_ACCOUNTS as usize);
    }
}
