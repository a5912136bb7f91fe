//! A shard's accounts in memory, and its state root.

use std::collections::BTreeMap;

use joule_light_client::merkle::{leaf_hash, MerkleProof, MerkleTree};
use joule_light_client::state::account_leaf;
use joule_light_client::{Account, Address, Hash};

/// The accounts of one shard, sorted by address (the order the state root commits to).
#[derive(Debug, Clone, Default)]
pub struct ShardState {
    accounts: BTreeMap<Address, Account>,
}

impl ShardState {
    /// The account at `address` (zero balance and nonce if absent).
    pub fn get(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether the shard has no accounts.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// All accounts in address order.
    pub fn iter(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    /// Sum of balances.
    pub fn total_balance(&self) -> u128 {
        self.accounts.values().map(|a| u128::from(a.balance)).sum()
    }

    /// Applies a block's writes.
    pub fn apply(&mut self, writes: &BTreeMap<Address, Account>) {
        for (a, acc) in writes {
            self.accounts.insert(*a, *acc);
        }
    }

    /// Leaf hashes of the state with `writes` applied, without applying them.
    fn leaves_with(&self, writes: &BTreeMap<Address, Account>) -> Vec<Hash> {
        let mut out = Vec::with_capacity(self.accounts.len() + writes.len());
        let mut base = self.accounts.iter().peekable();
        let mut over = writes.iter().peekable();
        loop {
            let next = match (base.peek(), over.peek()) {
                (None, None) => break,
                (Some(_), None) => base.next(),
                (None, Some(_)) => over.next(),
                (Some((ba, _)), Some((oa, _))) => match ba.cmp(oa) {
                    std::cmp::Ordering::Less => base.next(),
                    std::cmp::Ordering::Greater => over.next(),
                    std::cmp::Ordering::Equal => {
                        base.next();
                        over.next()
                    }
                },
            };
            let (a, acc) = next.expect("peeked");
            out.push(leaf_hash(&account_leaf(a, acc)));
        }
        out
    }

    /// The state root after applying `writes` (which are not applied).
    pub fn root_with(&self, writes: &BTreeMap<Address, Account>) -> Hash {
        MerkleTree::from_leaf_hashes(self.leaves_with(writes)).root()
    }

    /// The current state root.
    pub fn root(&self) -> Hash {
        self.root_with(&BTreeMap::new())
    }

    /// Inclusion proof of `address` against [`Self::root`], if the account exists.
    pub fn proof(&self, address: &Address) -> Option<MerkleProof> {
        let index = self.accounts.range(..*address).count() as u64;
        if !self.accounts.contains_key(address) {
            return None;
        }
        MerkleTree::from_leaf_hashes(self.leaves_with(&BTreeMap::new())).proof(index)
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::state::state_root;

    use super::*;

    #[test]
    fn root_with_writes_equals_root_after_apply() {
        let mut s = ShardState::default();
        let mut w = BTreeMap::new();
        for i in (0..20u8).step_by(2) {
            w.insert(
                Address([i; 20]),
                Account {
                    balance: u64::from(i),
                    nonce: 0,
                },
            );
        }
        s.apply(&w);
        let mut w2 = BTreeMap::new();
        w2.insert(
            Address([3; 20]),
            Account {
                balance: 3,
                nonce: 1,
            },
        );
        w2.insert(
            Address([4; 20]),
            Account {
                balance: 44,
                nonce: 1,
            },
        );
        let predicted = s.root_with(&w2);
        s.apply(&w2);
        assert_eq!(predicted, s.root());
        assert_eq!(s.root(), state_root(s.iter()));
    }

    #[test]
    fn proofs_verify() {
        let mut s = ShardState::default();
        let w: BTreeMap<_, _> = (0..9u8)
            .map(|i| {
                (
                    Address([i; 20]),
                    Account {
                        balance: 1,
                        nonce: 2,
                    },
                )
            })
            .collect();
        s.apply(&w);
        let a = Address([5; 20]);
        let p = s.proof(&a).unwrap();
        let leaf = account_leaf(&a, &s.get(&a));
        assert!(joule_light_client::merkle::verify_proof(&s.root(), &leaf, &p).is_ok());
        assert!(s.proof(&Address([77; 20])).is_none());
    }
}
