//! Account state. The shard state root over accounts is the sparse Merkle tree of
//! [`crate::smt`].

use serde::{Deserialize, Serialize};

use crate::codec::{self, Decode, Encode, Reader};

pub use crate::smt::state_root;

/// An account's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Tokens, in the smallest unit.
    pub balance: u64,
    /// The next nonce the account must use.
    pub nonce: u64,
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
