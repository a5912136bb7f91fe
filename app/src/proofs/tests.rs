//! Each class of forgery a node could send beside its proofs, refused (or never read):
//! one test per attack, over a small two-shard chain built here with real signatures.

use joule_light_client::api::{
    AccountProof, AccountResponse, BlockResponse, Page, ReceiptApplied, ReceiptView,
    ShardBlockResponse, ShardInclusion, TxInclusion, TxResponse, TxState, TxSummary,
};
use joule_light_client::block::shards_tree;
use joule_light_client::commit::sign_commit;
use joule_light_client::genesis::accounts_hash;
use joule_light_client::receipt::{outcomes_tree, receipts_tree};
use joule_light_client::{
    smt, Account, Address, BlockHeader, ExecStatus, GenesisHeader, Hash, Payload, Receipt,
    SecretKey, ShardHeader, SignedTransaction, Transaction, TxOutcome, Validator, ValidatorSet,
};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::wallet::draft;
use crate::wallet::pending::Sent;

const SHARDS: u16 = 2;
const CHAIN: &str = "joule-test";
const T1: u64 = 1_800_000_000_000;

fn on_shard(shard: u16, from: u8) -> SecretKey {
    (from..=255)
        .map(|i| SecretKey::from_seed(&[i; 32]))
        .find(|k| Address::from_public_key(&k.public_key()).shard(SHARDS) == shard)
        .unwrap()
}

/// Block 1: Alice (shard 0) pays Bob (shard 1) 5 by receipt, after paying Carol (shard 0)
/// 2; block 2 credits Bob.
struct Chain {
    trust: Trust,
    alice: SecretKey,
    bob: Address,
    accounts: Vec<(Address, Account)>,
    txs: Vec<(SignedTransaction, TxOutcome)>,
    receipt: Receipt,
    b1: BlockResponse,
    b2: BlockResponse,
}

fn block(
    keys: &[SecretKey],
    set: &ValidatorSet,
    height: u64,
    parent: Hash,
    shards: Vec<ShardHeader>,
) -> BlockResponse {
    let header = BlockHeader {
        chain_id: CHAIN.into(),
        height,
        parent_hash: parent,
        timestamp_ms: T1 + (height - 1) * 500,
        proposer: keys[0].public_key(),
        shards_root: shards_tree(&shards).root(),
        shard_count: SHARDS,
        validator_set_hash: set.hash(),
        next_validator_set_hash: set.hash(),
    };
    BlockResponse {
        hash: header.hash(),
        commit: sign_commit(&header, keys),
        header,
        shards,
        validators: set.clone(),
        metrics: Vec::new(),
    }
}

fn empty_shard(shard: u16, height: u64) -> ShardHeader {
    ShardHeader {
        shard,
        height,
        tx_root: outcomes_tree(&[]).root(),
        outgoing_receipts_root: receipts_tree(&[]).root(),
        incoming_receipts_root: receipts_tree(&[]).root(),
        state_root: Hash::ZERO,
        objects_root: Hash::ZERO,
        events_root: Hash::ZERO,
        tx_count: 0,
        fees: 0,
    }
}

