//! `joule bench e2e`: the node's whole path for blocks of signed transfers (or of the market's
//! orders and meters' readings, or a mix) — batch signature verification and admission, then
//! block production (parallel execution, state-tree update, validator signatures, the redb
//! commit) — against, in the same run, the machine's raw batch signature-verification rate on
//! all cores: the floor the pipeline cannot beat.
//!
//! Market workloads run on a chain whose intervals are 100 blocks long, with a 100-block reading
//! window: the node first makes about 100 empty blocks, so every measured block lies in
//! interval 1's reading window and interval 3's book is open. Each sender has meters registered at genesis,
//! one per reading it will send (a meter reads an interval once).

use std::time::Instant;

use joule_light_client::{Address, Domain, Payload, SecretKey, SignedTransaction, Transaction};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::workload::WorkloadKind;
use super::{bench_key, median};
use crate::chain::ParallelExecutor;
use crate::consensus::LocalValidators;
use crate::devnet;
use crate::genesis::GenesisAccount;
use crate::genesis::GenesisMeter;
use crate::node::Node;
use crate::sigverify::verify_signatures;
use joule_light_client::market::{MarketParams, MeterKind, Side};

/// Options of the benchmark.
#[derive(Debug, Clone)]
pub struct E2eBenchOptions {
    /// Transactions per block (each from a different account).
    pub txs: usize,
    /// Blocks measured (the median is reported).
    pub blocks: usize,
    /// Threads of the node's pool.
    pub threads: usize,
    /// Shards of the chain: a block executes one shard block per shard, side by side, and a
    /// transfer to an account of another shard is credited there by a receipt in the next block.
    pub shards: u16,
    /// Funded accounts at genesis (at least `txs`: the senders); transfers go to accounts
    /// drawn from all of them, so a large number spreads each block's writes over a large
    /// state, as on a busy chain.
    pub accounts: usize,
    /// What the blocks hold: transfers; orders and readings (80/20); or transfers, orders and
    /// readings (50/30/20).
    pub workload: WorkloadKind,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct E2eRow {
    /// Threads.
    pub threads: usize,
    /// Shards.
    pub shards: u16,
    /// Transactions per block.
    pub txs_per_block: usize,
    /// Median end-to-end transactions per second (admission + production).
    pub e2e_tx_per_s: f64,
    /// Median raw batch signature verifications per second on the same pool.
    pub raw_verify_per_s: f64,
    /// `e2e_tx_per_s / raw_verify_per_s`.
    pub ratio: f64,
    /// Median milliseconds verifying signatures and admitting to the mempool.
    pub admit_ms: f64,
    /// Median milliseconds producing the block (select, execute, tree, sign, commit).
    pub produce_ms: f64,
    /// Median milliseconds of that spent executing (as the block's metrics report).
    pub exec_ms: f64,
    /// Median milliseconds the background indexer (explorer indexes, off the block's path)
    /// still needed after the block was produced; waited out before the next block.
    pub index_ms: f64,
    /// Sustained transactions per second when admission of the next block overlaps production
    /// of the current one, as in a running node (HTTP handlers admit while the producer
    /// commits), and the indexer runs beside both: all the blocks' transactions over the wall
    /// time of the whole run, until the last block is indexed.
    pub pipelined_tx_per_s: f64,
    /// `pipelined_tx_per_s / raw_verify_per_s`.
    pub pipelined_ratio: f64,
}

fn signed(key: &SecretKey, nonce: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: devnet::DEVNET_CHAIN_ID.into(),
        sender: key.public_key(),
        nonce,
        max_fee: devnet::DEVNET_MIN_FEE,
        payload,
    }
    .sign(key)
}

/// The market workloads' schedule (see the module doc).
const MARKET: MarketParams = MarketParams {
    interval_blocks: 100,
    reading_blocks: 100,
    anchor_interval: 1,
    anchor_height: 5,
    ..MarketParams::DEVNET
};

/// Meter `j` of sender `i`: ground until its address is on the sender's shard.
fn meter_key(i: usize, j: usize, shard: u16, shards: u16) -> SecretKey {
    devnet::key_on_shard(shard, shards, |t| {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
        seed[8..12].copy_from_slice(&(j as u32).to_le_bytes());
        seed[12..16].copy_from_slice(&t.to_le_bytes());
        seed[16..].copy_from_slice(b"joule bench mete");
        seed
    })
}

