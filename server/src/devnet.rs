//! The single-process devnet: its keys and its default genesis.
//!
//! The validators' and the faucet's keys are random, made when a devnet's data directory is
//! created and kept in it ([`KEYS_FILE`], readable by its owner only); the node never serves
//! them, so no one else can sign a block or a faucet payment of this devnet. The 256
//! pre-funded accounts, by contrast, have well-known keys derived from public strings (like
//! the test accounts of Hardhat or Anvil), so `joule load` and the tests can spend from them:
//! their tokens are worth nothing, and they cannot sign blocks.

use std::path::{Path, PathBuf};

use joule_light_client::market::MeterKind;
use joule_light_client::units::UNITS_PER_TOKEN;
use joule_light_client::{Address, SecretKey, Validator, ValidatorSet};
use rand::Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::genesis::{FaucetConfig, Genesis, GenesisAccount, GenesisMeter, GenesisPower};

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
/// Where a devnet's data directory keeps its validator and faucet keys.
pub const KEYS_FILE: &str = "devnet-keys.json";

/// Devnet accounts `0..DEVNET_METERS` have a meter registered at genesis (funded for its
/// readings' fees), so a fresh devnet has a market to show and to drive.
pub const DEVNET_METERS: u32 = 8;
/// Rated power of the devnet's meters, W: a rooftop array's 10 kW.
pub const DEVNET_METER_CAPACITY_W: u64 = 10_000;
/// What each devnet meter holds at genesis for its fees.
pub const DEVNET_METER_BALANCE: u64 = 100 * UNITS_PER_TOKEN;
/// Devnet accounts `0..DEVNET_MEMBERS` are governance members at genesis, each with this many
/// tokens locked (beside its balance); the last two delegate to account 0.
pub const DEVNET_MEMBERS: u32 = 8;
/// Tokens each devnet member has locked at genesis.
pub const DEVNET_MEMBER_LOCK: u64 = 10_000 * UNITS_PER_TOKEN;

/// Signing key of pre-funded devnet account `i` (well known: see the module doc).
pub fn account_key(i: u32) -> SecretKey {
    SecretKey::from_seed(&blake3::derive_key(
        "joule devnet account key",
        &i.to_le_bytes(),
    ))
}

/// The first key, of seeds `seed(0)`, `seed(1)`, …, whose address is on `shard` of `shards`
/// (keys that must share a shard with another are ground off-chain; a few tries each).
pub fn key_on_shard(shard: u16, shards: u16, seed: impl Fn(u32) -> [u8; 32]) -> SecretKey {
    (0u32..)
        .map(|n| SecretKey::from_seed(&seed(n)))
        .find(|k| Address::from_public_key(&k.public_key()).shard(shards) == shard)
        .expect("a key on every shard within a few tries")
}

/// The meter key of devnet account `i`, well known like the account's: derived from `i` and
/// ground until its address is on the account's shard of `shards` (a meter shares its
/// owner's shard).
pub fn meter_key(i: u32, shards: u16) -> SecretKey {
    let owner = Address::from_public_key(&account_key(i).public_key()).shard(shards);
    key_on_shard(owner, shards, |n| {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        seed[4..8].copy_from_slice(&n.to_le_bytes());
        seed[8..].copy_from_slice(b"joule devnet meter key..");
        seed
    })
}

/// What devnet account `i`'s meter measures: every other one produces (solar, or wind for
/// every fourth account), the rest only consume.
pub fn meter_kind(i: u32) -> MeterKind {
    match i % 4 {
        0 => MeterKind::Solar,
        2 => MeterKind::Wind,
        _ => MeterKind::Consumption,
    }
}

/// Why a devnet's keys could not be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The data directory has a genesis but no keys: an older joule made it.
    #[error(
        "{} is missing: this data directory was made by an older joule, whose devnet keys anyone could derive; remove the directory to start a new devnet",
        path.display()
    )]
    Missing {
        /// The keys file expected.
        path: PathBuf,
    },
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a keys file.
    #[error("{} is not a devnet keys file: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The secret keys a devnet's node holds: its validators' and its faucet's.
pub struct DevnetKeys {
    /// One key per validator, in the genesis set's order.
    pub validators: Vec<SecretKey>,
    /// The faucet account's key.
    pub faucet: SecretKey,
}

