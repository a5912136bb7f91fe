//! Parallel execution scheduled by declared keys: when every transaction names the keys it
//! touches up front (as native transfers do), the order between transactions is known before
//! any runs, and no multi-version memory or validation is needed.
//!
//! 1. **Key table**, in parallel: keys are split into one partition per thread by address
//!    range. Each partition sorts its keys' mentions by key, gives its keys dense slots in
//!    address order, loads their pre-block values once, and records, for every declared key of
//!    every transaction, the slot and the previous transaction that declared the same key (its
//!    dependency).
//! 2. **Execution**: threads claim short runs of consecutive transactions in block order. A
//!    transaction waits until each of its dependencies is done, then runs against its slots
//!    directly: no transaction before it touching those keys is unfinished, none after it has
//!    started on them, so what it reads is exactly what in-order execution would read.
//!    Claiming in block order means the lowest unfinished transaction never waits, so the block
//!    always progresses.
//! 3. **Result**: outputs in block order; every slot written, with its final value, in
//!    address order (the slots' own order, partition after partition).
//!
//! Declared keys are hints in the [`Vm`] contract. A transaction that touches a key it did not
//! declare abandons the whole run ([`Undeclared`]) before anything leaves this module, and the
//! caller executes the block another way. Whatever path ran, the result is the in-order one.
//!
//! Slots hold an [`Account`] as two atomics: the dependency waits (release/acquire on `done`)
//! order every access to a slot, so relaxed loads and stores suffice, and no `unsafe` is needed.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use joule_light_client::object::StateKey;
use joule_light_client::{Account, Address};
use rayon::prelude::*;

use super::exec::{sorted_objects, BaseState, ObjectMap, Runs};
use super::state::ObjectWrite;
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
/// keys at `start[i]..start[i + 1]`), its link: the slot and the transaction it waits for.
struct Table {
    start: Vec<usize>,
    /// Declared keys whose dependency is at most the plan's window before their transaction.
    near: usize,
    /// `dependency << 32 | partition << 24 | slot`: one word, so a transaction finds what it
    /// waits for and where its value is with one load per key.
    links: Vec<AtomicU64>,
    partitions: Vec<Partition>,
}

/// Slots a partition may hold (24 bits of a link).
const MAX_SLOTS: usize = 1 << 24;

fn link(dep: u32, partition: usize, slot: u32) -> u64 {
    (u64::from(dep) << 32) | ((partition as u64) << 24) | u64::from(slot)
}

impl Table {
    fn link(&self, g: usize) -> u64 {
        self.links[g].load(Ordering::Relaxed)
    }

    /// The transaction key `g` waits for, or [`NONE`].
    fn dep(&self, g: usize) -> u32 {
        (self.link(g) >> 32) as u32
    }

    fn slot(&self, g: usize) -> &Slot {
        let l = self.link(g);
        &self.partitions[((l >> 24) & 0xff) as usize].slots[(l & 0xff_ffff) as usize]
    }
}

/// The partition of `address` among `parts`: a range of the address space, so each
/// partition's writes, sorted, follow the previous partition's. Addresses are hashes, so honest
/// keys spread evenly; keys ground into one range only make the plan slower (one partition
/// does most of the work), never the result different.
fn partition_of(address: &Address, parts: usize) -> usize {
    let prefix = u16::from_be_bytes([address.0[0], address.0[1]]);
    (usize::from(prefix) * parts) >> 16
}

/// Where each transaction's declared keys sit in a plan's flat tables (transaction `i`'s at
/// `start[i]..start[i + 1]`), and the links table, not yet filled: the part of a plan that
/// needs no state and no partitions, so the executor computes it while it glances at the block.
pub struct KeyIndex {
    start: Vec<usize>,
    links: Vec<AtomicU64>,
}

