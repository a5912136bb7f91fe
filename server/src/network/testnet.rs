//! `joule testnet init`: the files of a local network — keys, one genesis, one peers file.
//!
//! ```text
//! D/genesis.json   D/peers.json
//! D/v0/validator.key … D/v{n-1}/validator.key
//! D/full/node.key  D/full/faucet.key
//! ```
//! Each node keeps its database in its own directory. The full node holds the faucet's key,
//! so the app it serves can fund new wallets.

use std::path::PathBuf;

use joule_light_client::SecretKey;
use rand::Rng;

use super::peers::{save_key, Peer, PeersError, PeersFile};
use crate::devnet::{self, DevnetKeys, DevnetOptions};
use crate::genesis::GenesisError;

/// What to write.
#[derive(Debug, Clone)]
pub struct TestnetOptions {
    /// Where.
    pub dir: PathBuf,
    /// Validators (at least 1; 4 tolerate one fault).
    pub validators: usize,
    /// The first p2p port (node i listens on `p2p_port + i`).
    pub p2p_port: u16,
    /// The first API port (node i serves `api_port + i`; the full node is last).
    pub api_port: u16,
    /// Milliseconds between blocks.
    pub block_interval_ms: u64,
    /// Shards.
    pub shard_count: u16,
    /// Genesis time.
    pub genesis_time_ms: u64,
}

/// Why the files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    /// A file.
    #[error(transparent)]
    Peers(#[from] PeersError),
    /// The genesis.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The directory.
    #[error("{path}: {reason}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn random_key() -> SecretKey {
    SecretKey::from_seed(&rand::rngs::OsRng.gen::<[u8; 32]>())
}

/// Writes a new network's files into `opts.dir` (which must not hold one already).
pub fn init(opts: &TestnetOptions) -> Result<PeersFile, TestnetError> {
    let dir = &opts.dir;
    let dir_err = |reason: String| TestnetError::Dir {
        path: dir.clone(),
        reason,
    };
    if opts.validators == 0 || opts.validators > 64 {
        return Err(dir_err("between 1 and 64 validators".into()));
    }
    if dir.join("genesis.json").exists() {
        return Err(dir_err(
            "already holds a network (genesis.json); remove it or choose another directory".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| dir_err(e.to_string()))?;
    let keys = DevnetKeys {
        validators: (0..opts.validators).map(|_| random_key()).collect(),
        faucet: random_key(),
    };
    let genesis = devnet::genesis(
        &DevnetOptions {
            shard_count: opts.shard_count,
            block_interval_ms: opts.block_interval_ms,
            genesis_time_ms: opts.genesis_time_ms,
        },
        &keys,
    );
    genesis.validate()?;
    let full_key = random_key();
    let mut peers = Vec::new();
    let node_dir = |name: &str| -> Result<PathBuf, TestnetError> {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).map_err(|e| dir_err(e.to_string()))?;
        Ok(d)
    };
    for (i, key) in keys.validators.iter().enumerate() {
        let name = format!("v{i}");
        save_key(&node_dir(&name)?.join("validator.key"), key)?;
        peers.push(peer(opts, i, name, key));
    }
    let full = node_dir("full")?;
    save_key(&full.join("node.key"), &full_key)?;
    save_key(&full.join("faucet.key"), &keys.faucet)?;
    peers.push(peer(opts, opts.validators, "full".into(), &full_key));
    let file = PeersFile { peers };
    file.save(&dir.join("peers.json"))?;
    genesis.save(&dir.join("genesis.json"))?;
    Ok(file)
}

fn peer(opts: &TestnetOptions, i: usize, name: String, key: &SecretKey) -> Peer {
    let i = i as u16;
    Peer {
        name,
        public_key: key.public_key(),
        p2p: ([127, 0, 0, 1], opts.p2p_port + i).into(),
        api: format!("http://127.0.0.1:{}", opts.api_port + i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::Genesis;

    #[test]
    fn init_writes_a_network_every_node_can_start_from_and_refuses_to_overwrite_it() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TestnetOptions {
            dir: dir.path().join("net"),
            validators: 4,
            p2p_port: 9100,
            api_port: 8081,
            block_interval_ms: 500,
            shard_count: 4,
            genesis_time_ms: 1,
        };
        let peers = init(&opts).unwrap();
        assert_eq!(peers.peers.len(), 5);
        let genesis = Genesis::load(&opts.dir.join("genesis.json")).unwrap();
        let set = genesis.validators.validators().to_vec();
        for i in 0..4 {
            let key = super::super::peers::load_key(&opts.dir.join(format!("v{i}/validator.key")))
                .unwrap();
            assert!(set.iter().any(|v| v.public_key == key.public_key()));
            assert!(peers.find(&key.public_key()).is_some());
        }
        let err = init(&opts).unwrap_err().to_string();
        assert!(err.contains("already holds a network"), "{err}");
    }
}
