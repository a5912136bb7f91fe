//! The index's runs: each index write adds one run of sorted, fixed-size records, and runs are
//! merged like the digits of a counter, so writing costs what is written, whatever the size of
//! the index.
//!
//! A run holds three kinds of records ([`Kind`]), each in a table of its own, packed into
//! blocks of about [`BLOCK_BYTES`] keyed by their first record's key. A lookup finds the one
//! block that can hold a key (the last whose first key is not greater) and binary-searches
//! it. Writing a run or merging runs streams records in key order into fresh tables, one
//! database row per block: random-key rows inserted one by one into one B-tree dirtied pages
//! all over it, so each write rewrote a share of the whole index and slowed as it grew.
//!
//! When the newest [`FAN_IN`] runs share a level they are merged into one run of the next
//! level: a record is rewritten once per level (about log(records) times), and a read looks
//! at no more than `FAN_IN - 1` runs per level. Run ids only grow, and a merge takes the
//! newest runs, so runs always cover consecutive heights, newest with the largest id.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use joule_light_client::codec::CodecError;
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};

use super::{Result, StoreError};

/// The runs: id → (level, transactions).
const RUNS: TableDefinition<u64, (u8, u64)> = TableDefinition::new("runs");
/// The next run's id, in the index's metadata table.
pub(super) const NEXT_RUN: &str = "next_run";

/// Runs of one level merged into one of the next.
pub(super) const FAN_IN: usize = 4;

/// Runs are not merged into one of more transactions than this: a merge holds the index
/// writer for as long as it takes (about 4 s at this size, while committed blocks queue in
/// memory; about a microsecond per transaction on the 2-core machine), so beyond it runs
/// accumulate instead, one per this many transactions.
const MAX_MERGED_TXS: u64 = 1 << 22;

/// Bytes of records per block (a block may be one record shorter).
const BLOCK_BYTES: usize = 8 * 1024;

/// What a run's records are. Every record starts with its key; records are sorted by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Transaction id (32) ‖ its position (14): one per transaction.
    Ids,
    /// Address (20) ‖ position (14), the key all of it: one per transaction and party.
    History,
    /// Address (20) ‖ how many of the run's transactions involve it (8, big-endian).
    Counts,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Ids, Kind::History, Kind::Counts];

    /// Bytes of a record's key.
    pub(super) fn key_len(self) -> usize {
        match self {
            Kind::Ids => 32,
            Kind::History => 34,
            Kind::Counts => 20,
        }
    }

    /// Bytes of a record.
    pub(super) fn record_len(self) -> usize {
        match self {
            Kind::Ids => 46,
            Kind::History => 34,
            Kind::Counts => 28,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Ids => "tx_pos",
            Kind::History => "account_history",
            Kind::Counts => "account_tx_count",
        }
    }

    /// Two records of one key, from two runs, as one (only counts share keys across runs).
    fn combine(self, into: &mut [u8], other: &[u8]) {
        if self == Kind::Counts {
            let n = |r: &[u8]| u64::from_be_bytes(r[20..28].try_into().unwrap_or_default());
            let sum = n(into).saturating_add(n(other));
            into[20..28].copy_from_slice(&sum.to_be_bytes());
        }
    }
}

/// The name of a run's table of one kind.
struct TableName(String);

impl TableName {
    fn of(run: u64, kind: Kind) -> Self {
        TableName(format!("{}.{run}", kind.name()))
    }

    fn def(&self) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
        TableDefinition::new(&self.0)
    }
}

fn corrupt() -> StoreError {
    StoreError::Corrupt {
        table: "index runs",
        source: CodecError::UnexpectedEnd,
    }
}

/// A block's records, checked to be whole.
fn records(block: &[u8], kind: Kind) -> Result<std::slice::ChunksExact<'_, u8>> {
    if block.is_empty() || !block.len().is_multiple_of(kind.record_len()) {
        return Err(corrupt());
    }
    Ok(block.chunks_exact(kind.record_len()))
}

/// A run's entry in [`RUNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RunInfo {
    id: u64,
    level: u8,
    txs: u64,
}

fn all_runs(table: &impl ReadableTable<u64, (u8, u64)>) -> Result<Vec<RunInfo>> {
    table
        .iter()?
        .map(|row| {
            let (id, v) = row?;
            let (level, txs) = v.value();
            Ok(RunInfo {
                id: id.value(),
                level,
                txs,
            })
        })
        .collect()
}

/// Creates the run list (an index without runs).
pub(super) fn create(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(RUNS)?;
    Ok(())
}