impl KeyIndex {
    /// The index of `prepared`'s keys; `None` for blocks of [`MAX_TXS`] or more transactions,
    /// or [`MAX_SLOTS`] or more declared keys, which are not planned.
    pub fn new<V: Vm>(prepared: &[V::Prepared]) -> Option<Self> {
        if prepared.len() >= MAX_TXS {
            return None;
        }
        let mut start = Vec::with_capacity(prepared.len() + 1);
        let mut total = 0;
        for p in prepared {
            start.push(total);
            total += V::declared_keys(p).len();
        }
        start.push(total);
        if total >= MAX_SLOTS {
            return None;
        }
        let links = (0..total).map(|_| AtomicU64::new(0)).collect();
        Some(KeyIndex { start, links })
    }
}

fn build_table<V: Vm>(
    base: &BaseState<'_>,
    prepared: &[V::Prepared],
    keys: KeyIndex,
    parts: usize,
    window: usize,
) -> Table {
    let KeyIndex { start, links } = keys;
    // Each partition reads its own mentions only, not every key of the block (with one
    // partition per worker, that was 16 reads of the whole block on 16 threads).
    let chunks = bucket_mentions(prepared, V::declared_keys, &start, parts);
    let (partitions, near): (Vec<Partition>, Vec<usize>) = (0..parts)
        .into_par_iter()
        .map(|me| {
            let mentions = sorted_mentions(&chunks, me, parts);
            let mut addresses: Vec<Address> = Vec::with_capacity(mentions.len());
            let mut slots = Vec::with_capacity(mentions.len());
            let mut near = 0;
            // The last transaction that declared the current key.
            let mut last = NONE;
            for m in &mentions {
                if addresses.last() != Some(&m.key) {
                    addresses.push(m.key);
                    slots.push(Slot::new(base.get(&m.key)));
                    last = NONE;
                }
                // A key declared twice by one transaction: its first mention holds the
                // dependency; a transaction never waits on itself.
                let dep = if last == m.txn {
                    NONE
                } else {
                    let prev = last;
                    last = m.txn;
                    if prev != NONE && (m.txn - prev) as usize <= window {
                        near += 1;
                    }
                    prev
                };
                let slot = (slots.len() - 1) as u32;
                links[m.g as usize].store(link(dep, me, slot), Ordering::Relaxed);
            }
            (Partition { addresses, slots }, near)
        })
        .unzip();
    Table {
        start,
        near: near.iter().sum(),
        links,
        partitions,
    }
}

/// One declared key while a partition is built: the key, its place in the flat tables, and
/// the transaction that declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mention {
    key: Address,
    g: u32,
    txn: u32,
}

/// Transactions per chunk when mentions are bucketed: enough chunks to keep every worker
/// busy, few enough that each partition gathers from a handful.
fn chunk_len(txs: usize, parts: usize) -> usize {
    txs.div_ceil(parts * 4).max(256)
}

/// Every declared key's mention, per chunk of consecutive transactions, per partition, in
/// block order (chunks in parallel on the current rayon pool).
fn bucket_mentions<P: Sync>(
    prepared: &[P],
    declared_keys: impl Fn(&P) -> &[Address] + Sync,
    start: &[usize],
    parts: usize,
) -> Vec<Vec<Vec<Mention>>> {
    let len = chunk_len(prepared.len(), parts);
    prepared
        .par_chunks(len)
        .enumerate()
        .map(|(c, chunk)| {
            let first = c * len;
            let keys = start[first + chunk.len()] - start[first];
            // Keys spread evenly over the partitions; a quarter more room covers the usual
            // imbalance without a regrowth.
            let room = keys / parts + keys / (4 * parts) + 4;
            let mut by_part = vec![Vec::with_capacity(room); parts];
            for (i, p) in (first..).zip(chunk) {
                for (j, k) in declared_keys(p).iter().enumerate() {
                    by_part[partition_of(k, parts)].push(Mention {
                        key: *k,
                        g: (start[i] + j) as u32,
                        txn: i as u32,
                    });
                }
            }
            by_part
        })
        .collect()
}

