//! Golden vectors: exact bytes and hashes of fixed values. A failure here means the wire
//! format changed; update the vectors only when that change is deliberate.

use joule_light_client::*;

use super::fixtures::key;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn golden_tx() -> SignedTransaction {
    let sender = key(1);
    Transaction {
        chain_id: "joule-devnet".into(),
        sender: sender.public_key(),
        nonce: 7,
        max_fee: 1_000,
        payload: Payload::Transfer {
            to: Address::from_public_key(&key(2).public_key()),
            amount: 12_500_000_000,
        },
    }
    .sign(&sender)
}

#[test]
fn transaction_vector() {
    let stx = golden_tx();
    assert_eq!(hex::encode(stx.tx.encode()), GOLDEN_TX_BYTES);
    assert_eq!(stx.id().to_hex(), GOLDEN_TX_ID);
    assert_eq!(hex::encode(stx.signature.0), GOLDEN_TX_SIG);
    assert_eq!(SignedTransaction::from_bytes(&stx.encode()).unwrap(), stx);
}

/// Each market payload's encoding (the transaction around it as for a transfer).
#[test]
fn market_payload_vectors() {
    use joule_light_client::market::{MeterKind, Side};
    use joule_light_client::transaction::meter_pop_message;
    let owner = Address::from_public_key(&key(1).public_key());
    let meter = key(3);
    let pop_msg = meter_pop_message(
        "joule-devnet",
        &owner,
        &meter.public_key(),
        MeterKind::Solar,
        5_000,
    );
    assert_eq!(pop_msg.to_hex(), GOLDEN_METER_POP);
    let payloads = [
        Payload::RegisterMeter {
            meter: meter.public_key(),
            kind: MeterKind::Solar,
            capacity_w: 5_000,
            pop: meter.sign(pop_msg.as_bytes()),
        },
        Payload::Reading {
            interval: 9,
            produced_wh: 1_200,
            consumed_wh: 300,
        },
        Payload::PlaceOrder {
            interval: 9,
            side: Side::Ask,
            price: 110,
            qty_wh: 3_200,
            meter: Some(Address::from_public_key(&meter.public_key())),
        },
        Payload::PlaceOrder {
            interval: 9,
            side: Side::Bid,
            price: 120,
            qty_wh: 1_000,
            meter: None,
        },
        Payload::CancelOrder {
            order: Domain::Transaction.hash(b"order"),
        },
        Payload::ClaimCertificates {
            meter: None,
            origin: Address::from_public_key(&meter.public_key()),
            day: 20_425,
            kind: MeterKind::Wind,
            wh: 1_500,
        },
        Payload::LockPower { amount: 5_000 },
        Payload::UnlockPower { amount: 1_000 },
        Payload::Delegate {
            to: Some(Address::from_public_key(&meter.public_key())),
        },
        Payload::Delegate { to: None },
    ];
    let encoded: Vec<String> = payloads.iter().map(|p| hex::encode(p.encode())).collect();
    assert_eq!(encoded, GOLDEN_MARKET_PAYLOADS);
    for p in payloads {
        assert_eq!(codec::decode_exact::<Payload>(&p.encode()).unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Payload>(&json).unwrap(), p);
    }
}

#[test]
fn address_vector() {
    assert_eq!(
        Address::from_public_key(&key(1).public_key()).to_bech32(),
        GOLDEN_ADDRESS
    );
}

fn golden_shard_header() -> ShardHeader {
    ShardHeader {
        shard: 2,
        height: 42,
        tx_root: Domain::Transaction.hash(b"tx"),
        outgoing_receipts_root: Domain::Receipt.hash(b"out"),
        incoming_receipts_root: Domain::Receipt.hash(b"in"),
        state_root: Domain::Account.hash(b"state"),
        objects_root: Domain::Account.hash(b"objects"),
        events_root: Domain::Account.hash(b"events"),
        tx_count: 3,
        fees: 3_000,
    }
}

#[test]
fn shard_header_vector() {
    let sh = golden_shard_header();
    assert_eq!(hex::encode(sh.encode()), GOLDEN_SHARD_HEADER_BYTES);
    assert_eq!(sh.hash().to_hex(), GOLDEN_SHARD_HEADER_HASH);
    assert_eq!(
        codec::decode_exact::<ShardHeader>(&sh.encode()).unwrap(),
        sh
    );
}

