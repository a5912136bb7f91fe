//! `joule bench exec`: the Block-STM workload. A block of transfers, each between two accounts
//! drawn at random from N — or of the market's orders and readings, or a mix
//! ([`super::workload`]) — executed in memory with signatures taken as verified: the sequential
//! executor against the parallel one (as the node runs it: Block-STM, or in order when the
//! block is too contended) and against Block-STM forced on every block, at 1, 2, 4, … threads.
//! Runs are interleaved, in a new random order each round, so every contender sees the same
//! machine, and each starts after a short pause, with its pool's workers asleep as between a
//! node's blocks; medians reported.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use super::workload::{workload, WorkloadKind};
use super::{median, thread_counts};
use crate::chain::exec::{
    ExecStats, Executor, Phases, SequentialExecutor, ShardBlockInput, ShardBlockOutput,
};
use crate::chain::state::ShardState;
use crate::chain::ParallelExecutor;
use joule_light_client::api::ExecMode;

/// Pause before each timed run.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

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
    /// What the blocks hold.
    pub workload: WorkloadKind,
}

/// One row of the result.
#[derive(Debug, Clone, Serialize)]
pub struct ExecRow {
    /// Accounts transfers are drawn from.
    pub accounts: usize,
    /// `sequential`, `parallel` (adaptive, what the node runs), or one strategy forced:
    /// `declared` (scheduled by declared keys) or `block-stm`.
    pub executor: &'static str,
    /// Threads.
    pub threads: usize,
    /// Median transactions per second.
    pub tx_per_s: f64,
    /// Throughput over the sequential executor's, same accounts, same run.
    pub speedup: f64,
    /// Re-executions per transaction (median run).
    pub aborts_per_tx: f64,
    /// The strategy that ran (the adaptive executor runs contended blocks in order).
    pub ran: ExecMode,
    /// Median microseconds per phase (each phase's own median).
    pub phases_us: PhaseMedians,
}

/// Median microseconds of each phase of a block's execution ([`Phases`]).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhaseMedians {
    /// Waking the pool and preparing the transactions.
    pub prepare: f64,
    /// Glance, key index and plan.
    pub plan: f64,
    /// Running the transactions.
    pub run: f64,
    /// Assembling outputs and collecting writes.
    pub finish: f64,
}

impl PhaseMedians {
    fn of(phases: &[Phases]) -> Self {
        let m = |f: fn(&Phases) -> u64| median(phases.iter().map(|p| f(p) as f64 / 1e3).collect());
        PhaseMedians {
            prepare: m(|p| p.prepare_ns),
            plan: m(|p| p.plan_ns),
            run: m(|p| p.run_ns),
            finish: m(|p| p.finish_ns),
        }
    }
}

/// The sequential executor on a thread of its own, pinned like the parallel executors'
/// workers. On the benchmark's main thread, which the scheduler moves between cores (each run
/// starts after a sleep), it ran 10–35 % slower than the very same code run by the parallel
/// executor at one thread, pinned, whenever two-thread pools were also running; that
/// flattered every speedup.
struct SequentialOnPool(ParallelExecutor);

impl Executor for SequentialOnPool {
    fn execute(
        &self,
        state: &ShardState,
        input: ShardBlockInput<'_>,
    ) -> (ShardBlockOutput, ExecStats) {
        self.0
            .run_on_pool(|| SequentialExecutor.execute(state, input))
    }
}

struct Contender {
    name: &'static str,
    threads: usize,
    exec: Box<dyn Executor>,
    times: Vec<f64>,
    aborts: Vec<f64>,
    phases: Vec<Phases>,
    mode: ExecMode,
}

