//! Multi-version memory: for each account, the value each transaction index last wrote, or an
//! ESTIMATE marker left by an aborted incarnation (a hint that the write will likely come back).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash as _, Hasher};
use std::sync::Mutex;

use joule_light_client::{Account, Address};

/// Lock stripes: enough that threads rarely meet on one.
const STRIPES: usize = 64;

/// Where a read's value came from: the pre-block state, or a transaction's incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Nobody before the reader wrote the account.
    Storage,
    /// Written by transaction `.0`, incarnation `.1`.
    Version(usize, usize),
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
    Written { incarnation: usize, value: Account },
    Estimate,
}

type Versions = BTreeMap<usize, Cell>;

/// The versions of every account written in the block.
#[derive(Debug)]
pub struct MvMemory {
    stripes: Vec<Mutex<HashMap<Address, Versions>>>,
    /// Keys each transaction's last incarnation wrote.
    last_writes: Vec<Mutex<Vec<Address>>>,
}

fn stripe(a: &Address) -> usize {
    let mut h = DefaultHasher::new();
    a.hash(&mut h);
    (h.finish() as usize) % STRIPES
}

impl MvMemory {
    /// Empty memory for a block of `n` transactions.
    pub fn new(n: usize) -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect(),
            last_writes: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    fn with<R>(&self, a: &Address, f: impl FnOnce(&mut HashMap<Address, Versions>) -> R) -> R {
        let mut guard = self.stripes[stripe(a)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// The value transaction `txn` reads for `a`: the highest write below it.
    pub fn read(&self, a: &Address, txn: usize) -> ReadResult {
        self.with(a, |m| {
            match m.get(a).and_then(|v| v.range(..txn).next_back()) {
                None => ReadResult::Storage,
                Some((&idx, Cell::Estimate)) => ReadResult::Dependency(idx),
                Some((&idx, Cell::Written { incarnation, value })) => {
                    ReadResult::Value(*value, Origin::Version(idx, *incarnation))
                }
            }
        })
    }

    /// Records an incarnation's writes; returns whether it wrote an account the previous
    /// incarnation did not (then later transactions must be revalidated).
    pub fn record(&self, txn: usize, incarnation: usize, writes: &[(Address, Account)]) -> bool {
        for (a, value) in writes {
            self.with(a, |m| {
                m.entry(*a).or_default().insert(
                    txn,
                    Cell::Written {
                        incarnation,
                        value: *value,
                    },
                )
            });
        }
        let new_keys: Vec<Address> = writes.iter().map(|(a, _)| *a).collect();
        let mut last = self.last_writes[txn]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for old in last.iter().filter(|k| !new_keys.contains(k)) {
            self.with(old, |m| {
                if let Some(v) = m.get_mut(old) {
                    v.remove(&txn);
                }
            });
        }
        let wrote_new = new_keys.iter().any(|k| !last.contains(k));
        *last = new_keys;
        wrote_new
    }

    /// Marks an aborted incarnation's writes as ESTIMATEs.
    pub fn convert_writes_to_estimates(&self, txn: usize) {
        let last = self.last_writes[txn]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for a in last.iter() {
            self.with(a, |m| {
                if let Some(v) = m.get_mut(a) {
                    v.insert(txn, Cell::Estimate);
                }
            });
        }
    }

    /// After the block: the final value of every account written, from the highest writer.
    pub fn final_values(&self) -> Vec<(Address, Account)> {
        let mut out = Vec::new();
        for s in &self.stripes {
            let m = s.lock().unwrap_or_else(|p| p.into_inner());
            for (a, versions) in m.iter() {
                if let Some((_, Cell::Written { value, .. })) = versions.iter().next_back() {
                    out.push((*a, *value));
                }
            }
        }
        out
    }
}
