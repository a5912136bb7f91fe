//! Parallel execution scheduled by declared keys: when every transaction names the keys it
//! touches up front (as native transfers do), the order between transactions is known before
//! any runs, and no multi-version memory or validation is needed.
//!
//! 1. **Key table**, in parallel: keys are split into one partition per thread by a keyed
//!    hash. Each partition gives its keys dense slots, loads their pre-block values once, and
//!    records, for every declared key of every transaction, the slot and the previous
//!    transaction that declared the same key (its dependency).
//! 2. **Execution**: threads claim short runs of consecutive transactions in block order. A
//!    transaction waits until each of its dependencies is done, then runs against its slots
//!    directly: no transaction before it touching those keys is unfinished, none after it has
//!    started on them, so what it reads is exactly what in-order execution would read.
//!    Claiming in block order means the lowest unfinished transaction never waits, so the block
//!    always progresses.
//! 3. **Result**: outputs in block order; every slot written, with its final value.
//!
//! Declared keys are hints in the [`Vm`] contract. A transaction that touches a key it did not
//! declare abandons the whole run ([`Undeclared`]) before anything leaves this module, and the
//! caller executes the block another way. Whatever path ran, the result is the in-order one.
//!
//! Slots hold an [`Account`] as two atomics: the dependency waits (release/acquire on `done`)
//! order every access to a slot, so relaxed loads and stores suffice, and no `unsafe` is needed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use joule_light_client::{Account, Address};
use rayon::prelude::*;

use super::exec::BaseState;
use super::vm::{Blocked, StateView, Vm};

/// Transactions a thread claims at once: few enough that a claimed run rarely holds a
/// dependency of the other threads' runs, enough that the shared counter is rarely touched.
pub const CLAIM: usize = 32;

/// Spins before a waiting thread starts yielding its core (the transaction it waits on
/// usually finishes within a microsecond, unless its thread was descheduled).
const SPINS: u32 = 128;

/// No dependency.
const NONE: u32 = u32::MAX;

/// Blocks this large or larger are not planned here (indices are 32-bit).
const MAX_TXS: usize = NONE as usize;

/// Outputs in block order, and every account written (unordered).
pub type Executed<O> = (Vec<O>, Vec<(Address, Account)>);

/// A transaction read or wrote a key it had not declared: the run was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undeclared {
    /// The first such transaction seen.
    pub txn: usize,
}

/// One key's value during the block.
#[derive(Debug, Default)]
struct Slot {
    balance: AtomicU64,
    nonce: AtomicU64,
    written: AtomicBool,
}

impl Slot {
    fn new(a: Account) -> Self {
        Slot {
            balance: AtomicU64::new(a.balance),
            nonce: AtomicU64::new(a.nonce),
            written: AtomicBool::new(false),
        }
    }

    fn get(&self) -> Account {
        Account {
            balance: self.balance.load(Ordering::Relaxed),
            nonce: self.nonce.load(Ordering::Relaxed),
        }
    }

    fn set(&self, a: Account) {
        self.balance.store(a.balance, Ordering::Relaxed);
        self.nonce.store(a.nonce, Ordering::Relaxed);
        self.written.store(true, Ordering::Relaxed);
    }
}

/// One partition's keys: slot `s` holds `addresses[s]`.
struct Partition {
    addresses: Vec<Address>,
    slots: Vec<Slot>,
}

/// The key table: for each declared key of each transaction (flattened, transaction `i`'s
/// keys at `start[i]..start[i + 1]`), its slot and the transaction it waits for.
struct Table {
    start: Vec<usize>,
    /// `partition << 32 | slot`.
    slot: Vec<AtomicU64>,
    dep: Vec<AtomicU32>,
    partitions: Vec<Partition>,
}

impl Table {
    fn slot(&self, g: usize) -> &Slot {
        let r = self.slot[g].load(Ordering::Relaxed);
        &self.partitions[(r >> 32) as usize].slots[(r & u64::from(u32::MAX)) as usize]
    }
}