fn chain() -> Chain {
    let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .unwrap();
    let alice = on_shard(0, 100);
    let carol = Address::from_public_key(&on_shard(0, 150).public_key());
    let bob = Address::from_public_key(&on_shard(1, 100).public_key());
    let pay = |nonce, to, amount| {
        let tx = Transaction {
            chain_id: CHAIN.into(),
            sender: alice.public_key(),
            nonce,
            max_fee: 1000,
            payload: Payload::Transfer { to, amount },
        }
        .sign(&alice);
        let outcome = TxOutcome {
            tx_id: tx.id(),
            status: ExecStatus::Success,
            fee: 1000,
        };
        (tx, outcome)
    };
    let txs = vec![pay(0, carol, 2), pay(1, bob, 5)];
    let receipt = Receipt {
        source_shard: 0,
        dest_shard: 1,
        source_height: 1,
        tx_id: txs[1].0.id(),
        from: Address::from_public_key(&alice.public_key()),
        to: bob,
        amount: 5,
    };
    let mut accounts = vec![
        (
            Address::from_public_key(&alice.public_key()),
            Account {
                balance: 1_000_000,
                nonce: 2,
            },
        ),
        (
            carol,
            Account {
                balance: 2,
                nonce: 0,
            },
        ),
    ];
    accounts.sort_unstable_by_key(|(a, _)| *a);
    let outcomes: Vec<TxOutcome> = txs.iter().map(|t| t.1).collect();
    let s0 = ShardHeader {
        shard: 0,
        height: 1,
        tx_root: outcomes_tree(&outcomes).root(),
        outgoing_receipts_root: receipts_tree(std::slice::from_ref(&receipt)).root(),
        incoming_receipts_root: receipts_tree(&[]).root(),
        state_root: smt::state_root(&accounts),
        objects_root: Hash::ZERO,
        events_root: Hash::ZERO,
        tx_count: 2,
        fees: 2000,
    };
    let genesis = GenesisHeader {
        chain_id: CHAIN.into(),
        genesis_time_ms: T1 - 500,
        shard_count: SHARDS,
        block_interval_ms: 500,
        min_fee: 1000,
        max_txs_per_shard_block: 100,
        validator_set_hash: set.hash(),
        accounts_hash: accounts_hash(std::iter::empty()),
        faucet: None,
        market: joule_light_client::market::MarketParams::DEVNET,
        objects_root: joule_light_client::Hash::ZERO,
    };
    let b1 = block(&keys, &set, 1, genesis.hash(), vec![s0, empty_shard(1, 1)]);
    let mut s1 = empty_shard(1, 2);
    s1.incoming_receipts_root = receipts_tree(std::slice::from_ref(&receipt)).root();
    let b2 = block(&keys, &set, 2, b1.hash, vec![empty_shard(0, 2), s1]);
    Chain {
        trust: Trust {
            genesis,
            sets: vec![set],
            head_height: 2,
        },
        alice,
        bob,
        accounts,
        txs,
        receipt,
        b1,
        b2,
    }
}

fn inclusion(b: &BlockResponse, shard: u16) -> ShardInclusion {
    ShardInclusion {
        height: b.header.height,
        block_hash: b.hash,
        shard_header: b.shards[usize::from(shard)].clone(),
        shard_proof: shards_tree(&b.shards).proof(u64::from(shard)).unwrap(),
    }
}

impl Chain {
    fn alice(&self) -> Address {
        Address::from_public_key(&self.alice.public_key())
    }

    /// Alice's transfer of `amount` to Bob, drafted by the wallet from `proven` with `sent`
    /// pending, a second after block 1.
    fn send(
        &self,
        proven: &joule_light_client::ProvenAccount,
        sent: &[Sent],
        amount: u64,
    ) -> Result<Transaction, draft::DraftError> {
        draft::transfer(
            &self.trust,
            proven,
            self.alice.public_key(),
            sent,
            self.bob,
            amount,
            T1 + 1_000,
        )
    }

    /// `/accounts/{address}` as an honest node answers it at block 1.
    fn account(&self, address: Address) -> AccountResponse {
        let state = self
            .accounts
            .iter()
            .find(|(a, _)| *a == address)
            .map(|(_, acc)| *acc);
        AccountResponse {
            address,
            shard: address.shard(SHARDS),
            account: state.unwrap_or_default(),
            exists: state.is_some(),
            proof: Some(AccountProof {
                at: inclusion(&self.b1, address.shard(SHARDS)),
                proof: smt::prove(&self.accounts, &address),
            }),
            next_nonce: state.map_or(0, |a| a.nonce),
            transactions: Page {
                items: Vec::new(),
                page: 0,
                limit: 25,
                total: 0,
            },
        }
    }

    /// `/transactions/{id}` of Alice's transfer `i`, as an honest node answers it.
    fn tx(&self, i: usize) -> TxResponse {
        let (tx, outcome) = &self.txs[i];
        let outcomes: Vec<TxOutcome> = self.txs.iter().map(|t| t.1).collect();
        let receipt = (i == 1).then(|| ReceiptView {
            receipt: self.receipt.clone(),
            outgoing_proof: receipts_tree(std::slice::from_ref(&self.receipt))
                .proof(0)
                .unwrap(),
            applied: Some(ReceiptApplied {
                at: inclusion(&self.b2, 1),
                incoming_proof: receipts_tree(std::slice::from_ref(&self.receipt))
                    .proof(0)
                    .unwrap(),
            }),
        });
        TxResponse {
            id: tx.id(),
            tx: tx.clone(),
            sender: self.alice(),
            state: TxState::Included,
            inclusion: Some(TxInclusion {
                at: inclusion(&self.b1, 0),
                index: i as u32,
                outcome: *outcome,
                proof: outcomes_tree(&outcomes).proof(i as u64).unwrap(),
                timestamp_ms: self.b1.header.timestamp_ms,
            }),
            receipt,
        }
    }

