//! `joule bench engines` (built with `--features fjall-bench`): the storage engine under the
//! chain's state, measured on its two write patterns, one durable commit per block —
//!
//! - **accounts**: a block's account writes (fixed 36-byte records at random addresses) into a
//!   state of N accounts: the node's store (redb, accounts as sorted runs merged between
//!   blocks, `store/runs.rs`) against fjall (one LSM partition, one synced batch per block);
//! - **objects**: a block's object writes and deletions (about 100-byte values at random
//!   32-byte keys) into N objects: the node's redb `objects` table (a B-tree updated in
//!   place) against fjall.
//!
//! Each engine is preloaded with N entries, then runs the same blocks; medians per block. The
//! question it answers is #17's: would a maintained LSM engine hold the numbers the
//! hand-written runs hold, and what would it do for the objects?

use std::path::Path;
use std::time::Instant;

use joule_light_client::object::StateKey;
use joule_light_client::{Account, Address};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redb::{Database, TableDefinition};
use serde::Serialize;

use super::{filler_address, median};
use crate::store::{BlockCommit, Store};

/// What to run.
#[derive(Debug, Clone)]
pub struct EnginesOptions {
    /// Entries in state before the measured blocks.
    pub entries: usize,
    /// Writes per block.
    pub writes: usize,
    /// Blocks measured (median reported).
    pub blocks: usize,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct EngineRow {
    /// `accounts` or `objects`.
    pub pattern: &'static str,
    /// The engine.
    pub engine: &'static str,
    /// Entries in state.
    pub entries: usize,
    /// Writes per block.
    pub writes: usize,
    /// Median ms per block, written and durable.
    pub commit_ms: f64,
    /// Ms to preload the entries.
    pub load_ms: f64,
    /// Bytes on disk after the run.
    pub disk_bytes: u64,
}

const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");

fn account(i: u64) -> (Address, Account) {
    (
        filler_address(i),
        Account {
            balance: i,
            nonce: i % 7,
        },
    )
}

fn object_key(i: u64) -> StateKey {
    StateKey(joule_light_client::Domain::Address.hash(&i.to_le_bytes()).0)
}

fn disk(dir: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p).map_or(0, |d| {
            d.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
    }
    walk(dir)
}

fn account_blocks(opts: &EnginesOptions) -> Vec<Vec<(Address, Account)>> {
    let mut rng = StdRng::seed_from_u64(1);
    (0..opts.blocks)
        .map(|_| {
            let mut w: Vec<(Address, Account)> = (0..opts.writes)
                .map(|_| account(rng.gen_range(0..opts.entries as u64)))
                .collect();
            w.sort_unstable_by_key(|(a, _)| *a);
            w.dedup_by_key(|(a, _)| *a);
            w
        })
        .collect()
}

fn object_blocks(opts: &EnginesOptions) -> Vec<Vec<(StateKey, Option<Vec<u8>>)>> {
    let mut rng = StdRng::seed_from_u64(2);
    let mut next = opts.entries as u64;
    (0..opts.blocks)
        .map(|_| {
            // Half new objects (orders placed), a quarter rewritten, a quarter deleted.
            let mut w: Vec<(StateKey, Option<Vec<u8>>)> = (0..opts.writes)
                .map(|k| match k % 4 {
                    0 | 1 => {
                        next += 1;
                        (object_key(next), Some(vec![7u8; 100]))
                    }
                    2 => (
                        object_key(rng.gen_range(0..opts.entries as u64)),
                        Some(vec![8u8; 100]),
                    ),
                    _ => (object_key(rng.gen_range(0..opts.entries as u64)), None),
                })
                .collect();
            w.sort_unstable_by_key(|(k, _)| *k);
            w.dedup_by_key(|(k, _)| *k);
            w
        })
        .collect()
}

fn fjall_run<I>(
    dir: &Path,
    preload: impl Iterator<Item = (Vec<u8>, Vec<u8>)>,
    blocks: impl Iterator<Item = I>,
) -> Result<(f64, Vec<f64>), String>
where
    I: IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>,
{
    let e = |e: fjall::Error| e.to_string();
    let ks = fjall::Config::new(dir).open().map_err(e)?;
    let part = ks
        .open_partition("state", fjall::PartitionCreateOptions::default())
        .map_err(e)?;
    let t = Instant::now();
    let mut batch = ks.batch();
    for (i, (k, v)) in preload.enumerate() {
        batch.insert(&part, k, v);
        if i % 100_000 == 99_999 {
            batch.commit().map_err(e)?;
            batch = ks.batch();
        }
    }
    batch.commit().map_err(e)?;
    ks.persist(fjall::PersistMode::SyncAll).map_err(e)?;
    let load = t.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::new();
    for writes in blocks {
        let t = Instant::now();
        let mut batch = ks.batch().durability(Some(fjall::PersistMode::SyncAll));
        for (k, v) in writes {
            match v {
                Some(v) => batch.insert(&part, k, v),
                None => batch.remove(&part, k),
            }
        }
        batch.commit().map_err(e)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((load, times))
}

/// Runs both patterns on both engines in `dir` (which it fills).
pub fn run_engines(dir: &Path, opts: &EnginesOptions) -> Result<Vec<EngineRow>, String> {
    let s = |e: crate::store::StoreError| e.to_string();
    let mut rows = Vec::new();
    let row = |pattern, engine, load_ms, times: Vec<f64>, path: &Path| EngineRow {
        pattern,
        engine,
        entries: opts.entries,
        writes: opts.writes,
        commit_ms: median(times),
        load_ms,
        disk_bytes: disk(path),
    };

    // Accounts, the node's store: genesis holds the N accounts, each block one run.
    let path = dir.join("runs");
    std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
    let store = Store::open(&path.join("chain.redb")).map_err(s)?;
    let mut all: Vec<(Address, Account)> = (0..opts.entries as u64).map(account).collect();
    all.sort_unstable_by_key(|(a, _)| *a);
    let t = Instant::now();
    let validators = crate::devnet::DevnetKeys::generate().validator_set();
    store.init_genesis(&all, &[], &validators).map_err(s)?;
    let load = t.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::new();
    for (h, writes) in account_blocks(opts).into_iter().enumerate() {
        let t = Instant::now();
        store
            .commit_block(&BlockCommit::writing_accounts(h as u64 + 1, writes))
            .map_err(s)?;
        // Merging runs is part of the cost: the node does it between blocks.
        store.merge_accounts().map_err(s)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    drop(store);
    rows.push(row("accounts", "redb + runs (node)", load, times, &path));

    let path = dir.join("fjall-accounts");
    let record = |(a, acc): &(Address, Account)| {
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(&acc.balance.to_le_bytes());
        v.extend_from_slice(&acc.nonce.to_le_bytes());
        (a.0.to_vec(), v)
    };
    let (load, times) = fjall_run(
        &path,
        all.iter().map(record),
        account_blocks(opts).into_iter().map(|b| {
            b.iter()
                .map(|w| {
                    let (k, v) = record(w);
                    (k, Some(v))
                })
                .collect::<Vec<_>>()
        }),
    )?;
    rows.push(row("accounts", "fjall", load, times, &path));
    drop(all);

    // Objects, the node's redb table.
    let path = dir.join("redb-objects");
    std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
    let r = |e: redb::Error| e.to_string();
    let db = Database::create(path.join("objects.redb")).map_err(|e| r(e.into()))?;
    let t = Instant::now();
    {
        let tx = db.begin_write().map_err(|e| r(e.into()))?;
        {
            let mut table = tx.open_table(OBJECTS).map_err(|e| r(e.into()))?;
            for i in 0..opts.entries as u64 {
                table
                    .insert(object_key(i).0.as_slice(), [6u8; 100].as_slice())
                    .map_err(|e| r(e.into()))?;
            }
        }
        tx.commit().map_err(|e| r(e.into()))?;
    }
    let load = t.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::new();
    for writes in object_blocks(opts) {
        let t = Instant::now();
        let tx = db.begin_write().map_err(|e| r(e.into()))?;
        {
            let mut table = tx.open_table(OBJECTS).map_err(|e| r(e.into()))?;
            for (k, v) in &writes {
                match v {
                    Some(v) => table.insert(k.0.as_slice(), v.as_slice()),
                    None => table.remove(k.0.as_slice()).map(|_| None),
                }
                .map_err(|e| r(e.into()))?;
            }
        }
        tx.commit().map_err(|e| r(e.into()))?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    drop(db);
    rows.push(row("objects", "redb table (node)", load, times, &path));

    let path = dir.join("fjall-objects");
    let (load, times) = fjall_run(
        &path,
        (0..opts.entries as u64).map(|i| (object_key(i).0.to_vec(), vec![6u8; 100])),
        object_blocks(opts).into_iter().map(|b| {
            b.into_iter()
                .map(|(k, v)| (k.0.to_vec(), v))
                .collect::<Vec<_>>()
        }),
    )?;
    rows.push(row("objects", "fjall", load, times, &path));
    Ok(rows)
}

/// The rows as a table.
pub fn table(rows: &[EngineRow]) -> String {
    let mut out = format!(
        "{:>9} {:>20} {:>10} {:>8} {:>14} {:>10} {:>12}\n",
        "pattern", "engine", "entries", "writes", "ms per block", "load ms", "disk MB"
    );
    for r in rows {
        out.push_str(&format!(
            "{:>9} {:>20} {:>10} {:>8} {:>14.2} {:>10.0} {:>12.1}\n",
            r.pattern,
            r.engine,
            r.entries,
            r.writes,
            r.commit_ms,
            r.load_ms,
            r.disk_bytes as f64 / 1e6
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_measures_both_engines_on_both_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let rows = run_engines(
            dir.path(),
            &EnginesOptions {
                entries: 2_000,
                writes: 200,
                blocks: 3,
            },
        )
        .unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.commit_ms > 0.0 && r.disk_bytes > 0));
        assert!(table(&rows).contains("fjall"));
    }
}