/// Partition `me`'s declared keys, gathered from the chunks' buckets and sorted by key and,
/// for one key, in block order: then each key's mentions are adjacent, its slot is the next
/// one, and each mention's dependency is the one before it. Sorting replaces a hash map from
/// key to slot (two lookups per mention, at random) and leaves the slots in address order, so
/// the block's writes need no sort.
///
/// A counting sort on the keys' leading bits, into about as many buckets as mentions, then a
/// stable sort inside each bucket: addresses are hashes, so buckets hold one or two keys; keys
/// ground into one bucket only make that bucket's sort longer, never the order different.
fn sorted_mentions(chunks: &[Vec<Vec<Mention>>], me: usize, parts: usize) -> Vec<Mention> {
    let mut mentions = Vec::with_capacity(chunks.iter().map(|c| c[me].len()).sum());
    for c in chunks {
        mentions.extend_from_slice(&c[me]);
    }
    // The partition's range of the keys' leading 32 bits, [lo, hi): partition_of on the
    // leading 16 bits, inverted.
    let (lo, hi) = partition_range(parts, me);
    let buckets = mentions.len().next_power_of_two();
    // bucket = (lead - lo) · buckets / (hi - lo), rounded down, as a multiply and a shift:
    // monotone in the key (a smaller key never lands in a later bucket), and below `buckets`
    // since lead < hi. Buckets are at most 2^24 (the slots' limit), so nothing overflows.
    let scale = ((buckets as u64) << 32) / (hi - lo);
    let bucket = |k: &Address| {
        let lead = u64::from(u32::from_be_bytes([k.0[0], k.0[1], k.0[2], k.0[3]]));
        (((lead - lo) * scale) >> 32) as usize
    };
    let mut ends = vec![0u32; buckets + 1];
    for m in &mentions {
        ends[bucket(&m.key) + 1] += 1;
    }
    for b in 0..buckets {
        ends[b + 1] += ends[b];
    }
    let bounds = ends.clone();
    let mut sorted = vec![
        Mention {
            key: Address([0; 20]),
            g: 0,
            txn: 0
        };
        mentions.len()
    ];
    for m in &mentions {
        let b = bucket(&m.key);
        sorted[ends[b] as usize] = *m;
        ends[b] += 1;
    }
    for w in bounds.windows(2) {
        let run = &mut sorted[w[0] as usize..w[1] as usize];
        if run.len() > 1 {
            // Stable: one key's mentions stay in block order.
            run.sort_by_key(|m| m.key);
        }
    }
    sorted
}

/// The leading 32 bits of partition `me`'s keys, as a range `[lo, hi)` (inverting
/// [`partition_of`], which looks at the leading 16).
fn partition_range(parts: usize, me: usize) -> (u64, u64) {
    // The smallest 16-bit prefix p with p · parts / 2^16 ≥ me.
    let first = |me: usize| ((me << 16) as u64).div_ceil(parts as u64);
    (first(me) << 16, first(me + 1) << 16)
}

/// Parts of the object overlay (by a byte of the key's hashed id).
const OBJECT_PARTS: usize = 16;

/// Objects written during a planned block. Every access to an object names its home account,
/// which the transaction declared: accesses to one object are ordered by that account's
/// dependencies like accesses to the account, so the locks only guard the maps' memory (held
/// for a lookup or an insert, never across a wait). Transfers never touch it.
struct ObjectOverlay {
    parts: Vec<Mutex<ObjectMap>>,
}

impl ObjectOverlay {
    fn new() -> Self {
        ObjectOverlay {
            parts: (0..OBJECT_PARTS).map(|_| Mutex::default()).collect(),
        }
    }

