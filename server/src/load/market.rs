//! `joule load --workload market`: drives the energy market of a running node from outside —
//! prosumers' meters registered (each funded for its own fees), offers and bids placed every
//! interval before its gate, readings sent once each interval has ended — and reports what
//! the chain made of it: intervals cleared and settled, with their price and volume.
//!
//! Prosumers are devnet accounts (their keys are well known), each with the devnet's meter for
//! it ([`devnet::meter_key`], [`devnet::meter_kind`]): half produce (solar or wind) and offer
//! what they expect to export, half only consume and bid for it. The first
//! [`devnet::DEVNET_METERS`] meters are registered at genesis; the others are funded and
//! registered by the first run. A run can be repeated: meters already registered are used as
//! they are.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use joule_light_client::api::{
    AccountResponse, ChainInfo, IntervalResponse, MarketResponse, ObjectResponse,
};
use joule_light_client::market::{meter_key, Side};
use joule_light_client::transaction::meter_pop_message;
use joule_light_client::{Address, Payload, SecretKey, Transaction};
use rand::{Rng, SeedableRng};

use super::{Client, LoadError};
use crate::devnet::{self, DEVNET_ACCOUNTS};

/// Rated power of the workload's meters, W.
const CAPACITY_W: u64 = devnet::DEVNET_METER_CAPACITY_W;

/// Around 0.10 JOULE/kWh, in token units per Wh.
const REFERENCE_PRICE: u64 = 100_000;

/// What the market run did.
#[derive(Debug, Clone, Default)]
pub struct MarketReport {
    /// Meters registered by this run (others were already).
    pub meters_registered: u64,
    /// Offers and bids sent.
    pub orders: u64,
    /// Readings sent.
    pub readings: u64,
    /// Refused at admission, by code.
    pub rejected: BTreeMap<String, u64>,
    /// Intervals traded in: (interval, price, volume Wh, delivered Wh once settled).
    pub intervals: Vec<(u64, Option<u64>, u64, Option<u64>)>,
    /// The community treasury's balance at the end (market fees), token units.
    pub treasury: u64,
}

impl fmt::Display for MarketReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "meters registered {}", self.meters_registered)?;
        writeln!(f, "orders sent       {}", self.orders)?;
        writeln!(f, "readings sent     {}", self.readings)?;
        for (code, n) in &self.rejected {
            writeln!(f, "rejected          {n} ({code})")?;
        }
        writeln!(
            f,
            "interval   price (JOULE/kWh)   volume (Wh)   delivered (Wh)"
        )?;
        for (i, price, volume, delivered) in &self.intervals {
            let price = price.map_or("no cross".to_owned(), |p| {
                joule_light_client::units::format_amount(p * 1_000)
            });
            let delivered = delivered.map_or("not yet settled".to_owned(), |d| d.to_string());
            writeln!(f, "{i:>8}   {price:>17}   {volume:>11}   {delivered:>14}")?;
        }
        write!(
            f,
            "treasury          {} JOULE in market fees",
            joule_light_client::units::format_amount(self.treasury)
        )
    }
}

/// One prosumer: a devnet account and its meter.
struct Prosumer {
    key: SecretKey,
    address: Address,
    meter: SecretKey,
    producer: bool,
    nonce: u64,
    meter_nonce: u64,
}

