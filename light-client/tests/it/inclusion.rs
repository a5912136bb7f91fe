//! Shard headers in blocks, and transaction outcomes, receipts and accounts in shard headers.

use joule_light_client::merkle::MerkleTree;
use joule_light_client::state::state_root;
use joule_light_client::*;

use super::fixtures::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn block() -> (BlockHeader, Vec<ShardHeader>, Vec<receipt::TxOutcome>) {
    let keys = validator_keys(10, 4);
    let set = set_of(&keys);
    let outcomes: Vec<_> = (0..5).map(outcome).collect();
    let shards: Vec<ShardHeader> = (0..4)
        .map(|s| shard_header(s, 1, if s == 1 { &outcomes } else { &[] }))
        .collect();
    (header(1, Hash::ZERO, &shards, &set, &set), shards, outcomes)
}

#[test]
fn shard_header_in_block() {
    let (h, shards, _) = block();
    let tree = block::shards_tree(&shards);
    for s in &shards {
        assert_eq!(
            verify_shard_header(&h, s, &tree.proof(u64::from(s.shard)).unwrap()),
            Ok(())
        );
    }
}

#[test]
fn shard_header_swapped_for_another_shard() {
    let (h, shards, _) = block();
    let tree = block::shards_tree(&shards);
    // Shard 2's header presented with shard 1's proof.
    assert!(matches!(
        verify_shard_header(&h, &shards[2], &tree.proof(1).unwrap()),
        Err(VerifyError::Mismatch {
            what: "shard index",
            ..
        })
    ));
}

#[test]
fn tampered_shard_state_root() {
    let (h, shards, _) = block();
    let tree = block::shards_tree(&shards);
    let mut forged = shards[3].clone();
    forged.state_root = Domain::Account.hash(b"rich");
    assert!(matches!(
        verify_shard_header(&h, &forged, &tree.proof(3).unwrap()),
        Err(VerifyError::Proof { .. })
    ));
}

#[test]
fn transaction_outcome_in_shard() {
    let (_, shards, outcomes) = block();
    let leaves: Vec<Vec<u8>> = outcomes.iter().map(Encode::encode).collect();
    let tree = MerkleTree::from_leaves(leaves.iter().map(Vec::as_slice));
    for (i, o) in outcomes.iter().enumerate() {
        assert_eq!(
            verify_transaction(&shards[1], o, &tree.proof(i as u64).unwrap()),
            Ok(())
        );
    }
    // The same proof does not prove a different status.
    let mut failed = outcomes[2];
    failed.status = ExecStatus::InsufficientBalance;
    assert!(matches!(
        verify_transaction(&shards[1], &failed, &tree.proof(2).unwrap()),
        Err(VerifyError::Proof { .. })
    ));
    // Nor inclusion in another shard.
    assert!(verify_transaction(&shards[0], &outcomes[0], &tree.proof(0).unwrap()).is_err());
}

fn receipt() -> Receipt {
    Receipt {
        source_shard: 1,
        dest_shard: 3,
        source_height: 1,
        tx_id: Domain::Transaction.hash(b"x"),
        from: Address([1; 20]),
        to: Address([2; 20]),
        amount: 77,
    }
}

#[test]
fn receipt_emitted_and_applied() {
    let r = receipt();
    let tree = MerkleTree::from_leaves([r.id().as_bytes().as_slice()]);
    let mut source = shard_header(1, 1, &[]);
    source.outgoing_receipts_root = tree.root();
    let mut dest = shard_header(3, 2, &[]);
    dest.incoming_receipts_root = tree.root();
    let p = tree.proof(0).unwrap();
    assert_eq!(verify_outgoing_receipt(&source, &r, &p), Ok(()));
    assert_eq!(verify_incoming_receipt(&dest, &r, &p), Ok(()));
    // Claiming the receipt was applied by another shard fails.
    let mut elsewhere = dest;
    elsewhere.shard = 2;
    assert!(verify_incoming_receipt(&elsewhere, &r, &p).is_err());
    // A receipt with an inflated amount fails.
    let inflated = Receipt { amount: 7_700, ..r };
    assert!(matches!(
        verify_outgoing_receipt(&source, &inflated, &p),
        Err(VerifyError::Proof { .. })
    ));
}

