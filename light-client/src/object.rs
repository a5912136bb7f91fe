//! Typed objects under 32-byte state keys — meters, orders, certificates, intervals, the
//! market's parameters — in a shard's object tree, and proofs that a key holds a given object
//! or nothing.
//!
//! A [`StateKey`] is `home [8] | kind u8 | id [23]`:
//! - `home` is the first 8 bytes of the owner's address, so an object lives on its owner's
//!   shard ([`StateKey::shard`] is [`Address::shard`] of the owner) and its path in the tree
//!   sits beside the owner's other objects;
//! - `kind` names the object's type: a proof for an order's key can never carry a meter;
//! - `id` is 23 bytes of a blake3 key derivation over the kind and the object's identity
//!   (184 bits: finding two identities with one key costs about 2^92 hashes).
//!
//! The tree is the construction of [`crate::smt`] over the key's 256 bits, with its own leaf
//! hash, `keyed_blake3(OBJECT_LEAF_KEY, key [32] | value encoding)`; an empty tree is
//! [`EMPTY`]. Objects are deleted when they end (an order once settled): a deleted key is
//! proven absent like one never written.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::address::{Address, ShardId};
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::hash::Hash;
use crate::smt::{common_prefix_bits, fold_path, subtree_root, PathKey, EMPTY};

/// Bits in a state key: the object tree's height.
pub const KEY_BITS: usize = 256;

/// The largest encoded object a proof may carry: a closed book of every price on the grid
/// (8,192 levels of 24 bytes) and its header.
pub const MAX_VALUE_BYTES: usize = 200_000;

/// What kind of object a key holds (the key's 9th byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ObjectKind {
    /// A registered meter.
    Meter = 1,
    /// An open or filled order.
    Order = 2,
    /// Certificates of origin held by an account.
    CertLot = 3,
    /// A delivery interval's clearing and settlement.
    Interval = 4,
    /// The market's parameters.
    Params = 5,
    /// One shard's closed book of an interval (its curve and share of the margins).
    Book = 6,
    /// A member's governance lock and delegation.
    Power = 7,
    /// One entry of a member's power history (what held from a height on).
    PowerCheckpoint = 8,
    /// Governance's parameters.
    GovParams = 9,
    /// A governance proposal, under its proposer.
    Proposal = 10,
    /// A member's power on one proposal, fixed at its start.
    Weight = 11,
    /// A member's vote on one proposal.
    Vote = 12,
    /// One shard's sums of a proposal's votes.
    Tally = 13,
    /// The proposal a member has pending or active (one at a time).
    LiveProposal = 14,
}

impl ObjectKind {
    /// The kind with this tag.
    pub fn from_u8(tag: u8) -> Option<ObjectKind> {
        Some(match tag {
            1 => ObjectKind::Meter,
            2 => ObjectKind::Order,
            3 => ObjectKind::CertLot,
            4 => ObjectKind::Interval,
            5 => ObjectKind::Params,
            6 => ObjectKind::Book,
            7 => ObjectKind::Power,
            8 => ObjectKind::PowerCheckpoint,
            9 => ObjectKind::GovParams,
            10 => ObjectKind::Proposal,
            11 => ObjectKind::Weight,
            12 => ObjectKind::Vote,
            13 => ObjectKind::Tally,
            14 => ObjectKind::LiveProposal,
            _ => return None,
        })
    }
}

/// A 32-byte key in the object tree (64 hex digits in JSON).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey(pub [u8; 32]);

impl Serialize for StateKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for StateKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s)
            .map(|h| StateKey(h.0))
            .map_err(serde::de::Error::custom)
    }
}

impl core::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "StateKey({})", hex::encode(self.0))
    }
}

impl core::fmt::Display for StateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl PathKey for StateKey {
    const BITS: usize = KEY_BITS;
    fn path(&self) -> &[u8] {
        &self.0
    }
}