/// The runs' ids, newest first.
pub(super) fn newest_first(tx: &ReadTransaction) -> Result<Vec<u64>> {
    let mut ids: Vec<u64> = all_runs(&tx.open_table(RUNS)?)?
        .iter()
        .map(|r| r.id)
        .collect();
    ids.reverse();
    Ok(ids)
}

/// The runs' levels, oldest run first.
#[cfg(test)]
pub(super) fn levels(tx: &ReadTransaction) -> Result<Vec<u8>> {
    Ok(all_runs(&tx.open_table(RUNS)?)?
        .iter()
        .map(|r| r.level)
        .collect())
}

/// The record of `key` in run `run`, if it has one.
pub(super) fn find(
    tx: &ReadTransaction,
    run: u64,
    kind: Kind,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    let name = TableName::of(run, kind);
    let table = tx.open_table(name.def())?;
    let Some(row) = table.range::<&[u8]>(..=key)?.next_back() else {
        return Ok(None);
    };
    let (_, block) = row?;
    let block = block.value();
    let rl = kind.record_len();
    let kl = kind.key_len();
    let n = records(block, kind)?.len();
    let i = partition_point(n, |i| &block[i * rl..i * rl + kl] < key);
    Ok((i < n && &block[i * rl..i * rl + kl] == key).then(|| block[i * rl..(i + 1) * rl].to_vec()))
}

/// The first index in `0..n` for which `before` is false (`before` true, then false).
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Run `run`'s records whose key starts with `prefix`, largest key first (lazily: a page of a
/// busy account's history reads a block or two).
pub(super) fn with_prefix_descending(
    tx: &ReadTransaction,
    run: u64,
    kind: Kind,
    prefix: &[u8],
) -> Result<impl Iterator<Item = Result<Vec<u8>>>> {
    let name = TableName::of(run, kind);
    let table = tx.open_table(name.def())?;
    let mut high = prefix.to_vec();
    high.resize(kind.key_len(), 0xff);
    let blocks = table.range::<&[u8]>(..=high.as_slice())?.rev();
    let prefix = prefix.to_vec();
    let rows = blocks
        .flat_map(move |row| -> Vec<Result<Vec<u8>>> {
            let block = match row {
                Ok((_, block)) => block,
                Err(e) => return vec![Err(e.into())],
            };
            match records(block.value(), kind) {
                Ok(rs) => rs.rev().map(|r| Ok(r.to_vec())).collect(),
                Err(e) => vec![Err(e)],
            }
        })
        .skip_while(move |r| matches!(r, Ok(r) if r[..high.len()] > high[..]))
        .take_while(move |r| r.as_ref().map_or(true, |r| r.starts_with(&prefix)));
    Ok(rows)
}

/// Writes sorted records into a table, a block at a time.
struct BlockWriter<'t> {
    table: redb::Table<'t, &'static [u8], &'static [u8]>,
    kind: Kind,
    block: Vec<u8>,
}

impl<'t> BlockWriter<'t> {
    fn new(tx: &'t WriteTransaction, name: &TableName, kind: Kind) -> Result<Self> {
        Ok(BlockWriter {
            table: tx.open_table(name.def())?,
            kind,
            block: Vec::with_capacity(BLOCK_BYTES + kind.record_len()),
        })
    }

