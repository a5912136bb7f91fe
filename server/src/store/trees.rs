//! The Merkle trees of recently read shard blocks (transaction outcomes, receipts sent and
//! applied), kept with their items: proving one transaction of a block otherwise reads and
//! hashes the whole shard block again on every request, which a client looking up a large
//! block's transactions one by one turns into the API's most expensive read.
//!
//! Bounded by leaves, not entries (a tree costs about 64 bytes per leaf, its items as much
//! again), least recently used first out. Only committed rows are cached: a block's rows never
//! change once written, so nothing is ever invalidated.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use joule_light_client::merkle::MerkleTree;
use joule_light_client::ShardId;

/// Leaves kept per kind of tree: four shard blocks of 16,000 transactions (a block of 64,000),
/// about 8 MB of trees and items per kind.
pub const LEAVES: usize = 64_000;

/// A shard block's items with their tree.
#[derive(Debug)]
pub struct Proving<T> {
    /// The items, in leaf order.
    pub items: Vec<T>,
    /// Their tree.
    pub tree: MerkleTree,
}

/// A shard block's tree, by (height, shard).
type Entry<T> = ((u64, ShardId), Arc<Proving<T>>);

/// Recently used trees of one kind, most recent first.
#[derive(Debug)]
pub struct Trees<T> {
    recent: Mutex<VecDeque<Entry<T>>>,
    budget: usize,
}

impl<T> Trees<T> {
    /// An empty cache holding at most `budget` leaves (one tree larger than that is not kept).
    pub fn new(budget: usize) -> Self {
        Self {
            recent: Mutex::new(VecDeque::new()),
            budget,
        }
    }

    /// The tree of (height, shard): from the cache, else built from what `load` reads. `load`
    /// answers `None` for a row not (yet) committed, which is not cached.
    pub fn get_or_load<E>(
        &self,
        key: (u64, ShardId),
        load: impl FnOnce() -> Result<Option<Vec<T>>, E>,
        tree: impl FnOnce(&[T]) -> MerkleTree,
    ) -> Result<Arc<Proving<T>>, E> {
        if let Some(hit) = self.take(key) {
            self.keep(key, hit.clone());
            return Ok(hit);
        }
        // Built outside the lock: two requests missing the same block both build it, and
        // neither holds up the readers of other blocks.
        let Some(items) = load()? else {
            return Ok(Arc::new(Proving {
                items: Vec::new(),
                tree: tree(&[]),
            }));
        };
        let proving = Arc::new(Proving {
            tree: tree(&items),
            items,
        });
        self.keep(key, proving.clone());
        Ok(proving)
    }

    fn take(&self, key: (u64, ShardId)) -> Option<Arc<Proving<T>>> {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let at = recent.iter().position(|(k, _)| *k == key)?;
        recent.remove(at).map(|(_, p)| p)
    }

    /// Puts `proving` first, dropping the least recently used past the budget.
    fn keep(&self, key: (u64, ShardId), proving: Arc<Proving<T>>) {
        let leaves = proving.items.len();
        if leaves > self.budget {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|(k, _)| *k != key);
        recent.push_front((key, proving));
        let mut total = 0;
        let keep = recent
            .iter()
            .take_while(|(_, p)| {
                total += p.items.len().max(1);
                total <= self.budget
            })
            .count();
        recent.truncate(keep);
    }

    /// Trees held, most recently used first (for tests).
    #[cfg(test)]
    fn keys(&self) -> Vec<(u64, ShardId)> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().map(|(k, _)| *k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn tree(items: &[u32]) -> MerkleTree {
        let leaves: Vec<[u8; 4]> = items.iter().map(|i| i.to_le_bytes()).collect();
        MerkleTree::from_leaves(leaves.iter().map(|l| l.as_slice()))
    }

    fn get(
        trees: &Trees<u32>,
        key: (u64, ShardId),
        n: u32,
        loads: &Cell<u32>,
    ) -> Arc<Proving<u32>> {
        trees
            .get_or_load::<()>(
                key,
                || {
                    loads.set(loads.get() + 1);
                    Ok(Some((0..n).collect()))
                },
                tree,
            )
            .unwrap()
    }

    #[test]
    fn a_second_read_of_a_block_is_not_loaded_again() {
        let trees = Trees::new(100);
        let loads = Cell::new(0);
        let a = get(&trees, (1, 0), 10, &loads);
        let b = get(&trees, (1, 0), 10, &loads);
        assert_eq!(loads.get(), 1);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.tree.root(), tree(&(0..10).collect::<Vec<_>>()).root());
    }

    #[test]
    fn the_least_recently_used_goes_first_past_the_budget() {
        let trees = Trees::new(100);
        let loads = Cell::new(0);
        get(&trees, (1, 0), 40, &loads);
        get(&trees, (2, 0), 40, &loads);
        get(&trees, (1, 0), 40, &loads); // used again: (2, 0) is now the oldest
        get(&trees, (3, 0), 40, &loads);
        assert_eq!(trees.keys(), vec![(3, 0), (1, 0)]);
        // Larger than the whole budget: served, not kept.
        get(&trees, (4, 0), 101, &loads);
        assert_eq!(trees.keys(), vec![(3, 0), (1, 0)]);
        assert_eq!(loads.get(), 4);
    }

    #[test]
    fn a_row_not_yet_committed_is_not_cached() {
        let trees: Trees<u32> = Trees::new(100);
        let p = trees.get_or_load::<()>((5, 1), || Ok(None), tree).unwrap();
        assert!(p.items.is_empty());
        assert!(trees.keys().is_empty());
        let loads = Cell::new(0);
        assert_eq!(get(&trees, (5, 1), 3, &loads).items, vec![0, 1, 2]);
    }
}