    /// `/blocks/1/shards/0`, as an honest node answers it.
    fn shard_page(&self) -> ShardBlockResponse {
        let outcomes: Vec<TxOutcome> = self.txs.iter().map(|t| t.1).collect();
        let tree = outcomes_tree(&outcomes);
        let at = inclusion(&self.b1, 0);
        let items = self
            .txs
            .iter()
            .enumerate()
            .map(|(i, (tx, outcome))| TxSummary {
                id: tx.id(),
                tx: tx.clone(),
                sender: self.alice(),
                outcome: *outcome,
                height: 1,
                shard: 0,
                index: i as u32,
                timestamp_ms: self.b1.header.timestamp_ms,
                proof: tree.proof(i as u64),
            })
            .collect();
        ShardBlockResponse {
            block_hash: self.b1.hash,
            header: self.b1.header.clone(),
            shard: at.shard_header,
            shard_proof: at.shard_proof,
            transactions: Page {
                items,
                page: 0,
                limit: 25,
                total: 2,
            },
            outgoing_receipts: vec![self.receipt.clone()],
            incoming_receipts: Vec::new(),
        }
    }
}

// --- Blocks ---

#[test]
fn honest_block_keeps_the_trusted_powers() {
    let c = chain();
    let mut answer = c.b1.clone();
    // A node inflating its signers' power in the set it sends: not read.
    let inflated = ValidatorSet::new(
        c.trust.sets[0]
            .validators()
            .iter()
            .map(|v| Validator { power: 1_000, ..*v })
            .collect(),
    )
    .unwrap();
    answer.validators = inflated;
    let proven = prove_block(&c.trust, &answer).unwrap();
    assert!(proven.signers().iter().all(|v| v.power == 10));
    assert_eq!(proven.total_power(), 40);
}

#[test]
fn forged_shard_row() {
    let c = chain();
    let mut answer = c.b1.clone();
    answer.shards[0].fees = 1;
    assert!(prove_block(&c.trust, &answer).is_err());
    let mut answer = c.b1.clone();
    answer.shards[1].state_root = Hash([5; 32]);
    assert!(prove_block(&c.trust, &answer).is_err());
}

#[test]
fn block_of_an_unverified_validator_set() {
    let mut c = chain();
    c.trust.sets.clear();
    let why = prove_block(&c.trust, &c.b1).unwrap_err();
    assert!(why.contains("has not verified"), "{why}");
}

#[test]
fn forged_block_hash_beside_the_header() {
    let c = chain();
    let mut answer = c.b1.clone();
    answer.hash = Hash([3; 32]);
    assert!(prove_block(&c.trust, &answer).is_err());
}

// --- Accounts ---

#[test]
fn honest_account_is_proven() {
    let c = chain();
    let a = prove_account(&c.trust, &c.b1, &c.alice(), &c.account(c.alice())).unwrap();
    assert_eq!((a.balance(), a.nonce(), a.exists()), (1_000_000, 2, true));
}

#[test]
fn absent_account_with_a_forged_balance() {
    let c = chain();
    let nobody = Address::from_public_key(&on_shard(0, 200).public_key());
    let honest = prove_account(&c.trust, &c.b1, &nobody, &c.account(nobody)).unwrap();
    assert_eq!((honest.exists(), honest.balance()), (false, 0));
    let mut forged = c.account(nobody);
    forged.account.balance = 999_000_000_000;
    let why = prove_account(&c.trust, &c.b1, &nobody, &forged).unwrap_err();
    assert!(why.contains("balance"), "{why}");
}

#[test]
fn inflated_balance() {
    let c = chain();
    let mut forged = c.account(c.alice());
    forged.account.balance += 1;
    assert!(prove_account(&c.trust, &c.b1, &c.alice(), &forged).is_err());
    let mut forged = c.account(c.alice());
    forged.account.nonce = 0;
    assert!(prove_account(&c.trust, &c.b1, &c.alice(), &forged).is_err());
}

#[test]
fn another_address_answered() {
    let c = chain();
    // Asked about Carol, the node answers with Alice's (valid) account and proof.
    let carol = c.accounts.iter().find(|(a, _)| *a != c.alice()).unwrap().0;
    assert!(prove_account(&c.trust, &c.b1, &carol, &c.account(c.alice())).is_err());
}

