//! Commit verification: one test per way a forged commit is rejected.

use joule_light_client::commit::{sign_commit, vote_message};
use joule_light_client::*;

use super::fixtures::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn setup() -> (Vec<SecretKey>, ValidatorSet, BlockHeader, Commit) {
    let keys = validator_keys(10, 4);
    let set = set_of(&keys);
    let (h, c) = signed_block(1, Hash::ZERO, &keys);
    (keys, set, h, c)
}

#[test]
fn valid_commit_accepted() {
    let (_, set, h, c) = setup();
    assert_eq!(verify_commit(CHAIN, &set, &h, &c), Ok(40));
}

#[test]
fn exactly_two_thirds_is_not_enough_but_more_is() {
    // 3 validators of power 10: 20/30 is exactly 2/3 (rejected), 30/30 passes.
    let keys = validator_keys(10, 3);
    let set = set_of(&keys);
    let shards = [shard_header(0, 1, &[])];
    let h = header(1, Hash::ZERO, &shards, &set, &set);
    let c = sign_commit(&h, &keys[..2]);
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::InsufficientPower {
            signed: 20,
            total: 30
        })
    );
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &sign_commit(&h, &keys)),
        Ok(30)
    );
}

#[test]
fn too_little_power() {
    let (keys, set, h, _) = setup();
    let c = sign_commit(&h, &keys[..2]);
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::InsufficientPower {
            signed: 20,
            total: 40
        })
    );
}

#[test]
fn duplicate_signer() {
    let (keys, set, h, _) = setup();
    // Two real signers, one of them three times: 4 signatures but only 20 power.
    let c = sign_commit(&h, [&keys[0], &keys[1], &keys[1], &keys[1]]);
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::DuplicateSigner(keys[1].public_key()))
    );
}

#[test]
fn non_member_signer() {
    let (keys, set, h, _) = setup();
    let outsider = key(99);
    let c = sign_commit(&h, [&keys[0], &keys[1], &outsider]);
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::NonMemberSigner(outsider.public_key()))
    );
}

#[test]
fn bad_signature() {
    let (keys, set, h, mut c) = setup();
    c.signatures[2].signature.0[5] ^= 0x40;
    assert!(matches!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::BadSignature { signer, .. }) if signer == keys[2].public_key()
    ));
}

#[test]
fn signature_for_another_block() {
    let (keys, set, h, mut c) = setup();
    // A real signature by a member, but over another block's vote message.
    let other = vote_message(CHAIN, 1, &Domain::BlockHeader.hash(b"other"));
    c.signatures[0].signature = keys[0].sign(other.as_bytes());
    assert!(matches!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn wrong_chain_id() {
    let (_, set, h, c) = setup();
    assert!(matches!(
        verify_commit("joule-other", &set, &h, &c),
        Err(VerifyError::WrongChainId { .. })
    ));
}

#[test]
fn vote_from_another_chain_rejected() {
    // Validators shared by two chains: a vote on chain B cannot finalise the same header on A.
    let (keys, set, mut h, _) = setup();
    h.chain_id = "joule-b".into();
    let c_b = sign_commit(&h, &keys);
    h.chain_id = CHAIN.into();
    let forged = Commit {
        height: h.height,
        block_hash: h.hash(),
        signatures: c_b.signatures,
    };
    assert!(matches!(
        verify_commit(CHAIN, &set, &h, &forged),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn wrong_height() {
    let (_, set, h, mut c) = setup();
    c.height = 2;
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::CommitHeightMismatch {
            commit: 2,
            header: 1
        })
    );
}

#[test]
fn commit_for_other_block() {
    let (_, set, h, mut c) = setup();
    c.block_hash = Hash::ZERO;
    assert!(matches!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::CommitBlockMismatch { .. })
    ));
}

#[test]
fn wrong_validator_set() {
    let (_, _, h, c) = setup();
    let other = set_of(&validator_keys(50, 4));
    assert!(matches!(
        verify_commit(CHAIN, &other, &h, &c),
        Err(VerifyError::ValidatorSetMismatch { .. })
    ));
}

#[test]
fn too_many_signatures_rejected_before_verifying() {
    let (keys, set, h, c) = setup();
    let mut sigs = c.signatures.clone();
    sigs.extend(sign_commit(&h, &keys[..1]).signatures);
    let c = Commit {
        signatures: sigs,
        ..c
    };
    assert_eq!(
        verify_commit(CHAIN, &set, &h, &c),
        Err(VerifyError::TooManySignatures {
            signatures: 5,
            validators: 4
        })
    );
}
