//! The proven types: what each `verify` keeps is what its proof showed, and each forgery a
//! node could send beside a proof is refused or never read.

use joule_light_client::commit::sign_commit;
use joule_light_client::genesis::accounts_hash;
use joule_light_client::receipt::{outcomes_tree, receipts_tree};
use joule_light_client::smt;
use joule_light_client::*;

use super::fixtures::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SHARDS: u16 = 2;

/// A two-shard chain's block 1: `alice` (shard 0) pays `bob` (shard 1) by receipt, block 2
/// credits it.
struct World {
    keys: Vec<SecretKey>,
    set: ValidatorSet,
    alice: SecretKey,
    bob: Address,
    tx: SignedTransaction,
    outcome: TxOutcome,
    receipt: Receipt,
    accounts: Vec<(Address, Account)>,
    b1: (BlockHeader, Commit, Vec<ShardHeader>),
    b2: (BlockHeader, Commit, Vec<ShardHeader>),
}

fn on_shard(shard: u16, from: u8) -> SecretKey {
    (from..=255)
        .map(key)
        .find(|k| Address::from_public_key(&k.public_key()).shard(SHARDS) == shard)
        .unwrap()
}

fn world() -> World {
    let keys = validator_keys(10, 4);
    let set = set_of(&keys);
    let alice = on_shard(0, 100);
    let bob = Address::from_public_key(&on_shard(1, 100).public_key());
    let tx = Transaction {
        chain_id: CHAIN.into(),
        sender: alice.public_key(),
        nonce: 0,
        max_fee: 1000,
        payload: Payload::Transfer { to: bob, amount: 5 },
    }
    .sign(&alice);
    let outcome = TxOutcome {
        tx_id: tx.id(),
        status: ExecStatus::Success,
        fee: 1000,
    };
    let receipt = Receipt {
        source_shard: 0,
        dest_shard: 1,
        source_height: 1,
        tx_id: tx.id(),
        from: Address::from_public_key(&alice.public_key()),
        to: bob,
        amount: 5,
    };
    let mut accounts = vec![(
        Address::from_public_key(&alice.public_key()),
        Account {
            balance: 94,
            nonce: 1,
        },
    )];
    accounts.sort_unstable_by_key(|(a, _)| *a);
    let mut s0 = shard_header(0, 1, &[outcome]);
    s0.outgoing_receipts_root = receipts_tree(std::slice::from_ref(&receipt)).root();
    s0.state_root = smt::state_root(&accounts);
    let s1 = shard_header(1, 1, &[]);
    let shards1 = vec![s0, s1];
    let h1 = header(1, Hash([7; 32]), &shards1, &set, &set);
    let c1 = sign_commit(&h1, &keys);
    let mut t1 = shard_header(1, 2, &[]);
    t1.incoming_receipts_root = receipts_tree(std::slice::from_ref(&receipt)).root();
    let shards2 = vec![shard_header(0, 2, &[]), t1];
    let h2 = header(2, h1.hash(), &shards2, &set, &set);
    let c2 = sign_commit(&h2, &keys);
    World {
        keys,
        set,
        alice,
        bob,
        tx,
        outcome,
        receipt,
        accounts,
        b1: (h1, c1, shards1),
        b2: (h2, c2, shards2),
    }
}

fn proven(w: &World, b: &(BlockHeader, Commit, Vec<ShardHeader>)) -> ProvenBlock {
    ProvenBlock::verify(CHAIN, &w.set, &b.0, &b.1, &b.2).unwrap()
}

fn tx_proof() -> MerkleProof {
    let w = world();
    outcomes_tree(&[w.outcome]).proof(0).unwrap()
}

#[test]
fn block_keeps_trusted_powers_and_checks_every_shard_row() {
    let w = world();
    let b = proven(&w, &w.b1);
    assert_eq!(b.height(), 1);
    assert_eq!(b.signers().len(), 4);
    assert_eq!((b.signed_power(), b.total_power()), (40, 40));
    assert_eq!(b.shards(), w.b1.2.as_slice());
}

#[test]
fn forged_shard_row() {
    let w = world();
    let mut rows = w.b1.2.clone();
    rows[1].fees += 1;
    assert!(matches!(
        ProvenBlock::verify(CHAIN, &w.set, &w.b1.0, &w.b1.1, &rows),
        Err(VerifyError::Proof {
            what: "shard headers",
            ..
        })
    ));
    rows.pop();
    assert!(matches!(
        ProvenBlock::verify(CHAIN, &w.set, &w.b1.0, &w.b1.1, &rows),
        Err(VerifyError::Mismatch { .. })
    ));
}

#[test]
fn commit_under_an_untrusted_set() {
    let w = world();
    let strangers = validator_keys(50, 4);
    assert!(matches!(
        ProvenBlock::verify(CHAIN, &set_of(&strangers), &w.b1.0, &w.b1.1, &w.b1.2),
        Err(VerifyError::ValidatorSetMismatch { .. })
    ));
}