/// Runs the benchmark in a temporary data directory (removed afterwards).
pub fn run_e2e(opts: &E2eBenchOptions) -> Result<E2eRow, String> {
    if opts.workload == WorkloadKind::Votes {
        return Err("the votes workload runs in `bench exec` only (a live chain's votes need a proposal's start first)".into());
    }
    // One directory per run, also for runs side by side in one process (tests).
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("joule-bench-e2e-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&dir, opts);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &std::path::Path, opts: &E2eBenchOptions) -> Result<E2eRow, String> {
    let n = opts.txs.max(1);
    let keys: Vec<SecretKey> = (0..n as u32).map(bench_key).collect();
    // Senders, then accounts that only receive (no key needed: any address can be paid).
    let addrs: Vec<Address> = keys
        .iter()
        .map(|k| Address::from_public_key(&k.public_key()))
        .chain((n..opts.accounts.max(n)).map(|i| {
            let h = Domain::Address.hash(&(i as u64).to_le_bytes());
            let mut a = [0u8; 20];
            a.copy_from_slice(&h.0[..20]);
            Address(a)
        }))
        .collect();
    let devnet_keys = devnet::DevnetKeys::generate();
    let mut genesis = devnet::genesis(
        &devnet::DevnetOptions {
            shard_count: opts.shards,
            block_interval_ms: 1_000,
            genesis_time_ms: 1,
        },
        &devnet_keys,
    );
    // Room for the whole block in any one shard.
    genesis.max_txs_per_shard_block = n as u32;
    let market = opts.workload != WorkloadKind::Transfer;
    let count = opts.blocks.max(1);
    // A sender reads in one block of five (see `blocks` below), each time with a fresh meter.
    let per_sender = if market { (2 * count).div_ceil(5) } else { 0 };
    let meters: Vec<Vec<SecretKey>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let shard = Address::from_public_key(&k.public_key()).shard(opts.shards);
            (0..per_sender)
                .map(|j| meter_key(i, j, shard, opts.shards))
                .collect()
        })
        .collect();
    // Bids hold their worst case in escrow.
    let balance = if market {
        1_000_000_000_000
    } else {
        1_000_000_000
    };
    genesis
        .accounts
        .extend(addrs.iter().map(|a| GenesisAccount {
            address: *a,
            balance,
        }));
    if market {
        genesis.market = MARKET;
        for (owner, ms) in keys.iter().zip(&meters) {
            for m in ms {
                let address = Address::from_public_key(&m.public_key());
                genesis.meters.push(GenesisMeter {
                    address,
                    owner: Address::from_public_key(&owner.public_key()),
                    kind: MeterKind::Solar,
                    capacity_w: 10_000,
                });
                genesis.accounts.push(GenesisAccount {
                    address,
                    balance: 1_000_000_000,
                });
            }
        }
    }
    genesis.validate().map_err(|e| e.to_string())?;
    let validators = genesis.validators.clone();
    let finalizer =
        LocalValidators::new(devnet_keys.validators, validators).map_err(|e| e.to_string())?;
    let executor = ParallelExecutor::pinned(opts.threads);
    let pool = executor.clone();
    let node = Node::open_with(
        dir,
        genesis,
        Box::new(finalizer),
        Box::new(executor),
        n * 2,
        None,
    )
    .map_err(|e| e.to_string())?;

    if market {
        // Into interval 1's reading window: the next block is interval 2's first.
        let before = MARKET.start(2).expect("on the schedule") - 1;
        while node.chain().height() < before {
            node.produce_block().map_err(|e| e.to_string())?;
        }
    }
    // Sign every block up front: signing is the client's cost, not the node's. The first
    // half is measured block by block, the second pipelined.
    let mut rng = StdRng::seed_from_u64(7);
    let mut nonces = vec![0u64; n];
    let mut blocks: Vec<Vec<SignedTransaction>> = (0..2 * count)
        .map(|b| {
            keys.iter()
                .enumerate()
                .map(|(i, k)| {
                    let to = addrs[rng.gen_range(0..addrs.len())];
                    // Readings: sender i's meters read in blocks i, i + 5, … (mod 5), one
                    // meter each time: a fifth of every market block.
                    if market && (i + b) % 5 == 0 {
                        let meter = &meters[i][b / 5];
                        let reading = Payload::Reading {
                            interval: 1,
                            produced_wh: rng.gen_range(0..200),
                            consumed_wh: rng.gen_range(0..100),
                        };
                        return signed(meter, 0, reading);
                    }
                    let roll = rng.gen_range(0..8);
                    let payload = if !market || (opts.workload == WorkloadKind::Mixed && roll < 5) {
                        Payload::Transfer { to, amount: 1 }
                    } else {
                        let ask = rng.gen_bool(0.5);
                        Payload::PlaceOrder {
                            interval: 3,
                            side: if ask { Side::Ask } else { Side::Bid },
                            price: rng.gen_range(90..=130) * 1_000,
                            qty_wh: rng.gen_range(1..100),
                            meter: ask
                                .then(|| Address::from_public_key(&meters[i][0].public_key())),
                        }
                    };
                    nonces[i] += 1;
                    signed(k, nonces[i] - 1, payload)
                })
                .collect()
        })
        .collect();
    let pipelined_blocks = blocks.split_off(count);

    let mut raw = Vec::new();
    let (mut e2e, mut admit, mut produce, mut exec, mut index) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for txs in blocks {
        // The floor, measured between blocks on the same pool and the same signatures.
        let t = Instant::now();
        let verdicts = pool.run_on_pool(|| verify_signatures(&txs));
        raw.push(n as f64 / t.elapsed().as_secs_f64());
        if verdicts.iter().any(Result::is_err) {
            return Err("a benchmark signature did not verify".into());
        }

        let t = Instant::now();
        // Admission runs where the API runs it: off the executor's pool.
        let admitted = node.admit_many(txs);
        let t_admit = t.elapsed().as_secs_f64();
        if let Some(e) = admitted.into_iter().find_map(Result::err) {
            return Err(format!("admission refused a benchmark transaction: {e}"));
        }
        let t = Instant::now();
        let block = node.produce_block().map_err(|e| e.to_string())?;
        let t_produce = t.elapsed().as_secs_f64();
        let included: u64 = block.shards.iter().map(|s| u64::from(s.tx_count)).sum();
        if included != n as u64 {
            return Err(format!("block included {included} of {n} transactions"));
        }
        // Every transaction does its work: a refused order or reading would measure a cheap path.
        for shard in 0..opts.shards {
            let outcomes = node
                .store
                .shard_outcomes(block.header.height, shard)
                .map_err(|e| e.to_string())?;
            if let Some(o) = outcomes
                .iter()
                .find(|o| o.status != joule_light_client::ExecStatus::Success)
            {
                return Err(format!("a benchmark transaction failed: {:?}", o.status));
            }
        }
        let t = Instant::now();
        node.store.wait_indexed();
        index.push(t.elapsed().as_secs_f64() * 1e3);
        e2e.push(n as f64 / (t_admit + t_produce));
        admit.push(t_admit * 1e3);
        produce.push(t_produce * 1e3);
        exec.push(block.metrics.iter().map(|m| m.exec_us as f64).sum::<f64>() / 1e3);
    }
    let pipelined_tx_per_s = pipelined(&node, pipelined_blocks)?;
    let e2e_tx_per_s = median(e2e);
    let raw_verify_per_s = median(raw);
    Ok(E2eRow {
        threads: pool.threads(),
        shards: opts.shards,
        txs_per_block: n,
        e2e_tx_per_s,
        raw_verify_per_s,
        ratio: e2e_tx_per_s / raw_verify_per_s,
        admit_ms: median(admit),
        produce_ms: median(produce),
        exec_ms: median(exec),
        index_ms: median(index),
        pipelined_tx_per_s,
        pipelined_ratio: pipelined_tx_per_s / raw_verify_per_s,
    })
}

