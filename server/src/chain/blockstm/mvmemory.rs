//! Multi-version memory: for each account, the value each transaction index last wrote, or an
//! ESTIMATE marker left by an aborted incarnation (a hint that the write will likely come back).
//!
//! Accounts are spread over lock stripes by a per-process keyed hash, so threads rarely meet
//! on a lock and crafted addresses cannot pile onto one.

use std::collections::HashMap;
use std::sync::Mutex;

use joule_light_client::{Account, Address};
use smallvec::SmallVec;

/// Lock stripes: enough that threads rarely meet on one.
const STRIPES: usize = 256;

/// Where a read's value came from: the pre-block state, or a transaction's incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Nobody before the reader wrote the account.
    Storage,
    /// Written by transaction `.0`, incarnation `.1`.
    Version(u32, u32),
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadResult {
    /// A value, from `Origin`.
    Value(Account, Origin),
    /// Only the base state has it.
    Storage,
    /// An earlier transaction's ESTIMATE: the reader depends on it.
    Dependency(usize),
}

#[derive(Debug, Clone, Copy)]
enum Cell {
    Written { incarnation: u32, value: Account },
    Estimate,
}

/// Versions of one account, sorted by transaction index (usually zero to two).
type Versions = SmallVec<[(u32, Cell); 2]>;

/// The versions of every account written in the block.
#[derive(Debug)]
pub struct MvMemory {
    hasher: ahash::RandomState,
    stripes: Vec<Mutex<HashMap<Address, Versions, ahash::RandomState>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read_versions(v: Option<&Versions>, txn: usize) -> ReadResult {
    let below = v.and_then(|v| v.iter().rev().find(|(i, _)| (*i as usize) < txn));
    match below {
        None => ReadResult::Storage,
        Some((idx, Cell::Estimate)) => ReadResult::Dependency(*idx as usize),
        Some((idx, Cell::Written { incarnation, value })) => {
            ReadResult::Value(*value, Origin::Version(*idx, *incarnation))
        }
    }
}

fn upsert(v: &mut Versions, txn: u32, cell: Cell) {
    match v.binary_search_by_key(&txn, |(i, _)| *i) {
        Ok(pos) => v[pos].1 = cell,
        Err(pos) => v.insert(pos, (txn, cell)),
    }
}

fn remove(v: &mut Versions, txn: u32) {
    if let Ok(pos) = v.binary_search_by_key(&txn, |(i, _)| *i) {
        v.remove(pos);
    }
}

impl MvMemory {
    /// Empty memory sized for about `keys` accounts.
    pub fn new(keys: usize) -> Self {
        let hasher = ahash::RandomState::new();
        let per_stripe = keys / STRIPES + 1;
        Self {
            stripes: (0..STRIPES)
                .map(|_| {
                    Mutex::new(HashMap::with_capacity_and_hasher(
                        per_stripe,
                        hasher.clone(),
                    ))
                })
                .collect(),
            hasher,
        }
    }

    fn with<R>(&self, a: &Address, f: impl FnOnce(&mut Versions) -> R) -> R {
        let mut m = lock(&self.stripes[self.stripe(a)]);
        f(m.entry(*a).or_default())
    }

    fn stripe(&self, a: &Address) -> usize {
        (self.hasher.hash_one(a) as usize) % STRIPES
    }

    /// The value transaction `txn` reads for `a`: the highest write below it.
    pub fn read(&self, a: &Address, txn: usize) -> ReadResult {
        read_versions(lock(&self.stripes[self.stripe(a)]).get(a), txn)
    }

    /// Records an incarnation's writes; `last` holds the accounts the previous incarnation
    /// wrote and is updated. Returns whether it wrote an account the previous incarnation did
    /// not (then later transactions must be revalidated).
    pub fn record(
        &self,
        txn: usize,
        incarnation: usize,
        writes: &[(Address, Account)],
        last: &mut SmallVec<[Address; 2]>,
    ) -> bool {
        let t = txn as u32;
        for (a, value) in writes {
            let cell = Cell::Written {
                incarnation: incarnation as u32,
                value: *value,
            };
            self.with(a, |v| upsert(v, t, cell));
        }
        for old in last.iter() {
            if !writes.iter().any(|(a, _)| a == old) {
                self.with(old, |v| remove(v, t));
            }
        }
        let wrote_new = writes.iter().any(|(a, _)| !last.contains(a));
        last.clear();
        last.extend(writes.iter().map(|(a, _)| *a));
        wrote_new
    }

    /// Marks an aborted incarnation's writes (to `accounts`) as ESTIMATEs.
    pub fn convert_writes_to_estimates(&self, txn: usize, accounts: &[Address]) {
        for a in accounts {
            self.with(a, |v| upsert(v, txn as u32, Cell::Estimate));
        }
    }

    /// After the block: the final value of every account written, from its highest writer.
    pub fn into_final_values(self) -> Vec<(Address, Account)> {
        let mut out = Vec::new();
        for m in self.stripes {
            let m = m.into_inner().unwrap_or_else(|p| p.into_inner());
            out.extend(m.into_iter().filter_map(|(a, v)| match v.last() {
                Some((_, Cell::Written { value, .. })) => Some((a, *value)),
                _ => None,
            }));
        }
        out
    }
}
