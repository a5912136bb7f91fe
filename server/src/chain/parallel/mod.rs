//! The node's executor: runs each shard block in parallel on a shared thread pool, choosing per
//! block the way that will finish first. Every way gives the in-order result.
//!
//! 1. **Prepare** every transaction in parallel (state-independent work: hashing, addresses).
//! 2. **Glance** at the first transactions' declared keys: a block that is clearly contended
//!    (every transaction touching one account, say) runs in order at once.
//! 3. **Plan** ([`declared`]): from the keys each transaction declared, build in parallel a
//!    table of dense slots holding the pre-block values and, for each transaction, the earlier
//!    ones it must follow. How many follow one just before them says how parallel the block is.
//! 4. **Run** the plan on all threads, each transaction as soon as those it follows are done;
//!    or, when the block is too contended for that to pay, on one thread in block order —
//!    still over the slots the parallel plan filled. This is how the executor avoids collapse
//!    under contention: no wasted work.
//! 5. If a transaction touches a key it did not declare (declared keys are hints to a [`Vm`]),
//!    the plan is abandoned and the block runs under [`blockstm`], which discovers keys by
//!    running transactions optimistically, or in order when too contended for it.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use joule_light_client::api::ExecMode;
use joule_light_client::{Account, Address};
use rayon::prelude::*;

use super::exec::{
    assemble, block_writes, run_sequential, sorted_objects, BaseState, ExecStats, Executor, Phases,
    Runs, ShardBlockInput, ShardBlockOutput,
};
use super::state::{ObjectWrite, ShardState};
use super::vm::Vm;
use super::{blockstm, declared};

/// Blocks smaller than this run in order.
pub const MIN_PARALLEL_TXS: usize = 32;

/// What a transaction costs under Block-STM relative to in order, on one thread (multi-version
/// reads and writes, validation, scheduling). Measured by `joule bench exec` for native
/// transfers: Block-STM on one thread runs at 0.4–0.6× sequential, so about 2.2.
pub const BLOCK_STM_OVERHEAD: f64 = 2.2;

/// What a planned transaction costs on many workers relative to one (dependency waits, shared
/// counters). Assumed, not measured: with [`MIN_EXPECTED_SPEEDUP`] it only turns away blocks
/// whose first transactions' longest chain (the glance) leaves almost no parallelism;
/// [`MAX_NEAR`], which was tuned with `joule bench exec`, decides the rest.
pub const DECLARED_OVERHEAD: f64 = 1.1;

/// A strategy runs when the speedup it can expect — the threads it can keep busy over its
/// overhead — clears this margin; otherwise in order wins.
pub const MIN_EXPECTED_SPEEDUP: f64 = 1.2;

/// A plan runs on many threads only if at most this share of its transactions depend on one
/// claimed just before them (those wait for another thread; on a shared machine, for one that
/// may have been descheduled), counting a transaction once per such key. Above it, in order is
/// as fast and steadier.
pub const MAX_NEAR: f64 = 0.3;

/// Transactions whose declared keys the contention estimate looks at.
const ESTIMATE_PREFIX: usize = 256;

/// Parallel execution on a rayon thread pool.
#[derive(Clone)]
pub struct ParallelExecutor {
    pool: Arc<rayon::ThreadPool>,
    force: Option<ExecMode>,
}

impl std::fmt::Debug for ParallelExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelExecutor")
            .field("threads", &self.threads())
            .field("force", &self.force)
            .finish()
    }
}

impl ParallelExecutor {
    /// An executor on a new pool of `threads` threads (at least one), placed by the operating
    /// system.
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn new(threads: usize) -> Self {
        Self::build(threads, false)
    }

    /// An executor on a new pool of `threads` threads, thread `i` pinned to the `i`-th core this
    /// process may run on (wrapping around). What the node runs: a block's phases each wake the
    /// pool, and on a virtual machine an unpinned worker is often woken onto the core of the
    /// thread that woke it, where it waits — for milliseconds — while another core idles
    /// (`joule bench exec` on the 2-core machine: in about one block in six, the second worker
    /// joined preparation 0.2 ms or more late, or not at all; pinned, about one in sixty).
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn pinned(threads: usize) -> Self {
        Self::build(threads, true)
    }

    fn build(threads: usize, pin: bool) -> Self {
        let cores = if pin {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("joule-exec-{i}"))
            .start_handler(move |i| {
                // Best effort: a core that cannot be set leaves the thread where it is.
                if !cores.is_empty() {
                    core_affinity::set_for_current(cores[i % cores.len()]);
                }
            })
            .build()
            .expect("start the execution thread pool");
        Self::with_pool(Arc::new(pool))
    }