#[test]
fn block_header_vector() {
    let set = ValidatorSet::new(vec![Validator {
        public_key: key(9).public_key(),
        power: 1,
    }])
    .unwrap();
    let h = BlockHeader {
        chain_id: "joule-devnet".into(),
        height: 42,
        parent_hash: Domain::BlockHeader.hash(b"parent"),
        timestamp_ms: 1_764_000_000_000,
        proposer: key(9).public_key(),
        shards_root: block::shards_tree(&[golden_shard_header()]).root(),
        shard_count: 1,
        validator_set_hash: set.hash(),
        next_validator_set_hash: set.hash(),
    };
    assert_eq!(hex::encode(h.encode()), GOLDEN_BLOCK_HEADER_BYTES);
    assert_eq!(h.hash().to_hex(), GOLDEN_BLOCK_HEADER_HASH);
    assert_eq!(set.hash().to_hex(), GOLDEN_VALIDATOR_SET_HASH);
    assert_eq!(codec::decode_exact::<BlockHeader>(&h.encode()).unwrap(), h);
}

#[test]
fn merkle_vector() {
    let leaves: [&[u8]; 3] = [b"a", b"b", b"c"];
    assert_eq!(merkle::merkle_root(leaves).to_hex(), GOLDEN_MERKLE_ROOT_ABC);
    assert_eq!(
        merkle::merkle_root(std::iter::empty()).to_hex(),
        GOLDEN_MERKLE_ROOT_EMPTY
    );
}

fn golden_accounts() -> Vec<(Address, Account)> {
    let mut v: Vec<(Address, Account)> = (1..=3u8)
        .map(|i| {
            (
                Address::from_public_key(&key(i).public_key()),
                Account {
                    balance: u64::from(i) * 1_000,
                    nonce: u64::from(i),
                },
            )
        })
        .collect();
    v.sort_unstable_by_key(|(a, _)| *a);
    v
}

#[test]
fn state_tree_vector() {
    let acc = golden_accounts();
    assert_eq!(
        smt::leaf_hash(&acc[0].0, &acc[0].1).to_hex(),
        GOLDEN_STATE_LEAF
    );
    assert_eq!(
        smt::node_hash(&Hash::ZERO, &Hash([1; 32])).to_hex(),
        GOLDEN_STATE_NODE
    );
    assert_eq!(smt::state_root(&acc).to_hex(), GOLDEN_STATE_ROOT);
    let proof = smt::prove(&acc, &acc[1].0);
    assert_eq!(hex::encode(proof.encode()), GOLDEN_STATE_PROOF);
    assert_eq!(
        codec::decode_exact::<StateProof>(&proof.encode()).unwrap(),
        proof
    );
}

fn golden_genesis() -> GenesisHeader {
    let set = ValidatorSet::new(vec![Validator {
        public_key: key(9).public_key(),
        power: 10,
    }])
    .unwrap();
    let funded = Address::from_public_key(&key(1).public_key());
    GenesisHeader {
        chain_id: "joule-devnet".into(),
        genesis_time_ms: 1_764_000_000_000,
        shard_count: 4,
        block_interval_ms: 500,
        min_fee: 1_000,
        max_txs_per_shard_block: 10_000,
        validator_set_hash: set.hash(),
        accounts_hash: genesis::accounts_hash([(&funded, 5_000u64)].into_iter()),
        faucet: Some(genesis::GenesisFaucet {
            address: funded,
            amount: 7,
        }),
        market: joule_light_client::market::MarketParams::DEVNET,
        objects_root: joule_light_client::object::objects_root(&[(
            joule_light_client::market::params_key(),
            joule_light_client::market::MarketParams::DEVNET.encode(),
        )]),
    }
}

#[test]
fn genesis_and_checkpoint_vector() {
    let g = golden_genesis();
    assert_eq!(hex::encode(g.encode()), GOLDEN_GENESIS_BYTES);
    assert_eq!(g.hash().to_hex(), GOLDEN_GENESIS_HASH);
    assert_eq!(
        codec::decode_exact::<GenesisHeader>(&g.encode()).unwrap(),
        g
    );
    let cp = Checkpoint::of_genesis(&g);
    assert_eq!(cp.fingerprint(), GOLDEN_CHECKPOINT_FINGERPRINT);
    assert_eq!(cp.to_string().parse::<Checkpoint>(), Ok(cp));
}

const GOLDEN_GENESIS_BYTES: &str = "0c0000006a6f756c652d6465766e657400e897b69a0100000400f401000000000000e803000000000000102700008c1359b39035d7e2eace7d77465f8e7a0ab892fa4e166f54512ac374045e5fc08a3ee6c8d690e1650ddec05a5d89f47104025d288d8cfbe5083ddaf3e49aad0001ad6ed0e51366d992d9163d2ee66e563df447892f070000000000000014000000040000000a000000600000003200010000000000000001000000000000001400000000000000a68f69f76fba24190928bb41ec94a58087271ab38b160eb8b5d9ac5f11e26306";
const GOLDEN_GENESIS_HASH: &str =
    "4022ffe4ea75bc95ede25e3c8252cf2857876ce12ccf2c8e02ef77d2a4de9408";
