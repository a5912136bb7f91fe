//! A shard's accounts and objects in memory, with the trees that commit to them.

use std::collections::BTreeMap;

use joule_light_client::object::{ObjectProof, StateKey};
use joule_light_client::{Account, Address, Hash, StateProof};

use rayon::prelude::*;

use super::exec::AccountMap;
use super::indexes::ObjectIndexes;
use super::tree::{ObjectTree, Tree};

/// An object written by a block: its new encoding, or `None` when it was deleted.
pub type ObjectWrite = (StateKey, Option<Vec<u8>>);

/// The accounts and objects of one shard and their trees (always in step).
#[derive(Debug, Clone)]
pub struct ShardState {
    /// By the address's leading bits ([`part_of`]): a block's writes, sorted, fall into the
    /// parts in order, and each part takes its share in parallel (one map of a million
    /// accounts took a block's 20,000 writes in 7–11 ms, every insert a cache miss).
    accounts: Vec<AccountMap>,
    tree: Tree,
    /// Objects by key: ordered, so an owner's objects of one kind are one range.
    objects: BTreeMap<StateKey, Vec<u8>>,
    object_tree: ObjectTree,
    indexes: ObjectIndexes,
}

/// The trees a block leads to, computed before it is applied (their roots go in the header).
#[derive(Debug, Clone, Default)]
pub struct NextTrees {
    /// The account tree.
    pub accounts: Tree,
    /// The object tree.
    pub objects: ObjectTree,
}

/// What applying a block replaced: the previous trees and, per part, the previous value of
/// every account written (`None`: it did not exist), and of every object written.
#[derive(Debug)]
pub struct Replaced {
    tree: Tree,
    previous: Vec<Vec<(Address, Option<Account>)>>,
    object_tree: ObjectTree,
    previous_objects: Vec<ObjectWrite>,
}

impl Replaced {
    /// The state root before the block.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }
}

/// Parts of the account map.
const PARTS: usize = 16;

/// The part holding `address`: its leading four bits, so parts are address ranges in order.
fn part_of(address: &Address) -> usize {
    usize::from(address.0[0] >> 4)
}

impl Default for ShardState {
    fn default() -> Self {
        ShardState {
            accounts: vec![AccountMap::default(); PARTS],
            tree: Tree::default(),
            objects: BTreeMap::new(),
            object_tree: ObjectTree::default(),
            indexes: ObjectIndexes::default(),
        }
    }
}

impl ShardState {
    /// A shard holding `accounts` (sorted by address, no repeats); the tree is built in
    /// parallel on the current rayon pool.
    pub fn from_accounts(accounts: &[(Address, Account)]) -> Self {
        Self::from_parts(accounts, &[])
    }

    /// A shard holding `accounts` and `objects` (each sorted by key, no repeats).
    pub fn from_parts(accounts: &[(Address, Account)], objects: &[(StateKey, Vec<u8>)]) -> Self {
        let mut s = Self::default();
        let writes: Vec<ObjectWrite> = objects.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        s.apply(accounts, &writes);
        s
    }

    /// The account at `address` (zero balance and nonce if absent).
    pub fn get(&self, address: &Address) -> Account {
        self.accounts[part_of(address)]
            .get(address)
            .copied()
            .unwrap_or_default()
    }

    /// Whether an account exists at `address` (has ever been written).
    pub fn contains(&self, address: &Address) -> bool {
        self.accounts[part_of(address)].contains_key(address)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.iter().map(AccountMap::len).sum()
    }

    /// Whether the shard has no accounts.
    pub fn is_empty(&self) -> bool {
        self.accounts.iter().all(AccountMap::is_empty)
    }

    /// Sum of balances.
    pub fn total_balance(&self) -> u128 {
        self.accounts
            .iter()
            .flat_map(AccountMap::values)
            .map(|a| u128::from(a.balance))
            .sum()
    }

    /// Tokens held in escrow by the shard's orders.
    pub fn total_escrow(&self) -> u128 {
        self.indexes.escrow()
    }

