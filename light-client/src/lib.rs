//! Joule's protocol: every type that crosses the wire, its canonical encoding, hashing (blake3),
//! signatures (ed25519), Merkle proofs, and the light client's verification of headers, commits
//! and proofs. Pure: no I/O, no async, the same in the browser (wasm32) and in the node.
#![warn(missing_docs)]

pub mod address;
pub mod api;
pub mod block;
pub mod checkpoint;
pub mod codec;
pub mod commit;
pub mod crypto;
pub mod dao;
pub mod error;
pub mod event;
pub mod genesis;
pub mod hash;
pub mod market;
pub mod merkle;
pub mod object;
pub mod proven;
pub mod receipt;
pub mod smt;
pub mod state;
pub mod transaction;
pub mod units;
pub mod validator;
pub mod verify;

pub use address::{Address, AddressError, ShardId};
pub use block::{BlockHeader, ShardHeader};
pub use checkpoint::Checkpoint;
pub use codec::{CodecError, Decode, Encode};
pub use commit::{verify_commit, Commit, CommitSig};
pub use crypto::{KeyError, PublicKey, SecretKey, Signature};
pub use error::VerifyError;
pub use genesis::GenesisHeader;
pub use hash::{Domain, Hash};
pub use merkle::{MerkleError, MerkleProof, MerkleTree};
pub use proven::{
    ProvenAccount, ProvenAt, ProvenBlock, ProvenClearing, ProvenCredit, ProvenEvent, ProvenObject,
    ProvenReceipt, ProvenShardBlock, ProvenTally, ProvenTx,
};
pub use receipt::{ExecStatus, Receipt, TxOutcome};
pub use smt::{StateProof, StateProofError};
pub use state::Account;
pub use transaction::{Payload, SignedTransaction, Transaction};
pub use validator::{Validator, ValidatorSet};
pub use verify::{
    verify_account, verify_header_chain, verify_incoming_receipt, verify_next_header,
    verify_outgoing_receipt, verify_shard_header, verify_skipping, verify_transaction,
    SignedHeader, TrustedState,
};

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