fn build_table<V: Vm>(base: &BaseState<'_>, prepared: &[V::Prepared], parts: usize) -> Table {
    let mut start = Vec::with_capacity(prepared.len() + 1);
    let mut total = 0;
    for p in prepared {
        start.push(total);
        total += V::declared_keys(p).len();
    }
    start.push(total);
    let hasher = ahash::RandomState::new();
    // Partition of each flattened key, hashed once, in parallel.
    let part: Vec<u8> = prepared
        .par_iter()
        .with_min_len(512)
        .flat_map_iter(|p| {
            V::declared_keys(p)
                .iter()
                .map(|k| (hasher.hash_one(k) % parts as u64) as u8)
        })
        .collect();
    let slot: Vec<AtomicU64> = (0..total).map(|_| AtomicU64::new(0)).collect();
    let dep: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(NONE)).collect();
    let partitions = (0..parts)
        .into_par_iter()
        .map(|me| {
            let me8 = me as u8;
            let expect = total / parts + total / (4 * parts) + 16;
            let mut index: HashMap<Address, u32, ahash::RandomState> =
                // Not the partitioning hasher: every key of a partition has the same hash modulo
                // `parts`, so the map's probes would start at only a fraction of its buckets.
                HashMap::with_capacity_and_hasher(expect, ahash::RandomState::new());
            let mut addresses = Vec::with_capacity(expect);
            let mut slots = Vec::with_capacity(expect);
            let mut last: Vec<u32> = Vec::with_capacity(expect);
            for (i, p) in prepared.iter().enumerate() {
                for (j, k) in V::declared_keys(p).iter().enumerate() {
                    let g = start[i] + j;
                    if part[g] != me8 {
                        continue;
                    }
                    let s = *index.entry(*k).or_insert_with(|| {
                        addresses.push(*k);
                        slots.push(Slot::new(base.get(k)));
                        last.push(NONE);
                        (slots.len() - 1) as u32
                    });
                    slot[g].store(((me as u64) << 32) | u64::from(s), Ordering::Relaxed);
                    let prev = last[s as usize];
                    // A key declared twice by one transaction: its first mention holds the
                    // dependency; a transaction never waits on itself.
                    if prev != i as u32 {
                        dep[g].store(prev, Ordering::Relaxed);
                        last[s as usize] = i as u32;
                    }
                }
            }
            Partition { addresses, slots }
        })
        .collect();
    Table {
        start,
        slot,
        dep,
        partitions,
    }
}

/// A transaction's view: its declared keys, straight to their slots.
struct SlotView<'a> {
    keys: &'a [Address],
    first: usize,
    table: &'a Table,
    txn: usize,
    undeclared: bool,
}

impl SlotView<'_> {
    fn find(&mut self, address: &Address) -> Option<&Slot> {
        match self.keys.iter().position(|k| k == address) {
            Some(j) => Some(self.table.slot(self.first + j)),
            None => {
                self.undeclared = true;
                None
            }
        }
    }
}

impl StateView for SlotView<'_> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        let txn = self.txn;
        self.find(address).map(Slot::get).ok_or(Blocked(txn))
    }

    fn write(&mut self, address: Address, account: Account) {
        if let Some(s) = self.find(&address) {
            s.set(account);
        }
    }
}

/// Shared state of the execution phase.
struct Run<'a, V: Vm> {
    vm: &'a V,
    txs: &'a [V::Tx],
    prepared: &'a [V::Prepared],
    table: Table,
    next: AtomicUsize,
    done: Vec<AtomicBool>,
    outputs: Vec<OnceLock<V::Output>>,
    abandoned: AtomicUsize,
}

impl<V: Vm> Run<'_, V> {
    /// Waits until transaction `d` is done; false if the run was abandoned meanwhile.
    fn wait(&self, d: usize) -> bool {
        let mut spins = 0u32;
        while !self.done[d].load(Ordering::Acquire) {
            if self.abandoned.load(Ordering::Relaxed) != usize::MAX {
                return false;
            }
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        true
    }

    fn work(&self) {
        let n = self.txs.len();
        loop {
            let from = self.next.fetch_add(CLAIM, Ordering::Relaxed);
            if from >= n || self.abandoned.load(Ordering::Relaxed) != usize::MAX {
                return;
            }
            for i in from..(from + CLAIM).min(n) {
                let t = &self.table;
                for g in t.start[i]..t.start[i + 1] {
                    let d = t.dep[g].load(Ordering::Relaxed);
                    if d != NONE && !self.wait(d as usize) {
                        return;
                    }
                }
                let p = &self.prepared[i];
                let mut view = SlotView {
                    keys: V::declared_keys(p),
                    first: t.start[i],
                    table: t,
                    txn: i,
                    undeclared: false,
                };
                let result = self.vm.execute(&self.txs[i], p, &mut view);
                match result {
                    Ok(o) if !view.undeclared => {
                        // Each index is claimed once, so the cell is empty.
                        let _ = self.outputs[i].set(o);
                    }
                    _ => {
                        self.abandoned.fetch_min(i, Ordering::Relaxed);
                        return;
                    }
                }
                self.done[i].store(true, Ordering::Release);
            }
        }
    }
}

