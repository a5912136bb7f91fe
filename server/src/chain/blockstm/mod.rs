//! Block-STM: optimistic parallel execution of one block that gives exactly the result of
//! executing its transactions in order.
//!
//! The executor is generic over a [`Vm`]; it knows keys and values, not transfers. It needs
//! nothing from the transactions beforehand: what each reads and writes is discovered by
//! running it (the declared keys are not trusted here).
//!
//! Each incarnation runs through the VM against a view over multi-version memory that records
//! where every read came from and buffers writes. The [`scheduler::Scheduler`] hands threads
//! the lowest pending task; validation re-reads an incarnation's read set and aborts it if any
//! value changed, marking its writes ESTIMATE so readers wait instead of wasting work. When
//! all is validated, the outputs of the last incarnations, in block order, are the block's
//! output.
//!
//! Workers run on the caller's rayon pool, shared with the shard-level parallelism of the
//! producer; a block completes with however many of its workers get a thread.

pub mod mvmemory;
pub mod scheduler;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use joule_light_client::api::ExecMode;
use joule_light_client::object::StateKey;
use joule_light_client::{Account, Address};
use rayon::prelude::*;
use smallvec::SmallVec;

use self::mvmemory::{MvMemory, Origin, ReadResult};
use self::scheduler::{Scheduler, Task};
use crate::chain::exec::{BaseState, ExecStats};
use crate::chain::vm::{Blocked, StateView, Vm};

/// Executes `txs` (with their prepared forms) over `base` with Block-STM on `threads` workers
/// of the current rayon pool. Returns the outputs in block order, every account the
/// transactions wrote (unordered), and what it cost.
pub fn run<V: Vm>(
    vm: &V,
    base: &BaseState<'_>,
    txs: &[V::Tx],
    prepared: &[V::Prepared],
    threads: usize,
) -> (Vec<V::Output>, Vec<(Address, Account)>, ExecStats) {
    debug_assert!(
        !prepared.iter().any(V::touches_objects),
        "Block-STM keeps no objects"
    );
    let n = txs.len();
    let threads = threads.clamp(1, n.max(1));
    let block = Block {
        vm,
        base,
        txs,
        prepared,
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
        mode: ExecMode::BlockStm,
        phases: Default::default(),
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

    // Multi-version memory holds accounts only: [`run`] is never given a block with a
    // transaction that may touch objects (`Vm::touches_objects`; the parallel executor runs
    // such blocks planned or in order). These answer as an empty object store would.
    fn read_object(
        &mut self,
        _home: &Address,
        _key: &StateKey,
    ) -> Result<Option<Vec<u8>>, Blocked> {
        Ok(None)
    }

    fn write_object(&mut self, _home: &Address, _key: StateKey, _value: Option<Vec<u8>>) {}
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