impl StateKey {
    /// The key of the object of `kind` owned by `home` whose identity is `identity` (an order's
    /// transaction id, a meter's address, a day and kind, …).
    pub fn new(home: &Address, kind: ObjectKind, identity: &[u8]) -> StateKey {
        let mut hasher = blake3::Hasher::new_derive_key("joule 2026-12 state key");
        hasher.update(&[kind as u8]);
        hasher.update(identity);
        let id = hasher.finalize();
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&home.0[..8]);
        key[8] = kind as u8;
        key[9..].copy_from_slice(&id.as_bytes()[..23]);
        StateKey(key)
    }

    /// The key of a chain-wide object of `kind` kept by `shard` (the market's parameters, an
    /// interval's record): its home is the shard number, so it lives on that shard.
    pub fn system(shard: ShardId, kind: ObjectKind, identity: &[u8]) -> StateKey {
        let mut home = Address([0; 20]);
        home.0[..8].copy_from_slice(&u64::from(shard).to_le_bytes());
        StateKey::new(&home, kind, identity)
    }

    /// The kind the key names, if it is one this build knows.
    pub fn kind(&self) -> Option<ObjectKind> {
        ObjectKind::from_u8(self.0[8])
    }

    /// The shard whose tree holds this key, for a chain of `shard_count` shards.
    pub fn shard(&self, shard_count: u16) -> ShardId {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        (u64::from_le_bytes(first) % u64::from(shard_count.max(1))) as ShardId
    }
}

impl Encode for StateKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for StateKey {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(StateKey(r.array()?))
    }
}

/// An object type stored under keys of one kind.
pub trait Object: Encode + Decode {
    /// The kind of key it lives under.
    const KIND: ObjectKind;
}

/// An object's leaf hash: its key and its encoding.
pub fn object_leaf_hash(key: &StateKey, value: &[u8]) -> Hash {
    static LEAF_KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let k = LEAF_KEY.get_or_init(|| blake3::derive_key("joule 2026-12 object leaf", b""));
    let mut hasher = blake3::Hasher::new_keyed(k);
    hasher.update(&key.0);
    hasher.update(value);
    Hash(*hasher.finalize().as_bytes())
}

/// The object root over `objects` (key, encoded value), sorted by key with no repeats, built
/// from scratch (the node updates its tree incrementally; this is the reference).
pub fn objects_root(objects: &[(StateKey, Vec<u8>)]) -> Hash {
    let leaves: Vec<(StateKey, Hash)> = objects
        .iter()
        .map(|(k, v)| (*k, object_leaf_hash(k, v)))
        .collect();
    subtree_root(&leaves, 0)
}

/// A proof for `key` built from the full, sorted object list (the reference prover).
pub fn prove_object(objects: &[(StateKey, Vec<u8>)], key: &StateKey) -> ObjectProof {
    let leaves: Vec<(StateKey, Hash)> = objects
        .iter()
        .map(|(k, v)| (*k, object_leaf_hash(k, v)))
        .collect();
    let (mut lo, mut hi) = (0, leaves.len());
    let mut siblings = Vec::new();
    let mut depth = 0;
    while hi - lo > 1 && depth < KEY_BITS {
        let split = lo + leaves[lo..hi].partition_point(|(k, _)| !crate::smt::bit(k, depth));
        if crate::smt::bit(key, depth) {
            siblings.push(subtree_root(&leaves[lo..split], depth + 1));
            lo = split;
        } else {
            siblings.push(subtree_root(&leaves[split..hi], depth + 1));
            hi = split;
        }
        depth += 1;
    }
    let leaf = (hi - lo == 1).then(|| objects[lo].clone());
    ObjectProof { siblings, leaf }
}

/// Where a key's path ends in the object tree, and the siblings along it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectProof {
    /// Sibling hashes from the root down.
    pub siblings: Vec<Hash>,
    /// The object whose leaf the path ends at — the proven key's, or another key's that
    /// shares the path (then the proven key holds nothing) —, encoded; `None`: an empty
    /// subtree.
    #[serde(with = "leaf_hex")]
    pub leaf: Option<(StateKey, Vec<u8>)>,
}

