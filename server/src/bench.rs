//! `joule bench exec`: the Block-STM workload. A block of transfers, each between two accounts
//! drawn at random from N, executed in memory with signatures taken as verified; sequential
//! against Block-STM at 1, 2, 4, … threads. Medians of several runs, measured side by side.

use std::collections::BTreeMap;
use std::time::Instant;

use joule_light_client::{
    Account, Address, Payload, SecretKey, Signature, SignedTransaction, Transaction,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::chain::blockstm::ParallelExecutor;
use crate::chain::exec::{Executor, SequentialExecutor, ShardBlockInput, ShardBlockOutput};
use crate::chain::state::ShardState;

/// Account counts of the standard workload.
pub const ACCOUNT_COUNTS: [usize; 5] = [2, 10, 100, 1_000, 10_000];

/// Options of the benchmark.
#[derive(Debug, Clone)]
pub struct ExecBenchOptions {
    /// Transactions per block.
    pub txs: usize,
    /// Runs per measurement (the median is reported).
    pub reps: usize,
    /// Most threads to try.
    pub max_threads: usize,
    /// Account counts to try.
    pub accounts: Vec<usize>,
}

/// One row of the result.
#[derive(Debug, Clone, Serialize)]
pub struct ExecRow {
    /// Accounts transfers are drawn from.
    pub accounts: usize,
    /// `sequential` or `block-stm`.
    pub executor: &'static str,
    /// Threads.
    pub threads: usize,
    /// Median transactions per second.
    pub tx_per_s: f64,
    /// Throughput over the sequential executor's, same accounts, same run.
    pub speedup: f64,
    /// Re-executions per transaction (median run).
    pub aborts_per_tx: f64,
}

struct Workload {
    state: ShardState,
    txs: Vec<SignedTransaction>,
}

fn workload(accounts: usize, txs: usize, seed: u64) -> Workload {
    let keys: Vec<SecretKey> = (0..accounts as u32)
        .map(|i| SecretKey::from_seed(&blake3::derive_key("joule bench account", &i.to_le_bytes())))
        .collect();
    let addrs: Vec<Address> = keys
        .iter()
        .map(|k| Address::from_public_key(&k.public_key()))
        .collect();
    let mut state = ShardState::default();
    let funded: BTreeMap<Address, Account> = addrs
        .iter()
        .map(|a| {
            (
                *a,
                Account {
                    balance: u64::MAX / (2 * accounts as u64),
                    nonce: 0,
                },
            )
        })
        .collect();
    state.apply(&funded);
    let mut nonces = vec![0u64; accounts];
    let mut rng = StdRng::seed_from_u64(seed);
    let txs = (0..txs)
        .map(|_| {
            let s = rng.gen_range(0..accounts);
            let to = addrs[rng.gen_range(0..accounts)];
            let tx = Transaction {
                chain_id: "bench".into(),
                sender: keys[s].public_key(),
                nonce: nonces[s],
                max_fee: 1,
                payload: Payload::Transfer { to, amount: 1 },
            };
            nonces[s] += 1;
            // Signatures are checked before execution; this workload measures execution only.
            SignedTransaction {
                tx,
                signature: Signature([0; 64]),
            }
        })
        .collect();
    Workload { state, txs }
}

fn input(w: &Workload) -> ShardBlockInput<'_> {
    ShardBlockInput {
        shard: 0,
        height: 1,
        shard_count: 1,
        fee: 1,
        incoming: &[],
        txs: &w.txs,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Thread counts to try: powers of two up to `max`, and `max` itself.
pub fn thread_counts(max: usize) -> Vec<usize> {
    let mut t: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
        .take_while(|x| *x < max)
        .collect();
    t.push(max.max(1));
    t
}

/// Runs the benchmark; fails if any parallel result differs from the sequential one.
pub fn run_exec(opts: &ExecBenchOptions) -> Result<Vec<ExecRow>, String> {
    let mut rows = Vec::new();
    let reps = opts.reps.max(1);
    for &accounts in &opts.accounts {
        let w = workload(accounts, opts.txs, accounts as u64);
        let mut expected: Option<ShardBlockOutput> = None;
        let mut seq = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            let out = SequentialExecutor.execute(&w.state, input(&w));
            seq.push(t.elapsed().as_secs_f64());
            expected = Some(out);
        }
        let expected = expected.expect("at least one run");
        let seq_tps = opts.txs as f64 / median(seq);
        rows.push(ExecRow {
            accounts,
            executor: "sequential",
            threads: 1,
            tx_per_s: seq_tps,
            speedup: 1.0,
            aborts_per_tx: 0.0,
        });
        for threads in thread_counts(opts.max_threads) {
            let exec = ParallelExecutor::new(threads).always_parallel();
            let mut times = Vec::new();
            let mut aborts = Vec::new();
            for _ in 0..reps {
                let t = Instant::now();
                let (out, stats) = exec.execute_measured(&w.state, input(&w));
                times.push(t.elapsed().as_secs_f64());
                aborts.push(stats.aborts_per_tx());
                if out != expected {
                    return Err(format!("Block-STM diverged from sequential: {accounts} accounts, {threads} threads"));
                }
            }
            let tps = opts.txs as f64 / median(times);
            rows.push(ExecRow {
                accounts,
                executor: "block-stm",
                threads,
                tx_per_s: tps,
                speedup: tps / seq_tps,
                aborts_per_tx: median(aborts),
            });
        }
    }
    Ok(rows)
}

/// The rows as a plain-text table.
pub fn table(rows: &[ExecRow]) -> String {
    let mut s = format!(
        "{:>9} {:>11} {:>8} {:>12} {:>8} {:>10}\n",
        "accounts", "executor", "threads", "tx/s", "speedup", "aborts/tx"
    );
    for r in rows {
        s.push_str(&format!(
            "{:>9} {:>11} {:>8} {:>12.0} {:>7.2}x {:>10.3}\n",
            r.accounts, r.executor, r.threads, r.tx_per_s, r.speedup, r.aborts_per_tx
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_produces_rows_and_agrees() {
        let opts = ExecBenchOptions {
            txs: 200,
            reps: 1,
            max_threads: 2,
            accounts: vec![2, 50],
        };
        let rows = run_exec(&opts).unwrap();
        assert_eq!(rows.len(), 2 * 3);
        assert!(rows.iter().all(|r| r.tx_per_s > 0.0));
        assert!(table(&rows).contains("block-stm"));
        assert_eq!(thread_counts(16), vec![1, 2, 4, 8, 16]);
        assert_eq!(thread_counts(6), vec![1, 2, 4, 6]);
    }
}
