//! Every way the node refuses a transaction, each with its status and code, over HTTP.

use joule_light_client::api::{ApiErrorBody, SubmitRequest, SubmitResponse};
use joule_light_client::{Encode, SecretKey};
use joule_server::mempool::MAX_NONCE_AHEAD;

use super::support::*;

fn submit_hex(node: &TestNode, hex_tx: String) -> (u16, ApiErrorBody) {
    node.post::<SubmitResponse>("/transactions", &SubmitRequest { tx: hex_tx })
        .expect_err("must be refused")
}

fn expect(node: &TestNode, stx: &joule_light_client::SignedTransaction, status: u16, code: &str) {
    let (s, body) = node.submit(stx).expect_err("must be refused");
    assert_eq!((s, body.code.as_str()), (status, code), "{}", body.message);
    assert!(!body.message.is_empty());
}

#[test]
fn each_rejection_reason_has_its_error() {
    let node = TestNode::start();
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let to = address(&SecretKey::from_seed(&[42; 32]));

    // bad signature: a valid transaction with one signature bit flipped.
    let mut forged = transfer(&chain, &key, 0, to, 1);
    forged.signature.0[10] ^= 1;
    expect(&node, &forged, 422, "bad_signature");

    // signed by someone else than the sender.
    let mut impostor = transfer(&chain, &key, 0, to, 1);
    impostor.signature = transfer(&chain, &SecretKey::from_seed(&[7; 32]), 0, to, 1).signature;
    expect(&node, &impostor, 422, "bad_signature");

    // wrong chain id.
    let mut other = chain.clone();
    other.genesis.chain_id = "joule-mainnet".into();
    expect(
        &node,
        &transfer(&other, &key, 0, to, 1),
        422,
        "wrong_chain_id",
    );

    // fee below the minimum.
    let mut cheap = chain.clone();
    cheap.genesis.min_fee = chain.genesis.min_fee - 1;
    expect(&node, &transfer(&cheap, &key, 0, to, 1), 422, "fee_too_low");

    // insufficient balance: an unfunded key, and a funded one asking for more than it has.
    expect(
        &node,
        &transfer(&chain, &SecretKey::from_seed(&[9; 32]), 0, to, 1),
        422,
        "insufficient_balance",
    );
    expect(
        &node,
        &transfer(&chain, &key, 0, to, u64::MAX / 2),
        422,
        "insufficient_balance",
    );

    // too far in the future.
    expect(
        &node,
        &transfer(&chain, &key, MAX_NONCE_AHEAD + 1, to, 1),
        422,
        "nonce_too_high",
    );

    // accepted, then the same again, then another with the same nonce. Nonce 1 leaves a gap at
    // 0, so it stays pending however fast blocks come.
    let pending = transfer(&chain, &key, 1, to, 1);
    node.submit(&pending).unwrap();
    expect(&node, &pending, 409, "already_known");
    let same_nonce = transfer(&chain, &key, 1, to, 2);
    expect(&node, &same_nonce, 409, "duplicate_nonce");

    // stale nonce once it is included (a replay).
    let first = transfer(&chain, &key, 0, to, 1);
    let id = node.submit(&first).unwrap();
    node.wait_included(&id);
    expect(&node, &first, 422, "nonce_too_low");

    // malformed: not hex, garbage bytes, trailing bytes, oversized.
    assert_eq!(
        submit_hex(&node, "xyz".into()).1.code,
        "malformed_transaction"
    );
    let (s, e) = submit_hex(&node, "deadbeef".into());
    assert_eq!((s, e.code.as_str()), (400, "malformed_transaction"));
    let mut trailing = transfer(&chain, &key, 2, to, 1).encode();
    trailing.push(0);
    assert_eq!(
        submit_hex(&node, hex::encode(trailing)).1.code,
        "malformed_transaction"
    );
    let (s, e) = submit_hex(&node, "00".repeat(2048));
    assert_eq!((s, e.code.as_str()), (400, "malformed_transaction"));
    assert!(e.message.contains("exceeds limit"), "{}", e.message);
}