    /// An executor on an existing pool.
    pub fn with_pool(pool: Arc<rayon::ThreadPool>) -> Self {
        Self { pool, force: None }
    }

    /// One thread per available core, each pinned to its core ([`Self::pinned`]).
    pub fn per_core() -> Self {
        Self::pinned(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Runs every block with `mode`, however small or contended (tests exercise each way on
    /// tiny blocks; the benchmark measures each unaided). `InOrder` runs the plan on one
    /// worker. A plan abandoned for an undeclared key still falls back to Block-STM.
    pub fn always(mut self, mode: ExecMode) -> Self {
        self.force = Some(mode);
        self
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on this executor's pool (rayon work inside it uses these threads).
    pub fn run_on_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Executes `txs` in `vm` over `base`. Returns what `finish` made of the outputs (in block
    /// order, as runs), every account the transactions wrote (sorted by address), every object
    /// (sorted by key), and what it cost. `finish` runs on the pool while the writes are
    /// sorted.
    pub fn run<V: Vm, R: Send>(
        &self,
        vm: &V,
        base: &BaseState<'_>,
        txs: &[V::Tx],
        finish: &(impl Fn(Runs<V::Output>) -> R + Sync),
    ) -> (R, Vec<(Address, Account)>, Vec<ObjectWrite>, ExecStats) {
        let start = Instant::now();
        // Wake every worker at once: otherwise the pool wakes them one by one as work is split,
        // and a block's first phase starts on fewer threads. (Small blocks run in order.)
        if txs.len() >= MIN_PARALLEL_TXS && self.threads() > 1 {
            self.pool.spawn_broadcast(|_| {});
        }
        self.pool
            .install(|| self.run_in_pool(vm, base, txs, finish, start))
    }

    fn run_in_pool<V: Vm, R: Send>(
        &self,
        vm: &V,
        base: &BaseState<'_>,
        txs: &[V::Tx],
        finish: &(impl Fn(Runs<V::Output>) -> R + Sync),
        start: Instant,
    ) -> (R, Vec<(Address, Account)>, Vec<ObjectWrite>, ExecStats) {
        let n = txs.len();
        let threads = self.threads().min(n.max(1));
        let stats = |threads, mode, phases| ExecStats {
            txs: n,
            threads,
            incarnations: n,
            validations: 0,
            mode,
            phases,
        };
        if self.force.is_none() && (threads < 2 || n < MIN_PARALLEL_TXS) {
            let (outputs, writes, objects) = run_sequential(vm, base, txs, |tx| vm.prepare(tx));
            let ran_at = Instant::now();
            let (r, writes) = finish_and_sort(finish, outputs, writes.into_iter().collect());
            let phases = Phases::until_now(start, start, start, ran_at);
            let objects = sorted_objects(objects);
            return (r, writes, objects, stats(1, ExecMode::InOrder, phases));
        }
        // Pieces of at least 64: on 16 threads, pieces of 256 left some threads a piece more
        // than others at the end of the phase.
        let prepared: Vec<V::Prepared> = txs
            .par_iter()
            .with_min_len(64)
            .map(|tx| vm.prepare(tx))
            .collect();
        let prepared_at = Instant::now();
        let in_order = |prepared: &[V::Prepared], planned_at: Instant| {
            let mut i = 0;
            let (outputs, writes, objects) = run_sequential(vm, base, txs, |_| {
                i += 1;
                &prepared[i - 1]
            });
            let ran_at = Instant::now();
            let (r, writes) = finish_and_sort(finish, outputs, writes.into_iter().collect());
            let phases = Phases::until_now(start, prepared_at, planned_at, ran_at);
            let objects = sorted_objects(objects);
            (r, writes, objects, stats(1, ExecMode::InOrder, phases))
        };
        // A glance at the block's head: a block that is clearly contended runs in order at
        // once, without paying for a plan. Meanwhile another worker indexes the keys a plan
        // needs (both are short and sequential).
        let plan_allowed = self.force != Some(ExecMode::BlockStm);
        let (estimate, keys) = rayon::join(
            || parallelism::<V>(&prepared[..n.min(ESTIMATE_PREFIX)]),
            || {
                plan_allowed
                    .then(|| declared::KeyIndex::new::<V>(&prepared))
                    .flatten()
            },
        );
        if self.force.is_none() && !worth_parallel(threads, estimate) {
            return in_order(&prepared, Instant::now());
        }
        if let Some(keys) = keys {
            let plan = declared::Plan::new::<V>(base, &prepared, keys, threads);
            let planned_at = Instant::now();
            let parallel = match self.force {
                Some(mode) => mode == ExecMode::DeclaredKeys,
                // Few near dependencies also bound the longest chain: its links are near
                // (at most MAX_NEAR·n of them) or skip more than the window (fewer than
                // n/window), so the plan keeps at least 1/(0.3 + 1/32 + 1/64) ≈ 2.9
                // threads busy, and worth_parallel holds for it on two threads or more.
                None => plan.near_dependencies() <= MAX_NEAR,
            };
            let workers = if parallel { threads } else { 1 };
            if let Ok(done) = plan.execute(vm, base, txs, &prepared, workers, finish) {
                let declared::Executed {
                    result: r,
                    writes,
                    objects,
                    ran_at,
                } = done;
                let mode = if parallel {
                    ExecMode::DeclaredKeys
                } else {
                    ExecMode::InOrder
                };
                let phases = Phases::until_now(start, prepared_at, planned_at, ran_at);
                return (r, writes, objects, stats(workers, mode, phases));
            }
        }
        // Keys not declared (or Block-STM asked for): discover them by running — unless a
        // transaction may touch objects, which Block-STM does not keep: then in order.
        if (self.force.is_none() && !worth_block_stm(threads, estimate))
            || prepared.iter().any(V::touches_objects)
        {
            return in_order(&prepared, Instant::now());
        }
        let planned_at = Instant::now();
        let (outputs, writes, mut stats) = blockstm::run(vm, base, txs, &prepared, threads);
        let ran_at = Instant::now();
        let (r, writes) = finish_and_sort(finish, outputs, writes);
        stats.phases = Phases::until_now(start, prepared_at, planned_at, ran_at);
        (r, writes, Vec::new(), stats)
    }
}

/// `finish` applied to `outputs` while `writes` are sorted by address, on the current pool.
fn finish_and_sort<O: Send, R: Send>(
    finish: &(impl Fn(Runs<O>) -> R + Sync),
    outputs: Vec<O>,
    mut writes: Vec<(Address, Account)>,
) -> (R, Vec<(Address, Account)>) {
    rayon::join(
        || finish(vec![outputs]),
        || {
            writes.par_sort_unstable_by_key(|(a, _)| *a);
            writes
        },
    )
}

/// Whether running a planned block on `threads` workers beats running it in order, for a
/// block whose transactions could keep `parallelism` threads busy.
fn worth_parallel(threads: usize, parallelism: f64) -> bool {
    (threads as f64).min(parallelism) / DECLARED_OVERHEAD >= MIN_EXPECTED_SPEEDUP
}

/// The same for Block-STM, where dependencies also cost re-executions: count half the
/// parallelism.
fn worth_block_stm(threads: usize, parallelism: f64) -> bool {
    (threads as f64).min(parallelism / 2.0) / BLOCK_STM_OVERHEAD >= MIN_EXPECTED_SPEEDUP
}

impl Default for ParallelExecutor {
    fn default() -> Self {
        Self::per_core()
    }
}

impl Executor for ParallelExecutor {
    fn execute(
        &self,
        state: &ShardState,
        input: ShardBlockInput<'_>,
    ) -> (ShardBlockOutput, ExecStats) {
        let vm = input.vm();
        let base = BaseState::with_system(state, input.incoming, input.system);
        let (mut out, tx_writes, objects, stats) = self.run(&vm, &base, input.txs, &assemble);
        out.writes = block_writes(&base, tx_writes);
        out.objects = base.block_objects(objects);
        (out, stats)
    }

    fn pool(&self) -> Option<&rayon::ThreadPool> {
        Some(&self.pool)
    }
}

/// Transactions per step of the longest chain of transactions linked by a shared declared key:
/// how many threads the block could keep busy.
fn parallelism<V: Vm>(prepared: &[V::Prepared]) -> f64 {
    // depth[key]: the longest chain ending at the last transaction that declared it.
    let mut depth: HashMap<Address, u32, ahash::RandomState> =
        HashMap::with_capacity_and_hasher(prepared.len() * 2, Default::default());
    let mut longest = 0;
    for p in prepared {
        let keys = V::declared_keys(p);
        let d = 1 + keys
            .iter()
            .map(|k| depth.get(k).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        for k in keys {
            depth.insert(*k, d);
        }
        longest = longest.max(d);
    }
    prepared.len() as f64 / f64::from(longest.max(1))
}
