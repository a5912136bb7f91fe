//! The state tree: a sparse Merkle tree over the 160 bits of account addresses, and proofs that
//! an account has a given state — or does not exist — under a shard's state root. Its path
//! and node functions are generic over [`PathKey`]: the object tree ([`crate::object`]) is the
//! same construction over 256-bit keys.
//!
//! Construction (the compressed sparse Merkle tree of Diem/Libra, binary, blake3):
//! - an address's path is its bits, most significant first; a subtree holds the accounts whose
//!   addresses start with its path;
//! - an empty subtree hashes to [`EMPTY`] (all zeros);
//! - a subtree holding exactly one account hashes to that account's leaf hash,
//!   `keyed_blake3(LEAF_KEY, address [20] | balance u64 | nonce u64)`, whatever its depth;
//! - any other subtree hashes to `keyed_blake3(NODE_KEY, left [32] | right [32])`;
//! - `LEAF_KEY` and `NODE_KEY` are blake3 key derivations of "joule 2026-11 state leaf" and
//!   "joule 2026-11 state node": the two kinds of hash cannot be confused, and each costs a
//!   single blake3 compression.
//!
//! A proof for an address lists the sibling hashes from the root down to where the address's
//! path ends — at its own leaf (inclusion), at an empty subtree, or at another account's leaf
//! whose address shares the path so far (both non-inclusion). Its size is about
//! log2(accounts) hashes; it can never exceed 160.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::address::Address;
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::hash::Hash;
use crate::state::Account;

/// Bits in an address: the tree's height.
pub const DEPTH: usize = 160;

/// The hash of an empty subtree (and the root of a shard with no accounts).
pub const EMPTY: Hash = Hash::ZERO;

fn key(slot: &'static OnceLock<[u8; 32]>, context: &str) -> &'static [u8; 32] {
    slot.get_or_init(|| blake3::derive_key(context, b""))
}

/// An account's leaf hash.
pub fn leaf_hash(address: &Address, account: &Account) -> Hash {
    static LEAF_KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let mut buf = [0u8; 36];
    buf[..20].copy_from_slice(&address.0);
    buf[20..28].copy_from_slice(&account.balance.to_le_bytes());
    buf[28..].copy_from_slice(&account.nonce.to_le_bytes());
    let k = key(&LEAF_KEY, "joule 2026-11 state leaf");
    Hash(*blake3::keyed_hash(k, &buf).as_bytes())
}

/// The hash of a subtree holding more than one account.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    static NODE_KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&left.0);
    buf[32..].copy_from_slice(&right.0);
    let k = key(&NODE_KEY, "joule 2026-11 state node");
    Hash(*blake3::keyed_hash(k, &buf).as_bytes())
}

/// A key whose bits are a path in a sparse Merkle tree: accounts' addresses (160 bits) and
/// objects' state keys (256 bits, [`crate::object`]) share this construction.
pub trait PathKey: Copy + Ord {
    /// Bits in a key: the tree's height.
    const BITS: usize;
    /// The key's bytes, most significant first.
    fn path(&self) -> &[u8];
}

impl PathKey for Address {
    const BITS: usize = DEPTH;
    fn path(&self) -> &[u8] {
        &self.0
    }
}

/// Bit `depth` of the key's path (0 = left, 1 = right), most significant bit first.
pub fn bit<K: PathKey>(key: &K, depth: usize) -> bool {
    key.path()[depth / 8] & (0x80 >> (depth % 8)) != 0
}

/// Number of leading path bits two keys share.
pub fn common_prefix_bits<K: PathKey>(a: &K, b: &K) -> usize {
    for (i, (x, y)) in a.path().iter().zip(b.path()).enumerate() {
        let d = x ^ y;
        if d != 0 {
            return i * 8 + d.leading_zeros() as usize;
        }
    }
    K::BITS
}

/// The root reached from `terminal` (the hash where `key`'s path ends) up through
/// `siblings` (listed from the root down).
pub fn fold_path<K: PathKey>(key: &K, siblings: &[Hash], terminal: Hash) -> Hash {
    let mut h = terminal;
    for (d, sibling) in siblings.iter().enumerate().rev() {
        h = if bit(key, d) {
            node_hash(sibling, &h)
        } else {
            node_hash(&h, sibling)
        };
    }
    h
}

