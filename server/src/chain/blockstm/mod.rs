//! Block-STM: optimistic parallel execution of one block that gives exactly the result of
//! executing its transactions in order.
//!
//! The executor is generic over a [`Vm`]; it knows keys and values, not transfers.
//!
//! 1. **Prepare** every transaction in parallel (state-independent work: hashing, addresses).
//! 2. **Estimate** the block's parallelism from the declared keys of a prefix of the block: the
//!    longest chain of transactions linked by a shared key. A block too contended for the
//!    threads to win (every transaction touching one account, say) — or a pool too small to
//!    repay Block-STM's per-transaction overhead — runs in order instead (after the parallel
//!    preparation): same result, no wasted incarnations. This is how the executor avoids
//!    Block-STM's collapse under contention.
//! 3. **Execute** with Block-STM: each incarnation runs through the VM against a view over
//!    multi-version memory that records where every read came from and buffers writes. The
//!    [`scheduler::Scheduler`] hands threads the lowest pending task; validation re-reads an
//!    incarnation's read set and aborts it if any value changed, marking its writes ESTIMATE
//!    so readers wait instead of wasting work. When all is validated, the outputs of the last
//!    incarnations, in block order, are the block's output.
//!
//! Workers run on a rayon pool shared with the shard-level parallelism of the producer; a block
//! completes with however many of its workers get a thread.

pub mod mvmemory;
pub mod scheduler;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use joule_light_client::{Account, Address};
use rayon::prelude::*;
use smallvec::SmallVec;

use self::mvmemory::{MvMemory, Origin, ReadResult};
use self::scheduler::{Scheduler, Task};
use super::exec::{
    assemble, block_writes, run_sequential, BaseState, ExecStats, Executor, ShardBlockInput,
    ShardBlockOutput,
};
use super::state::ShardState;
use super::vm::{Blocked, StateView, Vm};

/// Blocks smaller than this run in order.
pub const MIN_PARALLEL_TXS: usize = 32;

/// What a transaction costs under Block-STM relative to in order, on one thread (multi-version
/// reads and writes, validation, scheduling). Measured by `joule bench exec` for native
/// transfers: Block-STM on one thread runs at 0.4–0.6× sequential, so about 2.2.
pub const BLOCK_STM_OVERHEAD: f64 = 2.2;

/// Block-STM runs when the speedup it can expect — the threads it can keep busy (the thread
/// count, or half the estimated parallelism, whichever is smaller: dependencies cost
/// re-executions and waits) over its overhead — clears this margin; otherwise in order wins.
pub const MIN_EXPECTED_SPEEDUP: f64 = 1.2;

/// Transactions whose declared keys the contention estimate looks at.
const ESTIMATE_PREFIX: usize = 1024;

/// Block-STM on a rayon thread pool.
#[derive(Clone)]
pub struct ParallelExecutor {
    pool: Arc<rayon::ThreadPool>,
    force: bool,
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
    /// An executor on a new pool of `threads` threads (at least one).
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn new(threads: usize) -> Self {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("joule-exec-{i}"))
            .build()
            .expect("start the execution thread pool");
        Self::with_pool(Arc::new(pool))
    }

    /// An executor on an existing pool.
    pub fn with_pool(pool: Arc<rayon::ThreadPool>) -> Self {
        Self { pool, force: false }
    }

    /// One thread per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Runs Block-STM on every block, however small or contended (tests exercise it on tiny
    /// blocks; the benchmark measures it unaided).
    pub fn always_parallel(mut self) -> Self {
        self.force = true;
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

    /// Executes `txs` in `vm` over `base`. Returns the outputs in block order, every account the
    /// transactions wrote (unordered), and what it cost.
    pub fn run<V: Vm>(
        &self,
        vm: &V,
        base: &BaseState<'_>,
        txs: &[V::Tx],
    ) -> (Vec<V::Output>, Vec<(Address, Account)>, ExecStats) {
        self.pool.install(|| self.run_in_pool(vm, base, txs))
    }

    fn run_in_pool<V: Vm>(
        &self,
        vm: &V,
        base: &BaseState<'_>,
        txs: &[V::Tx],
    ) -> (Vec<V::Output>, Vec<(Address, Account)>, ExecStats) {
        let n = txs.len();
        let threads = self.threads().min(n.max(1));
        if !self.force && (threads < 2 || n < MIN_PARALLEL_TXS) {
            let (outputs, writes) = run_sequential(vm, base, txs, |tx| vm.prepare(tx));
            return (
                outputs,
                writes.into_iter().collect(),
                ExecStats::sequential(n),
            );
        }
        let prepared: Vec<V::Prepared> = txs
            .par_iter()
            .with_min_len(256)
            .map(|tx| vm.prepare(tx))
            .collect();
        let in_order = |prepared: &[V::Prepared]| {
            let mut i = 0;
            let (outputs, writes) = run_sequential(vm, base, txs, |_| {
                i += 1;
                &prepared[i - 1]
            });
            (
                outputs,
                writes.into_iter().collect(),
                ExecStats::sequential(n),
            )
        };
        if !self.force {
            let busy =
                (threads as f64).min(parallelism::<V>(&prepared[..n.min(ESTIMATE_PREFIX)]) / 2.0);
            if busy / BLOCK_STM_OVERHEAD < MIN_EXPECTED_SPEEDUP {
                return in_order(&prepared);
            }
        }
        let block = Block {
            vm,
            base,
            txs,
            prepared: &prepared,
            memory: MvMemory::new(n * 2),
            scheduler: Scheduler::new(n, threads),
            tx_state: (0..n).map(|_| Mutex::new(TxState::default())).collect(),
            incarnations: AtomicUsize::new(0),
            validations: AtomicUsize::new(0),
        };
        rayon::scope(|s| {
            for _ in 0..threads {
                s.spawn(|_| block.work());
            }
        });
        let stats = ExecStats {
            txs: n,
            threads,
            incarnations: block.incarnations.into_inner(),
            validations: block.validations.into_inner(),
            parallel: true,
        };
        let outputs: Vec<V::Output> = block
            .tx_state
            .into_par_iter()
            .with_min_len(1024)
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .output
                    .expect("every transaction executed")
            })
            .collect();
        (outputs, block.memory.into_final_values(), stats)
    }
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
        let base = BaseState::new(state, input.incoming);
        let (results, tx_writes, stats) = self.run(&vm, &base, input.txs);
        let mut writes = block_writes(&base, tx_writes);
        self.pool
            .install(|| writes.par_sort_unstable_by_key(|(a, _)| *a));
        (assemble(results, writes), stats)
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

