//! Binary Merkle trees over blake3, with inclusion proofs.
//!
//! # Spec
//! - **Leaf**: `blake3(0x00 ‖ data)`. **Node**: `blake3(0x01 ‖ left ‖ right)`. The distinct
//!   prefixes keep a leaf from ever being read as a node (no second-preimage trick).
//! - **Levels**: leaves are paired left to right; an odd node at the end of a level is promoted
//!   to the next level unchanged (never duplicated, so no two leaf lists share a root the way
//!   Bitcoin's duplicated-last-node rule allows).
//! - **Root**: `blake3(0x02 ‖ leaf_count as u64 LE ‖ top)`, where `top` is the single node
//!   left, or 32 zero bytes for an empty tree. Committing the count means a proof must state
//!   the true tree size, which fixes the exact shape of every path.
//! - **Proof**: the leaf's index, the leaf count, and the siblings from the leaf upwards,
//!   skipping levels where the node is promoted. The verifier recomputes the path from the
//!   index and count, so a missing, extra or reordered sibling, a wrong index or a wrong count
//!   all fail.
//!
//! ```
//! use joule_light_client::merkle::{MerkleTree, verify_proof};
//! let leaves: Vec<&[u8]> = vec![b"a", b"b", b"c"];
//! let tree = MerkleTree::from_leaves(leaves.iter().copied());
//! let proof = tree.proof(2).unwrap();
//! assert!(verify_proof(&tree.root(), b"c", &proof).is_ok());
//! assert!(verify_proof(&tree.root(), b"x", &proof).is_err());
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec::{self, put_vec, Decode, Encode, Reader};
use crate::hash::Hash;

/// The deepest proof accepted (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_DEPTH: usize = 64;

/// Why a proof failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The index is not below the leaf count.
    #[error("index {index} out of range for {leaf_count} leaves")]
    IndexOutOfRange {
        /// The proof's index.
        index: u64,
        /// The proof's leaf count.
        leaf_count: u64,
    },
    /// The path needs more siblings than the proof has.
    #[error("proof is missing siblings")]
    MissingSibling,
    /// The proof has siblings the path does not use.
    #[error("proof has {0} extra siblings")]
    ExtraSibling(usize),
    /// The recomputed root differs from the trusted one.
    #[error("proof does not lead to the trusted root")]
    RootMismatch,
}

/// Hash of a leaf's data.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0x00]);
    h.update(data);
    Hash(*h.finalize().as_bytes())
}

/// Hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0x01]);
    h.update(&left.0);
    h.update(&right.0);
    Hash(*h.finalize().as_bytes())
}

/// The root committing to `top` and the leaf count.
pub fn root_hash(leaf_count: u64, top: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0x02]);
    h.update(&leaf_count.to_le_bytes());
    h.update(&top.0);
    Hash(*h.finalize().as_bytes())
}

/// A proof that some data is the leaf at `index` of a tree of `leaf_count` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// The leaf's position.
    pub index: u64,
    /// How many leaves the tree has.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf upwards.
    pub siblings: Vec<Hash>,
}

/// A whole tree, kept level by level so proofs are cheap.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
    leaf_count: u64,
}

impl MerkleTree {
    /// Builds the tree over the given leaf data.
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self::from_leaf_hashes(leaves.into_iter().map(leaf_hash).collect())
    }

    /// Builds the tree over already-hashed leaves (see [`leaf_hash`]).
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Self {
        let leaf_count = leaves.len() as u64;
        let mut levels = vec![leaves];
        while levels.last().map_or(0, Vec::len) > 1 {
            let prev = levels.last().expect("non-empty");
            let next = prev
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [odd] => *odd,
                    _ => unreachable!("chunks(2)"),
                })
                .collect();
            levels.push(next);
        }
        Self { levels, leaf_count }
    }

    /// The tree's root.
    pub fn root(&self) -> Hash {
        let top = self
            .levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or(Hash::ZERO);
        root_hash(self.leaf_count, &top)
    }

    /// Number of leaves.
    pub fn leaf_count(&self) -> u64 {
        self.leaf_count
    }

    /// The inclusion proof of leaf `index`, or `None` if out of range.
    pub fn proof(&self, index: u64) -> Option<MerkleProof> {
        if index >= self.leaf_count {
            return None;
        }
        let mut siblings = Vec::new();
        let mut i = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sib = i ^ 1;
            if sib < level.len() {
                siblings.push(level[sib]);
            }
            i /= 2;
        }
        Some(MerkleProof {
            index,
            leaf_count: self.leaf_count,
            siblings,
        })
    }
}

/// The root of a tree over `leaves` without keeping the tree.
pub fn merkle_root<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Hash {
    MerkleTree::from_leaves(leaves).root()
}

/// Checks that `data` is leaf `proof.index` of the tree whose root is `root`.
pub fn verify_proof(root: &Hash, data: &[u8], proof: &MerkleProof) -> Result<(), MerkleError> {
    verify_leaf_hash(root, leaf_hash(data), proof)
}

/// Like [`verify_proof`], for a leaf already hashed with [`leaf_hash`].
pub fn verify_leaf_hash(root: &Hash, leaf: Hash, proof: &MerkleProof) -> Result<(), MerkleError> {
    let MerkleProof {
        index,
        leaf_count,
        siblings,
    } = proof;
    if index >= leaf_count {
        return Err(MerkleError::IndexOutOfRange {
            index: *index,
            leaf_count: *leaf_count,
        });
    }
    let mut node = leaf;
    let mut idx = *index;
    let mut width = *leaf_count;
    let mut sibs = siblings.iter();
    while width > 1 {
        if idx % 2 == 1 {
            let s = sibs.next().ok_or(MerkleError::MissingSibling)?;
            node = node_hash(s, &node);
        } else if idx + 1 < width {
            let s = sibs.next().ok_or(MerkleError::MissingSibling)?;
            node = node_hash(&node, s);
        } // else: last node of an odd level, promoted unchanged.
        idx /= 2;
        width = width.div_ceil(2);
    }
    let extra = sibs.count();
    if extra > 0 {
        return Err(MerkleError::ExtraSibling(extra));
    }
    if root_hash(*leaf_count, &node) != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

impl Encode for MerkleProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.index.encode_to(out);
        self.leaf_count.encode_to(out);
        put_vec(out, &self.siblings);
    }
}

