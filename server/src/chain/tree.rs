//! The node's state tree: the sparse Merkle tree of [`joule_light_client::smt`], kept in memory
//! as shared immutable nodes and updated a block at a time.
//!
//! An update copies only the paths to changed leaves (everything else is shared with the
//! previous version), so the producer can compute the next root without touching the current
//! tree, and readers keep a consistent version while a block commits. Large updates split
//! their two halves across the rayon pool at every level near the root.

use std::sync::Arc;

use joule_light_client::smt::{bit, leaf_hash, node_hash, StateProof, DEPTH, EMPTY};
use joule_light_client::{Account, Address, Hash};

/// Updates below this many leaves run on one thread.
const PARALLEL_MIN: usize = 256;

#[derive(Debug)]
enum Node {
    Leaf { address: Address, hash: Hash },
    Branch { hash: Hash, left: Tree, right: Tree },
}

/// A version of the state tree (cheap to clone: it shares its nodes).
#[derive(Debug, Clone, Default)]
pub struct Tree(Option<Arc<Node>>);

impl Tree {
    /// The root hash.
    pub fn root(&self) -> Hash {
        match self.0.as_deref() {
            None => EMPTY,
            Some(Node::Leaf { hash, .. } | Node::Branch { hash, .. }) => *hash,
        }
    }

    /// A tree over `accounts` (sorted by address, no repeats).
    pub fn build(accounts: &[(Address, Account)]) -> Tree {
        Tree::default().update(accounts)
    }

    /// This tree with `writes` (sorted by address, no repeats) applied; `self` is unchanged.
    pub fn update(&self, writes: &[(Address, Account)]) -> Tree {
        let leaves: Vec<(Address, Hash)> = if writes.len() >= PARALLEL_MIN {
            use rayon::prelude::*;
            writes
                .par_iter()
                .with_min_len(PARALLEL_MIN)
                .map(|(a, acc)| (*a, leaf_hash(a, acc)))
                .collect()
        } else {
            writes
                .iter()
                .map(|(a, acc)| (*a, leaf_hash(a, acc)))
                .collect()
        };
        self.update_at(0, &leaves)
    }

    fn update_at(&self, depth: usize, leaves: &[(Address, Hash)]) -> Tree {
        if leaves.is_empty() {
            return self.clone();
        }
        match self.0.as_deref() {
            None => build(depth, leaves),
            Some(Node::Leaf { address, hash }) => {
                // The existing leaf joins the new ones unless it is overwritten.
                match leaves.binary_search_by(|(a, _)| a.cmp(address)) {
                    Ok(_) => build(depth, leaves),
                    Err(pos) => {
                        let mut merged = Vec::with_capacity(leaves.len() + 1);
                        merged.extend_from_slice(&leaves[..pos]);
                        merged.push((*address, *hash));
                        merged.extend_from_slice(&leaves[pos..]);
                        build(depth, &merged)
                    }
                }
            }
            Some(Node::Branch { left, right, .. }) => {
                let split = leaves.partition_point(|(a, _)| !bit(a, depth));
                let (l, r) = (&leaves[..split], &leaves[split..]);
                let (left, right) = if leaves.len() >= PARALLEL_MIN {
                    rayon::join(
                        || left.update_at(depth + 1, l),
                        || right.update_at(depth + 1, r),
                    )
                } else {
                    (left.update_at(depth + 1, l), right.update_at(depth + 1, r))
                };
                branch(left, right)
            }
        }
    }

    /// The proof path for `address`: sibling hashes from the root down, and the address of
    /// the leaf the path ends at, if any (the caller adds that account's state).
    pub fn path(&self, address: &Address) -> (Vec<Hash>, Option<Address>) {
        let mut siblings = Vec::new();
        let mut node = self;
        let mut depth = 0;
        loop {
            match node.0.as_deref() {
                None => return (siblings, None),
                Some(Node::Leaf { address: a, .. }) => return (siblings, Some(*a)),
                Some(Node::Branch { left, right, .. }) => {
                    let (next, sibling) = if bit(address, depth) {
                        (right, left)
                    } else {
                        (left, right)
                    };
                    siblings.push(sibling.root());
                    node = next;
                    depth += 1;
                }
            }
        }
    }