#[test]
fn account_state_is_read_from_the_proof() {
    let w = world();
    let b = proven(&w, &w.b1);
    let alice = Address::from_public_key(&w.alice.public_key());
    let p = smt::prove(&w.accounts, &alice);
    let acc = ProvenAccount::verify(&b, &alice, &p).unwrap();
    assert_eq!((acc.balance(), acc.nonce(), acc.exists()), (94, 1, true));
    assert_eq!(acc.at().shard, 0);
    // Proven absent: zero balance, whatever the node's answer said beside it.
    let nobody = on_shard(0, 200);
    let nobody = Address::from_public_key(&nobody.public_key());
    let p = smt::prove(&w.accounts, &nobody);
    let acc = ProvenAccount::verify(&b, &nobody, &p).unwrap();
    assert_eq!((acc.exists(), acc.balance()), (false, 0));
}

#[test]
fn account_proof_for_another_address() {
    let w = world();
    let b = proven(&w, &w.b1);
    let alice = Address::from_public_key(&w.alice.public_key());
    let p = smt::prove(&w.accounts, &alice);
    // Alice's proof offered for another address of her shard proves only that one is absent,
    // never Alice's balance under the other name.
    let other = Address::from_public_key(&on_shard(0, 200).public_key());
    match ProvenAccount::verify(&b, &other, &p) {
        Ok(acc) => assert!(!acc.exists()),
        Err(e) => assert!(matches!(e, VerifyError::AccountProof(_)), "{e}"),
    }
}

#[test]
fn account_proof_from_another_shard() {
    let w = world();
    let b = proven(&w, &w.b1);
    // Bob lives on shard 1, whose tree is empty; shard 0's proof does not lead to its root.
    let p = smt::prove(&w.accounts, &w.bob);
    assert!(ProvenAccount::verify(&b, &w.bob, &p).is_err());
}

#[test]
fn transaction_fields_come_from_its_bytes_and_proof() {
    let w = world();
    let b = proven(&w, &w.b1);
    let t = ProvenTx::verify(&b, &w.tx, &w.outcome, &tx_proof()).unwrap();
    assert_eq!(t.sender(), Address::from_public_key(&w.alice.public_key()));
    assert_eq!((t.index(), t.at().shard, t.at().height), (0, 0, 1));
    assert_eq!(t.outcome().status, ExecStatus::Success);
}

#[test]
fn transaction_with_another_outcome() {
    let w = world();
    let b = proven(&w, &w.b1);
    let mut failed = w.outcome;
    failed.status = ExecStatus::InsufficientBalance;
    assert!(ProvenTx::verify(&b, &w.tx, &failed, &tx_proof()).is_err());
    let mut other = w.outcome;
    other.tx_id = Hash([1; 32]);
    assert!(matches!(
        ProvenTx::verify(&b, &w.tx, &other, &tx_proof()),
        Err(VerifyError::Contradicts { .. })
    ));
}

#[test]
fn transaction_bytes_swapped() {
    let w = world();
    let b = proven(&w, &w.b1);
    let mut tx = w.tx.clone();
    tx.tx.nonce = 9;
    assert!(ProvenTx::verify(&b, &tx, &w.outcome, &tx_proof()).is_err());
}

#[test]
fn receipt_and_its_credit() {
    let w = world();
    let (b1, b2) = (proven(&w, &w.b1), proven(&w, &w.b2));
    let t = ProvenTx::verify(&b1, &w.tx, &w.outcome, &tx_proof()).unwrap();
    let out = receipts_tree(std::slice::from_ref(&w.receipt))
        .proof(0)
        .unwrap();
    let r = ProvenReceipt::verify(&t, &b1, &w.receipt, &out).unwrap();
    assert_eq!(r.receipt().amount, 5);
    let credit = ProvenCredit::verify(&r, &b2, &out).unwrap();
    assert_eq!((credit.at().height, credit.at().shard), (2, 1));
    // Not credited in the block that debited it.
    assert!(ProvenCredit::verify(&r, &b1, &out).is_err());
}

#[test]
fn forged_receipt_amount() {
    let w = world();
    let b1 = proven(&w, &w.b1);
    let t = ProvenTx::verify(&b1, &w.tx, &w.outcome, &tx_proof()).unwrap();
    let out = receipts_tree(std::slice::from_ref(&w.receipt))
        .proof(0)
        .unwrap();
    let mut forged = w.receipt.clone();
    forged.amount = 500;
    assert!(matches!(
        ProvenReceipt::verify(&t, &b1, &forged, &out),
        Err(VerifyError::Contradicts {
            what: "receipt's amount",
            ..
        })
    ));
    let mut forged = w.receipt;
    forged.to = Address([3; 20]);
    assert!(ProvenReceipt::verify(&t, &b1, &forged, &out).is_err());
}