impl Decode for MerkleProof {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(MerkleProof {
            index: r.u64()?,
            leaf_count: r.u64()?,
            siblings: r.vec("siblings", MAX_PROOF_DEPTH, 32)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn data(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf-{i}").into_bytes()).collect()
    }

    fn tree(n: usize) -> (MerkleTree, Vec<Vec<u8>>) {
        let d = data(n);
        (MerkleTree::from_leaves(d.iter().map(Vec::as_slice)), d)
    }

    #[test]
    fn every_leaf_of_every_size_verifies() {
        for n in 1..=17 {
            let (t, d) = tree(n);
            for (i, leaf) in d.iter().enumerate() {
                let p = t.proof(i as u64).unwrap();
                assert_eq!(verify_proof(&t.root(), leaf, &p), Ok(()), "n={n} i={i}");
            }
            assert!(t.proof(n as u64).is_none());
        }
    }

    #[test]
    fn empty_tree_has_a_root_and_no_proofs() {
        let t = MerkleTree::from_leaves(std::iter::empty());
        assert_eq!(t.root(), root_hash(0, &Hash::ZERO));
        assert!(t.proof(0).is_none());
    }

    #[test]
    fn leaf_count_is_committed() {
        // [a, b, c] and [a, b, c, c] must not share a root (the duplicated-last-node trick).
        let (t3, _) = tree(3);
        let mut d4 = data(3);
        d4.push(d4[2].clone());
        let t4 = MerkleTree::from_leaves(d4.iter().map(Vec::as_slice));
        assert_ne!(t3.root(), t4.root());
    }

    #[test]
    fn tampered_leaf() {
        let (t, _) = tree(5);
        let p = t.proof(1).unwrap();
        assert_eq!(
            verify_proof(&t.root(), b"leaf-9", &p),
            Err(MerkleError::RootMismatch)
        );
    }

    #[test]
    fn wrong_sibling() {
        let (t, d) = tree(6);
        let mut p = t.proof(2).unwrap();
        p.siblings[0].0[0] ^= 1;
        assert_eq!(
            verify_proof(&t.root(), &d[2], &p),
            Err(MerkleError::RootMismatch)
        );
    }

    #[test]
    fn extra_sibling() {
        let (t, d) = tree(6);
        let mut p = t.proof(2).unwrap();
        p.siblings.push(Hash::ZERO);
        assert_eq!(
            verify_proof(&t.root(), &d[2], &p),
            Err(MerkleError::ExtraSibling(1))
        );
    }

    #[test]
    fn missing_sibling() {
        let (t, d) = tree(6);
        let mut p = t.proof(2).unwrap();
        p.siblings.pop();
        assert_eq!(
            verify_proof(&t.root(), &d[2], &p),
            Err(MerkleError::MissingSibling)
        );
    }

    #[test]
    fn wrong_index() {
        let (t, d) = tree(8);
        let mut p = t.proof(2).unwrap();
        p.index = 3;
        assert_eq!(
            verify_proof(&t.root(), &d[2], &p),
            Err(MerkleError::RootMismatch)
        );
        p.index = 8;
        assert!(matches!(
            verify_proof(&t.root(), &d[2], &p),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn wrong_leaf_count() {
        let (t, d) = tree(5);
        let mut p = t.proof(4).unwrap();
        // Leaf 4 of 5 is promoted twice; claiming 6 leaves changes the path and the root.
        p.leaf_count = 6;
        assert!(verify_proof(&t.root(), &d[4], &p).is_err());
        p.leaf_count = 5;
        assert_eq!(verify_proof(&t.root(), &d[4], &p), Ok(()));
    }

    #[test]
    fn wrong_root() {
        let (t, d) = tree(4);
        let (other, _) = tree(5);
        let p = t.proof(0).unwrap();
        assert_eq!(
            verify_proof(&other.root(), &d[0], &p),
            Err(MerkleError::RootMismatch)
        );
    }

    #[test]
    fn inner_node_is_not_a_leaf() {
        // Second preimage: presenting an inner node's children as a leaf must fail.
        let (t, d) = tree(4);
        let l = leaf_hash(&d[0]);
        let r = leaf_hash(&d[1]);
        let mut fake = Vec::new();
        fake.extend_from_slice(&l.0);
        fake.extend_from_slice(&r.0);
        let p = MerkleProof {
            index: 0,
            leaf_count: 2,
            siblings: vec![t.proof(2).unwrap().siblings[1]],
        };
        assert!(verify_proof(&t.root(), &fake, &p).is_err());
    }

    #[test]
    fn proof_encoding_round_trip_and_depth_bound() {
        let (t, _) = tree(9);
        let p = t.proof(8).unwrap();
        assert_eq!(codec::decode_exact::<MerkleProof>(&p.encode()), Ok(p));
        let deep = MerkleProof {
            index: 0,
            leaf_count: 1,
            siblings: vec![Hash::ZERO; 65],
        };
        assert!(codec::decode_exact::<MerkleProof>(&deep.encode()).is_err());
    }
}
