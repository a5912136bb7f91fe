//! A shard's accounts in memory, with the state tree that commits to them.

use joule_light_client::{Account, Address, Hash, StateProof};

use super::exec::AccountMap;
use super::tree::Tree;

/// The accounts of one shard and their state tree (always in step).
#[derive(Debug, Clone, Default)]
pub struct ShardState {
    accounts: AccountMap,
    tree: Tree,
}

impl ShardState {
    /// A shard holding `accounts` (sorted by address, no repeats); the tree is built in
    /// parallel on the current rayon pool.
    pub fn from_accounts(accounts: &[(Address, Account)]) -> Self {
        let mut s = Self::default();
        s.apply(accounts);
        s
    }

    /// The account at `address` (zero balance and nonce if absent).
    pub fn get(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Whether an account exists at `address` (has ever been written).
    pub fn contains(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether the shard has no accounts.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Sum of balances.
    pub fn total_balance(&self) -> u128 {
        self.accounts.values().map(|a| u128::from(a.balance)).sum()
    }

    /// The state tree after applying `writes` (sorted by address, no repeats), without
    /// applying them: the producer puts its root in the shard header before committing.
    pub fn next_tree(&self, writes: &[(Address, Account)]) -> Tree {
        self.tree.update(writes)
    }

    /// Applies a block's writes (sorted by address, no repeats).
    pub fn apply(&mut self, writes: &[(Address, Account)]) {
        let tree = self.next_tree(writes);
        self.apply_with_tree(writes, tree);
    }

    /// Applies a block's writes whose tree [`Self::next_tree`] already computed.
    pub fn apply_with_tree(&mut self, writes: &[(Address, Account)], tree: Tree) {
        self.accounts.reserve(writes.len());
        self.accounts.extend(writes.iter().copied());
        self.tree = tree;
    }

    /// The state root.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Proof of the account at `address` — or of its absence — against [`Self::root`].
    pub fn proof(&self, address: &Address) -> StateProof {
        self.tree.proof(address, |a| self.get(a))
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
        let predicted = s.next_tree(&w).root();
        assert_ne!(predicted, s.root());
        s.apply(&w);
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
}