impl std::fmt::Debug for DevnetKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Public halves only: secrets are never logged.
        f.debug_struct("DevnetKeys")
            .field(
                "validators",
                &self
                    .validators
                    .iter()
                    .map(SecretKey::public_key)
                    .collect::<Vec<_>>(),
            )
            .field("faucet", &self.faucet.public_key())
            .finish()
    }
}

/// The keys file: seeds in hex.
#[derive(Serialize, Deserialize)]
struct KeysFile {
    validators: Vec<String>,
    faucet: String,
}

fn random_key() -> SecretKey {
    SecretKey::from_seed(&rand::rngs::OsRng.gen::<[u8; 32]>())
}

impl DevnetKeys {
    /// Fresh keys from the operating system's randomness.
    pub fn generate() -> Self {
        DevnetKeys {
            validators: (0..DEVNET_VALIDATORS).map(|_| random_key()).collect(),
            faucet: random_key(),
        }
    }

    /// The validator set these keys form (equal power).
    pub fn validator_set(&self) -> ValidatorSet {
        ValidatorSet::new(
            self.validators
                .iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    power: 10,
                })
                .collect(),
        )
        .expect("distinct random keys form a valid set")
    }

    /// Reads the keys of the devnet in `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeysError> {
        let path = dir.join(KEYS_FILE);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeysError::Missing { path })
            }
            Err(source) => return Err(KeysError::Io { path, source }),
        };
        let invalid = |reason: String| KeysError::Invalid {
            path: path.clone(),
            reason,
        };
        let file: KeysFile = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        let key = |hex: &str| {
            joule_light_client::hash::parse_hex_array::<32>(hex)
                .map(|seed| SecretKey::from_seed(&seed))
                .map_err(|e| invalid(format!("a seed is not 32 bytes of hex: {e}")))
        };
        Ok(DevnetKeys {
            validators: file
                .validators
                .iter()
                .map(|h| key(h))
                .collect::<Result<_, _>>()?,
            faucet: key(&file.faucet)?,
        })
    }

    /// Writes the keys into `dir`, readable by the owner only.
    pub fn save(&self, dir: &Path) -> Result<(), KeysError> {
        let path = dir.join(KEYS_FILE);
        let file = KeysFile {
            validators: self
                .validators
                .iter()
                .map(|k| hex::encode(k.seed()))
                .collect(),
            faucet: hex::encode(self.faucet.seed()),
        };
        let text = serde_json::to_vec_pretty(&file).expect("keys serialise");
        write_private(&path, &text).map_err(|source| KeysError::Io { path, source })
    }
}

/// Writes `bytes` to a new file only its owner can read (replacing any older one).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
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