/// Why an object proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ObjectProofError {
    /// More siblings than the tree is deep.
    #[error("proof has {0} siblings; the object tree is only 256 deep")]
    TooDeep(usize),
    /// The key names another kind of object than the one asked for.
    #[error("the key holds {found:?} objects, not {wanted:?}")]
    WrongKind {
        /// The kind asked for.
        wanted: ObjectKind,
        /// The key's kind byte.
        found: u8,
    },
    /// The leaf on the path does not share the key's path, so it proves nothing.
    #[error("the proof's leaf is not on the key's path")]
    LeafOffPath,
    /// The proven bytes are not an object of the kind asked for.
    #[error("the proven object does not decode: {0}")]
    Undecodable(CodecError),
    /// Folding the siblings does not give the object root.
    #[error("the proof does not lead to the object root")]
    RootMismatch,
}

impl ObjectProof {
    /// What the proof shows `key` holds under `root` — an object of type `T`, or `None` —,
    /// read from the proof itself.
    pub fn proven<T: Object>(
        &self,
        root: &Hash,
        key: &StateKey,
    ) -> Result<Option<T>, ObjectProofError> {
        if key.0[8] != T::KIND as u8 {
            return Err(ObjectProofError::WrongKind {
                wanted: T::KIND,
                found: key.0[8],
            });
        }
        match self.proven_bytes(root, key)? {
            None => Ok(None),
            Some(bytes) => codec::decode_exact(bytes)
                .map(Some)
                .map_err(ObjectProofError::Undecodable),
        }
    }

    /// The encoded object the proof shows `key` holds under `root`, or `None`.
    pub fn proven_bytes(
        &self,
        root: &Hash,
        key: &StateKey,
    ) -> Result<Option<&[u8]>, ObjectProofError> {
        let depth = self.siblings.len();
        if depth > KEY_BITS {
            return Err(ObjectProofError::TooDeep(depth));
        }
        let (terminal, shown) = match &self.leaf {
            Some((k, v)) if k == key => (object_leaf_hash(k, v), Some(v.as_slice())),
            Some((k, v)) => {
                if common_prefix_bits(k, key) < depth {
                    return Err(ObjectProofError::LeafOffPath);
                }
                (object_leaf_hash(k, v), None)
            }
            None => (EMPTY, None),
        };
        if fold_path(key, &self.siblings, terminal) == *root {
            Ok(shown)
        } else {
            Err(ObjectProofError::RootMismatch)
        }
    }
}

impl Encode for ObjectProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        // A valid proof has at most 256 siblings.
        (self.siblings.len().min(usize::from(u16::MAX)) as u16).encode_to(out);
        for s in self.siblings.iter().take(usize::from(u16::MAX)) {
            s.encode_to(out);
        }
        match &self.leaf {
            None => 0u8.encode_to(out),
            Some((k, v)) => {
                1u8.encode_to(out);
                k.encode_to(out);
                codec::put_len(out, v.len());
                out.extend_from_slice(v);
            }
        }
    }
}

impl Decode for ObjectProof {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let n = usize::from(r.u16()?);
        if n > KEY_BITS {
            return Err(CodecError::TooLong {
                field: "object proof siblings",
                len: n as u64,
                max: KEY_BITS as u64,
            });
        }
        let siblings = (0..n)
            .map(|_| Hash::decode_from(r))
            .collect::<codec::Result<_>>()?;
        let leaf = match r.u8()? {
            0 => None,
            1 => {
                let key = StateKey::decode_from(r)?;
                let len = r.len("object value", MAX_VALUE_BYTES, 1)?;
                Some((key, r.take(len)?.to_vec()))
            }
            tag => {
                return Err(CodecError::UnknownTag {
                    kind: "object proof leaf",
                    tag,
                })
            }
        };
        Ok(ObjectProof { siblings, leaf })
    }
}

/// JSON form of a proof's leaf: `[key hex, value hex]` or null.
mod leaf_hex {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::StateKey;

    pub fn serialize<S: Serializer>(
        leaf: &Option<(StateKey, Vec<u8>)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        leaf.as_ref().map(|(k, v)| (k, hex::encode(v))).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(StateKey, Vec<u8>)>, D::Error> {
        use serde::de::Error;
        let Some((key, v)) = Option::<(StateKey, String)>::deserialize(d)? else {
            return Ok(None);
        };
        if v.len() > 2 * super::MAX_VALUE_BYTES {
            return Err(D::Error::custom("object value too large"));
        }
        let value = hex::decode(v).map_err(D::Error::custom)?;
        Ok(Some((key, value)))
    }
}

#[cfg(test)]
mod tests;
