//! The mempool's journal across restarts: what it held comes back pending, or is accounted
//! for — included, or dropped with the reason it could not be re-admitted.

use joule_light_client::api::{TxResponse, TxState};
use joule_server::devnet::account_key;
use joule_server::journal::Journal;
use joule_server::Node;

use super::support::{address, config, transfer, TestNode};

#[test]
fn a_journaled_transaction_that_no_longer_fits_is_dropped_with_its_reason() {
    let mut node = TestNode::start();
    let chain = node.chain();
    let key = account_key(1);
    let to = address(&account_key(2));
    // Far ahead of the next block's pending nonce 0: it waits in the pool.
    let kept = transfer(&chain, &key, 1, to, 5);
    node.submit(&kept).unwrap();
    node.stop();
    // A second transaction with the same nonce, as a journal from before could hold (the pool
    // refuses two; the journal keeps whatever was accepted, in order).
    let rival = transfer(&chain, &key, 1, to, 6);
    {
        let (journal, _) = Journal::open(&node.dir.path().join("mempool")).unwrap();
        journal.wait(journal.append([&rival])).unwrap();
    }
    node.restart();
    let tx: TxResponse = node.get(&format!("/transactions/{}", kept.id()));
    assert_eq!(tx.state, TxState::Pending);
    let tx: TxResponse = node.get(&format!("/transactions/{}", rival.id()));
    match tx.state {
        TxState::Dropped { reason } => assert!(
            reason.contains("dropped at restart") && reason.contains("nonce 1"),
            "{reason}"
        ),
        other => panic!("the rival should be dropped with its reason, not {other:?}"),
    }
}

#[test]
fn an_included_transaction_read_back_from_the_journal_is_not_called_dropped() {
    let mut node = TestNode::start();
    let chain = node.chain();
    let key = account_key(3);
    let stx = transfer(&chain, &key, 0, address(&account_key(4)), 5);
    let id = node.submit(&stx).unwrap();
    node.wait_included(&id);
    node.stop();
    // The journal still holds it (no compaction yet): the restart replays it and finds it in
    // the chain.
    let (_, recovered) = Journal::open(&node.dir.path().join("mempool")).unwrap();
    assert!(recovered.txs.contains(&stx));
    node.restart();
    let tx: TxResponse = node.get(&format!("/transactions/{id}"));
    assert_eq!(tx.state, TxState::Included);
    assert!(node.node().store.dropped(&id).unwrap().is_none());
}

#[test]
fn a_restart_compacts_the_journal_to_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(&config(dir.path())).unwrap();
    let key = account_key(5);
    let genesis = node.genesis.clone();
    let stx = joule_light_client::Transaction {
        chain_id: genesis.chain_id.clone(),
        sender: key.public_key(),
        nonce: 0,
        max_fee: genesis.min_fee,
        payload: joule_light_client::Payload::Transfer {
            to: address(&account_key(6)),
            amount: 1,
        },
    }
    .sign(&key);
    node.admit(stx.clone()).unwrap();
    drop(node);
    let node = Node::open(&config(dir.path())).unwrap();
    assert!(node.pending(&stx.id()).is_some());
    drop(node);
    let segments: Vec<_> = std::fs::read_dir(dir.path().join("mempool"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
}

#[test]
fn a_transaction_the_journal_could_not_keep_is_refused_and_not_left_pending() {
    let node = TestNode::start();
    let chain = node.chain();
    let to = address(&account_key(8));
    // Nonce 1 with 0 never sent: nothing can include it, so only the refusal removes it.
    let single = transfer(&chain, &account_key(7), 1, to, 5);
    let batched = transfer(&chain, &account_key(9), 1, to, 5);
    // The journal stops taking writes (as when the node stops, or its disk fails) while the
    // API still answers.
    node.node().shutdown().unwrap();
    let pending_before = node.node().mempool_len();

    let (status, err) = node.submit(&single).unwrap_err();
    assert_eq!((status, err.code.as_str()), (503, "not_durable"));
    let batch = joule_light_client::api::BatchSubmitRequest {
        txs: vec![hex::encode(joule_light_client::Encode::encode(&batched))],
    };
    let (_, answer): (u16, joule_light_client::api::BatchSubmitResponse) =
        node.post("/transactions/batch", &batch).unwrap();
    let verdict = &answer.results[0];
    assert_eq!(
        verdict.error.as_ref().map(|e| e.code.as_str()),
        Some("not_durable")
    );

    // A 503 means not accepted: neither is pending.
    assert_eq!(node.node().mempool_len(), pending_before);
    for stx in [&single, &batched] {
        assert!(node.node().pending(&stx.id()).is_none());
        let (status, _) = node.get_err(&format!("/transactions/{}", stx.id()));
        assert_eq!(status, 404);
    }
}
