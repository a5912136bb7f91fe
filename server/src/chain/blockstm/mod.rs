//! Block-STM: optimistic parallel execution of one shard block that gives exactly the result of
//! executing its transactions in order.
//!
//! Each transaction runs through the same VM as the sequential executor, against a view over
//! [`mvmemory::MvMemory`] that records where every read came from and buffers writes. The
//! [`scheduler::Scheduler`] hands threads the lowest pending task; validation re-reads an
//! incarnation's read set and aborts it if any value changed, marking its writes ESTIMATE so
//! readers wait instead of wasting work. When all is validated, the outputs of the last
//! incarnations, in block order, are the block's output.
//!
//! Small blocks and single-thread configurations run the sequential executor directly (same
//! result, no coordination cost).

pub mod mvmemory;
pub mod scheduler;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use joule_light_client::{Account, Address, SignedTransaction};

use self::mvmemory::{MvMemory, Origin, ReadResult};
use self::scheduler::{Scheduler, Task};
use super::exec::{
    assemble, credit_receipts, Executor, SequentialExecutor, ShardBlockInput, ShardBlockOutput,
};
use super::state::ShardState;
use super::vm::{execute_tx, Blocked, StateView, TxContext, TxResult};

/// Blocks smaller than this run sequentially.
pub const MIN_PARALLEL_TXS: usize = 32;

/// Block-STM over a fixed number of threads.
#[derive(Debug, Clone, Copy)]
pub struct ParallelExecutor {
    threads: usize,
    force: bool,
}

impl ParallelExecutor {
    /// An executor using `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            force: false,
        }
    }

    /// Runs Block-STM even for blocks below [`MIN_PARALLEL_TXS`] and with one thread (tests
    /// exercise it on tiny blocks; the benchmark measures its one-thread overhead).
    pub fn always_parallel(mut self) -> Self {
        self.force = true;
        self
    }

    /// One thread per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

impl Default for ParallelExecutor {
    fn default() -> Self {
        Self::per_core()
    }
}

/// What one parallel execution cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Transactions in the block.
    pub txs: usize,
    /// Threads that worked on it (1 when it ran sequentially).
    pub threads: usize,
    /// Executions begun, including those aborted (`>= txs`).
    pub incarnations: usize,
    /// Validations run.
    pub validations: usize,
}

impl ExecStats {
    /// Executions beyond the first per transaction, per transaction.
    pub fn aborts_per_tx(&self) -> f64 {
        if self.txs == 0 {
            0.0
        } else {
            self.incarnations.saturating_sub(self.txs) as f64 / self.txs as f64
        }
    }
}

/// The block's fixed inputs, shared by all workers.
struct Block<'a> {
    base: &'a ShardState,
    credited: &'a BTreeMap<Address, Account>,
    txs: &'a [SignedTransaction],
    ctx: TxContext,
    memory: MvMemory,
    scheduler: Scheduler,
    reads: Vec<Mutex<Vec<(Address, Origin)>>>,
    results: Vec<Mutex<Option<TxResult>>>,
    incarnations: AtomicUsize,
    validations: AtomicUsize,
}

/// A transaction's view: reads through multi-version memory, writes buffered.
struct MvView<'a, 'b> {
    block: &'a Block<'b>,
    txn: usize,
    reads: Vec<(Address, Origin)>,
    writes: Vec<(Address, Account)>,
}

impl StateView for MvView<'_, '_> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        if let Some((_, v)) = self.writes.iter().rev().find(|(a, _)| a == address) {
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
                let b = self.block;
                Ok(b.credited
                    .get(address)
                    .copied()
                    .unwrap_or_else(|| b.base.get(address)))
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

impl Block<'_> {
    fn execute(&self, txn: usize, incarnation: usize) -> Option<Task> {
        loop {
            self.incarnations.fetch_add(1, Ordering::Relaxed);
            let mut view = MvView {
                block: self,
                txn,
                reads: Vec::new(),
                writes: Vec::new(),
            };
            match execute_tx(&mut view, &self.txs[txn], &self.ctx) {
                Err(Blocked(blocking)) => {
                    if self.scheduler.add_dependency(txn, blocking) {
                        return None;
                    }
                    // The blocker finished meanwhile: run again.
                }
                Ok(result) => {
                    *self.reads[txn].lock().unwrap_or_else(|p| p.into_inner()) = view.reads;
                    *self.results[txn].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    let wrote_new = self.memory.record(txn, incarnation, &view.writes);
                    return self.scheduler.finish_execution(txn, incarnation, wrote_new);
                }
            }
        }
    }

    fn validate(&self, txn: usize, incarnation: usize) -> Option<Task> {
        self.validations.fetch_add(1, Ordering::Relaxed);
        let valid = {
            let reads = self.reads[txn].lock().unwrap_or_else(|p| p.into_inner());
            reads
                .iter()
                .all(|(a, origin)| match self.memory.read(a, txn) {
                    ReadResult::Value(_, now) => now == *origin,
                    ReadResult::Storage => *origin == Origin::Storage,
                    ReadResult::Dependency(_) => false,
                })
        };
        let aborted = !valid && self.scheduler.try_validation_abort(txn, incarnation);
        if aborted {
            self.memory.convert_writes_to_estimates(txn);
        }
        self.scheduler.finish_validation(txn, aborted)
    }

    fn work(&self) {
        let mut task = None;
        while !self.scheduler.done() {
            task = match task.or_else(|| self.scheduler.next_task()) {
                Some(Task::Execute(t, i)) => self.execute(t, i),
                Some(Task::Validate(t, i)) => self.validate(t, i),
                None => return,
            };
        }
    }
}

impl Executor for ParallelExecutor {
    fn execute(&self, state: &ShardState, input: ShardBlockInput<'_>) -> ShardBlockOutput {
        self.execute_measured(state, input).0
    }
}

impl ParallelExecutor {
    /// Executes and reports what it cost.
    pub fn execute_measured(
        &self,
        state: &ShardState,
        input: ShardBlockInput<'_>,
    ) -> (ShardBlockOutput, ExecStats) {
        let n = input.txs.len();
        let parallel = n > 0 && (self.force || (self.threads > 1 && n >= MIN_PARALLEL_TXS));
        if !parallel {
            let stats = ExecStats {
                txs: n,
                threads: 1,
                incarnations: n,
                validations: 0,
            };
            return (SequentialExecutor.execute(state, input), stats);
        }
        let threads = self.threads.min(n);
        let credited = credit_receipts(state, input.incoming);
        let (memory, results, stats) = {
            let block = Block {
                base: state,
                credited: &credited,
                txs: input.txs,
                ctx: input.context(),
                memory: MvMemory::new(n),
                scheduler: Scheduler::new(n),
                reads: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
                results: (0..n).map(|_| Mutex::new(None)).collect(),
                incarnations: AtomicUsize::new(0),
                validations: AtomicUsize::new(0),
            };
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| block.work());
                }
            });
            let stats = ExecStats {
                txs: n,
                threads,
                incarnations: block.incarnations.into_inner(),
                validations: block.validations.into_inner(),
            };
            (block.memory, block.results, stats)
        };
        let results: Vec<TxResult> = results
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .expect("every transaction executed")
            })
            .collect();
        let mut writes = credited;
        writes.extend(memory.final_values());
        (assemble(input.txs, results, writes), stats)
    }
}
