//! Block-STM's collaborative scheduler (Gelashvili et al., "Block-STM", PPoPP 2023).
//!
//! Threads repeatedly take the lowest-indexed pending work: validating finished incarnations
//! or executing the next transactions. An incarnation that read a value a lower transaction
//! later changed fails validation and is re-executed; one that meets an ESTIMATE waits on its
//! writer.
//!
//! Unlike the paper, a thread claims a short run of consecutive indices at once (a [`Claim`]),
//! so the shared counters are touched once per run rather than once per transaction — with
//! transactions that cost a microsecond, those cache-line transfers would otherwise dominate.
//! `active` counts threads holding a claim (a claim covers the tasks handed out from it and
//! their follow-ups); the block is done when both indices passed the end, no claim is held,
//! and no index was decreased meanwhile (`decreases` unchanged across the check).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
}

/// Work for a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Execute incarnation `.1` of transaction `.0`.
    Execute(usize, usize),
    /// Validate incarnation `.1` of transaction `.0`.
    Validate(usize, usize),
}

/// A run of indices one thread claimed, handed out one task at a time.
#[derive(Debug, Default)]
pub struct Claim {
    validate: bool,
    next: usize,
    end: usize,
    held: bool,
}

/// Shared scheduling state of one block.
#[derive(Debug)]
pub struct Scheduler {
    n: usize,
    batch: usize,
    execution_idx: AtomicUsize,
    validation_idx: AtomicUsize,
    decreases: AtomicUsize,
    active: AtomicUsize,
    done: AtomicBool,
    status: Vec<Mutex<(usize, Status)>>,
    dependents: Vec<Mutex<Vec<usize>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// A scheduler for `n` transactions run by `threads` threads.
    pub fn new(n: usize, threads: usize) -> Self {
        Self {
            n,
            // Long enough to amortise the shared counters, short enough to keep every thread
            // near the lowest pending index.
            batch: (n / (threads.max(1) * 32)).clamp(1, 16),
            execution_idx: AtomicUsize::new(0),
            validation_idx: AtomicUsize::new(0),
            decreases: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            done: AtomicBool::new(false),
            status: (0..n)
                .map(|_| Mutex::new((0, Status::ReadyToExecute)))
                .collect(),
            dependents: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Whether every transaction is executed and validated.
    pub fn done(&self) -> bool {
        self.done.load(SeqCst)
    }

    fn check_done(&self) {
        let observed = self.decreases.load(SeqCst);
        if self
            .execution_idx
            .load(SeqCst)
            .min(self.validation_idx.load(SeqCst))
            >= self.n
            && self.active.load(SeqCst) == 0
            && observed == self.decreases.load(SeqCst)
        {
            self.done.store(true, SeqCst);
        }
    }

    fn decrease_execution_idx(&self, target: usize) {
        self.execution_idx.fetch_min(target, SeqCst);
        self.decreases.fetch_add(1, SeqCst);
    }

    fn decrease_validation_idx(&self, target: usize) {
        self.validation_idx.fetch_min(target, SeqCst);
        self.decreases.fetch_add(1, SeqCst);
    }

    /// Moves `txn` from ready to executing; its incarnation if it was ready.
    fn try_incarnate(&self, txn: usize) -> Option<usize> {
        if txn >= self.n {
            return None;
        }
        let mut s = lock(&self.status[txn]);
        if s.1 == Status::ReadyToExecute {
            s.1 = Status::Executing;
            Some(s.0)
        } else {
            None
        }
    }

    /// The next task for the thread holding `claim`, or `None` when the block is done.
    /// Spins briefly while others work. The previous task (and its follow-ups) must be over.
    pub fn next_task(&self, claim: &mut Claim) -> Option<Task> {
        loop {
            while claim.next < claim.end {
                let idx = claim.next;
                claim.next += 1;
                if claim.validate {
                    let s = *lock(&self.status[idx]);
                    if s.1 == Status::Executed {
                        return Some(Task::Validate(idx, s.0));
                    }
                } else if let Some(inc) = self.try_incarnate(idx) {
                    return Some(Task::Execute(idx, inc));
                }
            }
            if claim.held {
                claim.held = false;
                self.active.fetch_sub(1, SeqCst);
            }
            if self.done() {
                return None;
            }
            let validate = self.validation_idx.load(SeqCst) < self.execution_idx.load(SeqCst);
            let counter = if validate {
                &self.validation_idx
            } else {
                &self.execution_idx
            };
            if counter.load(SeqCst) >= self.n {
                self.check_done();
                // Others still work (or wait on dependencies); stay out of their way.
                std::thread::yield_now();
                continue;
            }
            self.active.fetch_add(1, SeqCst);
            let idx = counter.fetch_add(self.batch, SeqCst);
            *claim = Claim {
                validate,
                next: idx.min(self.n),
                end: (idx + self.batch).min(self.n),
                held: true,
            };
        }
    }

    /// `txn` read an ESTIMATE of `blocking`: park it until `blocking` finishes. Returns false if
    /// `blocking` already finished (then re-execute at once); true ends the task.
    pub fn add_dependency(&self, txn: usize, blocking: usize) -> bool {
        let mut deps = lock(&self.dependents[blocking]);
        if lock(&self.status[blocking]).1 == Status::Executed {
            return false;
        }
        lock(&self.status[txn]).1 = Status::Aborting;
        deps.push(txn);
        true
    }

    fn set_ready(&self, txn: usize) {
        let mut s = lock(&self.status[txn]);
        *s = (s.0 + 1, Status::ReadyToExecute);
    }

    /// An incarnation finished executing. May hand back its own validation as the next task.
    pub fn finish_execution(
        &self,
        txn: usize,
        incarnation: usize,
        wrote_new_key: bool,
    ) -> Option<Task> {
        lock(&self.status[txn]).1 = Status::Executed;
        let deps = std::mem::take(&mut *lock(&self.dependents[txn]));
        if let Some(min) = deps.iter().copied().min() {
            for d in &deps {
                self.set_ready(*d);
            }
            self.decrease_execution_idx(min);
        }
        if self.validation_idx.load(SeqCst) > txn {
            if wrote_new_key {
                // Later transactions may have read around the new key: revalidate them all.
                self.decrease_validation_idx(txn);
            } else {
                return Some(Task::Validate(txn, incarnation));
            }
        }
        None
    }

    /// Claims the abort of a failed validation (only one validator of an incarnation wins).
    pub fn try_validation_abort(&self, txn: usize, incarnation: usize) -> bool {
        let mut s = lock(&self.status[txn]);
        if *s == (incarnation, Status::Executed) {
            s.1 = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// A validation finished. After an abort, may hand back the re-execution as the next task.
    pub fn finish_validation(&self, txn: usize, aborted: bool) -> Option<Task> {
        if aborted {
            self.set_ready(txn);
            self.decrease_validation_idx(txn + 1);
            if self.execution_idx.load(SeqCst) > txn {
                if let Some(inc) = self.try_incarnate(txn) {
                    return Some(Task::Execute(txn, inc));
                }
            }
        }
        None
    }
}