/// The state root over `accounts`, sorted by address with no repeats, built from scratch.
/// (The node updates its tree incrementally; this is the reference it must agree with.)
pub fn state_root(accounts: &[(Address, Account)]) -> Hash {
    let leaves: Vec<(Address, Hash)> = accounts
        .iter()
        .map(|(a, acc)| (*a, leaf_hash(a, acc)))
        .collect();
    subtree_root(&leaves, 0)
}

/// Root of the subtree at `depth` holding `leaves` (sorted, distinct, sharing `depth` bits).
pub fn subtree_root<K: PathKey>(leaves: &[(K, Hash)], depth: usize) -> Hash {
    match leaves {
        [] => EMPTY,
        [(_, h)] => *h,
        _ if depth >= K::BITS => leaves[0].1, // only repeated keys get here
        _ => {
            let split = leaves.partition_point(|(a, _)| !bit(a, depth));
            node_hash(
                &subtree_root(&leaves[..split], depth + 1),
                &subtree_root(&leaves[split..], depth + 1),
            )
        }
    }
}

/// A proof for `address` built from the full, sorted account list (the reference prover).
pub fn prove(accounts: &[(Address, Account)], address: &Address) -> StateProof {
    let leaves: Vec<(Address, Hash)> = accounts
        .iter()
        .map(|(a, acc)| (*a, leaf_hash(a, acc)))
        .collect();
    let mut lo = 0;
    let mut hi = leaves.len();
    let mut siblings = Vec::new();
    let mut depth = 0;
    while hi - lo > 1 && depth < DEPTH {
        let split = lo + leaves[lo..hi].partition_point(|(a, _)| !bit(a, depth));
        if bit(address, depth) {
            siblings.push(subtree_root(&leaves[lo..split], depth + 1));
            lo = split;
        } else {
            siblings.push(subtree_root(&leaves[split..hi], depth + 1));
            hi = split;
        }
        depth += 1;
    }
    let leaf = (hi - lo == 1).then(|| accounts[lo]);
    StateProof { siblings, leaf }
}

/// Where an address's path ends, and the siblings along it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    /// Sibling hashes from the root down.
    pub siblings: Vec<Hash>,
    /// The account whose leaf the path ends at (the proven one, or another whose address
    /// shares the path: then the proven one does not exist); `None`: an empty subtree.
    pub leaf: Option<(Address, Account)>,
}

/// Why a state proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateProofError {
    /// More siblings than the tree is deep.
    #[error("proof has {0} siblings; the tree is only 160 deep")]
    TooDeep(usize),
    /// The proof shows the account exists, but the claim says it does not.
    #[error("the proof shows the account exists, but it was claimed absent")]
    ClaimedAbsentButPresent,
    /// The proof shows no account at this address, but the claim names one.
    #[error("the proof shows no account at this address, but one was claimed")]
    ClaimedPresentButAbsent,
    /// The proven state differs from the claimed state.
    #[error("the proven account state differs from the claimed one")]
    ValueMismatch,
    /// The other account's leaf is not on the address's path, so it proves nothing.
    #[error("the proof's leaf is not on the address's path")]
    LeafOffPath,
    /// Folding the siblings does not give the state root.
    #[error("the proof does not lead to the state root")]
    RootMismatch,
}

impl StateProof {
    /// What the proof shows `address` holds under `root` — its state, or `None` for no
    /// account — read from the proof itself, so no claim from beside it is needed or used.
    pub fn proven_state(
        &self,
        root: &Hash,
        address: &Address,
    ) -> Result<Option<Account>, StateProofError> {
        let shown = match &self.leaf {
            Some((a, acc)) if a == address => Some(*acc),
            _ => None,
        };
        self.verify(root, address, shown.as_ref())?;
        Ok(shown)
    }

    /// Checks that under `root`, `address` holds `claimed` (`None`: no account).
    pub fn verify(
        &self,
        root: &Hash,
        address: &Address,
        claimed: Option<&Account>,
    ) -> Result<(), StateProofError> {
        let depth = self.siblings.len();
        if depth > DEPTH {
            return Err(StateProofError::TooDeep(depth));
        }
        let terminal = match (&self.leaf, claimed) {
            (Some((a, acc)), Some(c)) if a == address => {
                if acc != c {
                    return Err(StateProofError::ValueMismatch);
                }
                leaf_hash(a, acc)
            }
            (Some((a, _)), None) if a == address => {
                return Err(StateProofError::ClaimedAbsentButPresent)
            }
            (Some(_), Some(_)) | (None, Some(_)) => {
                return Err(StateProofError::ClaimedPresentButAbsent)
            }
            (Some((a, acc)), None) => {
                if common_prefix_bits(a, address) < depth {
                    return Err(StateProofError::LeafOffPath);
                }
                leaf_hash(a, acc)
            }
            (None, None) => EMPTY,
        };
        if fold_path(address, &self.siblings, terminal) == *root {
            Ok(())
        } else {
            Err(StateProofError::RootMismatch)
        }
    }
}

