//! Following a header chain: parent links, heights and validator-set hand-overs.

use joule_light_client::commit::sign_commit;
use joule_light_client::*;

use super::fixtures::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn checkpoint(keys: &[SecretKey]) -> TrustedState {
    let (h, c) = signed_block(1, Hash::ZERO, keys);
    TrustedState::from_checkpoint(CHAIN, h, &c, set_of(keys)).unwrap()
}

#[test]
fn follows_consecutive_headers() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let mut parent = trusted.header.hash();
    let mut headers = Vec::new();
    for height in 2..=6 {
        let (h, c) = signed_block(height, parent, &keys);
        parent = h.hash();
        headers.push(SignedHeader {
            header: h,
            commit: c,
            validators: set_of(&keys),
        });
    }
    let end = verify_header_chain(&trusted, headers).unwrap();
    assert_eq!(end.height(), 6);
}

#[test]
fn wrong_parent() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let (h, c) = signed_block(2, Hash::ZERO, &keys);
    assert!(matches!(
        verify_next_header(&trusted, h, &c, set_of(&keys)),
        Err(VerifyError::WrongParent { .. })
    ));
}

#[test]
fn wrong_height_skips_a_block() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let (h, c) = signed_block(3, trusted.header.hash(), &keys);
    assert_eq!(
        verify_next_header(&trusted, h, &c, set_of(&keys)),
        Err(VerifyError::WrongHeight {
            expected: 2,
            got: 3
        })
    );
}

#[test]
fn wrong_chain_id_in_next_header() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let (mut h, _) = signed_block(2, trusted.header.hash(), &keys);
    h.chain_id = "joule-other".into();
    let c = sign_commit(&h, &keys);
    assert!(matches!(
        verify_next_header(&trusted, h, &c, set_of(&keys)),
        Err(VerifyError::WrongChainId { .. })
    ));
}

/// Block 2 announces a new set; block 3 is signed by it.
fn handover() -> (TrustedState, Vec<SecretKey>, Vec<SecretKey>, SignedHeader) {
    let old = validator_keys(10, 4);
    let new = validator_keys(30, 5);
    let trusted = checkpoint(&old);
    let shards = [shard_header(0, 2, &[])];
    let h2 = header(
        2,
        trusted.header.hash(),
        &shards,
        &set_of(&old),
        &set_of(&new),
    );
    let c2 = sign_commit(&h2, &old);
    let trusted = verify_next_header(&trusted, h2, &c2, set_of(&old)).unwrap();
    let shards = [shard_header(0, 3, &[])];
    let h3 = header(
        3,
        trusted.header.hash(),
        &shards,
        &set_of(&new),
        &set_of(&new),
    );
    let c3 = sign_commit(&h3, &new);
    let signed = SignedHeader {
        header: h3,
        commit: c3,
        validators: set_of(&new),
    };
    (trusted, old, new, signed)
}

#[test]
fn validator_set_handover_accepted() {
    let (trusted, _, new, signed) = handover();
    let next =
        verify_next_header(&trusted, signed.header, &signed.commit, signed.validators).unwrap();
    assert_eq!(next.validators, set_of(&new));
    assert_eq!(next.height(), 3);
}

#[test]
fn forged_handover_rejected() {
    // An attacker's set signs block 3, but block 2 announced a different set.
    let (trusted, _, _, signed) = handover();
    let attacker = validator_keys(70, 4);
    let mut h3 = signed.header;
    h3.validator_set_hash = set_of(&attacker).hash();
    let c3 = sign_commit(&h3, &attacker);
    assert!(matches!(
        verify_next_header(&trusted, h3, &c3, set_of(&attacker)),
        Err(VerifyError::UnannouncedValidatorSet { .. })
    ));
}

#[test]
fn old_set_cannot_sign_after_handover() {
    let (trusted, old, _, signed) = handover();
    let mut h3 = signed.header;
    h3.validator_set_hash = set_of(&old).hash();
    let c3 = sign_commit(&h3, &old);
    assert!(matches!(
        verify_next_header(&trusted, h3, &c3, set_of(&old)),
        Err(VerifyError::UnannouncedValidatorSet { .. })
    ));
}

/// Skipping: a header far above the trusted one, verified without the headers in between.
fn far_header(keys: &[SecretKey], height: u64) -> SignedHeader {
    let (header, commit) = signed_block(height, Hash([7; 32]), keys);
    SignedHeader {
        header,
        commit,
        validators: set_of(keys),
    }
}

#[test]
fn skips_ahead_under_the_same_set() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let far = far_header(&keys, 500);
    let next = verify_skipping(&trusted, far.header, &far.commit, far.validators).unwrap();
    assert_eq!(next.height(), 500);
}

#[test]
fn skips_ahead_when_enough_trusted_validators_stay() {
    // Two of the four trusted validators (half the power) are in the new set and sign.
    let old = validator_keys(10, 4);
    let mut new = validator_keys(30, 3);
    new.extend_from_slice(&old[..2]);
    let trusted = checkpoint(&old);
    let far = far_header(&new, 90);
    let next = verify_skipping(&trusted, far.header, &far.commit, far.validators).unwrap();
    assert_eq!(next.validators, set_of(&new));
}

#[test]
fn skip_attack_by_a_foreign_set_rejected() {
    // A set with no trusted member signs a far header: nothing vouches for it.
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let far = far_header(&validator_keys(70, 4), 50);
    assert_eq!(
        verify_skipping(&trusted, far.header, &far.commit, far.validators),
        Err(VerifyError::InsufficientTrust {
            signed: 0,
            total: 40
        })
    );
}

#[test]
fn skip_attack_with_one_third_of_the_trusted_power_rejected() {
    // 3 of 9 trusted validators (exactly 1/3) join an attacker's set: not more than 1/3.
    let old = validator_keys(10, 9);
    let mut forged = validator_keys(70, 4);
    forged.extend_from_slice(&old[..3]);
    let trusted = checkpoint(&old);
    let far = far_header(&forged, 50);
    assert!(matches!(
        verify_skipping(&trusted, far.header, &far.commit, far.validators),
        Err(VerifyError::InsufficientTrust { signed: 30, .. })
    ));
}

#[test]
fn skip_with_a_weak_commit_rejected() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let mut far = far_header(&keys, 50);
    far.commit.signatures.truncate(2);
    assert!(matches!(
        verify_skipping(&trusted, far.header, &far.commit, far.validators),
        Err(VerifyError::InsufficientPower { .. })
    ));
}

#[test]
fn skip_backwards_rejected() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let old = far_header(&keys, 1);
    assert_eq!(
        verify_skipping(&trusted, old.header, &old.commit, old.validators),
        Err(VerifyError::NotNewer { trusted: 1, got: 1 })
    );
}

#[test]
fn skip_to_the_successor_checks_its_parent() {
    let keys = validator_keys(10, 4);
    let trusted = checkpoint(&keys);
    let next = far_header(&keys, 2); // parent is not the trusted header
    assert!(matches!(
        verify_skipping(&trusted, next.header, &next.commit, next.validators),
        Err(VerifyError::WrongParent { .. })
    ));
}
