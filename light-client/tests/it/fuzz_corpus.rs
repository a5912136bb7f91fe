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

/// Real encodings of every type the binary targets decode, built from the test fixtures and
/// prefixed with the byte that picks the type: a campaign starting from these mutates valid
/// commits, receipts and proofs instead of having to discover their framing from one byte.
/// They are in the seeds and in the corpus; `JOULE_BLESS_SEEDS=1` rewrites them after a
/// deliberate change of the wire format.
fn real_encodings() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    use super::fixtures::{key, outcome, set_of, shard_header, signed_block, validator_keys};
    use joule_light_client::object::{prove_object, ObjectKind, StateKey};
    use joule_light_client::*;

    let tagged = |k: u8, body: Vec<u8>| [vec![k], body].concat();
    let keys = validator_keys(1, 4);
    let (header, commit) = signed_block(9, Hash([7; 32]), &keys);
    let shards: Vec<ShardHeader> = (0..4)
        .map(|s| shard_header(s, 9, &[outcome(s as u8), outcome(10 + s as u8)]))
        .collect();
    let sender = key(1);
    let to = Address::from_public_key(&key(2).public_key());
    let accounts: Vec<(Address, Account)> = {
        let mut v: Vec<_> = (1..=5u8)
            .map(|i| {
                let a = Address::from_public_key(&key(i).public_key());
                let account = Account {
                    balance: u64::from(i) * 1_000,
                    nonce: u64::from(i),
                };
                (a, account)
            })
            .collect();
        v.sort_unstable_by_key(|(a, _)| *a);
        v
    };
    let objects: Vec<(StateKey, Vec<u8>)> = {
        let mut v: Vec<_> = (0..6u8)
            .map(|i| (StateKey::new(&to, ObjectKind::Meter, &[i]), vec![i; 40]))
            .collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    };
    let receipt = Receipt {
        source_shard: 1,
        dest_shard: 3,
        source_height: 9,
        tx_id: outcome(1).tx_id,
        from: Address::from_public_key(&sender.public_key()),
        to,
        amount: 12_500,
    };
    let transfer = Transaction {
        chain_id: "joule-devnet".into(),
        sender: sender.public_key(),
        nonce: 7,
        max_fee: 1_000,
        payload: Payload::Transfer { to, amount: 12_500 },
    }
    .sign(&sender);
    vec![
        ("tx", "real-transfer", transfer.encode()),
        ("block", "real-block-header", tagged(0, header.encode())),
        ("block", "real-shard-header", tagged(1, shards[2].encode())),
        ("commit", "real-commit", tagged(0, commit.encode())),
        (
            "commit",
            "real-validator-set",
            tagged(1, set_of(&keys).encode()),
        ),
        (
            "proof",
            "real-merkle-proof",
            tagged(0, block::shards_tree(&shards).proof(2).unwrap().encode()),
        ),
        (
            "proof",
            "real-state-proof",
            tagged(1, smt::prove(&accounts, &accounts[3].0).encode()),
        ),
        (
            "proof",
            "real-object-proof",
            tagged(2, prove_object(&objects, &objects[4].0).encode()),
        ),
        ("receipt", "real-receipt", tagged(0, receipt.encode())),
        ("receipt", "real-outcome", tagged(1, outcome(3).encode())),
    ]
}

#[test]
fn real_encodings_seed_every_binary_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let bless = std::env::var_os("JOULE_BLESS_SEEDS").is_some();
    for (target, name, bytes) in real_encodings() {
        let check: fn(&[u8]) -> bool = match target {
            "tx" => checks::tx,
            "block" => checks::block,
            "commit" => checks::commit,
            "proof" => checks::proof,
            _ => checks::receipt,
        };
        assert!(check(&bytes), "{target}/{name} does not decode");
        for dir in ["seeds", "corpus"] {
            let path = root.join(dir).join(target).join(name);
            if bless {
                std::fs::write(&path, &bytes).unwrap();
            }
            let stored = std::fs::read(&path).unwrap_or_default();
            assert!(
                stored == bytes,
                "{} differs from the real encoding (JOULE_BLESS_SEEDS=1 rewrites it)",
                path.display()
            );
        }
    }
}