    fn part(&self, key: &StateKey) -> std::sync::MutexGuard<'_, ObjectMap> {
        self.parts[usize::from(key.0[9]) % OBJECT_PARTS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Every object written, sorted by key.
    fn into_sorted(self) -> Vec<ObjectWrite> {
        let mut all = ObjectMap::default();
        for p in self.parts {
            all.extend(p.into_inner().unwrap_or_else(|p| p.into_inner()));
        }
        sorted_objects(all)
    }
}

/// A transaction's view: its declared keys, straight to their slots.
struct SlotView<'a, 'b> {
    keys: &'a [Address],
    first: usize,
    table: &'a Table,
    objects: &'a ObjectOverlay,
    base: &'a BaseState<'b>,
    txn: usize,
    undeclared: bool,
}

impl SlotView<'_, '_> {
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

impl StateView for SlotView<'_, '_> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        let txn = self.txn;
        self.find(address).map(Slot::get).ok_or(Blocked(txn))
    }

    fn write(&mut self, address: Address, account: Account) {
        if let Some(s) = self.find(&address) {
            s.set(account);
        }
    }

    fn read_object(&mut self, home: &Address, key: &StateKey) -> Result<Option<Vec<u8>>, Blocked> {
        if self.find(home).is_none() {
            return Err(Blocked(self.txn));
        }
        let written = self.objects.part(key).get(key).cloned();
        Ok(match written {
            Some(v) => v,
            None => self.base.object(key),
        })
    }

    fn write_object(&mut self, home: &Address, key: StateKey, value: Option<Vec<u8>>) {
        if self.find(home).is_some() {
            self.objects.part(&key).insert(key, value);
        }
    }
}

/// Shared state of the execution phase.
struct Run<'a, 'b, V: Vm> {
    vm: &'a V,
    base: &'a BaseState<'b>,
    txs: &'a [V::Tx],
    prepared: &'a [V::Prepared],
    table: Table,
    objects: ObjectOverlay,
    next: AtomicUsize,
    done: Vec<AtomicBool>,
    abandoned: AtomicUsize,
}

impl<V: Vm> Run<'_, '_, V> {
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

    /// Claims and runs transactions until none are left; returns the runs it claimed, each
    /// with its first index and its outputs (incomplete if the run was abandoned).
    fn work(&self) -> Vec<(usize, Vec<V::Output>)> {
        let n = self.txs.len();
        let mut runs = Vec::new();
        loop {
            let from = self.next.fetch_add(CLAIM, Ordering::Relaxed);
            if from >= n || self.abandoned.load(Ordering::Relaxed) != usize::MAX {
                return runs;
            }
            let to = (from + CLAIM).min(n);
            runs.push((from, Vec::with_capacity(to - from)));
            let outputs = &mut runs.last_mut().expect("just pushed").1;
            for i in from..to {
                let t = &self.table;
                for g in t.start[i]..t.start[i + 1] {
                    let d = t.dep(g);
                    if d != NONE && !self.wait(d as usize) {
                        return runs;
                    }
                }
                let p = &self.prepared[i];
                let mut view = SlotView {
                    keys: V::declared_keys(p),
                    first: t.start[i],
                    table: t,
                    objects: &self.objects,
                    base: self.base,
                    txn: i,
                    undeclared: false,
                };
                let result = self.vm.execute(&self.txs[i], p, &mut view);
                match result {
                    Ok(o) if !view.undeclared => outputs.push(o),
                    _ => {
                        self.abandoned.fetch_min(i, Ordering::Relaxed);
                        return runs;
                    }
                }
                self.done[i].store(true, Ordering::Release);
            }
        }
    }
}

/// A planned block's result.
pub struct Executed<R> {
    /// What `finish` made of the outputs.
    pub result: R,
    /// Every account written, sorted by address.
    pub writes: Vec<(Address, Account)>,
    /// Every object written, sorted by key.
    pub objects: Vec<ObjectWrite>,
    /// When the last transaction had run (before the outputs were finished).
    pub ran_at: Instant,
}

