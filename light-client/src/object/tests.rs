//! The object tree against its reference, and one named test per forged proof.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::smt::node_hash;

/// A stand-in object: a counter kept under meter keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counter(u64);

impl Encode for Counter {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for Counter {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Counter(r.u64()?))
    }
}

impl Object for Counter {
    const KIND: ObjectKind = ObjectKind::Meter;
}

fn owner(i: u64) -> Address {
    let h = blake3::hash(&i.to_le_bytes());
    Address(h.as_bytes()[..20].try_into().unwrap())
}

/// `n` counters, two per owner (so keys share their first 72 bits in pairs), sorted.
fn objects(n: u64) -> Vec<(StateKey, Vec<u8>)> {
    let mut v: Vec<(StateKey, Vec<u8>)> = (0..n)
        .map(|i| {
            let key = StateKey::new(&owner(i / 2), ObjectKind::Meter, &i.to_le_bytes());
            (key, Counter(i * 3).encode())
        })
        .collect();
    v.sort_unstable_by_key(|(k, _)| *k);
    v
}

#[test]
fn keys_name_their_kind_and_live_on_their_owners_shard() {
    let a = owner(7);
    let k = StateKey::new(&a, ObjectKind::Order, b"tx id");
    assert_eq!(k.kind(), Some(ObjectKind::Order));
    assert_eq!(&k.0[..8], &a.0[..8]);
    for shards in 1..=8 {
        assert_eq!(k.shard(shards), a.shard(shards));
    }
    assert_ne!(k, StateKey::new(&a, ObjectKind::Meter, b"tx id"));
    assert_eq!(StateKey::system(3, ObjectKind::Params, b"").shard(4), 3);
    assert_eq!(ObjectKind::from_u8(0), None);
    assert_eq!(ObjectKind::from_u8(15), None);
    assert_eq!(ObjectKind::from_u8(13), Some(ObjectKind::Tally));
    assert_eq!(ObjectKind::from_u8(6), Some(ObjectKind::Book));
    assert_eq!(ObjectKind::from_u8(9), Some(ObjectKind::GovParams));
}

#[test]
fn key_and_leaf_golden_vectors() {
    let k = StateKey::new(&Address([1; 20]), ObjectKind::Meter, b"meter");
    assert_eq!(
        k.to_string(),
        "010101010101010101d4e61b9a93b623acb6fd9101d0fee72df49c032d5b1e45"
    );
    assert_eq!(
        object_leaf_hash(&k, &Counter(5).encode()).to_hex(),
        "9df9379733243f121afc3f8aaf54bc3ecf7c560f7c7c1b97729f57135d6c65aa"
    );
}

#[test]
fn inclusion_and_absence_verify_against_the_reference_root() {
    assert_eq!(objects_root(&[]), EMPTY);
    let all = objects(300);
    let root = objects_root(&all);
    for (k, v) in all.iter().step_by(13) {
        let p = prove_object(&all, k);
        let want = codec::decode_exact::<Counter>(v).unwrap();
        assert_eq!(p.proven::<Counter>(&root, k), Ok(Some(want)));
        // An owner's two keys share 72 bits (home and kind), then about log2(n) more.
        assert!(p.siblings.len() < 72 + 24, "log-sized proof");
    }
    for i in 0..40 {
        let missing = StateKey::new(&owner(i), ObjectKind::Meter, b"never written");
        let p = prove_object(&all, &missing);
        assert_eq!(p.proven::<Counter>(&root, &missing), Ok(None));
    }
}

#[test]
fn a_deleted_object_is_proven_absent_and_the_root_is_as_if_never_written() {
    let all = objects(64);
    let gone = all[17].0;
    let rest: Vec<_> = all.iter().filter(|(k, _)| *k != gone).cloned().collect();
    let root = objects_root(&rest);
    assert_ne!(root, objects_root(&all));
    let p = prove_object(&rest, &gone);
    assert_eq!(p.proven::<Counter>(&root, &gone), Ok(None));
}