#[test]
fn proof_from_another_shard() {
    let c = chain();
    // Bob lives on shard 1, whose tree is empty; a proof from shard 0's tree, presented at
    // shard 0's header, proves nothing about him.
    let mut forged = c.account(c.bob);
    let proof = forged.proof.as_mut().unwrap();
    proof.proof = smt::prove(&c.accounts, &c.bob);
    proof.at = inclusion(&c.b1, 0);
    assert!(!proof.proof.siblings.is_empty());
    assert!(prove_account(&c.trust, &c.b1, &c.bob, &forged).is_err());
}

#[test]
fn proof_at_another_block_than_the_one_verified() {
    let c = chain();
    let answer = c.account(c.alice());
    let why = prove_account(&c.trust, &c.b2, &c.alice(), &answer).unwrap_err();
    assert!(why.contains("names block #1"), "{why}");
}

#[test]
fn stale_answer_replayed() {
    let mut c = chain();
    let a = prove_account(&c.trust, &c.b1, &c.alice(), &c.account(c.alice())).unwrap();
    assert_eq!(check_fresh(&c.trust, &a.at(), T1 + 1_000), Ok(()));
    // The light client has moved on 30 blocks: block 1's state is out of date.
    c.trust.head_height = 31;
    let why = check_fresh(&c.trust, &a.at(), T1 + 1_000).unwrap_err();
    assert!(why.contains("out of date"), "{why}");
    // Or the browser's clock says it is old.
    c.trust.head_height = 2;
    assert!(check_fresh(&c.trust, &a.at(), T1 + MAX_AGE_MS + 1).is_err());
}

// --- Transactions and receipts ---

#[test]
fn honest_transaction_is_proven_with_its_receipt_and_credit() {
    let c = chain();
    let answer = c.tx(1);
    let (block, tx) = prove_tx(&c.trust, &c.b1, &answer.id, &answer).unwrap();
    assert_eq!((tx.sender(), tx.index(), tx.at().shard), (c.alice(), 1, 0));
    let view = answer.receipt.as_ref().unwrap();
    let receipt = prove_receipt(&tx, &block, view).unwrap();
    let credit = prove_credit(&c.trust, &receipt, &c.b2, view).unwrap();
    assert_eq!((credit.at().height, credit.at().shard), (2, 1));
}

#[test]
fn forged_sender() {
    let c = chain();
    let mut forged = c.tx(0);
    forged.sender = c.bob;
    let why = prove_tx(&c.trust, &c.b1, &forged.id, &forged).unwrap_err();
    assert!(why.contains("sender"), "{why}");
}

#[test]
fn forged_position_and_time() {
    let c = chain();
    let mut forged = c.tx(0);
    forged.inclusion.as_mut().unwrap().index = 7;
    assert!(prove_tx(&c.trust, &c.b1, &forged.id, &forged).is_err());
    let mut forged = c.tx(0);
    forged.inclusion.as_mut().unwrap().timestamp_ms += 60_000;
    assert!(prove_tx(&c.trust, &c.b1, &forged.id, &forged).is_err());
}

#[test]
fn forged_outcome() {
    let c = chain();
    let mut forged = c.tx(0);
    forged.inclusion.as_mut().unwrap().outcome.status = ExecStatus::InsufficientBalance;
    assert!(prove_tx(&c.trust, &c.b1, &forged.id, &forged).is_err());
}

#[test]
fn another_transaction_answered() {
    let c = chain();
    // Asked about transfer 0, the node proves transfer 1.
    let asked = c.txs[0].0.id();
    let why = prove_tx(&c.trust, &c.b1, &asked, &c.tx(1)).unwrap_err();
    assert!(why.contains("not the one asked for"), "{why}");
}

#[test]
fn forged_receipt_amount() {
    let c = chain();
    let answer = c.tx(1);
    let (block, tx) = prove_tx(&c.trust, &c.b1, &answer.id, &answer).unwrap();
    let mut view = answer.receipt.unwrap();
    view.receipt.amount = 5_000;
    assert!(prove_receipt(&tx, &block, &view).is_err());
}