    /// Tokens locked for governance on the shard.
    pub fn total_locked(&self) -> u128 {
        self.indexes.locked()
    }

    /// The shard's object indexes (governance's powers, proposals and votes).
    pub fn indexes(&self) -> &super::indexes::ObjectIndexes {
        &self.indexes
    }

    /// The orders for `interval`, decoded, in key order.
    pub fn orders_of(
        &self,
        interval: u64,
    ) -> impl Iterator<Item = (&StateKey, &joule_light_client::market::Order)> {
        self.indexes.orders_of(interval)
    }

    /// `owner`'s meters (on this shard, where its meters live), in key order.
    pub fn meters_of(&self, owner: &Address) -> impl Iterator<Item = (&StateKey, &[u8])> {
        self.indexes
            .meters_of(owner)
            .filter_map(|k| Some((k, self.object(k)?)))
    }

    /// Writes (or with `None` deletes) one object, keeping the indexes in step; returns what
    /// was there.
    fn set_object(&mut self, key: StateKey, value: Option<Vec<u8>>) -> Option<Vec<u8>> {
        match value {
            Some(v) => {
                let before = self.objects.insert(key, v);
                let after = self.objects.get(&key).map(Vec::as_slice);
                self.indexes.update(&key, before.as_deref(), after);
                before
            }
            None => {
                let before = self.objects.remove(&key);
                self.indexes.update(&key, before.as_deref(), None);
                before
            }
        }
    }

    /// The encoded object at `key`, if there is one.
    pub fn object(&self, key: &StateKey) -> Option<&[u8]> {
        self.objects.get(key).map(Vec::as_slice)
    }

    /// The objects whose keys lie in `range` (an owner's objects of one kind, say), in key
    /// order.
    pub fn objects_in(
        &self,
        range: impl std::ops::RangeBounds<StateKey>,
    ) -> impl Iterator<Item = (&StateKey, &Vec<u8>)> {
        self.objects.range(range)
    }

    /// Number of objects.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// The trees after applying a block's account `writes` and object writes (each sorted by
    /// key, no repeats), without applying them: the producer puts their roots in the shard
    /// header before committing.
    pub fn next_trees(&self, writes: &[(Address, Account)], objects: &[ObjectWrite]) -> NextTrees {
        NextTrees {
            accounts: self.tree.update(writes),
            objects: if objects.is_empty() {
                self.object_tree.clone()
            } else {
                self.object_tree.update_objects(objects)
            },
        }
    }

    /// Applies a block's writes (each sorted by key, no repeats).
    pub fn apply(&mut self, writes: &[(Address, Account)], objects: &[ObjectWrite]) {
        let trees = self.next_trees(writes, objects);
        drop(self.apply_with_tree(writes, objects, trees));
    }

    /// Applies a block's writes (sorted by address, no repeats) whose tree
    /// [`Self::next_trees`] already computed, the parts in parallel on the current rayon pool.
    /// Returns what it replaced, which [`Self::undo`] puts back: dropping it frees the nodes
    /// the block replaced, tens of milliseconds at a million accounts, which the caller may do
    /// elsewhere.
    #[must_use = "dropping what was replaced is slow: the caller chooses where"]
    pub fn apply_with_tree(
        &mut self,
        writes: &[(Address, Account)],
        objects: &[ObjectWrite],
        trees: NextTrees,
    ) -> Replaced {
        let mut rest = writes;
        let mut shares = Vec::with_capacity(PARTS);
        for p in 0..PARTS {
            let n = rest.partition_point(|(a, _)| part_of(a) <= p);
            let (share, after) = rest.split_at(n);
            shares.push(share);
            rest = after;
        }
        let previous = self
            .accounts
            .par_iter_mut()
            .zip(shares)
            .with_max_len(1)
            .map(|(map, share)| {
                map.reserve(share.len());
                share
                    .iter()
                    .map(|(a, account)| (*a, map.insert(*a, *account)))
                    .collect()
            })
            .collect();
        let previous_objects = objects
            .iter()
            .map(|(k, v)| (*k, self.set_object(*k, v.clone())))
            .collect();
        Replaced {
            tree: std::mem::replace(&mut self.tree, trees.accounts),
            previous,
            object_tree: std::mem::replace(&mut self.object_tree, trees.objects),
            previous_objects,
        }
    }