impl Encode for StateProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        // At most 160 siblings (a valid proof), so the count fits a byte.
        (self.siblings.len().min(255) as u8).encode_to(out);
        for s in self.siblings.iter().take(255) {
            s.encode_to(out);
        }
        match &self.leaf {
            None => 0u8.encode_to(out),
            Some((a, acc)) => {
                1u8.encode_to(out);
                a.encode_to(out);
                acc.encode_to(out);
            }
        }
    }
}

impl Decode for StateProof {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let n = usize::from(r.u8()?);
        if n > DEPTH {
            return Err(CodecError::TooLong {
                field: "state proof siblings",
                len: n as u64,
                max: DEPTH as u64,
            });
        }
        let siblings = (0..n)
            .map(|_| Hash::decode_from(r))
            .collect::<codec::Result<_>>()?;
        let leaf = match r.u8()? {
            0 => None,
            1 => Some((Address::decode_from(r)?, Account::decode_from(r)?)),
            tag => {
                return Err(CodecError::UnknownTag {
                    kind: "state proof leaf",
                    tag,
                })
            }
        };
        Ok(StateProof { siblings, leaf })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn accounts(n: u64) -> Vec<(Address, Account)> {
        let mut v: Vec<(Address, Account)> = (0..n)
            .map(|i| {
                let h = blake3::hash(&i.to_le_bytes());
                let mut a = [0u8; 20];
                a.copy_from_slice(&h.as_bytes()[..20]);
                (
                    Address(a),
                    Account {
                        balance: i * 7,
                        nonce: i,
                    },
                )
            })
            .collect();
        v.sort_unstable_by_key(|(a, _)| *a);
        v
    }

    #[test]
    fn empty_and_single_account_roots() {
        assert_eq!(state_root(&[]), EMPTY);
        let one = accounts(1);
        assert_eq!(state_root(&one), leaf_hash(&one[0].0, &one[0].1));
        let p = prove(&one, &one[0].0);
        assert!(p.siblings.is_empty());
        assert_eq!(
            p.verify(&state_root(&one), &one[0].0, Some(&one[0].1)),
            Ok(())
        );
        let p = prove(&[], &one[0].0);
        assert_eq!(p.verify(&EMPTY, &one[0].0, None), Ok(()));
    }

    #[test]
    fn inclusion_and_non_inclusion_verify() {
        let acc = accounts(300);
        let root = state_root(&acc);
        for (a, v) in acc.iter().step_by(17) {
            let p = prove(&acc, a);
            assert_eq!(p.verify(&root, a, Some(v)), Ok(()));
            assert!(p.siblings.len() < 40, "log-sized proof");
            assert_eq!(
                p.verify(&root, a, None),
                Err(StateProofError::ClaimedAbsentButPresent)
            );
        }
        for i in 0..50u8 {
            let missing = Address([i; 20]);
            let p = prove(&acc, &missing);
            assert_eq!(p.verify(&root, &missing, None), Ok(()));
            assert_eq!(
                p.verify(&root, &missing, Some(&Account::default())),
                Err(StateProofError::ClaimedPresentButAbsent)
            );
        }
    }

    #[test]
    fn codec_round_trip_and_depth_limit() {
        let acc = accounts(40);
        let p = prove(&acc, &Address([3; 20]));
        let bytes = p.encode();
        assert_eq!(codec::decode_exact::<StateProof>(&bytes), Ok(p));
        let mut deep = vec![161u8];
        deep.extend(std::iter::repeat_n(0u8, 161 * 32 + 1));
        assert!(codec::decode_exact::<StateProof>(&deep).is_err());
    }

    #[test]
    fn bits_and_prefixes() {
        let a = Address([0b1000_0000; 20]);
        assert!(bit(&a, 0));
        assert!(!bit(&a, 1));
        assert!(bit(&a, 8));
        let mut b = a;
        b.0[2] ^= 0b0001_0000;
        assert_eq!(common_prefix_bits(&a, &b), 19);
        assert_eq!(common_prefix_bits(&a, &a), DEPTH);
    }
}