#[test]
fn receipt_proven_in_another_block() {
    let w = world();
    let (b1, b2) = (proven(&w, &w.b1), proven(&w, &w.b2));
    let t = ProvenTx::verify(&b1, &w.tx, &w.outcome, &tx_proof()).unwrap();
    let out = receipts_tree(std::slice::from_ref(&w.receipt))
        .proof(0)
        .unwrap();
    assert!(matches!(
        ProvenReceipt::verify(&t, &b2, &w.receipt, &out),
        Err(VerifyError::Contradicts { .. })
    ));
}

#[test]
fn forged_credit_height() {
    let w = world();
    let b1 = proven(&w, &w.b1);
    let t = ProvenTx::verify(&b1, &w.tx, &w.outcome, &tx_proof()).unwrap();
    let out = receipts_tree(std::slice::from_ref(&w.receipt))
        .proof(0)
        .unwrap();
    let r = ProvenReceipt::verify(&t, &b1, &w.receipt, &out).unwrap();
    // A later block that did not apply it: its incoming root is empty.
    let shards3 = vec![shard_header(0, 3, &[]), shard_header(1, 3, &[])];
    let h3 = header(3, w.b2.0.hash(), &shards3, &w.set, &w.set);
    let c3 = sign_commit(&h3, &w.keys);
    let b3 = ProvenBlock::verify(CHAIN, &w.set, &h3, &c3, &shards3).unwrap();
    assert!(ProvenCredit::verify(&r, &b3, &out).is_err());
}

#[test]
fn shard_receipt_lists_must_be_complete() {
    let w = world();
    let b1 = proven(&w, &w.b1);
    let sb = ProvenShardBlock::verify(&b1, 0, std::slice::from_ref(&w.receipt), &[]).unwrap();
    assert_eq!(sb.outgoing().len(), 1);
    assert!(ProvenShardBlock::verify(&b1, 0, &[], &[]).is_err());
    let mut forged = w.receipt;
    forged.amount += 1;
    assert!(ProvenShardBlock::verify(&b1, 0, &[forged], &[]).is_err());
    assert!(ProvenShardBlock::verify(&b1, 5, &[], &[]).is_err());
}

fn genesis(set: &ValidatorSet) -> GenesisHeader {
    GenesisHeader {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1,
        shard_count: 4,
        block_interval_ms: 500,
        min_fee: 1000,
        max_txs_per_shard_block: 10_000,
        validator_set_hash: set.hash(),
        accounts_hash: accounts_hash(std::iter::empty()),
        faucet: None,
        market: joule_light_client::market::MarketParams::DEVNET,
        objects_root: joule_light_client::Hash::ZERO,
    }
}

#[test]
fn checkpoint_starts_from_block_one_of_its_genesis() {
    let keys = validator_keys(10, 4);
    let set = set_of(&keys);
    let g = genesis(&set);
    let cp = Checkpoint::of_genesis(&g);
    assert_eq!(cp.verify_genesis(&g, &set), Ok(()));
    let (h, c) = signed_block(1, g.hash(), &keys);
    let trusted = cp.verify_first_block(h, &c, set).unwrap();
    assert_eq!(trusted.height(), 1);
}

#[test]
fn genesis_with_another_fee() {
    let set = set_of(&validator_keys(10, 4));
    let g = genesis(&set);
    let cp = Checkpoint::of_genesis(&g);
    let mut forged = g;
    forged.min_fee = 1;
    assert!(matches!(
        cp.verify_genesis(&forged, &set),
        Err(VerifyError::NotTrustedChain {
            what: "genesis",
            ..
        })
    ));
}

#[test]
fn genesis_validators_swapped() {
    let set = set_of(&validator_keys(10, 4));
    let g = genesis(&set);
    let cp = Checkpoint::of_genesis(&g);
    let strangers = set_of(&validator_keys(50, 4));
    assert!(matches!(
        cp.verify_genesis(&g, &strangers),
        Err(VerifyError::NotTrustedChain {
            what: "validator set",
            ..
        })
    ));
}

#[test]
fn first_block_of_another_chain() {
    let keys = validator_keys(10, 4);
    let set = set_of(&keys);
    let cp = Checkpoint::of_genesis(&genesis(&set));
    // The right validators, but a block that does not follow the pinned genesis.
    let (h, c) = signed_block(1, Hash([9; 32]), &keys);
    assert!(matches!(
        cp.verify_first_block(h, &c, set.clone()),
        Err(VerifyError::WrongParent { .. })
    ));
    // Another validator set signing a block on the pinned genesis.
    let strangers = validator_keys(50, 4);
    let (h, c) = signed_block(1, cp.genesis_hash, &strangers);
    assert!(matches!(
        cp.verify_first_block(h, &c, set_of(&strangers)),
        Err(VerifyError::NotTrustedChain { .. })
    ));
    // Not block 1.
    let (h, c) = signed_block(2, cp.genesis_hash, &keys);
    assert!(cp.verify_first_block(h, &c, set).is_err());
}
