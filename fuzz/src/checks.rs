//! The properties the fuzz targets check on arbitrary bytes, one function per target: no
//! decoder panics, and whatever decodes is canonical — encoding it again gives the input (two
//! encodings of one value would let a relayer change a signed object's bytes without changing
//! its meaning). Targets with several types take the first byte to pick one. Each binary
//! decoder's check says whether the input decoded.
//!
//! Shared as source: the fuzz binaries use it through `joule_fuzz::checks`, and
//! `light-client/tests/it/fuzz_corpus.rs` includes this file to replay the committed corpus.

use joule_light_client::api::{
    AccountResponse, BatchSubmitRequest, BlockResponse, ChainInfo, ObjectResponse, SubmitRequest,
    TxResponse,
};
use joule_light_client::codec::decode_exact;
use joule_light_client::object::ObjectProof;
use joule_light_client::{
    BlockHeader, Commit, Decode, Encode, MerkleProof, Receipt, ShardHeader, SignedTransaction,
    StateProof, TxOutcome, ValidatorSet,
};

/// Decodes `data` as a `T`; whether it decoded (then its encoding must be `data`).
fn canonical<T: Decode + Encode>(data: &[u8]) -> bool {
    match decode_exact::<T>(data) {
        Ok(value) => {
            assert_eq!(value.encode(), data, "a non-canonical encoding decoded");
            true
        }
        Err(_) => false,
    }
}

/// Signed transactions, as `POST /transactions` and blocks carry them.
pub fn tx(data: &[u8]) -> bool {
    match SignedTransaction::from_bytes(data) {
        Ok(stx) => {
            assert_eq!(stx.encode(), data, "a non-canonical transaction decoded");
            true
        }
        Err(_) => false,
    }
}

/// Block and shard headers.
pub fn block(data: &[u8]) -> bool {
    match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<BlockHeader>(rest),
        Some((_, rest)) => canonical::<ShardHeader>(rest),
        None => false,
    }
}

/// Commits and validator sets.
pub fn commit(data: &[u8]) -> bool {
    match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Commit>(rest),
        Some((_, rest)) => canonical::<ValidatorSet>(rest),
        None => false,
    }
}

/// Merkle proofs, state proofs and object proofs.
pub fn proof(data: &[u8]) -> bool {
    match data.split_first() {
        Some((k, rest)) if k % 3 == 0 => canonical::<MerkleProof>(rest),
        Some((k, rest)) if k % 3 == 1 => canonical::<StateProof>(rest),
        Some((_, rest)) => canonical::<ObjectProof>(rest),
        None => false,
    }
}

/// Cross-shard receipts and transaction outcomes.
pub fn receipt(data: &[u8]) -> bool {
    match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Receipt>(rest),
        Some((_, rest)) => canonical::<TxOutcome>(rest),
        None => false,
    }
}

/// The API's JSON, as the app parses a node's answers and the node parses requests: never a
/// panic.
pub fn api_json(data: &[u8]) {
    fn parse<T: serde::de::DeserializeOwned>(data: &[u8]) {
        let _ = serde_json::from_slice::<T>(data);
    }
    if let Some((k, rest)) = data.split_first() {
        match k % 7 {
            0 => parse::<BlockResponse>(rest),
            1 => parse::<TxResponse>(rest),
            2 => parse::<AccountResponse>(rest),
            3 => parse::<ChainInfo>(rest),
            4 => parse::<ObjectResponse>(rest),
            5 => parse::<SubmitRequest>(rest),
            _ => parse::<BatchSubmitRequest>(rest),
        }
    }
}