/// Runs the market for `duration_s` seconds with `prosumers` devnet accounts, then waits for
/// the intervals it traded in to settle (bounded) and reports them.
pub fn run(url: &str, prosumers: u32, duration_s: u64) -> Result<MarketReport, LoadError> {
    if !(2..=DEVNET_ACCOUNTS).contains(&prosumers) {
        return Err(LoadError::Options(format!(
            "--senders must be 2..={DEVNET_ACCOUNTS} for the market workload"
        )));
    }
    let client = Client::new(url);
    let chain: ChainInfo = client.get("/chain")?;
    let (chain_id, fee, shards) = (
        chain.genesis.chain_id.clone(),
        chain.genesis.min_fee,
        chain.genesis.shard_count,
    );
    let mut people: Vec<Prosumer> = (0..prosumers)
        .map(|i| {
            let key = devnet::account_key(i);
            let address = Address::from_public_key(&key.public_key());
            let meter = devnet::meter_key(i, shards);
            Prosumer {
                key,
                address,
                meter,
                producer: devnet::meter_kind(i).produces(),
                nonce: 0,
                meter_nonce: 0,
            }
        })
        .collect();
    let mut report = MarketReport::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(duration_s ^ u64::from(prosumers));
    let sign = |key: &SecretKey, nonce: u64, payload: Payload| {
        Transaction {
            chain_id: chain_id.clone(),
            sender: key.public_key(),
            nonce,
            max_fee: fee,
            payload,
        }
        .sign(key)
    };
    let nonce_of = |a: &Address| -> Result<u64, LoadError> {
        Ok(client
            .get::<AccountResponse>(&format!("/accounts/{a}?limit=1"))?
            .next_nonce)
    };
    let submit = |txs: Vec<joule_light_client::SignedTransaction>, report: &mut MarketReport| {
        client
            .submit_all(&txs, &mut report.rejected)
            .map(|ids| ids.len())
    };

    // Set-up: each meter funded for its fees and registered, once.
    let mut setup = Vec::new();
    for (i, p) in (0u32..).zip(&mut people) {
        p.nonce = nonce_of(&p.address)?;
        let meter_address = Address::from_public_key(&p.meter.public_key());
        let known: ObjectResponse = client.get(&format!("/state/{}", meter_key(&meter_address)))?;
        if known.value.is_some() {
            continue;
        }
        let kind = devnet::meter_kind(i);
        let message = meter_pop_message(
            &chain_id,
            &p.address,
            &p.meter.public_key(),
            kind,
            CAPACITY_W,
        );
        setup.push(sign(
            &p.key,
            p.nonce,
            Payload::Transfer {
                to: meter_address,
                amount: 1_000_000_000,
            },
        ));
        setup.push(sign(
            &p.key,
            p.nonce + 1,
            Payload::RegisterMeter {
                meter: p.meter.public_key(),
                kind,
                capacity_w: CAPACITY_W,
                pop: p.meter.sign(message.as_bytes()),
            },
        ));
        p.nonce += 2;
        report.meters_registered += 1;
    }
    submit(setup, &mut report)?;

    // Each round: orders for the first open interval (once per interval), readings for the
    // interval that ended last (once).
    let started = Instant::now();
    let mut ordered: BTreeSet<u64> = BTreeSet::new();
    let mut read: BTreeSet<u64> = BTreeSet::new();
    let mut meter_nonces_known = false;
    // Orders while the run lasts; then readings until the last interval ordered for is read
    // (bounded: a stalled chain ends the run).
    let give_up = Duration::from_secs(duration_s + 120);
    loop {
        let ordering = started.elapsed() < Duration::from_secs(duration_s);
        let all_read = ordered.last().is_none_or(|last| read.last() >= Some(last));
        if (!ordering && all_read) || started.elapsed() > give_up {
            break;
        }
        let m: MarketResponse = client.get("/market")?;
        let p = m.params;
        // Interval length in ms: what a meter can deliver in one.
        let interval_ms = u64::from(p.interval_blocks) * chain.genesis.block_interval_ms;
        let max_wh = CAPACITY_W * interval_ms / 3_600_000;
        let target = m.open_interval;
        if ordering && m.blocks_to_gate > 1 && ordered.insert(target) {
            let mut txs = Vec::new();
            for person in &mut people {
                let qty = rng.gen_range(1..=max_wh.max(1));
                // Producers ask a little under the reference, consumers bid a little over:
                // most intervals cross. Prices on the grid (three significant digits).
                let step = rng.gen_range(0..20) * 1_000;
                let (side, price, meter) = if person.producer {
                    let meter = Address::from_public_key(&person.meter.public_key());
                    (Side::Ask, REFERENCE_PRICE - 10_000 + step, Some(meter))
                } else {
                    (Side::Bid, REFERENCE_PRICE - 5_000 + step, None)
                };
                txs.push(sign(
                    &person.key,
                    person.nonce,
                    Payload::PlaceOrder {
                        interval: target,
                        side,
                        price,
                        qty_wh: qty,
                        meter,
                    },
                ));
                person.nonce += 1;
            }
            report.orders += submit(txs, &mut report)? as u64;
            report.intervals.push((target, None, 0, None));
        }
        // Readings for the interval that ended, while its window is open.
        if let Some(delivering) = m.delivering {
            let ended = delivering.saturating_sub(1);
            let window_open = p.reading_window(ended, m.height + 1).is_ok();
            // Only intervals this run ordered for: a meter registered during one has nothing
            // to report for the one before.
            let traded = ordered.first().is_some_and(|first| ended >= *first);
            if traded && window_open && read.insert(ended) {
                if !meter_nonces_known {
                    for person in &mut people {
                        let a = Address::from_public_key(&person.meter.public_key());
                        person.meter_nonce = nonce_of(&a)?;
                    }
                    meter_nonces_known = true;
                }
                let mut txs = Vec::new();
                for person in &mut people {
                    let produced = if person.producer {
                        rng.gen_range(0..=max_wh)
                    } else {
                        0
                    };
                    txs.push(sign(
                        &person.meter,
                        person.meter_nonce,
                        Payload::Reading {
                            interval: ended,
                            produced_wh: produced,
                            consumed_wh: rng.gen_range(0..=max_wh),
                        },
                    ));
                    person.meter_nonce += 1;
                }
                report.readings += submit(txs, &mut report)? as u64;
            }
        }
        std::thread::sleep(Duration::from_millis(
            chain.genesis.block_interval_ms.max(100),
        ));
    }

    // Wait (bounded) for the intervals traded in to settle, then report them.
    let wait_until = Instant::now() + Duration::from_secs(60);
    loop {
        let mut all_settled = true;
        for entry in &mut report.intervals {
            let r: IntervalResponse = client.get(&format!("/market/intervals/{}", entry.0))?;
            if let Some(rec) = r.record {
                entry.1 = rec.clearing.as_ref().map(|c| c.price);
                entry.2 = rec.clearing.as_ref().map_or(0, |c| c.volume_wh);
                entry.3 = rec.settlement.map(|s| s.delivered_wh);
            }
            all_settled &= entry.3.is_some();
        }
        if all_settled || Instant::now() > wait_until {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let t = joule_light_client::market::treasury();
    report.treasury = client
        .get::<AccountResponse>(&format!("/accounts/{t}?limit=1"))?
        .account
        .balance;
    Ok(report)
}