/// A block's key table, built before any transaction runs: enough to know how parallel the
/// block is and to run it.
pub struct Plan {
    table: Table,
}

impl Plan {
    /// Builds the key table of `prepared` (whose keys `keys` indexes) over `base`, in `parts`
    /// partitions on the current rayon pool, for `parts` workers.
    pub fn new<V: Vm>(
        base: &BaseState<'_>,
        prepared: &[V::Prepared],
        keys: KeyIndex,
        parts: usize,
    ) -> Self {
        debug_assert_eq!(
            keys.start.len(),
            prepared.len() + 1,
            "keys index another block"
        );
        // A link holds the partition in 8 bits.
        let parts = parts.clamp(1, usize::from(u8::MAX));
        Plan {
            table: build_table::<V>(base, prepared, keys, parts, CLAIM * parts),
        }
    }

    /// Dependencies on one of the [`CLAIM`] × workers transactions just before their own, per
    /// transaction: with the workers claiming runs of [`CLAIM`], those are the ones likely to
    /// wait for another thread. Counted per declared key while the table is built, so a
    /// transaction with two such keys counts twice: an upper bound on the share of
    /// transactions that wait.
    pub fn near_dependencies(&self) -> f64 {
        let n = self.table.start.len() - 1;
        if n == 0 {
            return 0.0;
        }
        self.table.near as f64 / n as f64
    }