const GOLDEN_CHECKPOINT_FINGERPRINT: &str = "80EE-65FB-C5CA-3204-2EE8-67FA-36B8-E181";
const GOLDEN_STATE_LEAF: &str = "af8e8d862196cc2b2da2328507d348aa857bfdaa1486ab85179ae19c3a8f4c53";
const GOLDEN_STATE_NODE: &str = "d4f71e917b0e22d3ee2cb3e750ff5129c2ed121fabdc2c8e432dc15d81600cd2";
const GOLDEN_STATE_ROOT: &str = "9c3c2759d8bc2159939dfac76c90917bc340bff36fbe0c1a7b5439ff4578f500";
const GOLDEN_STATE_PROOF: &str = "02af8e8d862196cc2b2da2328507d348aa857bfdaa1486ab85179ae19c3a8f4c53e67c836239aefdfdc167bf8e6d1de8112831abf953a683fbcda5be3e34daf1f601ad6ed0e51366d992d9163d2ee66e563df447892fe8030000000000000100000000000000";
const GOLDEN_TX_BYTES: &str = "010c0000006a6f756c652d6465766e65748a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0700000000000000e803000000000000000e60593ef6f624b0e23c8835c6d8a95116f9b48d00dd0ee902000000";
const GOLDEN_TX_ID: &str = "d4e0de95bbc023955fa60ff054afd50d7f1d6ef661d6dada3c265d2a33399a81";
const GOLDEN_TX_SIG: &str = "2ce8aee3623b2526ade583ed74641fc8b665c90931872966b94aa49b33ae5abab637668c7d677c387ba9f4766fd40e1a65bde25886fcb538e46eef8aee8d4105";
const GOLDEN_ADDRESS: &str = "joule144hdpegnvmve9kgk85hwvmjk8h6y0zf04pfcz7";
const GOLDEN_SHARD_HEADER_BYTES: &str = "02002a0000000000000040c8ef8382caed73386646cca9372f1d855079e9a871d19856db1fb779c099690f655602015c835217eb666d34f05ffeaf3f762ecb821f08b9ec77a8f39b38eb62704ae56c9ecb7ee7975b24d7e761b5643decf5917634d8000930644e5eb89fc2ba013af86347f750c33cd75c8e077af91e3911f1acb601a1fe788190939b6de0739ebbbbbd9c64b4494cb931afede3bda1fb348b5a18b56a720b42ddc2e5d138985f096d543d8fba4ed024ec844c16027d2736bc5a5899c17628d1d4248e2b03000000b80b000000000000";
const GOLDEN_SHARD_HEADER_HASH: &str =
    "27f85833c18b226db1124bd4440296886b82e7806af475973b5c6d70b8e910ce";
const GOLDEN_BLOCK_HEADER_BYTES: &str = "0c0000006a6f756c652d6465766e65742a00000000000000bf8eece59d956de1f16ead1bad02818ff17b9a7ce973e9b54b4c9868da7c514f00e897b69a010000fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f6184d07a04617881d4c0ead6b44b477ca43292dd7959eea789306652470572a5861010070a574cea597b7e66796c718b6f482306b499787b353eec245f9368e8e2eb95170a574cea597b7e66796c718b6f482306b499787b353eec245f9368e8e2eb951";
const GOLDEN_BLOCK_HEADER_HASH: &str =
    "3ea4b7575c5a0ffab3d08268a89c8a57074c9413cf09a4b64cdf824b7b878840";
const GOLDEN_VALIDATOR_SET_HASH: &str =
    "70a574cea597b7e66796c718b6f482306b499787b353eec245f9368e8e2eb951";
const GOLDEN_MERKLE_ROOT_ABC: &str =
    "22f7891a1f3a6409c8b6df0f31ac6646edbaa657dd04a495694a8502584e8d37";
const GOLDEN_MERKLE_ROOT_EMPTY: &str =
    "5174dee3b5f3a1bf6b518c0d78aa32c4a8946297893e97f9a2c708a835d4e61e";
const GOLDEN_METER_POP: &str = "92076a039fa5cce102ec8ea12e6874036aa8cce59af0838b88d0a8e86947cbe4";
const GOLDEN_MARKET_PAYLOADS: [&str; 10] = [
    "01ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d101881300000000000021c3deedc9f6edce2ffde17b2efe4582d1bbcce713a9147c7dc1ab93bc09f279e381e51c0ddb9911fac80c90af6c286297b004c2739438d18c48d22bac8b0907",
    "020900000000000000b0040000000000002c01000000000000",
    "030900000000000000016e00000000000000800c00000000000001e4a7e665f7ac58e53c82ecd288dc104227677205",
    "030900000000000000007800000000000000e80300000000000000",
    "04d8d075bf73c11548c868630d12238e1c326bfb4e3aebe8470df66e2e65a7ce1e",
    "0500e4a7e665f7ac58e53c82ecd288dc104227677205c94f000002dc05000000000000",
    "068813000000000000",
    "07e803000000000000",
    "0801e4a7e665f7ac58e53c82ecd288dc104227677205",
    "0800",
];