    fn push(&mut self, record: &[u8]) -> Result<()> {
        debug_assert_eq!(record.len(), self.kind.record_len());
        if self.block.len() + record.len() > BLOCK_BYTES {
            self.flush()?;
        }
        self.block.extend_from_slice(record);
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.block.is_empty() {
            let key = &self.block[..self.kind.key_len()];
            self.table.insert(key, self.block.as_slice())?;
            self.block.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()
    }
}

/// Adds a run of `txs` transactions with these records (each kind's sorted by key, keys
/// unique), then merges runs while the newest [`FAN_IN`] share a level.
pub(super) fn add(
    tx: &WriteTransaction,
    txs: u64,
    kinds: [(Kind, &mut dyn Iterator<Item = &[u8]>); 3],
) -> Result<()> {
    let run = next_id(tx)?;
    for (kind, records) in kinds {
        let mut w = BlockWriter::new(tx, &TableName::of(run, kind), kind)?;
        for r in records {
            w.push(r)?;
        }
        w.finish()?;
    }
    tx.open_table(RUNS)?.insert(run, (0, txs))?;
    compact(tx)
}

fn next_id(tx: &WriteTransaction) -> Result<u64> {
    let mut meta = tx.open_table(super::index::META)?;
    let id = meta.get(NEXT_RUN)?.map_or(0, |g| g.value());
    meta.insert(NEXT_RUN, id + 1)?;
    Ok(id)
}

/// Merges the newest [`FAN_IN`] runs into one of the next level while they share a level
/// (and the merged run stays within [`MAX_MERGED_TXS`]). Levels never rise from the oldest
/// run to the newest, and after this fewer than [`FAN_IN`] share one below the largest.
fn compact(tx: &WriteTransaction) -> Result<()> {
    loop {
        let all = all_runs(&tx.open_table(RUNS)?)?;
        let Some(newest) = all.len().checked_sub(FAN_IN).map(|i| &all[i..]) else {
            return Ok(());
        };
        let level = newest[0].level;
        let txs: u64 = newest.iter().map(|r| r.txs).sum();
        if newest.iter().any(|r| r.level != level) || txs > MAX_MERGED_TXS {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let run = next_id(tx)?;
        for kind in Kind::ALL {
            merge(tx, newest, run, kind)?;
        }
        let mut table = tx.open_table(RUNS)?;
        for r in newest {
            table.remove(r.id)?;
        }
        table.insert(run, (level.saturating_add(1), txs))?;
        tracing::debug!(
            level = level + 1,
            txs,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "index runs merged"
        );
    }
}

/// Writes the `kind` records of `sources` into run `into`, in key order, and deletes the
/// sources' tables of that kind.
fn merge(tx: &WriteTransaction, sources: &[RunInfo], into: u64, kind: Kind) -> Result<()> {
    let names: Vec<TableName> = sources.iter().map(|r| TableName::of(r.id, kind)).collect();
    {
        let mut out = BlockWriter::new(tx, &TableName::of(into, kind), kind)?;
        let tables = names
            .iter()
            .map(|n| tx.open_table(n.def()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let streams = tables
            .iter()
            .map(|t| {
                let blocks = t.range::<&[u8]>(..)?;
                Ok(blocks.flat_map(move |row| -> Vec<Result<Vec<u8>>> {
                    let block = match row {
                        Ok((_, block)) => block,
                        Err(e) => return vec![Err(e.into())],
                    };
                    match records(block.value(), kind) {
                        Ok(rs) => rs.map(|r| Ok(r.to_vec())).collect(),
                        Err(e) => vec![Err(e)],
                    }
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        merge_sorted(streams, kind, |r| out.push(r))?;
        out.finish()?;
    }
    for n in &names {
        tx.delete_table(n.def())?;
    }
    Ok(())
}

/// Emits the records of sorted `sources` in key order, records of one key combined.
fn merge_sorted(
    mut sources: Vec<impl Iterator<Item = Result<Vec<u8>>>>,
    kind: Kind,
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let kl = kind.key_len();
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(r) = s.next().transpose()? {
            heap.push(Reverse((r, i)));
        }
    }
    let mut pending: Option<Vec<u8>> = None;
    while let Some(Reverse((r, i))) = heap.pop() {
        if let Some(next) = sources[i].next().transpose()? {
            heap.push(Reverse((next, i)));
        }
        match &mut pending {
            Some(p) if p[..kl] == r[..kl] => kind.combine(p, &r),
            _ => {
                if let Some(p) = pending.replace(r) {
                    emit(&p)?;
                }
            }
        }
    }
    if let Some(p) = pending {
        emit(&p)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(address: u8, n: u64) -> Vec<u8> {
        let mut r = vec![address; 20];
        r.extend_from_slice(&n.to_be_bytes());
        r
    }

    #[test]
    fn merged_records_come_out_in_key_order_with_counts_summed() {
        let source = |rs: &[(u8, u64)]| {
            rs.iter()
                .map(|&(a, n)| Ok(count(a, n)))
                .collect::<Vec<Result<_>>>()
                .into_iter()
        };
        let mut out = Vec::new();
        merge_sorted(
            vec![
                source(&[(1, 1), (4, 10), (9, 100)]),
                source(&[]),
                source(&[(0, 2), (4, 20), (5, 3)]),
                source(&[(4, 30), (9, 1)]),
            ],
            Kind::Counts,
            |r| {
                out.push(r.to_vec());
                Ok(())
            },
        )
        .unwrap();
        let expected: Vec<Vec<u8>> = [(0, 2), (1, 1), (4, 60), (5, 3), (9, 101)]
            .iter()
            .map(|&(a, n)| count(a, n))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn blocks_that_are_not_whole_records_are_corrupt_not_a_panic() {
        assert!(records(&[0; 27], Kind::Counts).is_err());
        assert!(records(&[], Kind::Counts).is_err());
        assert_eq!(records(&[0; 56], Kind::Counts).unwrap().count(), 2);
    }

    #[test]
    fn partition_point_finds_the_first_not_before() {
        let v = [1, 3, 3, 5, 8];
        for x in 0..10 {
            assert_eq!(
                partition_point(v.len(), |i| v[i] < x),
                v.partition_point(|&y| y < x)
            );
        }
    }
}