#[test]
fn sender_queue_is_bounded() {
    let node = TestNode::start();
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let to = address(&SecretKey::from_seed(&[42; 32]));
    // Nonces 1..=64 leave a gap at 0, so none is included while we fill the queue.
    for nonce in 1..=MAX_NONCE_AHEAD {
        node.submit(&transfer(&chain, &key, nonce, to, 1)).unwrap();
    }
    let (s, e) = node.submit(&transfer(&chain, &key, 0, to, 1)).unwrap_err();
    assert_eq!((s, e.code.as_str()), (429, "sender_queue_full"));
}

#[test]
fn batch_gives_each_transaction_its_own_verdict() {
    use joule_light_client::api::{BatchSubmitRequest, BatchSubmitResponse};
    let node = TestNode::start();
    let chain = node.chain();
    let (_, a) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let b = joule_server::devnet::account_key(200);
    let to = address(&SecretKey::from_seed(&[42; 32]));
    let mut forged = transfer(&chain, &b, 0, to, 5);
    forged.signature.0[3] ^= 1;
    let txs = vec![
        hex::encode(transfer(&chain, &a, 0, to, 1).encode()),
        "zz".to_owned(),
        hex::encode(forged.encode()),
        hex::encode(transfer(&chain, &a, 1, to, 1).encode()),
    ];
    let (status, resp) = node
        .post::<BatchSubmitResponse>("/transactions/batch", &BatchSubmitRequest { txs })
        .unwrap();
    assert_eq!(status, 200);
    let codes: Vec<Option<&str>> = resp
        .results
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            Some("malformed_transaction"),
            Some("bad_signature"),
            None
        ]
    );
    assert!(resp.results[0].id.is_some() && resp.results[3].id.is_some());
}

#[test]
fn batch_admission_gives_the_verdicts_of_admission_one_by_one() {
    use joule_light_client::{Payload, Transaction};
    use joule_server::devnet::{account_key, DEVNET_ACCOUNT_BALANCE};
    use joule_server::Node;
    // Two nodes without producers (nothing is included meanwhile): the same transactions
    // admitted as one batch into one, one at a time into the other.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let batch = Node::open(&config(dir_a.path())).unwrap();
    let single = Node::open(&config(dir_b.path())).unwrap();
    let g = &batch.genesis;
    let tx = |key: &SecretKey, nonce: u64, amount: u64, chain_id: &str, max_fee: u64| {
        Transaction {
            chain_id: chain_id.to_owned(),
            sender: key.public_key(),
            nonce,
            max_fee,
            payload: Payload::Transfer {
                to: address(&SecretKey::from_seed(&[42; 32])),
                amount,
            },
        }
        .sign(key)
    };
    let (a, b, c) = (account_key(1), account_key(2), account_key(3));
    let ok =
        |key: &SecretKey, nonce: u64, amount: u64| tx(key, nonce, amount, &g.chain_id, g.min_fee);
    let mut forged = ok(&c, 0, 1);
    forged.signature.0[5] ^= 1;
    let half = DEVNET_ACCOUNT_BALANCE / 2;
    let txs = vec![
        ok(&a, 0, 1),
        ok(&a, 0, 1),                   // already known
        ok(&a, 0, 2),                   // duplicate nonce
        ok(&a, 2, 1),                   // a gap is allowed
        ok(&a, MAX_NONCE_AHEAD + 1, 1), // too far ahead
        ok(&b, 0, half),
        ok(&b, 1, half), // pending b:0 counts: insufficient balance
        tx(&b, 1, 1, "another-chain", g.min_fee),
        tx(&b, 1, 1, &g.chain_id, g.min_fee - 1),
        forged,
        ok(&c, 0, 1), // the forged one took nothing
    ];
    let got = batch.admit_many(txs.clone());
    let want: Vec<_> = txs.into_iter().map(|t| single.admit(t)).collect();
    assert_eq!(got, want);
    let codes: Vec<&str> = got
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.code(), |_| "ok"))
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "already_known",
            "duplicate_nonce",
            "ok",
            "nonce_too_high",
            "ok",
            "insufficient_balance",
            "wrong_chain_id",
            "fee_too_low",
            "bad_signature",
            "ok"
        ]
    );
    assert_eq!(batch.mempool_len(), single.mempool_len());
}
