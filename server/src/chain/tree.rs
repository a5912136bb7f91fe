//! The node's state trees: the sparse Merkle trees of [`joule_light_client::smt`] (accounts,
//! 160-bit keys) and [`joule_light_client::object`] (objects, 256-bit keys, deletable), kept in
//! memory as shared immutable nodes and updated a block at a time.
//!
//! An update copies only the paths to changed leaves (everything else is shared with the
//! previous version), so the producer can compute the next root without touching the current
//! tree, and readers keep a consistent version while a block commits. Large updates split
//! their two halves across the rayon pool at every level near the root. A deletion collapses
//! what it leaves behind: a subtree left with one leaf is that leaf, as the reference builds it.

use std::sync::Arc;

use joule_light_client::object::{object_leaf_hash, ObjectProof, StateKey};
use joule_light_client::smt::{bit, leaf_hash, node_hash, PathKey, StateProof, EMPTY};
use joule_light_client::{Account, Address, Hash};

/// Updates below this many leaves run on one thread.
const PARALLEL_MIN: usize = 256;

#[derive(Debug)]
enum Node<K> {
    Leaf {
        key: K,
        hash: Hash,
    },
    Branch {
        hash: Hash,
        left: Tree<K>,
        right: Tree<K>,
    },
}

/// A version of a state tree (cheap to clone: it shares its nodes). `Tree` alone is the
/// account tree.
#[derive(Debug)]
pub struct Tree<K = Address>(Option<Arc<Node<K>>>);

/// A version of a shard's object tree.
pub type ObjectTree = Tree<StateKey>;

impl<K> Clone for Tree<K> {
    fn clone(&self) -> Self {
        Tree(self.0.clone())
    }
}

impl<K> Default for Tree<K> {
    fn default() -> Self {
        Tree(None)
    }
}

impl<K: PathKey + Send + Sync> Tree<K> {
    /// The root hash.
    pub fn root(&self) -> Hash {
        match self.0.as_deref() {
            None => EMPTY,
            Some(Node::Leaf { hash, .. } | Node::Branch { hash, .. }) => *hash,
        }
    }