/// What the last incarnation of a transaction read, wrote and produced.
struct TxState<O> {
    reads: SmallVec<[(Address, Origin); 4]>,
    writes: SmallVec<[Address; 2]>,
    output: Option<O>,
}

impl<O> Default for TxState<O> {
    fn default() -> Self {
        Self {
            reads: SmallVec::new(),
            writes: SmallVec::new(),
            output: None,
        }
    }
}

/// The block's fixed inputs and shared execution state.
struct Block<'a, V: Vm> {
    vm: &'a V,
    base: &'a BaseState<'a>,
    txs: &'a [V::Tx],
    prepared: &'a [V::Prepared],
    memory: MvMemory,
    scheduler: Scheduler,
    tx_state: Vec<Mutex<TxState<V::Output>>>,
    incarnations: AtomicUsize,
    validations: AtomicUsize,
}

/// A transaction's view: reads through multi-version memory, writes buffered.
struct MvView<'a, 'b, V: Vm> {
    block: &'a Block<'b, V>,
    txn: usize,
    reads: SmallVec<[(Address, Origin); 4]>,
    writes: SmallVec<[(Address, Account); 2]>,
}

impl<V: Vm> StateView for MvView<'_, '_, V> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        if let Some((_, v)) = self.writes.iter().find(|(a, _)| a == address) {
            return Ok(*v);
        }
        match self.block.memory.read(address, self.txn) {
            ReadResult::Dependency(idx) => Err(Blocked(idx)),
            ReadResult::Value(v, origin) => {
                self.reads.push((*address, origin));
                Ok(v)
            }
            ReadResult::Storage => {
                self.reads.push((*address, Origin::Storage));
                Ok(self.block.base.get(address))
            }
        }
    }

    fn write(&mut self, address: Address, account: Account) {
        match self.writes.iter_mut().find(|(a, _)| *a == address) {
            Some(slot) => slot.1 = account,
            None => self.writes.push((address, account)),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What one worker did, summed into the block's stats when it stops (no shared counters on
/// the hot path).
#[derive(Default)]
struct WorkerCounts {
    incarnations: usize,
    validations: usize,
}

impl<V: Vm> Block<'_, V> {
    fn execute(&self, txn: usize, incarnation: usize, counts: &mut WorkerCounts) -> Option<Task> {
        loop {
            counts.incarnations += 1;
            let mut view = MvView {
                block: self,
                txn,
                reads: SmallVec::new(),
                writes: SmallVec::new(),
            };
            match self
                .vm
                .execute(&self.txs[txn], &self.prepared[txn], &mut view)
            {
                Err(Blocked(blocking)) => {
                    if self.scheduler.add_dependency(txn, blocking) {
                        return None;
                    }
                    // The blocker finished meanwhile: run again.
                }
                Ok(output) => {
                    let wrote_new = {
                        let mut st = lock(&self.tx_state[txn]);
                        let st = &mut *st;
                        st.reads = view.reads;
                        st.output = Some(output);
                        self.memory
                            .record(txn, incarnation, &view.writes, &mut st.writes)
                    };
                    return self.scheduler.finish_execution(txn, incarnation, wrote_new);
                }
            }
        }
    }

    fn validate(&self, txn: usize, incarnation: usize, counts: &mut WorkerCounts) -> Option<Task> {
        counts.validations += 1;
        let st = lock(&self.tx_state[txn]);
        let valid = st
            .reads
            .iter()
            .all(|(a, origin)| match self.memory.read(a, txn) {
                ReadResult::Value(_, now) => now == *origin,
                ReadResult::Storage => *origin == Origin::Storage,
                ReadResult::Dependency(_) => false,
            });
        let aborted = !valid && self.scheduler.try_validation_abort(txn, incarnation);
        if aborted {
            self.memory.convert_writes_to_estimates(txn, &st.writes);
        }
        drop(st);
        self.scheduler.finish_validation(txn, aborted)
    }

    fn work(&self) {
        let mut counts = WorkerCounts::default();
        let mut claim = scheduler::Claim::default();
        let mut task = None;
        while !self.scheduler.done() {
            task = match task.or_else(|| self.scheduler.next_task(&mut claim)) {
                Some(Task::Execute(t, i)) => self.execute(t, i, &mut counts),
                Some(Task::Validate(t, i)) => self.validate(t, i, &mut counts),
                None => break,
            };
        }
        self.incarnations.fetch_add(counts.incarnations, Relaxed);
        self.validations.fetch_add(counts.validations, Relaxed);
    }
}