/// A block's key table, built before any transaction runs: enough to know how parallel the
/// block is and to run it.
pub struct Plan {
    table: Table,
}

impl Plan {
    /// Builds the key table of `prepared` over `base`, in `parts` partitions on the current
    /// rayon pool. Blocks of [`MAX_TXS`] or more transactions are refused (`None`).
    pub fn new<V: Vm>(
        base: &BaseState<'_>,
        prepared: &[V::Prepared],
        parts: usize,
    ) -> Option<Self> {
        if prepared.len() >= MAX_TXS {
            return None;
        }
        let parts = parts.clamp(1, usize::from(u8::MAX));
        Some(Plan {
            table: build_table::<V>(base, prepared, parts),
        })
    }

    /// Transactions per step of the longest chain of transactions linked by shared declared
    /// keys: how many threads the block could keep busy (1 when each depends on the last).
    pub fn parallelism(&self) -> f64 {
        let t = &self.table;
        let n = t.start.len() - 1;
        let mut depth = vec![0u32; n];
        let mut longest = 0;
        for i in 0..n {
            let d = 1
                + (t.start[i]..t.start[i + 1])
                    .map(|g| match t.dep[g].load(Ordering::Relaxed) {
                        NONE => 0,
                        d => depth[d as usize],
                    })
                    .max()
                    .unwrap_or(0);
            depth[i] = d;
            longest = longest.max(d);
        }
        n as f64 / f64::from(longest.max(1))
    }

    /// The share of transactions that depend on one of the `window` transactions just before
    /// them: with `workers` threads claiming runs of [`CLAIM`], those are the ones likely to
    /// wait for another thread.
    pub fn near_dependencies(&self, window: usize) -> f64 {
        let t = &self.table;
        let n = t.start.len() - 1;
        if n == 0 {
            return 0.0;
        }
        let near = (0..n)
            .filter(|&i| {
                (t.start[i]..t.start[i + 1]).any(|g| match t.dep[g].load(Ordering::Relaxed) {
                    NONE => false,
                    d => i - d as usize <= window,
                })
            })
            .count();
        near as f64 / n as f64
    }

    /// Executes the block on `workers` workers of the current rayon pool (one: in order).
    /// Returns the outputs in block order and every account written (unordered), or
    /// [`Undeclared`] if a transaction touched a key it had not declared.
    pub fn execute<V: Vm>(
        self,
        vm: &V,
        txs: &[V::Tx],
        prepared: &[V::Prepared],
        workers: usize,
    ) -> Result<Executed<V::Output>, Undeclared> {
        let run = Run {
            vm,
            txs,
            prepared,
            table: self.table,
            next: AtomicUsize::new(0),
            done: (0..txs.len()).map(|_| AtomicBool::new(false)).collect(),
            outputs: (0..txs.len()).map(|_| OnceLock::new()).collect(),
            abandoned: AtomicUsize::new(usize::MAX),
        };
        if workers <= 1 {
            run.work();
        } else {
            (0..workers)
                .into_par_iter()
                .with_max_len(1)
                .for_each(|_| run.work());
        }
        let abandoned = run.abandoned.into_inner();
        if abandoned != usize::MAX {
            return Err(Undeclared { txn: abandoned });
        }
        let outputs = run
            .outputs
            .into_par_iter()
            .with_min_len(1024)
            .map(|o| o.into_inner().expect("every transaction ran"))
            .collect();
        let writes = run
            .table
            .partitions
            .into_par_iter()
            .flat_map_iter(|p| {
                p.addresses
                    .into_iter()
                    .zip(p.slots)
                    .filter(|(_, s)| s.written.load(Ordering::Relaxed))
                    .map(|(a, s)| (a, s.get()))
            })
            .collect();
        Ok((outputs, writes))
    }
}