    /// Puts back what [`Self::apply_with_tree`] replaced, undoing that block: the producer
    /// applies a block while the disk commits it, and undoes it if the commit fails.
    pub fn undo(&mut self, replaced: Replaced) {
        let Replaced {
            tree,
            previous,
            object_tree,
            previous_objects,
        } = replaced;
        self.tree = tree;
        self.object_tree = object_tree;
        for (key, before) in previous_objects {
            self.set_object(key, before);
        }
        for (map, part) in self.accounts.iter_mut().zip(previous) {
            for (address, before) in part {
                match before {
                    Some(account) => map.insert(address, account),
                    None => map.remove(&address),
                };
            }
        }
    }

    /// The state root.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Proof of the account at `address` — or of its absence — against [`Self::root`].
    pub fn proof(&self, address: &Address) -> StateProof {
        self.tree.proof(address, |a| self.get(a))
    }

    /// The object root.
    pub fn objects_root(&self) -> Hash {
        self.object_tree.root()
    }

    /// Proof of the object at `key` — or of its absence — against [`Self::objects_root`].
    pub fn object_proof(&self, key: &StateKey) -> ObjectProof {
        self.object_tree
            .object_proof(key, |k| self.objects.get(k).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::state::state_root;

    use super::*;

    fn acc(b: u64) -> Account {
        Account {
            balance: b,
            nonce: 1,
        }
    }

    #[test]
    fn next_tree_predicts_the_root_after_apply() {
        let mut s = ShardState::from_accounts(
            &(0..20u8)
                .step_by(2)
                .map(|i| (Address([i; 20]), acc(u64::from(i))))
                .collect::<Vec<_>>(),
        );
        let w = vec![(Address([3; 20]), acc(3)), (Address([4; 20]), acc(44))];
        let predicted = s.next_trees(&w, &[]).accounts.root();
        assert_ne!(predicted, s.root());
        s.apply(&w, &[]);
        assert_eq!(predicted, s.root());
        let mut flat: Vec<(Address, Account)> = (0..20u8)
            .step_by(2)
            .map(|i| (Address([i; 20]), acc(u64::from(i))))
            .collect();
        flat.push((Address([3; 20]), acc(3)));
        flat[2].1 = acc(44);
        flat.sort_unstable_by_key(|(a, _)| *a);
        assert_eq!(s.root(), state_root(&flat));
    }

    #[test]
    fn writes_spread_over_every_part_are_all_applied() {
        // Leading bytes 0x00, 0x11, … 0xff: one address in each part, then overwrites.
        let w: Vec<(Address, Account)> = (0..=255u8)
            .step_by(17)
            .map(|b| (Address([b; 20]), acc(u64::from(b))))
            .collect();
        let mut s = ShardState::default();
        drop(s.apply_with_tree(&w, &[], s.next_trees(&w, &[])));
        assert_eq!(s.len(), 16);
        let total: u128 = w.iter().map(|(_, a)| u128::from(a.balance)).sum();
        assert_eq!(s.total_balance(), total);
        let again: Vec<(Address, Account)> = w.iter().map(|(a, _)| (*a, acc(7))).collect();
        let before = s.apply_with_tree(&again, &[], s.next_trees(&again, &[]));
        assert_eq!(before.root(), ShardState::from_accounts(&w).root());
        assert!(again
            .iter()
            .all(|(a, _)| s.contains(a) && s.get(a) == acc(7)));
        assert_eq!((s.len(), s.total_balance()), (16, 7 * 16));
        assert_eq!(s.root(), ShardState::from_accounts(&again).root());
    }

    #[test]
    fn undo_restores_the_accounts_and_root_before_the_block() {
        let genesis: Vec<(Address, Account)> = (0..=255u8)
            .step_by(5)
            .map(|b| (Address([b; 20]), acc(u64::from(b))))
            .collect();
        let mut s = ShardState::from_accounts(&genesis);
        // Overwrites of existing accounts and new ones, in several parts.
        let mut w: Vec<(Address, Account)> = (0..=255u8)
            .step_by(3)
            .map(|b| (Address([b; 20]), acc(1_000)))
            .collect();
        w.sort_unstable_by_key(|(a, _)| *a);
        let replaced = s.apply_with_tree(&w, &[], s.next_trees(&w, &[]));
        assert_eq!(replaced.root(), ShardState::from_accounts(&genesis).root());
        assert_ne!(s.root(), replaced.root());
        s.undo(replaced);
        let fresh = ShardState::from_accounts(&genesis);
        assert_eq!(s.root(), fresh.root());
        assert_eq!(
            (s.len(), s.total_balance()),
            (fresh.len(), fresh.total_balance())
        );
        for b in 0..=255u8 {
            let a = Address([b; 20]);
            assert_eq!(
                (s.contains(&a), s.get(&a)),
                (fresh.contains(&a), fresh.get(&a))
            );
        }
    }

    #[test]
    fn proofs_verify_for_present_and_absent_accounts() {
        let s = ShardState::from_accounts(
            &(0..9u8)
                .map(|i| (Address([i; 20]), acc(2)))
                .collect::<Vec<_>>(),
        );
        let a = Address([5; 20]);
        assert_eq!(s.proof(&a).verify(&s.root(), &a, Some(&s.get(&a))), Ok(()));
        let missing = Address([77; 20]);
        assert!(!s.contains(&missing));
        assert_eq!(s.proof(&missing).verify(&s.root(), &missing, None), Ok(()));
    }

    #[test]
    fn objects_are_written_deleted_proven_and_undone_with_their_root() {
        use joule_light_client::object::{objects_root, ObjectKind};
        let key = |i: u8| StateKey::new(&Address([i; 20]), ObjectKind::Order, &[i]);
        let first: Vec<ObjectWrite> = (0..6).map(|i| (key(i), Some(vec![i; 3]))).collect();
        let mut first = first;
        first.sort_unstable_by_key(|(k, _)| *k);
        let mut s = ShardState::default();
        s.apply(&[], &first);
        let flat = |s: &ShardState| -> Vec<(StateKey, Vec<u8>)> {
            s.objects_in(..).map(|(k, v)| (*k, v.clone())).collect()
        };
        assert_eq!(s.objects_root(), objects_root(&flat(&s)));
        let before = s.objects_root();
        // One overwritten, one deleted, one new.
        let mut next = vec![
            (key(1), Some(vec![9])),
            (key(2), None),
            (key(7), Some(vec![7])),
        ];
        next.sort_unstable_by_key(|(k, _)| *k);
        let trees = s.next_trees(&[], &next);
        let predicted = trees.objects.root();
        let replaced = s.apply_with_tree(&[], &next, trees);
        assert_eq!(s.objects_root(), predicted);
        assert_eq!(s.objects_root(), objects_root(&flat(&s)));
        assert_eq!(
            (s.object(&key(2)), s.object(&key(1))),
            (None, Some(&[9u8][..]))
        );
        let p = s.object_proof(&key(2));
        assert_eq!(p.proven_bytes(&s.objects_root(), &key(2)), Ok(None));
        let p = s.object_proof(&key(7));
        assert_eq!(
            p.proven_bytes(&s.objects_root(), &key(7)),
            Ok(Some(&[7u8][..]))
        );
        s.undo(replaced);
        assert_eq!(s.objects_root(), before);
        assert_eq!(s.object_count(), 6);
        assert_eq!(s.object(&key(2)), Some(&[2u8, 2, 2][..]));
        assert_eq!(s.object(&key(7)), None);
    }
}