fn state(n: u8) -> Vec<(Address, Account)> {
    let mut v: Vec<(Address, Account)> = (0..n)
        .map(|i| {
            (
                Address::from_public_key(&key(100 + i).public_key()),
                Account {
                    balance: u64::from(i) * 100,
                    nonce: u64::from(i),
                },
            )
        })
        .collect();
    v.sort_unstable_by_key(|(a, _)| *a);
    v
}

fn header_with_state(accounts: &[(Address, Account)]) -> ShardHeader {
    let mut sh = shard_header(0, 1, &[]);
    sh.state_root = state_root(accounts);
    sh
}

#[test]
fn account_in_state_root() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let (addr, acc) = accounts[4];
    let proof = smt::prove(&accounts, &addr);
    assert_eq!(verify_account(&sh, &addr, Some(&acc), &proof), Ok(()));
}

#[test]
fn absent_account_proven_absent() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let missing = Address::from_public_key(&key(7).public_key());
    let proof = smt::prove(&accounts, &missing);
    assert_eq!(verify_account(&sh, &missing, None, &proof), Ok(()));
}

#[test]
fn inflated_balance() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let (addr, acc) = accounts[4];
    let mut proof = smt::prove(&accounts, &addr);
    let richer = Account {
        balance: acc.balance + 1,
        ..acc
    };
    assert_eq!(
        verify_account(&sh, &addr, Some(&richer), &proof),
        Err(VerifyError::AccountProof(StateProofError::ValueMismatch))
    );
    // Inflating the proof's leaf too: the path no longer leads to the root.
    proof.leaf = Some((addr, richer));
    assert_eq!(
        verify_account(&sh, &addr, Some(&richer), &proof),
        Err(VerifyError::AccountProof(StateProofError::RootMismatch))
    );
}

#[test]
fn hidden_account_claimed_absent() {
    // An existing account denied with another account's non-inclusion-style proof.
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let (victim, _) = accounts[2];
    let (other, _) = accounts[6];
    let proof = smt::prove(&accounts, &other);
    assert!(verify_account(&sh, &victim, None, &proof).is_err());
    // And its own inclusion proof cannot say "absent".
    let own = smt::prove(&accounts, &victim);
    assert_eq!(
        verify_account(&sh, &victim, None, &own),
        Err(VerifyError::AccountProof(
            StateProofError::ClaimedAbsentButPresent
        ))
    );
}

#[test]
fn invented_account() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let missing = Address::from_public_key(&key(7).public_key());
    let proof = smt::prove(&accounts, &missing);
    assert_eq!(
        verify_account(&sh, &missing, Some(&Account::default()), &proof),
        Err(VerifyError::AccountProof(
            StateProofError::ClaimedPresentButAbsent
        ))
    );
}

#[test]
fn tampered_sibling() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let (addr, acc) = accounts[4];
    let mut proof = smt::prove(&accounts, &addr);
    proof.siblings[0].0[0] ^= 1;
    assert!(verify_account(&sh, &addr, Some(&acc), &proof).is_err());
}

#[test]
fn truncated_and_padded_proofs() {
    let accounts = state(9);
    let sh = header_with_state(&accounts);
    let (addr, acc) = accounts[4];
    let proof = smt::prove(&accounts, &addr);
    let mut short = proof.clone();
    short.siblings.pop();
    assert!(verify_account(&sh, &addr, Some(&acc), &short).is_err());
    let mut long = proof.clone();
    long.siblings.push(smt::EMPTY);
    assert!(verify_account(&sh, &addr, Some(&acc), &long).is_err());
    let mut deep = proof;
    deep.siblings = vec![smt::EMPTY; 161];
    assert_eq!(
        verify_account(&sh, &addr, Some(&acc), &deep),
        Err(VerifyError::AccountProof(StateProofError::TooDeep(161)))
    );
}

#[test]
fn stale_state_root() {
    // A proof against the previous state does not verify against the new root.
    let mut accounts = state(9);
    let (addr, acc) = accounts[4];
    let old_proof = smt::prove(&accounts, &addr);
    accounts[4].1.balance += 50;
    let sh = header_with_state(&accounts);
    assert!(verify_account(&sh, &addr, Some(&acc), &old_proof).is_err());
}
