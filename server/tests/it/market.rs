//! The energy market over HTTP: its parameters and any object in state come with proofs the
//! light client verifies against a block it verified itself.

use joule_light_client::api::{MarketResponse, ObjectResponse};
use joule_light_client::market::{meter_key, params_key, MarketParams, Meter};
use joule_light_client::object::{Object, ObjectKind, ObjectProofError};
use joule_light_client::{ProvenBlock, ProvenObject, VerifyError};

use super::support::*;

/// The block at `height`, its commit verified under the validators the header chain from
/// genesis leads to.
fn proven_block(node: &TestNode, height: u64) -> ProvenBlock {
    let trusted = verified_chain_to(node, height);
    let b = node.block(height);
    assert_eq!(b.header, trusted.header);
    ProvenBlock::verify(
        &trusted.chain_id,
        &trusted.validators,
        &b.header,
        &b.commit,
        &b.shards,
    )
    .unwrap()
}

#[test]
fn market_parameters_are_proven_and_the_clock_follows_the_head() {
    let node = TestNode::start();
    node.wait_until("block 3", |n| n.chain().head_height >= 3);
    let chain = node.chain();
    // The genesis the checkpoint proves names the market's first parameters.
    assert_eq!(chain.genesis.market, MarketParams::DEVNET);
    let m: MarketResponse = node.get("/market");
    let at = m.proof.as_ref().expect("a proof after block 1");
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<MarketParams>::verify(&block, &params_key(), &at.proof).unwrap();
    assert_eq!(proven.value(), Some(&m.params));
    assert_eq!(m.params, chain.genesis.market);
    // The clock is the parameters' at the head.
    assert!(m.height >= at.at.height);
    assert_eq!(m.open_interval, m.params.first_open(m.height));
    assert_eq!(Some(m.gate_height), m.params.gate(m.open_interval));
    assert!(m.blocks_to_gate >= 1 && m.blocks_to_gate <= u64::from(m.params.interval_blocks));
    assert_eq!(
        m.ms_to_gate,
        m.blocks_to_gate * chain.genesis.block_interval_ms
    );
}

#[test]
fn any_state_key_is_answered_with_its_proof_present_or_absent() {
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    // Present: the parameters, by their key.
    let key = params_key();
    let o: ObjectResponse = node.get(&format!("/state/{key}"));
    assert_eq!((o.key, o.kind, o.shard), (key, Some(ObjectKind::Params), 0));
    let at = o.proof.unwrap();
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<MarketParams>::verify(&block, &key, &at.proof).unwrap();
    assert_eq!(
        o.value.as_deref(),
        proven
            .value()
            .map(|p| hex::encode(joule_light_client::Encode::encode(p)))
            .as_deref()
    );
    // Absent: no meter is registered yet; the proof shows it, on the key's own shard.
    let nobody = meter_key(&address(&joule_light_client::SecretKey::from_seed(
        &[9; 32],
    )));
    let o: ObjectResponse = node.get(&format!("/state/{nobody}"));
    assert_eq!(o.value, None);
    let at = o.proof.unwrap();
    assert_eq!(
        at.at.shard_header.shard,
        nobody.shard(node.chain().genesis.shard_count)
    );
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<Meter>::verify(&block, &nobody, &at.proof).unwrap();
    assert_eq!(proven.value(), None);
    // The parameters' proof asked to show a meter: refused by kind, not read as one.
    let params_at = node
        .get::<ObjectResponse>(&format!("/state/{key}"))
        .proof
        .unwrap();
    let block = proven_block(&node, params_at.at.height);
    assert_eq!(
        ProvenObject::<Meter>::verify(&block, &key, &params_at.proof).unwrap_err(),
        VerifyError::ObjectProof(ObjectProofError::WrongKind {
            wanted: Meter::KIND,
            found: ObjectKind::Params as u8
        })
    );
    // A malformed key is a JSON 400.
    let (status, e) = node.get_err("/state/abc");
    assert_eq!((status, e.code.as_str()), (400, "invalid_key"));
}
