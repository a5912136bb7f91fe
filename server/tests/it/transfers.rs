//! Signed transfers over HTTP, included in blocks, verified end to end with the light client;
//! cross-shard receipts applied exactly once; supply conserved; restart resumes.

use joule_light_client::api::{AccountResponse, ExecMode, TxResponse};
use joule_light_client::{
    verify_account, verify_incoming_receipt, verify_outgoing_receipt, verify_shard_header,
    verify_transaction, ExecStatus,
};

use super::support::*;

#[test]
fn same_and_cross_shard_transfers_verify_with_the_light_client() {
    let node = TestNode::start();
    let chain = node.chain();
    let n = chain.genesis.shard_count;
    let (_, alice) = devnet_key_where(n, |s| s == 0);
    // Fresh recipients: one on alice's shard, one on another shard.
    let fresh = |shard: u16| {
        (0u8..=255)
            .map(|i| joule_light_client::SecretKey::from_seed(&[i; 32]))
            .find(|k| address(k).shard(n) == shard)
            .unwrap()
    };
    let (local, remote) = (fresh(0), fresh(2));

    let same = transfer(&chain, &alice, 0, address(&local), 5_000);
    let cross = transfer(&chain, &alice, 1, address(&remote), 7_000);
    let same_id = node.submit(&same).unwrap();
    let cross_id = node.submit(&cross).unwrap();
    assert_eq!(same_id, same.id());

    let same_tx: TxResponse = node.wait_included(&same_id);
    let cross_tx: TxResponse = node.wait_included(&cross_id);
    assert_eq!(same_tx.tx, same);

    for tx in [&same_tx, &cross_tx] {
        let inc = tx.inclusion.as_ref().unwrap();
        assert_eq!(inc.outcome.status, ExecStatus::Success);
        assert_eq!(inc.outcome.tx_id, tx.id);
        let trusted = verified_chain_to(&node, inc.at.height);
        assert_eq!(trusted.header.hash(), inc.at.block_hash);
        verify_shard_header(&trusted.header, &inc.at.shard_header, &inc.at.shard_proof).unwrap();
        verify_transaction(&inc.at.shard_header, &inc.outcome, &inc.proof).unwrap();
        assert_eq!(inc.at.shard_header.shard, 0);
        // The block reports how its shard block was executed: through Block-STM.
        let block = node.block(inc.at.height);
        let m = block.metrics[0];
        assert_eq!(block.metrics.len(), block.shards.len());
        assert!(m.mode == ExecMode::BlockStm && m.threads >= 1, "{m:?}");
        assert_eq!(u64::from(m.txs), u64::from(inc.at.shard_header.tx_count));
        assert!(m.incarnations >= u64::from(m.txs) && m.validations >= u64::from(m.txs));
    }
    assert!(
        same_tx.receipt.is_none(),
        "a same-shard transfer emits no receipt"
    );

    // The cross-shard receipt: emitted by shard 0, then applied by shard 2 in a later block.
    node.wait_until("receipt applied", |n| {
        n.get::<TxResponse>(&format!("/transactions/{cross_id}"))
            .receipt
            .is_some_and(|r| r.applied.is_some())
    });
    let cross_tx: TxResponse = node.get(&format!("/transactions/{cross_id}"));
    let rv = cross_tx.receipt.unwrap();
    let source = &cross_tx.inclusion.as_ref().unwrap().at;
    assert_eq!(
        (
            rv.receipt.source_shard,
            rv.receipt.dest_shard,
            rv.receipt.amount
        ),
        (0, 2, 7_000)
    );
    verify_outgoing_receipt(&source.shard_header, &rv.receipt, &rv.outgoing_proof).unwrap();
    let applied = rv.applied.unwrap();
    assert!(
        applied.at.height > source.height,
        "applied in a later block"
    );
    let trusted = verified_chain_to(&node, applied.at.height);
    assert_eq!(trusted.header.hash(), applied.at.block_hash);
    verify_shard_header(
        &trusted.header,
        &applied.at.shard_header,
        &applied.at.shard_proof,
    )
    .unwrap();
    verify_incoming_receipt(
        &applied.at.shard_header,
        &rv.receipt,
        &applied.incoming_proof,
    )
    .unwrap();

    // Balances, verified against the head's state roots.
    for (key, amount) in [(&local, 5_000), (&remote, 7_000)] {
        let acc: AccountResponse = node.get(&format!("/accounts/{}", address(key)));
        assert_eq!(acc.account.balance, amount);
        let header = verified_shard_header_of(&node, &acc);
        assert!(acc.exists);
        let proof = &acc.proof.as_ref().unwrap().proof;
        verify_account(&header, &acc.address, Some(&acc.account), proof).unwrap();
        assert_eq!(acc.transactions.total, 1);
    }
    // An address nobody has used: proven absent against the same verified state root.
    let nobody = joule_light_client::Address([0x5a; 20]);
    let acc: AccountResponse = node.get(&format!("/accounts/{nobody}"));
    assert!(!acc.exists);
    let header = verified_shard_header_of(&node, &acc);
    let proof = &acc.proof.as_ref().unwrap().proof;
    verify_account(&header, &nobody, None, proof).unwrap();
    assert!(
        verify_account(&header, &nobody, Some(&acc.account), proof).is_err(),
        "cannot be passed off as an existing empty account"
    );

    let sender: AccountResponse = node.get(&format!("/accounts/{}", address(&alice)));
    assert_eq!(sender.account.nonce, 2);
    assert_eq!(sender.next_nonce, 2);
    assert_eq!(
        sender.transactions.items.first().map(|t| t.id),
        Some(cross_id),
        "newest first"
    );

    // The receipt was applied exactly once: the recipient got 7,000, not more, many blocks on.
    let later = node.chain().head_height + 3;
    node.wait_until("three more blocks", |n| n.chain().head_height >= later);
    let acc: AccountResponse = node.get(&format!("/accounts/{}", address(&remote)));
    assert_eq!(acc.account.balance, 7_000);
}

