//! The market's forgeries: an interval's record and books proven in a block built here (two
//! shards, real signatures), and each way a node could misstate a clearing refused.

use joule_light_client::api::IntervalResponse;
use joule_light_client::market::{
    book_key, clear, interval_key, Book, BookOrder, Curve, IntervalRecord, Side,
};
use joule_light_client::object::{objects_root, prove_object, StateKey};
use joule_light_client::{Encode, Hash};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

const INTERVAL: u64 = 5;

fn order(side: Side, price: u64, qty_wh: u64, id: u8) -> BookOrder {
    BookOrder {
        id: Hash([id; 32]),
        side,
        price,
        qty_wh,
    }
}

fn books() -> Vec<Book> {
    let curves = [
        Curve::of(&[
            order(Side::Bid, 200_000, 100, 1),
            order(Side::Ask, 100_000, 50, 2),
        ]),
        Curve::of(&[order(Side::Ask, 150_000, 80, 3)]),
    ];
    curves
        .into_iter()
        .enumerate()
        .map(|(s, curve)| Book {
            interval: INTERVAL,
            shard: s as u16,
            curve,
        })
        .collect()
}

fn honest_record() -> IntervalRecord {
    let curves: Vec<Curve> = books().into_iter().map(|b| b.curve).collect();
    IntervalRecord {
        interval: INTERVAL,
        gate_height: 1,
        shards: SHARDS,
        clearing: clear(&curves).unwrap(),
        settlement: None,
    }
}

/// Block 1 with `record` and the books in its shards' object trees, the trust that verifies
/// it, and the node's answer for the interval.
fn market_block(record: &IntervalRecord) -> (Trust, BlockResponse, IntervalResponse) {
    let base = chain();
    let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
    let set = base.trust.sets[0].clone();
    let books = books();
    let mut trees: Vec<Vec<(StateKey, Vec<u8>)>> = vec![Vec::new(); usize::from(SHARDS)];
    trees[0].push((interval_key(INTERVAL), record.encode()));
    for b in &books {
        trees[usize::from(b.shard)].push((book_key(b.shard, INTERVAL), b.encode()));
    }
    let shards = trees
        .iter_mut()
        .enumerate()
        .map(|(s, objects)| {
            objects.sort_unstable_by_key(|(k, _)| *k);
            ShardHeader {
                objects_root: objects_root(objects),
                ..empty_shard(s as u16, 1)
            }
        })
        .collect();
    let b1 = block(&keys, &set, 1, base.trust.genesis.hash(), shards);
    let answer = IntervalResponse {
        interval: INTERVAL,
        start_height: Some(100),
        gate_height: Some(96),
        deadline_height: Some(130),
        height: 1,
        record: Some(record.clone()),
        books: books.clone(),
        record_proof: prove_object(&trees[0], &interval_key(INTERVAL)),
        book_proofs: books
            .iter()
            .map(|b| prove_object(&trees[usize::from(b.shard)], &book_key(b.shard, INTERVAL)))
            .collect(),
    };
    let trust = Trust {
        head_height: 1,
        ..base.trust
    };
    (trust, b1, answer)
}

fn check(
    trust: &Trust,
    b: &BlockResponse,
    asked: u64,
    a: &IntervalResponse,
) -> Result<Option<Recomputed>, String> {
    let block = prove_block(trust, b)?;
    prove_interval(&block, asked, a)
}

#[test]
fn an_honest_interval_is_recomputed_from_its_proven_books() {
    let record = honest_record();
    let (trust, b1, answer) = market_block(&record);
    let r = check(&trust, &b1, INTERVAL, &answer).unwrap().unwrap();
    assert_eq!(r.record, record);
    assert_eq!(r.books, books());
    let c = record.clearing.unwrap();
    // 100 Wh bid at 0.2; 50 offered at 0.1 and 80 at 0.15: 100 Wh cross.
    assert_eq!(c.volume_wh, 100);
}

#[test]
fn altered_clearing_price_beside_the_proof_is_refused() {
    let (trust, b1, mut answer) = market_block(&honest_record());
    if let Some(c) = answer.record.as_mut().and_then(|r| r.clearing.as_mut()) {
        c.price += 1_000;
    }
    let e = check(&trust, &b1, INTERVAL, &answer).unwrap_err();
    assert!(e.contains("interval record"), "{e}");
}

#[test]
fn a_committed_clearing_the_books_do_not_clear_to_is_refused() {
    // Validators that signed a record with another price: every proof verifies, and the
    // browser's own clearing of the proven books disagrees.
    let mut record = honest_record();
    record.clearing.as_mut().unwrap().price += 1_000;
    let (trust, b1, answer) = market_block(&record);
    let e = check(&trust, &b1, INTERVAL, &answer).unwrap_err();
    assert!(e.contains("not what its books clear to"), "{e}");
}

#[test]
fn dropped_shard_book_is_refused() {
    let (trust, b1, mut answer) = market_block(&honest_record());
    answer.book_proofs.pop();
    let e = check(&trust, &b1, INTERVAL, &answer).unwrap_err();
    assert!(e.contains("number of shard books"), "{e}");
    // Another shard's book in its place does not verify under this shard's key either.
    let (_, _, honest) = market_block(&honest_record());
    answer.book_proofs.push(honest.book_proofs[0].clone());
    assert!(check(&trust, &b1, INTERVAL, &answer).is_err());
}

#[test]
fn another_intervals_answer_is_refused() {
    let (trust, b1, answer) = market_block(&honest_record());
    let e = check(&trust, &b1, INTERVAL + 1, &answer).unwrap_err();
    assert!(e.contains("interval"), "{e}");
}