/// Admits block `k + 1` on another thread while block `k` is produced; returns the
/// transactions included per second of the whole run.
fn pipelined(node: &Node, blocks: Vec<Vec<SignedTransaction>>) -> Result<f64, String> {
    let admit = |txs: Vec<SignedTransaction>| -> Result<(), String> {
        let admitted = node.admit_many(txs);
        match admitted.into_iter().find_map(Result::err) {
            Some(e) => Err(format!("admission refused a benchmark transaction: {e}")),
            None => Ok(()),
        }
    };
    let total: usize = blocks.iter().map(Vec::len).sum();
    let t = Instant::now();
    let mut blocks = blocks.into_iter();
    if let Some(first) = blocks.next() {
        admit(first)?;
    }
    let mut included = 0usize;
    let mut next = blocks.next();
    // Blocks take what the mempool holds, so a block may also take some of the next batch;
    // the run ends when every transaction is in a block.
    while included < total {
        let (block, admitted) = std::thread::scope(|s| {
            let admitting = next.take().map(|txs| s.spawn(|| admit(txs)));
            let block = node.produce_block().map_err(|e| e.to_string());
            let admitted = admitting.map_or(Ok(()), |h| {
                h.join()
                    .unwrap_or_else(|_| Err("admission panicked".into()))
            });
            (block, admitted)
        });
        admitted?;
        let block = block?;
        let in_block: usize = block.shards.iter().map(|s| s.tx_count as usize).sum();
        if in_block == 0 && next.is_none() {
            return Err(format!("pipelined run stalled at {included} of {total}"));
        }
        included += in_block;
        next = next.or_else(|| blocks.next());
    }
    node.store.wait_indexed();
    Ok(total as f64 / t.elapsed().as_secs_f64())
}

