//! `joule bench clear`: one interval's market work at its scheduled heights — the gate (every
//! shard's book read and turned into a curve, the community's clearing, each order's fill and
//! spare escrow) and settlement (deliveries from the meters' readings, payments, fees, orders
//! deleted) — for `orders` orders spread over the shards, on the executor's thread pool.

use std::time::Instant;

use joule_light_client::market::{meter_key, order_key, Meter, MeterKind, Order, Side};
use joule_light_client::object::StateKey;
use joule_light_client::{Account, Address, Encode, Hash};
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::{filler_address, median};
use crate::chain::market::system_steps;
use crate::chain::vm::MarketContext;
use crate::chain::ShardState;
use joule_light_client::dao::GovParams;

/// What to run.
#[derive(Debug, Clone)]
pub struct ClearBenchOptions {
    /// Orders in the interval (half offers, half bids), over all shards.
    pub orders: usize,
    /// Shards.
    pub shards: u16,
    /// Runs (median reported).
    pub reps: usize,
    /// Threads.
    pub threads: usize,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct ClearRow {
    /// Orders in the interval.
    pub orders: usize,
    /// Shards.
    pub shards: u16,
    /// Threads.
    pub threads: usize,
    /// The gate's step (books, clearing, fills, escrow), median ms.
    pub gate_ms: f64,
    /// Settlement, median ms.
    pub settle_ms: f64,
    /// The clearing price found, token units per Wh.
    pub price: Option<u64>,
    /// Wh matched.
    pub volume_wh: u64,
}

/// The shards holding `orders` open orders for interval 1 (each owner with its meter), and,
/// for settlement, the same after the gate with every meter's reading in.
fn shards_with_orders(orders: usize, shards: u16, seed: u64) -> Vec<ShardState> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut per_shard: Vec<Vec<(StateKey, Vec<u8>)>> = vec![Vec::new(); usize::from(shards)];
    let mut accounts: Vec<Vec<(Address, Account)>> = vec![Vec::new(); usize::from(shards)];
    for i in 0..orders {
        let owner = filler_address(i as u64);
        let s = usize::from(owner.shard(shards));
        let ask = i % 2 == 0;
        // Prices on the grid around 0.10 JOULE/kWh, offers a little under, bids a little over.
        let price = if ask { 90_000 } else { 95_000 } + rng.gen_range(0..30) * 1_000;
        let qty_wh = rng.gen_range(1..2_000);
        let order = Order {
            owner,
            interval: 1,
            side: if ask { Side::Ask } else { Side::Bid },
            price,
            qty_wh,
            meter: ask.then_some(owner),
            escrow: if ask { 0 } else { price * qty_wh * 2 },
            filled_wh: 0,
        };
        per_shard[s].push((order_key(&owner, &Hash([7; 32])), order.encode()));
        if ask {
            let meter = Meter {
                owner,
                kind: MeterKind::Solar,
                capacity_w: 10_000_000,
                next_interval: 2,
                produced_wh: 0,
                consumed_wh: 0,
                last_produced_wh: rng.gen_range(0..2_000),
            };
            per_shard[s].push((meter_key(&owner), meter.encode()));
        }
        accounts[s].push((owner, Account::default()));
    }
    per_shard
        .into_iter()
        .zip(accounts)
        .map(|(mut objects, mut accounts)| {
            objects.sort_unstable_by_key(|(k, _)| *k);
            accounts.sort_unstable_by_key(|(a, _)| *a);
            ShardState::from_parts(&accounts, &objects)
        })
        .collect()
}

/// Applies one block's system writes to the shards (credits as balances, objects as written).
fn apply(shards: &mut [ShardState], writes: &[crate::chain::market::SystemWrites]) {
    for (state, w) in shards.iter_mut().zip(writes) {
        let mut credited: std::collections::BTreeMap<Address, Account> = Default::default();
        for (a, v) in &w.credits {
            let acc = credited.entry(*a).or_insert_with(|| state.get(a));
            acc.balance += v;
        }
        let accounts: Vec<(Address, Account)> = credited.into_iter().collect();
        state.apply(&accounts, &w.objects);
    }
}

/// Runs the benchmark on a pool of `opts.threads` threads.
pub fn run_clear(opts: &ClearBenchOptions) -> ClearRow {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .expect("a thread pool");
    let market = MarketContext::default();
    let gate = market.params.gate(1).expect("interval 1 has a gate");
    let deadline = market.params.deadline(1).expect("and a deadline");
    let mut gate_ms = Vec::new();
    let mut settle_ms = Vec::new();
    let (mut price, mut volume_wh) = (None, 0);
    for rep in 0..opts.reps.max(1) {
        let mut shards = shards_with_orders(opts.orders, opts.shards, rep as u64);
        let t = Instant::now();
        let closed = pool.install(|| system_steps(&shards, &market, &GovParams::DEVNET, gate));
        gate_ms.push(t.elapsed().as_secs_f64() * 1e3);
        apply(&mut shards, &closed);
        let record = shards[0]
            .object(&joule_light_client::market::interval_key(1))
            .and_then(|b| {
                joule_light_client::codec::decode_exact::<
                        joule_light_client::market::IntervalRecord,
                    >(b)
                    .ok()
            });
        if let Some(c) = record.and_then(|r| r.clearing) {
            (price, volume_wh) = (Some(c.price), c.volume_wh);
        }
        let t = Instant::now();
        let settled = pool.install(|| system_steps(&shards, &market, &GovParams::DEVNET, deadline));
        settle_ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(settled);
    }
    ClearRow {
        orders: opts.orders,
        shards: opts.shards,
        threads: opts.threads,
        gate_ms: median(gate_ms),
        settle_ms: median(settle_ms),
        price,
        volume_wh,
    }
}

/// The rows as a table.
pub fn table(rows: &[ClearRow]) -> String {
    let mut out = String::from(
        "  orders  shards  threads   gate (ms)   settle (ms)   price (units/Wh)   volume (Wh)\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:>8}  {:>6}  {:>7}   {:>9.2}   {:>11.2}   {:>16}   {:>11}\n",
            r.orders,
            r.shards,
            r.threads,
            r.gate_ms,
            r.settle_ms,
            r.price.map_or("-".to_owned(), |p| p.to_string()),
            r.volume_wh
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_clears_and_settles() {
        let row = run_clear(&ClearBenchOptions {
            orders: 400,
            shards: 4,
            reps: 1,
            threads: 2,
        });
        assert!(row.price.is_some() && row.volume_wh > 0, "{row:?}");
        assert!(table(&[row]).contains("400"));
    }
}