    /// Executes the block on `workers` workers of the current rayon pool (one: in order).
    /// `finish` gets the outputs in block order, as runs, while the writes are collected; or
    /// [`Undeclared`] if a transaction touched a key it had not declared.
    pub fn execute<V: Vm, R: Send>(
        self,
        vm: &V,
        base: &BaseState<'_>,
        txs: &[V::Tx],
        prepared: &[V::Prepared],
        workers: usize,
        finish: &(impl Fn(Runs<V::Output>) -> R + Sync),
    ) -> Result<Executed<R>, Undeclared> {
        let run = Run {
            vm,
            base,
            txs,
            prepared,
            table: self.table,
            objects: ObjectOverlay::new(),
            next: AtomicUsize::new(0),
            done: (0..txs.len()).map(|_| AtomicBool::new(false)).collect(),
            abandoned: AtomicUsize::new(usize::MAX),
        };
        let mut runs = if workers <= 1 {
            run.work()
        } else {
            (0..workers)
                .into_par_iter()
                .with_max_len(1)
                .flat_map_iter(|_| run.work())
                .collect()
        };
        let ran_at = Instant::now();
        let abandoned = run.abandoned.into_inner();
        if abandoned != usize::MAX {
            return Err(Undeclared { txn: abandoned });
        }
        runs.sort_unstable_by_key(|(from, _)| *from);
        let outputs = runs.into_iter().map(|(_, run)| run).collect();
        let partitions = run.table.partitions;
        let objects = run.objects.into_sorted();
        // Each partition is a range of addresses, its slots in address order: their written
        // slots, collected in parallel, concatenate into the block's sorted writes.
        let (finished, sorted) = rayon::join(
            || finish(outputs),
            || {
                partitions
                    .into_par_iter()
                    .with_max_len(1)
                    .map(|p| {
                        // Slots are in address order (see sorted_mentions).
                        p.addresses
                            .into_iter()
                            .zip(p.slots)
                            .filter(|(_, s)| s.written.load(Ordering::Relaxed))
                            .map(|(a, s)| (a, s.get()))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            },
        );
        let mut writes = Vec::with_capacity(sorted.iter().map(Vec::len).sum());
        for part in sorted {
            writes.extend(part);
        }
        Ok(Executed {
            result: finished,
            writes,
            objects,
            ran_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_address_ranges_in_order() {
        // Sorted partitions concatenate into sorted writes only if a later partition never
        // holds a smaller address.
        let mut addresses: Vec<Address> = (0..=u16::MAX)
            .step_by(97)
            .chain([0, 1, u16::MAX - 1, u16::MAX])
            .map(|p| {
                let mut a = [0x5a; 20];
                a[..2].copy_from_slice(&p.to_be_bytes());
                Address(a)
            })
            .collect();
        addresses.sort_unstable();
        for parts in [1, 2, 3, 7, 16, 255] {
            let of: Vec<usize> = addresses.iter().map(|a| partition_of(a, parts)).collect();
            assert!(of.windows(2).all(|w| w[0] <= w[1]), "{parts} parts");
            assert_eq!(of[0], 0);
            assert_eq!(*of.last().expect("addresses"), parts - 1, "{parts} parts");
        }
    }

    #[test]
    fn partition_range_holds_exactly_the_partitions_addresses() {
        for parts in [1, 2, 3, 7, 16, 255] {
            for prefix in 0..=u16::MAX {
                let mut a = [0; 20];
                a[..2].copy_from_slice(&prefix.to_be_bytes());
                let me = partition_of(&Address(a), parts);
                let lead = u64::from(prefix) << 16;
                for p in 0..parts {
                    let (lo, hi) = partition_range(parts, p);
                    assert_eq!(
                        lo <= lead && lead < hi,
                        p == me,
                        "{parts} parts, {prefix:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn mentions_sort_by_key_then_block_order_even_when_keys_share_a_bucket() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let random = |rng: &mut rand::rngs::StdRng| Address(rng.gen());
        // Keys spread over the address space, and keys ground to share their leading six
        // bytes (one bucket whatever the block's size), each declared many times.
        let mut pool: Vec<Address> = (0..40).map(|_| random(&mut rng)).collect();
        for _ in 0..40 {
            let mut a = random(&mut rng);
            a.0[..6].copy_from_slice(&[0x81, 0x22, 0x33, 0x44, 0x55, 0x66]);
            pool.push(a);
        }
        let txs: Vec<Vec<Address>> = (0..500)
            .map(|_| {
                let n = rng.gen_range(0..4);
                (0..n).map(|_| pool[rng.gen_range(0..pool.len())]).collect()
            })
            .collect();
        let mut start = vec![0];
        for t in &txs {
            start.push(start.last().unwrap() + t.len());
        }
        let start = &start;
        for parts in [1, 2, 3, 16] {
            let mut seen = 0;
            // Small chunks too, so mentions are gathered from many.
            let chunks = bucket_mentions(&txs, |t| t.as_slice(), start, parts);
            assert_eq!(
                chunks.len(),
                txs.len().div_ceil(chunk_len(txs.len(), parts))
            );
            let small: Vec<Vec<Vec<Mention>>> = (0..txs.len())
                .step_by(7)
                .map(|first| {
                    let end = (first + 7).min(txs.len());
                    let mut by_part = vec![Vec::new(); parts];
                    for c in &chunks {
                        for (p, ms) in c.iter().enumerate() {
                            by_part[p].extend(
                                ms.iter()
                                    .filter(|m| (first..end).contains(&(m.txn as usize))),
                            );
                        }
                    }
                    by_part
                })
                .collect();
            for me in 0..parts {
                let got = sorted_mentions(&chunks, me, parts);
                assert_eq!(got, sorted_mentions(&small, me, parts));
                let mut want: Vec<Mention> = txs
                    .iter()
                    .enumerate()
                    .flat_map(|(i, t)| {
                        t.iter().enumerate().map(move |(j, k)| Mention {
                            key: *k,
                            g: (start[i] + j) as u32,
                            txn: i as u32,
                        })
                    })
                    .filter(|m| partition_of(&m.key, parts) == me)
                    .collect();
                want.sort_by_key(|m| m.key);
                assert_eq!(got, want, "{parts} parts, partition {me}");
                seen += got.len();
            }
            assert_eq!(seen, *start.last().unwrap(), "{parts} parts");
        }
    }
}