    fn update_at(&self, depth: usize, leaves: &[(K, Hash)]) -> Tree<K> {
        if leaves.is_empty() {
            return self.clone();
        }
        match self.0.as_deref() {
            None => build(depth, leaves),
            Some(Node::Leaf { key, hash }) => {
                // The existing leaf joins the new ones unless it is overwritten.
                match leaves.binary_search_by(|(k, _)| k.cmp(key)) {
                    Ok(_) => build(depth, leaves),
                    Err(pos) => {
                        let mut merged = Vec::with_capacity(leaves.len() + 1);
                        merged.extend_from_slice(&leaves[..pos]);
                        merged.push((*key, *hash));
                        merged.extend_from_slice(&leaves[pos..]);
                        build(depth, &merged)
                    }
                }
            }
            Some(Node::Branch { left, right, .. }) => {
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
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

    /// This tree without the leaves of `keys` (sorted, no repeats; absent ones ignored).
    pub fn delete(&self, keys: &[K]) -> Tree<K> {
        self.delete_at(0, keys)
    }

    fn delete_at(&self, depth: usize, keys: &[K]) -> Tree<K> {
        if keys.is_empty() {
            return self.clone();
        }
        match self.0.as_deref() {
            None => Tree(None),
            Some(Node::Leaf { key, .. }) => match keys.binary_search(key) {
                Ok(_) => Tree(None),
                Err(_) => self.clone(),
            },
            Some(Node::Branch { left, right, .. }) => {
                let split = keys.partition_point(|k| !bit(k, depth));
                let (l, r) = (&keys[..split], &keys[split..]);
                let (left, right) = if keys.len() >= PARALLEL_MIN {
                    rayon::join(
                        || left.delete_at(depth + 1, l),
                        || right.delete_at(depth + 1, r),
                    )
                } else {
                    (left.delete_at(depth + 1, l), right.delete_at(depth + 1, r))
                };
                // A subtree holding one leaf is that leaf.
                let lone = |t: &Tree<K>| matches!(t.0.as_deref(), None | Some(Node::Leaf { .. }));
                match (left.0.is_none(), right.0.is_none()) {
                    (true, true) => Tree(None),
                    (true, false) if lone(&right) => right,
                    (false, true) if lone(&left) => left,
                    _ => branch(left, right),
                }
            }
        }
    }

    /// The proof path for `key`: sibling hashes from the root down, and the key of the leaf
    /// the path ends at, if any (the caller adds that leaf's value).
    pub fn path(&self, key: &K) -> (Vec<Hash>, Option<K>) {
        let mut siblings = Vec::new();
        let mut node = self;
        let mut depth = 0;
        loop {
            match node.0.as_deref() {
                None => return (siblings, None),
                Some(Node::Leaf { key: k, .. }) => return (siblings, Some(*k)),
                Some(Node::Branch { left, right, .. }) => {
                    let (next, sibling) = if bit(key, depth) {
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
}

impl Tree<Address> {
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

    /// A proof for `address`; `account_of` gives the state of the account at the path's leaf.
    pub fn proof(&self, address: &Address, account_of: impl Fn(&Address) -> Account) -> StateProof {
        let (siblings, leaf) = self.path(address);
        StateProof {
            siblings,
            leaf: leaf.map(|a| (a, account_of(&a))),
        }
    }
}

impl Tree<StateKey> {
    /// This tree with `writes` (sorted by key, no repeats; `None` deletes) applied; `self` is
    /// unchanged.
    pub fn update_objects(&self, writes: &[(StateKey, Option<Vec<u8>>)]) -> ObjectTree {
        let leaves: Vec<(StateKey, Hash)> = writes
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, object_leaf_hash(k, v))))
            .collect();
        let gone: Vec<StateKey> = writes
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        self.update_at(0, &leaves).delete(&gone)
    }

    /// A proof for `key`; `value_of` gives the encoded object at the path's leaf.
    pub fn object_proof(
        &self,
        key: &StateKey,
        value_of: impl Fn(&StateKey) -> Vec<u8>,
    ) -> ObjectProof {
        let (siblings, leaf) = self.path(key);
        ObjectProof {
            siblings,
            leaf: leaf.map(|k| (k, value_of(&k))),
        }
    }
}

fn branch<K: PathKey + Send + Sync>(left: Tree<K>, right: Tree<K>) -> Tree<K> {
    let hash = node_hash(&left.root(), &right.root());
    Tree(Some(Arc::new(Node::Branch { hash, left, right })))
}

/// A fresh subtree at `depth` over `leaves` (sorted, distinct, sharing `depth` bits).
fn build<K: PathKey + Send + Sync>(depth: usize, leaves: &[(K, Hash)]) -> Tree<K> {
    match leaves {
        [] => Tree(None),
        [(key, hash)] => Tree(Some(Arc::new(Node::Leaf {
            key: *key,
            hash: *hash,
        }))),
        // Distinct keys differ within their bits, so this only guards against misuse.
        _ if depth >= K::BITS => build(depth, &leaves[..1]),
        _ => {
            let split = leaves.partition_point(|(k, _)| !bit(k, depth));
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

    #[test]
    fn object_updates_and_deletions_equal_a_rebuild_from_scratch() {
        use joule_light_client::object::{self, ObjectKind};
        let cases: u64 = std::env::var("JOULE_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
            .min(1_000);
        for seed in 0..cases {
            let mut rng = StdRng::seed_from_u64(seed);
            // Few owners, several objects each (keys sharing 72 bits), and twins that differ
            // in the last bit only: deletions collapse deep paths.
            let owners: Vec<Address> = (0..rng.gen_range(1..8))
                .map(|_| Address(rng.gen()))
                .collect();
            let mut pool: Vec<StateKey> = (0..rng.gen_range(1..40u64))
                .map(|i| {
                    let o = &owners[rng.gen_range(0..owners.len())];
                    StateKey::new(o, ObjectKind::Order, &i.to_le_bytes())
                })
                .collect();
            let mut twin = pool[0];
            twin.0[31] ^= 1;
            pool.push(twin);
            let mut tree = ObjectTree::default();
            let mut all: BTreeMap<StateKey, Vec<u8>> = BTreeMap::new();
            for _ in 0..rng.gen_range(1..8) {
                let mut writes: BTreeMap<StateKey, Option<Vec<u8>>> = BTreeMap::new();
                for _ in 0..rng.gen_range(0..60) {
                    let k = pool[rng.gen_range(0..pool.len())];
                    let v = rng
                        .gen_bool(0.6)
                        .then(|| (0..rng.gen_range(1..20)).map(|_| rng.gen()).collect());
                    writes.insert(k, v);
                }
                let writes: Vec<_> = writes.into_iter().collect();
                let before = tree.root();
                let next = tree.update_objects(&writes);
                assert_eq!(
                    tree.root(),
                    before,
                    "update must not change the old version"
                );
                tree = next;
                for (k, v) in writes {
                    match v {
                        Some(v) => all.insert(k, v),
                        None => all.remove(&k),
                    };
                }
                let flat: Vec<(StateKey, Vec<u8>)> = all.clone().into_iter().collect();
                assert_eq!(tree.root(), object::objects_root(&flat), "seed {seed}");
            }
            let flat: Vec<(StateKey, Vec<u8>)> = all.clone().into_iter().collect();
            for probe in &pool {
                let p = tree.object_proof(probe, |k| all[k].clone());
                assert_eq!(p, object::prove_object(&flat, probe), "seed {seed}");
                let shown = p.proven_bytes(&tree.root(), probe).unwrap();
                assert_eq!(shown, all.get(probe).map(Vec::as_slice), "seed {seed}");
            }
        }
    }
}