/// Runs the benchmark; fails if any parallel result differs from the sequential one.
pub fn run_exec(opts: &ExecBenchOptions) -> Result<Vec<ExecRow>, String> {
    let mut rows = Vec::new();
    let reps = opts.reps.max(1);
    let mut contenders = vec![Contender {
        name: "sequential",
        threads: 1,
        exec: Box::new(SequentialOnPool(ParallelExecutor::pinned(1))),
        times: Vec::new(),
        aborts: Vec::new(),
        phases: Vec::new(),
        mode: ExecMode::InOrder,
    }];
    for threads in thread_counts(opts.max_threads) {
        let adaptive = ParallelExecutor::pinned(threads);
        for (name, exec) in [
            ("parallel", adaptive.clone()),
            ("declared", adaptive.clone().always(ExecMode::DeclaredKeys)),
            ("block-stm", adaptive.always(ExecMode::BlockStm)),
        ] {
            contenders.push(Contender {
                name,
                threads,
                exec: Box::new(exec),
                times: Vec::new(),
                aborts: Vec::new(),
                phases: Vec::new(),
                mode: ExecMode::InOrder,
            });
        }
    }
    for &accounts in &opts.accounts {
        let w = workload(opts.workload, accounts, opts.txs, accounts as u64);
        let expected: ShardBlockOutput = SequentialExecutor.execute(&w.state, w.input()).0;
        for c in &mut contenders {
            c.times.clear();
            c.aborts.clear();
            c.phases.clear();
        }
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        let mut rng = StdRng::seed_from_u64(accounts as u64);
        for _ in 0..reps {
            // A new order each round, so no contender always runs right after the same one (a
            // run leaves the caches and the allocator warm for the next, or full of its own data).
            order.shuffle(&mut rng);
            for &k in &order {
                let c = &mut contenders[k];
                // Idle first, as between a node's blocks: the pools' workers fall asleep, and
                // a parallel run must wake them (right after another run they would still be
                // spinning, and look faster than a node sees).
                std::thread::sleep(PAUSE);
                let t = Instant::now();
                let (out, stats) = c.exec.execute(&w.state, w.input());
                c.times.push(t.elapsed().as_secs_f64());
                c.aborts.push(stats.aborts_per_tx());
                c.phases.push(stats.phases);
                c.mode = stats.mode;
                if out != expected {
                    return Err(format!(
                        "{} diverged from sequential: {accounts} accounts, {} threads",
                        c.name, c.threads
                    ));
                }
            }
        }
        let seq_tps = opts.txs as f64 / median(contenders[0].times.clone());
        for c in &contenders {
            let tps = opts.txs as f64 / median(c.times.clone());
            rows.push(ExecRow {
                accounts,
                executor: c.name,
                threads: c.threads,
                tx_per_s: tps,
                speedup: tps / seq_tps,
                aborts_per_tx: median(c.aborts.clone()),
                ran: c.mode,
                phases_us: PhaseMedians::of(&c.phases),
            });
        }
    }
    Ok(rows)
}

/// The rows as a plain-text table.
pub fn table(rows: &[ExecRow]) -> String {
    let mut s = format!(
        "{:>9} {:>11} {:>8} {:>12} {:>8} {:>10} {:>10}\n",
        "accounts", "executor", "threads", "tx/s", "speedup", "aborts/tx", "ran"
    );
    for r in rows {
        let ran = match r.ran {
            ExecMode::InOrder => "in order",
            ExecMode::BlockStm => "block-stm",
            ExecMode::DeclaredKeys => "declared",
        };
        s.push_str(&format!(
            "{:>9} {:>11} {:>8} {:>12.0} {:>7.2}x {:>10.3} {:>10}\n",
            r.accounts, r.executor, r.threads, r.tx_per_s, r.speedup, r.aborts_per_tx, ran
        ));
    }
    s
}

/// Where each parallel contender's time went, phase by phase (medians, microseconds).
/// `txs`: transactions per block (the total is the median block's time).
pub fn phases_table(rows: &[ExecRow], txs: usize) -> String {
    let mut s = format!(
        "{:>9} {:>11} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
        "accounts",
        "executor",
        "threads",
        "prepare µs",
        "plan µs",
        "run µs",
        "finish µs",
        "total µs"
    );
    for r in rows.iter().filter(|r| r.executor != "sequential") {
        let p = r.phases_us;
        s.push_str(&format!(
            "{:>9} {:>11} {:>8} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>10.0}\n",
            r.accounts,
            r.executor,
            r.threads,
            p.prepare,
            p.plan,
            p.run,
            p.finish,
            txs as f64 / r.tx_per_s * 1e6
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
            workload: WorkloadKind::Transfer,
        };
        let rows = run_exec(&opts).unwrap();
        // Per account count: sequential, then adaptive and both forced at 1 and 2 threads.
        assert_eq!(rows.len(), 2 * 7);
        assert!(rows.iter().all(|r| r.tx_per_s > 0.0));
        assert!(rows
            .iter()
            .any(|r| r.executor == "block-stm" && r.ran == ExecMode::BlockStm));
        assert!(rows
            .iter()
            .any(|r| r.executor == "declared" && r.ran == ExecMode::DeclaredKeys));
        assert!(table(&rows).contains("block-stm"));
        let declared = rows.iter().find(|r| r.executor == "declared").unwrap();
        assert!(declared.phases_us.run > 0.0, "{:?}", declared.phases_us);
        assert!(phases_table(&rows, opts.txs).contains("prepare µs"));
    }

    #[test]
    fn market_blocks_run_planned_and_agree_with_sequential() {
        let opts = ExecBenchOptions {
            txs: 300,
            reps: 1,
            max_threads: 2,
            accounts: vec![2_000],
            workload: WorkloadKind::Mixed,
        };
        let rows = run_exec(&opts).unwrap();
        // Objects keep Block-STM out: the adaptive executor plans by declared keys.
        let adaptive = rows
            .iter()
            .find(|r| r.executor == "parallel" && r.threads == 2)
            .unwrap();
        assert_eq!(adaptive.ran, ExecMode::DeclaredKeys);
    }
}