/// The devnet genesis for `keys`.
pub fn genesis(opts: &DevnetOptions, keys: &DevnetKeys) -> Genesis {
    let faucet = Address::from_public_key(&keys.faucet.public_key());
    let mut accounts = vec![GenesisAccount {
        address: faucet,
        balance: FAUCET_BALANCE,
    }];
    accounts.extend((0..DEVNET_ACCOUNTS).map(|i| GenesisAccount {
        address: Address::from_public_key(&account_key(i).public_key()),
        balance: DEVNET_ACCOUNT_BALANCE,
    }));
    let meters: Vec<GenesisMeter> = (0..DEVNET_METERS)
        .map(|i| GenesisMeter {
            address: Address::from_public_key(&meter_key(i, opts.shard_count).public_key()),
            owner: Address::from_public_key(&account_key(i).public_key()),
            kind: meter_kind(i),
            capacity_w: DEVNET_METER_CAPACITY_W,
        })
        .collect();
    accounts.extend(meters.iter().map(|m| GenesisAccount {
        address: m.address,
        balance: DEVNET_METER_BALANCE,
    }));
    Genesis {
        chain_id: DEVNET_CHAIN_ID.into(),
        genesis_time_ms: opts.genesis_time_ms,
        shard_count: opts.shard_count,
        block_interval_ms: opts.block_interval_ms,
        min_fee: DEVNET_MIN_FEE,
        max_txs_per_shard_block: 10_000,
        validators: keys.validator_set(),
        accounts,
        faucet: Some(FaucetConfig {
            address: faucet,
            amount: FAUCET_AMOUNT,
        }),
        market: joule_light_client::market::MarketParams::DEVNET,
        governance: joule_light_client::dao::GovParams::DEVNET,
        meters,
        powers: (0..DEVNET_MEMBERS)
            .map(|i| GenesisPower {
                member: Address::from_public_key(&account_key(i).public_key()),
                locked: DEVNET_MEMBER_LOCK,
                delegate: (i + 2 >= DEVNET_MEMBERS)
                    .then(|| Address::from_public_key(&account_key(0).public_key())),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_genesis_is_valid_and_its_hash_stable() {
        let opts = DevnetOptions {
            shard_count: 4,
            block_interval_ms: 500,
            genesis_time_ms: 1,
        };
        let keys = DevnetKeys::generate();
        let g = genesis(&opts, &keys);
        g.validate().unwrap();
        assert_eq!(g.hash(), genesis(&opts, &keys).hash());
        assert_eq!(
            g.accounts.len(),
            1 + (DEVNET_ACCOUNTS + DEVNET_METERS) as usize
        );
    }

    #[test]
    fn devnet_meters_are_registered_at_genesis_and_committed_to() {
        let opts = DevnetOptions {
            shard_count: 4,
            block_interval_ms: 500,
            genesis_time_ms: 1,
        };
        let mut g = genesis(&opts, &DevnetKeys::generate());
        assert_eq!(g.meters.len(), DEVNET_METERS as usize);
        let kinds: Vec<MeterKind> = g.meters.iter().map(|m| m.kind).collect();
        assert!(kinds.contains(&MeterKind::Solar) && kinds.contains(&MeterKind::Wind));
        assert!(kinds.contains(&MeterKind::Consumption));
        for (i, m) in (0u32..).zip(&g.meters) {
            assert_eq!(m.owner.shard(4), m.address.shard(4));
            assert_eq!(
                m.address,
                Address::from_public_key(&meter_key(i, 4).public_key())
            );
        }
        // Objects: the parameters, one per meter, a lock and its checkpoint per member,
        // sorted, and the genesis hash covers them.
        let objects = g.objects();
        assert_eq!(
            objects.len(),
            2 + DEVNET_METERS as usize + 2 * DEVNET_MEMBERS as usize
        );
        assert!(objects.windows(2).all(|w| w[0].0 < w[1].0));
        let before = g.hash();
        g.meters[0].capacity_w += 1;
        assert_ne!(g.hash(), before);
        // A meter off its owner's shard, or listed twice, is refused.
        g.meters[0].address = g.meters[1].address;
        assert!(g.validate().is_err());
    }

    #[test]
    fn devnet_members_govern_from_genesis_and_their_locks_are_supply() {
        let opts = DevnetOptions {
            shard_count: 4,
            block_interval_ms: 500,
            genesis_time_ms: 1,
        };
        let mut g = genesis(&opts, &DevnetKeys::generate());
        g.validate().unwrap();
        let balances: u64 = g.accounts.iter().map(|a| a.balance).sum();
        assert_eq!(
            g.total_supply(),
            balances + u64::from(DEVNET_MEMBERS) * DEVNET_MEMBER_LOCK
        );
        let zero = Address::from_public_key(&account_key(0).public_key());
        let delegating = g.powers.iter().filter(|p| p.delegate == Some(zero)).count();
        assert_eq!(delegating, 2);
        let before = g.hash();
        g.powers[1].locked += 1;
        assert_ne!(g.hash(), before, "the genesis hash covers the locks");
        g.powers[1].delegate = Some(g.powers[1].member);
        assert!(g.validate().is_err(), "a member delegating to itself");
    }

    #[test]
    fn two_devnets_have_different_keys() {
        let (a, b) = (DevnetKeys::generate(), DevnetKeys::generate());
        assert_ne!(a.validator_set(), b.validator_set());
        assert_ne!(a.faucet.public_key(), b.faucet.public_key());
    }

    #[test]
    fn keys_round_trip_through_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = DevnetKeys::generate();
        keys.save(dir.path()).unwrap();
        let back = DevnetKeys::load(dir.path()).unwrap();
        assert_eq!(back.validator_set(), keys.validator_set());
        assert_eq!(back.faucet.public_key(), keys.faucet.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEYS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        let debug = format!("{keys:?}");
        assert!(!debug.contains(&hex::encode(keys.faucet.seed())));
    }

    #[test]
    fn a_missing_or_broken_keys_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let e = DevnetKeys::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("remove the directory"), "{e}");
        std::fs::write(dir.path().join(KEYS_FILE), b"{}").unwrap();
        assert!(matches!(
            DevnetKeys::load(dir.path()),
            Err(KeysError::Invalid { .. })
        ));
    }
}
