//! The market's proofs in the browser: the parameters, the closed intervals' records, a
//! cleared interval recomputed from every shard's proven book, and trade events.

use joule_light_client::api::{EventItem, IntervalResponse, IntervalsPage, MarketResponse};
use joule_light_client::event::{Event, Trade};
use joule_light_client::market::{
    book_key, interval_key, params_key, verify_clearing, Book, IntervalRecord, MarketParams,
};
use joule_light_client::{ProvenBlock, ProvenEvent, ProvenObject};

use super::contradicts;

/// A parameters object in `block` under `key` (the proof the answer gave, `at`), equal to
/// what the answer claimed beside it.
fn prove_params<T: joule_light_client::object::Object + Copy + PartialEq>(
    block: &ProvenBlock,
    key: &joule_light_client::object::StateKey,
    at: Option<&joule_light_client::api::ObjectProofAt>,
    claimed: &T,
    what: &'static str,
) -> Result<T, String> {
    let at = at.ok_or("no block yet")?;
    let proven = ProvenObject::<T>::verify(block, key, &at.proof).map_err(|e| e.to_string())?;
    let params = *proven
        .value()
        .ok_or_else(|| format!("the proof shows no {what}"))?;
    if params != *claimed {
        return Err(contradicts(what, "the answer's", "the proven ones"));
    }
    Ok(params)
}

/// The market's parameters in `block` (the one `answer.proof` names), equal to the answer's.
pub fn prove_market_params(
    block: &ProvenBlock,
    answer: &MarketResponse,
) -> Result<MarketParams, String> {
    prove_params(
        block,
        &params_key(),
        answer.proof.as_ref(),
        &answer.params,
        "market parameters",
    )
}

/// Each record of a page of closed intervals, proven in `block` (the page's height) under its
/// interval's key; a record that does not verify is its error.
pub fn prove_records(
    block: &ProvenBlock,
    page: &IntervalsPage,
) -> Vec<Result<IntervalRecord, String>> {
    page.intervals
        .iter()
        .map(|item| {
            let proven = ProvenObject::<IntervalRecord>::verify(
                block,
                &interval_key(item.interval),
                &item.proof,
            )
            .map_err(|e| e.to_string())?;
            match proven.value() {
                Some(r) if *r == item.record => Ok(r.clone()),
                Some(r) => Err(contradicts(
                    "interval record",
                    item.record.clearing.as_ref().map_or(0, |c| c.price),
                    r.clearing.as_ref().map_or(0, |c| c.price),
                )),
                None => Err("the proof shows no record for this interval".into()),
            }
        })
        .collect()
}

/// A cleared interval as this browser recomputed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recomputed {
    /// The record, proven.
    pub record: IntervalRecord,
    /// Every shard's book, proven in the same block, in shard order.
    pub books: Vec<Book>,
}

/// The record of `interval` (the one the user asked for) and every shard's book, proven in
/// `block`, and the clearing recomputed from the books: it must equal the record's.
/// `Ok(None)`: the proofs show the interval has no record yet (its gate has not passed).
pub fn prove_interval(
    block: &ProvenBlock,
    interval: u64,
    answer: &IntervalResponse,
) -> Result<Option<Recomputed>, String> {
    if answer.interval != interval {
        return Err(contradicts("interval", answer.interval, interval));
    }
    let record = ProvenObject::<IntervalRecord>::verify(
        block,
        &interval_key(interval),
        &answer.record_proof,
    )
    .map_err(|e| e.to_string())?;
    let Some(record) = record.value().cloned() else {
        return match answer.record {
            Some(_) => Err("the answer shows a record its proof does not".into()),
            None => Ok(None),
        };
    };
    if answer.record.as_ref() != Some(&record) {
        return Err(contradicts(
            "interval record",
            "another record",
            "the proven one",
        ));
    }
    if answer.book_proofs.len() != usize::from(record.shards) {
        return Err(contradicts(
            "number of shard books",
            answer.book_proofs.len(),
            record.shards,
        ));
    }
    let books = (0..record.shards)
        .zip(&answer.book_proofs)
        .map(|(shard, proof)| {
            let proven = ProvenObject::<Book>::verify(block, &book_key(shard, interval), proof)
                .map_err(|e| e.to_string())?;
            // A shard with no orders has no book: an empty curve.
            Ok(proven.value().cloned().unwrap_or(Book {
                interval,
                shard,
                curve: Default::default(),
            }))
        })
        .collect::<Result<Vec<_>, String>>()?;
    verify_clearing(&record, &books).map_err(|e| e.to_string())?;
    Ok(Some(Recomputed { record, books }))
}

/// A trade event proven in `block`'s shard header's events root, equal to the answer's.
pub fn prove_trade(block: &ProvenBlock, item: &EventItem) -> Result<Trade, String> {
    if block.height() != item.height {
        return Err(contradicts("event's block", item.height, block.height()));
    }
    let proven = ProvenEvent::verify(block, item.shard, &item.event, &item.proof)
        .map_err(|e| e.to_string())?;
    let Event::Trade(t) = *proven.event();
    Ok(t)
}

/// Each of `owner`'s objects in a listing, proven in `block` (the listing's height) and
/// checked to be `owner`'s by `is_owners`; one that does not verify is its error. (The list
/// itself is not proven complete: the node could leave one out.)
pub fn prove_owned<T: joule_light_client::object::Object + Clone>(
    block: &ProvenBlock,
    listing: &joule_light_client::api::OwnedObjects,
    is_owners: impl Fn(&T) -> bool,
) -> Vec<Result<(joule_light_client::object::StateKey, T), String>> {
    listing
        .objects
        .iter()
        .map(|o| {
            let proven =
                ProvenObject::<T>::verify(block, &o.key, &o.proof).map_err(|e| e.to_string())?;
            match proven.value() {
                Some(v) if is_owners(v) => Ok((o.key, v.clone())),
                Some(_) => Err(contradicts("owner", listing.address, "another account")),
                None => Err("the proof shows nothing under this key".into()),
            }
        })
        .collect()
}

/// Governance's parameters in `block` (the one `answer.proof` names), equal to the answer's.
pub fn prove_gov_params(
    block: &ProvenBlock,
    answer: &joule_light_client::api::GovernanceResponse,
) -> Result<joule_light_client::dao::GovParams, String> {
    prove_params(
        block,
        &joule_light_client::dao::gov_params_key(),
        answer.proof.as_ref(),
        &answer.params,
        "governance parameters",
    )
}