#[test]
fn forged_credit_height() {
    let c = chain();
    let answer = c.tx(1);
    let (block, tx) = prove_tx(&c.trust, &c.b1, &answer.id, &answer).unwrap();
    let view = answer.receipt.unwrap();
    let receipt = prove_receipt(&tx, &block, &view).unwrap();
    // The node says block 1 credited it (it did not: that block debited it).
    let mut forged = view.clone();
    forged.applied.as_mut().unwrap().at = inclusion(&c.b1, 1);
    assert!(prove_credit(&c.trust, &receipt, &c.b1, &forged).is_err());
    // And "on its way" is not a proof of anything.
    let mut forged = view;
    forged.applied = None;
    assert!(prove_credit(&c.trust, &receipt, &c.b2, &forged).is_err());
}

// --- Shard blocks ---

#[test]
fn honest_shard_page_is_proven_row_by_row() {
    let c = chain();
    let page = prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &c.shard_page()).unwrap();
    assert_eq!(page.rows.len(), 2);
    assert_eq!(page.shard.outgoing().len(), 1);
}

#[test]
fn forged_shard_block_row() {
    let c = chain();
    let mut forged = c.shard_page();
    forged.transactions.items[1].outcome.status = ExecStatus::InsufficientBalance;
    assert!(prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).is_err());
    let mut forged = c.shard_page();
    forged.transactions.items[0].sender = c.bob;
    assert!(prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).is_err());
}

#[test]
fn shard_block_row_left_out_or_reordered() {
    let c = chain();
    let mut forged = c.shard_page();
    forged.transactions.items.remove(0);
    let why = prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).unwrap_err();
    assert!(why.contains("should hold 2"), "{why}");
    let mut forged = c.shard_page();
    forged.transactions.items.swap(0, 1);
    assert!(prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).is_err());
    let mut forged = c.shard_page();
    forged.transactions.items[0].proof = None;
    assert!(prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).is_err());
}

#[test]
fn forged_shard_receipt_list() {
    let c = chain();
    let mut forged = c.shard_page();
    forged.outgoing_receipts.clear();
    assert!(prove_shard_page(&c.trust, &c.b1, 0, 0, 25, &forged).is_err());
}

// --- The wallet signs only what it proved ---

#[test]
fn wallet_nonce_ignores_the_nodes_next_nonce() {
    let c = chain();
    let mut answer = c.account(c.alice());
    answer.next_nonce = 99; // the node would have the wallet sign a transaction that parks
    let proven = prove_account(&c.trust, &c.b1, &c.alice(), &answer).unwrap();
    let tx = c.send(&proven, &[], 10).unwrap();
    assert_eq!(tx.nonce, 2, "the proven nonce");
    assert_eq!(tx.chain_id, CHAIN, "the trusted chain id");
    assert_eq!(tx.max_fee, c.trust.genesis.min_fee, "the proven fee");
    // With one of its own transactions pending, the wallet moves past it, and holds back
    // what it spends.
    let sent = [Sent {
        id: Hash([1; 32]),
        from: c.alice(),
        to: c.bob,
        amount: 989_000,
        nonce: 2,
        spend: 990_000,
        sent_ms: 0,
        dropped: None,
    }];
    let tx = c.send(&proven, &sent, 10).unwrap();
    assert_eq!(tx.nonce, 3);
    assert_eq!(draft::max_amount(&c.trust, &proven, &sent), 9_000);
}

#[test]
fn wallet_refuses_what_cannot_succeed() {
    let c = chain();
    let proven = prove_account(&c.trust, &c.b1, &c.alice(), &c.account(c.alice())).unwrap();
    let why = c.send(&proven, &[], u64::MAX).unwrap_err().to_string();
    assert!(why.contains("more than this account can send"), "{why}");
    assert_eq!(draft::max_amount(&c.trust, &proven, &[]), 999_000);
    assert!(c.send(&proven, &[], 999_000).is_ok());
}

#[test]
fn wallet_refuses_a_stale_state() {
    let mut c = chain();
    let proven = prove_account(&c.trust, &c.b1, &c.alice(), &c.account(c.alice())).unwrap();
    c.trust.head_height = 100;
    let why = c.send(&proven, &[], 10).unwrap_err().to_string();
    assert!(why.contains("out of date"), "{why}");
}

#[test]
fn wallet_refuses_another_accounts_state() {
    let c = chain();
    let proven = prove_account(&c.trust, &c.b1, &c.alice(), &c.account(c.alice())).unwrap();
    let mallory = SecretKey::from_seed(&[77; 32]).public_key();
    assert!(draft::transfer(&c.trust, &proven, mallory, &[], c.bob, 10, T1 + 1_000).is_err());
}

mod market;
