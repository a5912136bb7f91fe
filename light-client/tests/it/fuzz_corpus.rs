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

/// Whether `data` decoded (then it must be canonical).
fn canonical<T: Decode + Encode>(data: &[u8]) -> bool {
    match decode_exact::<T>(data) {
        Ok(value) => {
            assert_eq!(value.encode(), data, "a non-canonical encoding decoded");
            true
        }
        Err(_) => false,
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

/// Runs `check` on every input; for a binary decoder (`check` says whether the input
/// decoded), some inputs must decode, or the canonical check would never run.
fn replay<R: Into<Decoded>>(target: &str, check: impl Fn(&[u8]) -> R) {
    let mut decoded = 0;
    let mut binary = false;
    for (path, data) in corpus(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        match outcome.map(Into::into) {
            Ok(Decoded::Yes) => (decoded, binary) = (decoded + 1, true),
            Ok(Decoded::No) => binary = true,
            Ok(Decoded::NotTracked) => {}
            Err(_) => panic!("{} fails", path.display()),
        }
    }
    assert!(!binary || decoded > 0, "no input of {target} decodes");
}

/// What one replayed input did.
enum Decoded {
    Yes,
    No,
    NotTracked,
}

impl From<bool> for Decoded {
    fn from(b: bool) -> Self {
        if b {
            Decoded::Yes
        } else {
            Decoded::No
        }
    }
}

impl From<()> for Decoded {
    fn from((): ()) -> Self {
        Decoded::NotTracked
    }
}

#[test]
fn transactions() {
    replay("tx", |d| match SignedTransaction::from_bytes(d) {
        Ok(stx) => {
            assert_eq!(stx.encode(), d);
            true
        }
        Err(_) => false,
    });
}

#[test]
fn block_and_shard_headers() {
    replay("block", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<BlockHeader>(rest),
        Some((_, rest)) => canonical::<ShardHeader>(rest),
        None => false,
    });
}

#[test]
fn commits_and_validator_sets() {
    replay("commit", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Commit>(rest),
        Some((_, rest)) => canonical::<ValidatorSet>(rest),
        None => false,
    });
}

#[test]
fn proofs() {
    replay("proof", |d| match d.split_first() {
        Some((k, rest)) if k % 3 == 0 => canonical::<MerkleProof>(rest),
        Some((k, rest)) if k % 3 == 1 => canonical::<StateProof>(rest),
        Some((_, rest)) => canonical::<ObjectProof>(rest),
        None => false,
    });
}

#[test]
fn receipts_and_outcomes() {
    replay("receipt", |d| match d.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Receipt>(rest),
        Some((_, rest)) => canonical::<TxOutcome>(rest),
        None => false,
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
