//! The fuzzers' corpus (`fuzz/corpus/`, found by afl.rs with `scripts/fuzz.sh`) replayed
//! through the same properties the fuzz targets check (`fuzz/src/`): no decoder panics, and
//! whatever decodes is canonical. Each input the fuzzers kept, checked on every `make test`.

use std::path::PathBuf;

// The fuzz targets' own checks (fuzz/ is its own workspace and links afl: shared as source).
#[path = "../../../fuzz/src/checks.rs"]
mod checks;

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
    replay("tx", checks::tx);
}

#[test]
fn block_and_shard_headers() {
    replay("block", checks::block);
}

#[test]
fn commits_and_validator_sets() {
    replay("commit", checks::commit);
}

#[test]
fn proofs() {
    replay("proof", checks::proof);
}

#[test]
fn receipts_and_outcomes() {
    replay("receipt", checks::receipt);
}

#[test]
fn api_json() {
    replay("api_json", checks::api_json);
}