/// The row as a plain-text table.
pub fn table(r: &E2eRow) -> String {
    format!(
        "{:>8} {:>7} {:>10} {:>12} {:>14} {:>7} {:>10} {:>11} {:>8} {:>9} {:>14} {:>8}\n{:>8} {:>7} {:>10} {:>12.0} {:>14.0} {:>7.2} {:>10.1} {:>11.1} {:>8.1} {:>9.1} {:>14.0} {:>8.2}\n",
        "threads", "shards", "txs/block", "e2e tx/s", "raw verify/s", "ratio", "admit ms", "produce ms", "exec ms", "index ms", "pipelined tx/s", "ratio",
        r.threads, r.shards, r.txs_per_block, r.e2e_tx_per_s, r.raw_verify_per_s, r.ratio, r.admit_ms, r.produce_ms, r.exec_ms, r.index_ms, r.pipelined_tx_per_s, r.pipelined_ratio
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_commits_every_transaction() {
        let row = run_e2e(&E2eBenchOptions {
            txs: 100,
            blocks: 2,
            threads: 2,
            shards: 1,
            // Recipients mostly among accounts that only receive.
            accounts: 1_000,
            workload: WorkloadKind::Transfer,
        })
        .unwrap();
        assert_eq!(row.txs_per_block, 100);
        assert!(row.e2e_tx_per_s > 0.0 && row.raw_verify_per_s > 0.0);
        assert!(row.pipelined_tx_per_s > 0.0);
        assert!(table(&row).contains("raw verify/s"));
    }

    #[test]
    fn sharded_run_commits_every_transaction_and_a_bad_shard_count_is_an_error() {
        let opts = E2eBenchOptions {
            txs: 100,
            blocks: 2,
            threads: 2,
            shards: 4,
            accounts: 400,
            workload: WorkloadKind::Transfer,
        };
        let row = run_e2e(&opts).unwrap();
        assert_eq!((row.shards, row.txs_per_block), (4, 100));
        assert!(row.e2e_tx_per_s > 0.0 && row.pipelined_tx_per_s > 0.0);
        let err = run_e2e(&E2eBenchOptions { shards: 0, ..opts }).unwrap_err();
        assert!(err.contains("shard count"), "{err}");
    }

    #[test]
    fn a_mixed_run_commits_every_order_and_reading() {
        let row = run_e2e(&E2eBenchOptions {
            txs: 100,
            blocks: 3,
            threads: 2,
            shards: 2,
            accounts: 400,
            workload: WorkloadKind::Mixed,
        })
        .unwrap();
        assert!(row.e2e_tx_per_s > 0.0 && row.pipelined_tx_per_s > 0.0);
    }
}
