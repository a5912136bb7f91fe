//! The fuzzers' corpus (`fuzz/corpus/`, found by afl.rs with `scripts/fuzz.sh`) replayed
//! through the same properties the fuzz targets check (`fuzz/src/`): no decoder panics, and
//! whatever decodes is canonical. Each input the fuzzers kept, checked on every `make test`.

use std::path::PathBuf;

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

fn canonical<T: Decode + Encode>(data: &[u8]) {
    if let Ok(value) = decode_exact::<T>(data) {
        assert_eq!(value.encode(), data, "a non-canonical encoding decoded");
    }
}

fn json<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}

/// Every input of `target`'s corpus (at least one: the corpus is committed).
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

fn replay(target: &str, check: impl Fn(&[u8])) {
    for (path, data) in corpus(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(outcome.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn transactions() {
    replay("tx", |d| {
        if let Ok(stx) = SignedTransaction::from_bytes(d) {
            assert_eq!(stx.encode(), d);
        }
    });
}

#[test]
fn block_and_shard_headers() {
    replay("block", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<BlockHeader>(rest),
        Some((_, rest)) => canonical::<ShardHeader>(rest),
        None => {}
    });
}

#[test]
fn commits_and_validator_sets() {
    replay("commit", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Commit>(rest),
        Some((_, rest)) => canonical::<ValidatorSet>(rest),
        None => {}
    });
}

#[test]
fn proofs() {
    replay("proof", |d| match d.split_first() {
        Some((k, rest)) if k % 3 == 0 => canonical::<MerkleProof>(rest),
        Some((k, rest)) if k % 3 == 1 => canonical::<StateProof>(rest),
        Some((_, rest)) => canonical::<ObjectProof>(rest),
        None => {}
    });
}

#[test]
fn receipts_and_outcomes() {
    replay("receipt", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Receipt>(rest),
        Some((_, rest)) => canonical::<TxOutcome>(rest),
        None => {}
    });
}

#[test]
fn api_json() {
    replay("api_json", |d| {
        if let Some((k, rest)) = d.split_first() {
            match k % 7 {
                0 => json::<BlockResponse>(rest),
                1 => json::<TxResponse>(rest),
                2 => json::<AccountResponse>(rest),
                3 => json::<ChainInfo>(rest),
                4 => json::<ObjectResponse>(rest),
                5 => json::<SubmitRequest>(rest),
                _ => json::<BatchSubmitRequest>(rest),
            }
        }
    });
}