    /// A proof for `address`; `account_of` gives the state of the account at the path's leaf.
    pub fn proof(&self, address: &Address, account_of: impl Fn(&Address) -> Account) -> StateProof {
        let (siblings, leaf) = self.path(address);
        StateProof {
            siblings,
            leaf: leaf.map(|a| (a, account_of(&a))),
        }
    }
}

fn branch(left: Tree, right: Tree) -> Tree {
    let hash = node_hash(&left.root(), &right.root());
    Tree(Some(Arc::new(Node::Branch { hash, left, right })))
}

/// A fresh subtree at `depth` over `leaves` (sorted, distinct, sharing `depth` bits).
fn build(depth: usize, leaves: &[(Address, Hash)]) -> Tree {
    match leaves {
        [] => Tree(None),
        [(address, hash)] => Tree(Some(Arc::new(Node::Leaf {
            address: *address,
            hash: *hash,
        }))),
        // Distinct addresses differ within 160 bits, so this only guards against misuse.
        _ if depth >= DEPTH => build(depth, &leaves[..1]),
        _ => {
            let split = leaves.partition_point(|(a, _)| !bit(a, depth));
            let (l, r) = (&leaves[..split], &leaves[split..]);
            let (left, right) = if leaves.len() >= PARALLEL_MIN {
                rayon::join(|| build(depth + 1, l), || build(depth + 1, r))
            } else {
                (build(depth + 1, l), build(depth + 1, r))
            };
            branch(left, right)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use joule_light_client::smt;

    use super::*;

    fn random_writes(rng: &mut StdRng, pool: &[Address], n: usize) -> Vec<(Address, Account)> {
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let a = if rng.gen_bool(0.7) {
                pool[rng.gen_range(0..pool.len())]
            } else {
                Address(rng.gen())
            };
            m.insert(
                a,
                Account {
                    balance: rng.gen_range(0..1_000),
                    nonce: rng.gen_range(0..5),
                },
            );
        }
        m.into_iter().collect()
    }

    #[test]
    fn incremental_updates_equal_a_rebuild_from_scratch() {
        let cases: u64 = std::env::var("JOULE_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
            .min(1_000);
        for seed in 0..cases {
            let mut rng = StdRng::seed_from_u64(seed);
            // A small pool, some addresses sharing long prefixes, so deep paths occur.
            let mut pool: Vec<Address> = (0..rng.gen_range(1..40))
                .map(|_| Address(rng.gen()))
                .collect();
            let twin = {
                let mut t = pool[0];
                t.0[19] ^= 1;
                t
            };
            pool.push(twin);
            let mut tree = Tree::default();
            let mut all: BTreeMap<Address, Account> = BTreeMap::new();
            for _ in 0..rng.gen_range(1..6) {
                let n = rng.gen_range(0..600);
                let w = random_writes(&mut rng, &pool, n);
                let before = tree.root();
                let next = tree.update(&w);
                assert_eq!(
                    tree.root(),
                    before,
                    "update must not change the old version"
                );
                tree = next;
                all.extend(w);
                let flat: Vec<(Address, Account)> = all.clone().into_iter().collect();
                assert_eq!(tree.root(), smt::state_root(&flat), "seed {seed}");
            }
            let flat: Vec<(Address, Account)> = all.clone().into_iter().collect();
            for probe in pool.iter().chain([Address(rng.gen())].iter()) {
                let p = tree.proof(probe, |a| all[a]);
                assert_eq!(p, smt::prove(&flat, probe), "seed {seed}");
                assert!(p.verify(&tree.root(), probe, all.get(probe)).is_ok());
            }
        }
    }
}
