//! The peers file: every node of a network with its identity, p2p address and API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use joule_light_client::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One node of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// A name for logs and the operator ("v0", "full").
    pub name: String,
    /// Its p2p identity (ed25519; a validator's is its validator key).
    pub public_key: PublicKey,
    /// Where it listens for peers.
    pub p2p: SocketAddr,
    /// Its HTTP API, for people and tools (not used by the protocol).
    pub api: String,
}

/// Every node a node may connect to (authenticated p2p accepts no one else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeersFile {
    /// The nodes.
    pub peers: Vec<Peer>,
}

/// Why a peers or key file cannot be used.
#[derive(Debug, Error)]
pub enum PeersError {
    /// Unreadable or unwritable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not what it should contain.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl PeersFile {
    /// Reads and checks a peers file (distinct keys and addresses).
    pub fn load(path: &Path) -> Result<Self, PeersError> {
        let text = std::fs::read(path).map_err(|source| PeersError::Io {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |reason: String| PeersError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let file: PeersFile = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        let mut keys: Vec<_> = file.peers.iter().map(|p| p.public_key).collect();
        keys.sort_unstable_by_key(|k| k.0);
        keys.dedup();
        if keys.len() != file.peers.len() {
            return Err(invalid("a public key is listed twice".into()));
        }
        if file.peers.is_empty() {
            return Err(invalid("no peers".into()));
        }
        Ok(file)
    }

    /// Writes the file.
    pub fn save(&self, path: &Path) -> Result<(), PeersError> {
        let text = serde_json::to_vec_pretty(self).expect("peers serialise");
        std::fs::write(path, text).map_err(|source| PeersError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The entry of `key`.
    pub fn find(&self, key: &PublicKey) -> Option<&Peer> {
        self.peers.iter().find(|p| p.public_key == *key)
    }
}

/// Reads a key file: a 32-byte seed in hex.
pub fn load_key(path: &Path) -> Result<SecretKey, PeersError> {
    let text = std::fs::read_to_string(path).map_err(|source| PeersError::Io {
        path: path.to_owned(),
        source,
    })?;
    joule_light_client::hash::parse_hex_array::<32>(text.trim())
        .map(|seed| SecretKey::from_seed(&seed))
        .map_err(|e| PeersError::Invalid {
            path: path.to_owned(),
            reason: format!("not a 32-byte hex seed: {e}"),
        })
}

/// Writes a key file readable by its owner only.
pub fn save_key(path: &Path, key: &SecretKey) -> Result<(), PeersError> {
    crate::devnet::write_private(path, hex::encode(key.seed()).as_bytes()).map_err(|source| {
        PeersError::Io {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_file_round_trips_and_a_repeated_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peers.json");
        let peer = |i: u8| Peer {
            name: format!("v{i}"),
            public_key: SecretKey::from_seed(&[i; 32]).public_key(),
            p2p: format!("127.0.0.1:{}", 9000 + u16::from(i))
                .parse()
                .unwrap(),
            api: format!("http://127.0.0.1:{}", 8000 + u16::from(i)),
        };
        let file = PeersFile {
            peers: vec![peer(1), peer(2)],
        };
        file.save(&path).unwrap();
        assert_eq!(PeersFile::load(&path).unwrap(), file);
        let twice = PeersFile {
            peers: vec![peer(1), peer(1)],
        };
        twice.save(&path).unwrap();
        let err = PeersFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("listed twice"), "{err}");
    }

    #[test]
    fn a_key_file_round_trips_and_garbage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.key");
        let key = SecretKey::from_seed(&[3; 32]);
        save_key(&path, &key).unwrap();
        assert_eq!(load_key(&path).unwrap().public_key(), key.public_key());
        std::fs::write(&path, "xyz").unwrap();
        let err = load_key(&path).unwrap_err().to_string();
        assert!(
            err.contains("validator.key") && err.contains("hex seed"),
            "{err}"
        );
    }
}
