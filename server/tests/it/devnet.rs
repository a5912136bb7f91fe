//! Devnet keys: random per devnet, kept in its data directory, never served; a data
//! directory whose keys or genesis do not fit its chain is refused with what to do.

use joule_server::devnet::{DevnetKeys, KEYS_FILE};
use joule_server::Node;

use super::support::{config, TestNode};

#[test]
fn two_devnets_have_different_validator_keys_and_never_serve_them() {
    let (a, b) = (TestNode::start(), TestNode::start());
    let (ca, cb) = (a.chain(), b.chain());
    assert_ne!(ca.genesis_validators, cb.genesis_validators);
    assert_ne!(ca.genesis_hash, cb.genesis_hash);
    assert_ne!(
        ca.genesis.faucet.map(|f| f.address),
        cb.genesis.faucet.map(|f| f.address)
    );
    // The node's genesis is what its checkpoint pins, and block 1 follows it.
    let checkpoint = joule_light_client::Checkpoint::of_genesis(&ca.genesis);
    assert_eq!(checkpoint.genesis_hash, ca.genesis_hash);
    checkpoint
        .verify_genesis(&ca.genesis, &ca.genesis_validators)
        .unwrap();
    // The secrets stay in the data directory: no answer carries a seed.
    let keys = DevnetKeys::load(a.dir.path()).unwrap();
    let seeds: Vec<String> = keys
        .validators
        .iter()
        .chain([&keys.faucet])
        .map(|k| hex::encode(k.seed()))
        .collect();
    a.wait_until("block 1", |n| n.chain().head_height >= 1);
    for path in [
        "/chain",
        "/blocks/1",
        "/blocks/1/shards/0",
        "/stats",
        "/openapi.json",
    ] {
        let body = ureq::get(&a.url(path))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        for seed in &seeds {
            assert!(!body.contains(seed.as_str()), "{path} serves a secret key");
        }
    }
}

#[test]
fn a_data_directory_without_its_keys_is_refused_with_what_to_do() {
    let mut node = TestNode::start();
    node.stop();
    std::fs::remove_file(node.dir.path().join(KEYS_FILE)).unwrap();
    let err = Node::open(&config(node.dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(KEYS_FILE), "{err}");
    assert!(err.contains("remove the directory"), "{err}");
}

#[test]
fn an_edited_genesis_is_refused() {
    let mut node = TestNode::start();
    node.wait_until("block 1", |n| n.chain().head_height >= 1);
    node.stop();
    let path = node.dir.path().join("genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    genesis["min_fee"] = serde_json::Value::from(1);
    std::fs::write(&path, serde_json::to_vec(&genesis).unwrap()).unwrap();
    let err = Node::open(&config(node.dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the genesis of the chain"), "{err}");
}

#[test]
fn a_genesis_edited_before_the_first_block_is_refused_too() {
    // No block 1 yet to name its parent: the database's own record of the genesis decides.
    let dir = tempfile::tempdir().unwrap();
    drop(Node::open(&config(dir.path())).unwrap());
    let path = dir.path().join("genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    genesis["chain_id"] = serde_json::Value::from("joule-edited");
    std::fs::write(&path, serde_json::to_vec(&genesis).unwrap()).unwrap();
    let err = Node::open(&config(dir.path())).unwrap_err().to_string();
    assert!(err.contains("is not the genesis of the chain"), "{err}");
}

#[test]
fn a_deleted_genesis_is_not_silently_replaced() {
    let mut node = TestNode::start();
    node.wait_until("block 1", |n| n.chain().head_height >= 1);
    node.stop();
    std::fs::remove_file(node.dir.path().join("genesis.json")).unwrap();
    let err = Node::open(&config(node.dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("genesis.json is missing") && err.contains("restore the file"),
        "{err}"
    );
    assert!(!node.dir.path().join("genesis.json").exists());
}
