//! Account state and the shard state root.
//!
//! The state root is, for now, a Merkle root (see [`crate::merkle`]) over the accounts of a
//! shard sorted by address, each leaf `address [20] | balance u64 | nonce u64`. It sits behind
//! [`state_root`] so that an incremental authenticated tree can replace it in one place.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::codec::{self, Decode, Encode, Reader};
use crate::hash::Hash;
use crate::merkle::{leaf_hash, MerkleTree};

/// An account's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Tokens, in the smallest unit.
    pub balance: u64,
    /// The next nonce the account must use.
    pub nonce: u64,
}

/// The bytes of an account's leaf in the state tree.
pub fn account_leaf(address: &Address, account: &Account) -> Vec<u8> {
    let mut out = Vec::with_capacity(36);
    address.encode_to(&mut out);
    account.encode_to(&mut out);
    out
}

/// The state root over `accounts`, which must be sorted by address with no repeats.
pub fn state_root<'a>(accounts: impl IntoIterator<Item = (&'a Address, &'a Account)>) -> Hash {
    let leaves = accounts
        .into_iter()
        .map(|(a, acc)| leaf_hash(&account_leaf(a, acc)))
        .collect();
    MerkleTree::from_leaf_hashes(leaves).root()
}

impl Encode for Account {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.balance.encode_to(out);
        self.nonce.encode_to(out);
    }
}

impl Decode for Account {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Account {
            balance: r.u64()?,
            nonce: r.u64()?,
        })
    }
}