#[test]
fn total_supply_is_conserved_with_fees_burned() {
    let node = TestNode::start();
    let chain = node.chain();
    let n = chain.genesis.shard_count;
    let mut ids = Vec::new();
    for shard in 0..n {
        let (_, key) = devnet_key_where(n, |s| s == shard);
        for nonce in 0..5u64 {
            // Recipients on every shard: mixes local and cross-shard transfers.
            let (_, to) = devnet_key_where(n, |s| s == ((shard + nonce as u16) % n));
            ids.push(
                node.submit(&transfer(&chain, &key, nonce, address(&to), 1_000 + nonce))
                    .unwrap(),
            );
        }
    }
    for id in &ids {
        node.wait_included(id);
    }
    node.wait_until("receipts applied", |t| {
        t.node().chain().pending_receipts.iter().all(Vec::is_empty)
    });
    let n = node.node();
    let genesis_supply = u128::from(n.genesis.total_supply());
    let in_state = n.chain().supply_in_state();
    assert_eq!(in_state + n.burned(), genesis_supply);
    assert_eq!(n.burned(), 20 * u128::from(chain.genesis.min_fee));
}

#[test]
fn restart_resumes_at_the_same_head_and_state_root() {
    let mut node = TestNode::start();
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let id = node
        .submit(&transfer(&chain, &key, 0, address(&key), 1))
        .unwrap();
    node.wait_included(&id);
    // A pending transaction (nonce gap) survives a clean restart.
    let gap = transfer(&chain, &key, 5, address(&key), 1);
    let gap_id = node.submit(&gap).unwrap();

    let stopped = node.stop().unwrap();
    let before = {
        let c = stopped.chain();
        (
            c.height(),
            c.head.as_ref().unwrap().header.hash(),
            c.shards.iter().map(|s| s.root()).collect::<Vec<_>>(),
        )
    };
    drop(stopped);
    node.restart();
    let restarted = node.block(before.0);
    assert_eq!(restarted.hash, before.1, "same block at the old head");
    let roots: Vec<_> = restarted.shards.iter().map(|s| s.state_root).collect();
    assert_eq!(roots, before.2, "state roots match the stored state");
    let tx: TxResponse = node.get(&format!("/transactions/{gap_id}"));
    assert_eq!(tx.state, joule_light_client::api::TxState::Pending);
    // And the chain goes on.
    node.wait_until("new blocks", |n| n.chain().head_height > before.0 + 2);
}

/// The shard header an account proof is against, verified from genesis through the header
/// chain to the block and into its shards root.
fn verified_shard_header_of(
    node: &TestNode,
    acc: &AccountResponse,
) -> joule_light_client::ShardHeader {
    let at = &acc.proof.as_ref().expect("accounts come with a proof").at;
    let trusted = verified_chain_to(node, at.height);
    verify_shard_header(&trusted.header, &at.shard_header, &at.shard_proof).unwrap();
    at.shard_header.clone()
}