#[test]
fn another_kinds_value() {
    let all = objects(50);
    let root = objects_root(&all);
    let (k, _) = &all[3];
    // The same bytes asked for as an order: the key's kind says meter.
    #[derive(Debug, PartialEq)]
    struct Order(u64);
    impl Encode for Order {
        fn encode_to(&self, out: &mut Vec<u8>) {
            self.0.encode_to(out);
        }
    }
    impl Decode for Order {
        fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
            Ok(Order(r.u64()?))
        }
    }
    impl Object for Order {
        const KIND: ObjectKind = ObjectKind::Order;
    }
    let p = prove_object(&all, k);
    assert_eq!(
        p.proven::<Order>(&root, k),
        Err(ObjectProofError::WrongKind {
            wanted: ObjectKind::Order,
            found: ObjectKind::Meter as u8
        })
    );
    // A key relabelled as an order is another key: its path leads elsewhere.
    let mut relabelled = *k;
    relabelled.0[8] = ObjectKind::Order as u8;
    let mut forged = p;
    forged.leaf = Some((relabelled, all[3].1.clone()));
    assert!(forged.proven::<Order>(&root, &relabelled).is_err());
}

#[test]
fn inflated_object() {
    let all = objects(50);
    let root = objects_root(&all);
    let (k, _) = &all[9];
    let mut p = prove_object(&all, k);
    p.leaf = Some((*k, Counter(1_000_000).encode()));
    assert_eq!(
        p.proven::<Counter>(&root, k),
        Err(ObjectProofError::RootMismatch)
    );
}

#[test]
fn live_object_claimed_absent() {
    let all = objects(50);
    let root = objects_root(&all);
    let (k, _) = &all[21];
    let honest = prove_object(&all, k);
    // The leaf left out: the path ends in "empty", which does not fold to the root.
    let mut p = honest.clone();
    p.leaf = None;
    assert_eq!(
        p.proven::<Counter>(&root, k),
        Err(ObjectProofError::RootMismatch)
    );
    // Another object's leaf put in its place, off the key's path.
    let mut p = honest;
    p.leaf = Some(all[40].clone());
    assert!(matches!(
        p.proven::<Counter>(&root, k),
        Err(ObjectProofError::LeafOffPath | ObjectProofError::RootMismatch)
    ));
}

#[test]
fn tampered_sibling_and_too_deep_proofs() {
    let all = objects(50);
    let root = objects_root(&all);
    let (k, _) = &all[5];
    let mut p = prove_object(&all, k);
    p.siblings[0] = node_hash(&p.siblings[0], &EMPTY);
    assert_eq!(
        p.proven::<Counter>(&root, k),
        Err(ObjectProofError::RootMismatch)
    );
    let mut deep = prove_object(&all, k);
    deep.siblings = vec![EMPTY; KEY_BITS + 1];
    assert_eq!(
        deep.proven::<Counter>(&root, k),
        Err(ObjectProofError::TooDeep(KEY_BITS + 1))
    );
}

#[test]
fn keys_sharing_a_long_prefix_prove_at_depth() {
    let mut base = StateKey([0xab; 32]);
    base.0[8] = ObjectKind::Meter as u8;
    let mut near = base;
    near.0[31] ^= 1; // differs only in the last bit
    let mut all = vec![(base, Counter(1).encode()), (near, Counter(2).encode())];
    all.sort_unstable_by_key(|(k, _)| *k);
    let root = objects_root(&all);
    for (k, v) in &all {
        let p = prove_object(&all, k);
        assert_eq!(p.siblings.len(), KEY_BITS);
        assert_eq!(
            p.proven::<Counter>(&root, k),
            Ok(Some(codec::decode_exact(v).unwrap()))
        );
        let bytes = p.encode();
        assert_eq!(codec::decode_exact::<ObjectProof>(&bytes), Ok(p.clone()));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ObjectProof>(&json).unwrap(), p);
    }
}

#[test]
fn oversized_and_overdeep_encodings_are_refused() {
    let mut deep = (KEY_BITS as u16 + 1).to_le_bytes().to_vec();
    deep.extend(std::iter::repeat_n(0u8, (KEY_BITS + 1) * 32 + 1));
    assert!(codec::decode_exact::<ObjectProof>(&deep).is_err());
    let mut big = 0u16.to_le_bytes().to_vec();
    big.push(1);
    big.extend_from_slice(&[0; 32]);
    big.extend_from_slice(&(MAX_VALUE_BYTES as u32 + 1).to_le_bytes());
    big.extend(std::iter::repeat_n(0u8, MAX_VALUE_BYTES + 1));
    assert!(codec::decode_exact::<ObjectProof>(&big).is_err());
}
