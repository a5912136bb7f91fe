//! Runs: immutable sorted records kept as blocks in redb tables. Each write adds one run, and
//! runs are merged like the digits of a counter, so writing costs what is written, whatever the
//! size of what is already stored. Two families use them: the explorer's index (its own
//! database) and the chain's accounts (in the block's commit).
//!
//! A run holds one or more kinds of records ([`Kind`]), each in a table of its own, packed into
//! blocks of about [`BLOCK_BYTES`] keyed by their first record's key. A lookup finds the one
//! block that can hold a key (the last whose first key is not greater) and binary-searches
//! it. Writing a run or merging runs streams records in key order into fresh tables, one
//! database row per block: random-key rows inserted one by one into one B-tree dirty pages all
//! over it, so each write rewrote a share of the whole table and slowed as it grew.
//!
//! When the newest [`FAN_IN`] runs share a level they are merged into one run of the next
//! level: a record is rewritten once per level (about log(records) times), and a read looks
//! at no more than `FAN_IN - 1` runs per level. Run ids only grow, and a merge takes the
//! newest runs, so runs always cover consecutive writes, the newest with the largest id; where
//! runs hold the same key, a merge keeps what the kind says ([`Kind::combine`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use joule_light_client::codec::CodecError;
use redb::{ReadTransaction, ReadableTable, TableDefinition, TableHandle, WriteTransaction};

use super::{Result, StoreError};

/// A set of runs in one database.
pub(super) struct Family {
    /// Its runs: id → (level, size).
    runs: TableDefinition<'static, u64, (u8, u64)>,
    /// Where the next run's id is kept, in the database's `meta` table.
    next: &'static str,
    /// What each run holds.
    kinds: &'static [Kind],
    /// Runs are not merged when together they are larger than this (in the family's unit of
    /// size): a merge holds the database's writer for as long as it takes, so beyond it runs
    /// accumulate instead.
    max_merged: u64,
}

/// The explorer's index: size in transactions. A merge takes about a microsecond per
/// transaction on the 2-core machine, so the largest take about 4 s while committed blocks
/// queue in memory.
pub(super) const INDEX: Family = Family {
    runs: TableDefinition::new("runs"),
    next: "next_run",
    kinds: &[Kind::Ids, Kind::History, Kind::Counts],
    max_merged: 1 << 22,
};

/// The chain's accounts: size in records. Merges happen inside a block's commit and delay it
/// (`joule bench e2e --accounts 1000000`: 534 ms for the merge that took in the genesis run,
/// 1.95 million records read). Where runs hold one account the newest wins, so a merged run
/// holds no more records than there are accounts: up to about 2^22 accounts (four runs of
/// them read, about 4 s here) every run keeps merging, and storage stays a small multiple of
/// the state; beyond, the largest runs accumulate.
pub(super) const ACCOUNTS: Family = Family {
    runs: TableDefinition::new("account_runs"),
    next: "next_account_run",
    kinds: &[Kind::Accounts],
    max_merged: 1 << 24,
};

/// The `meta` table of either database (the next run ids are kept there).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Runs of one level merged into one of the next.
pub(super) const FAN_IN: usize = 4;

/// The level of a run written with `size` records at once: 0 for a block's worth, higher for
/// a large first write (a genesis), so that it is not merged with the small runs that follow.
pub(super) fn level_for(size: u64) -> u8 {
    let mut level = 0;
    let mut capacity = 1u64 << 16;
    while size > capacity && level < u8::MAX {
        level += 1;
        capacity = capacity.saturating_mul(FAN_IN as u64);
    }
    level
}

/// One record, out of its block: inline, since every kind's fits, so merges and reads of
/// millions of records allocate nothing per record.
pub(super) type Record = smallvec::SmallVec<[u8; 48]>;

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
    /// Address (20) ‖ balance (8) ‖ nonce (8), big-endian: an account's value after the run.
    Accounts,
}

impl Kind {
    /// Bytes of a record's key.
    pub(super) fn key_len(self) -> usize {
        match self {
            Kind::Ids => 32,
            Kind::History => 34,
            Kind::Counts | Kind::Accounts => 20,
        }
    }

    /// Bytes of a record.
    pub(super) fn record_len(self) -> usize {
        match self {
            Kind::Ids => 46,
            Kind::History => 34,
            Kind::Counts => 28,
            Kind::Accounts => 36,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Ids => "tx_pos",
            Kind::History => "account_history",
            Kind::Counts => "account_tx_count",
            Kind::Accounts => "account_state",
        }
    }

    /// Two records of one key, `into` from an older run than `newer`, as one. Ids and
    /// history rows never share a key across runs.
    fn combine(self, into: &mut [u8], newer: &[u8]) {
        match self {
            Kind::Counts => {
                let n = |r: &[u8]| u64::from_be_bytes(r[20..28].try_into().unwrap_or_default());
                let sum = n(into).saturating_add(n(newer));
                into[20..28].copy_from_slice(&sum.to_be_bytes());
            }
            Kind::Accounts => into.copy_from_slice(newer),
            Kind::Ids | Kind::History => {}
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

/// A run's entry in its family's run list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RunInfo {
    id: u64,
    level: u8,
    size: u64,
}

fn all_runs(table: &impl ReadableTable<u64, (u8, u64)>) -> Result<Vec<RunInfo>> {
    table
        .iter()?
        .map(|row| {
            let (id, v) = row?;
            let (level, size) = v.value();
            Ok(RunInfo {
                id: id.value(),
                level,
                size,
            })
        })
        .collect()
}

/// Creates the family's run list (no runs yet).
pub(super) fn create(tx: &WriteTransaction, family: &Family) -> Result<()> {
    tx.open_table(family.runs)?;
    Ok(())
}

/// The runs' ids, newest first.
pub(super) fn newest_first(tx: &ReadTransaction, family: &Family) -> Result<Vec<u64>> {
    let mut ids: Vec<u64> = all_runs(&tx.open_table(family.runs)?)?
        .iter()
        .map(|r| r.id)
        .collect();
    ids.reverse();
    Ok(ids)
}

/// The runs' levels, oldest run first.
#[cfg(test)]
pub(super) fn levels(tx: &ReadTransaction, family: &Family) -> Result<Vec<u8>> {
    Ok(all_runs(&tx.open_table(family.runs)?)?
        .iter()
        .map(|r| r.level)
        .collect())
}

/// The runs' sizes, oldest run first.
#[cfg(test)]
fn sizes(tx: &ReadTransaction, family: &Family) -> Result<Vec<u64>> {
    Ok(all_runs(&tx.open_table(family.runs)?)?
        .iter()
        .map(|r| r.size)
        .collect())
}

/// Every `kind` record of the family's runs in key order, records of one key combined
/// (oldest run first, so for accounts the newest value wins).
pub(super) fn merged(
    tx: &ReadTransaction,
    family: &Family,
    kind: Kind,
    emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let runs = all_runs(&tx.open_table(family.runs)?)?;
    let names: Vec<TableName> = runs.iter().map(|r| TableName::of(r.id, kind)).collect();
    let tables = names
        .iter()
        .map(|n| tx.open_table(n.def()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    merge_tables(&tables, kind, emit)
}

/// Every `kind` record of `tables` (runs, oldest first) in key order, records of one key
/// combined.
fn merge_tables(
    tables: &[impl ReadableTable<&'static [u8], &'static [u8]>],
    kind: Kind,
    emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let streams = tables
        .iter()
        .map(|t| Ok(stream(t.range::<&[u8]>(..)?, kind)))
        .collect::<Result<Vec<_>>>()?;
    merge_sorted(streams, kind, emit)
}

/// A row of a run's table.
type BlockRow<'a> = std::result::Result<
    (
        redb::AccessGuard<'a, &'static [u8]>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

/// The records of one block, in key order or (`descending`) in reverse.
fn block_records(row: BlockRow<'_>, kind: Kind, descending: bool) -> Vec<Result<Record>> {
    let block = match row {
        Ok((_, block)) => block,
        Err(e) => return vec![Err(e.into())],
    };
    match records(block.value(), kind) {
        Ok(rs) if descending => rs.rev().map(|r| Ok(Record::from_slice(r))).collect(),
        Ok(rs) => rs.map(|r| Ok(Record::from_slice(r))).collect(),
        Err(e) => vec![Err(e)],
    }
}

/// The records of a run's blocks, in order.
fn stream<'a>(
    blocks: impl Iterator<Item = BlockRow<'a>> + 'a,
    kind: Kind,
) -> impl Iterator<Item = Result<Record>> + 'a {
    blocks.flat_map(move |row| block_records(row, kind, false))
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
) -> Result<impl Iterator<Item = Result<Record>>> {
    let name = TableName::of(run, kind);
    let table = tx.open_table(name.def())?;
    let mut high = prefix.to_vec();
    high.resize(kind.key_len(), 0xff);
    let blocks = table.range::<&[u8]>(..=high.as_slice())?.rev();
    let prefix = prefix.to_vec();
    let rows = blocks
        .flat_map(move |row| block_records(row, kind, true))
        .skip_while(move |r| matches!(r, Ok(r) if r[..high.len()] > high[..]))
        .take_while(move |r| r.as_ref().map_or(true, |r| r.starts_with(&prefix)));
    Ok(rows)
}

/// Writes sorted records into a table, a block at a time.
struct BlockWriter<'t> {
    table: redb::Table<'t, &'static [u8], &'static [u8]>,
    kind: Kind,
    block: Vec<u8>,
    records: u64,
}

impl<'t> BlockWriter<'t> {
    fn new(tx: &'t WriteTransaction, name: &TableName, kind: Kind) -> Result<Self> {
        Ok(BlockWriter {
            table: tx.open_table(name.def())?,
            kind,
            block: Vec::with_capacity(BLOCK_BYTES + kind.record_len()),
            records: 0,
        })
    }

    fn push(&mut self, record: &[u8]) -> Result<()> {
        debug_assert_eq!(record.len(), self.kind.record_len());
        if self.block.len() + record.len() > BLOCK_BYTES {
            self.flush()?;
        }
        self.block.extend_from_slice(record);
        self.records += 1;
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

    /// Writes the last block; returns how many records were written.
    fn finish(mut self) -> Result<u64> {
        self.flush()?;
        Ok(self.records)
    }
}

/// Adds a run of `size` (the family's unit) at `level` ([`level_for`]) with these records
/// (each kind's sorted by key, keys unique, one entry per kind of the family), then merges
/// runs while the newest [`FAN_IN`] share a level.
pub(super) fn add(
    tx: &WriteTransaction,
    family: &Family,
    size: u64,
    level: u8,
    kinds: &mut [(Kind, &mut dyn Iterator<Item = &[u8]>)],
) -> Result<()> {
    debug_assert!(kinds
        .iter()
        .map(|(k, _)| *k)
        .eq(family.kinds.iter().copied()));
    let run = next_id(tx, family)?;
    for (kind, records) in kinds.iter_mut() {
        let mut w = BlockWriter::new(tx, &TableName::of(run, *kind), *kind)?;
        for r in records {
            w.push(r)?;
        }
        w.finish()?;
    }
    tx.open_table(family.runs)?.insert(run, (level, size))?;
    compact(tx, family)
}

fn next_id(tx: &WriteTransaction, family: &Family) -> Result<u64> {
    let mut meta = tx.open_table(META)?;
    let id = meta.get(family.next)?.map_or(0, |g| g.value());
    meta.insert(family.next, id + 1)?;
    Ok(id)
}

/// Merges the newest [`FAN_IN`] runs into one of the next level while they share a level
/// (and the merged run stays within the family's `max_merged`). Levels never rise from the oldest
/// run to the newest, and after this fewer than [`FAN_IN`] share one below the largest.
fn compact(tx: &WriteTransaction, family: &Family) -> Result<()> {
    loop {
        let all = all_runs(&tx.open_table(family.runs)?)?;
        let Some(newest) = all.len().checked_sub(FAN_IN).map(|i| &all[i..]) else {
            return Ok(());
        };
        let level = newest[0].level;
        let read: u64 = newest.iter().map(|r| r.size).sum();
        if newest.iter().any(|r| r.level != level) || read > family.max_merged {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let run = next_id(tx, family)?;
        // The run's size is what its first kind holds after the merge (accounts that several
        // runs held count once).
        let mut size = None;
        for &kind in family.kinds {
            let written = merge(tx, newest, run, kind)?;
            size.get_or_insert(written);
        }
        let size = size.unwrap_or(read);
        let mut table = tx.open_table(family.runs)?;
        for r in newest {
            table.remove(r.id)?;
        }
        table.insert(run, (level.saturating_add(1), size))?;
        tracing::debug!(
            runs = family.runs.name(),
            level = level + 1,
            read,
            size,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "runs merged"
        );
    }
}

/// Writes the `kind` records of `sources` into run `into`, in key order, and deletes the
/// sources' tables of that kind; returns how many records it wrote.
fn merge(tx: &WriteTransaction, sources: &[RunInfo], into: u64, kind: Kind) -> Result<u64> {
    let names: Vec<TableName> = sources.iter().map(|r| TableName::of(r.id, kind)).collect();
    let written = {
        let mut out = BlockWriter::new(tx, &TableName::of(into, kind), kind)?;
        let tables = names
            .iter()
            .map(|n| tx.open_table(n.def()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        merge_tables(&tables, kind, |r| out.push(r))?;
        out.finish()?
    };
    for n in &names {
        tx.delete_table(n.def())?;
    }
    Ok(written)
}

/// A source's next record in the merge, ordered by key, then by source (older first).
struct Head {
    record: Record,
    source: usize,
    key_len: usize,
}

impl Head {
    fn order(&self) -> (&[u8], usize) {
        (&self.record[..self.key_len], self.source)
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

/// Emits the records of sorted `sources` (oldest first) in key order, records of one key
/// combined oldest first.
fn merge_sorted(
    mut sources: Vec<impl Iterator<Item = Result<Record>>>,
    kind: Kind,
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let key_len = kind.key_len();
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (source, s) in sources.iter_mut().enumerate() {
        if let Some(record) = s.next().transpose()? {
            heap.push(Reverse(Head {
                record,
                source,
                key_len,
            }));
        }
    }
    let mut pending: Option<Record> = None;
    while let Some(Reverse(Head { record, source, .. })) = heap.pop() {
        if let Some(next) = sources[source].next().transpose()? {
            heap.push(Reverse(Head {
                record: next,
                source,
                key_len,
            }));
        }
        match &mut pending {
            Some(p) if p[..key_len] == record[..key_len] => kind.combine(p, &record),
            _ => {
                if let Some(p) = pending.replace(record) {
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

    fn account(address: u8, balance: u64) -> Vec<u8> {
        let mut r = count(address, balance);
        r.extend_from_slice(&0u64.to_be_bytes());
        r
    }

    /// `sources` (oldest first) of records `make(address, number)` merged as `kind`.
    fn merge_all(
        kind: Kind,
        make: fn(u8, u64) -> Vec<u8>,
        sources: &[&[(u8, u64)]],
    ) -> Vec<Vec<u8>> {
        let streams = sources
            .iter()
            .map(|rs| {
                rs.iter()
                    .map(move |&(a, n)| Ok(Record::from_vec(make(a, n))))
            })
            .collect();
        let mut out = Vec::new();
        merge_sorted(streams, kind, |r| {
            out.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        out
    }

    fn records_of(make: fn(u8, u64) -> Vec<u8>, rs: &[(u8, u64)]) -> Vec<Vec<u8>> {
        rs.iter().map(|&(a, n)| make(a, n)).collect()
    }

    #[test]
    fn merged_records_come_out_in_key_order_with_counts_summed() {
        let out = merge_all(
            Kind::Counts,
            count,
            &[
                &[(1, 1), (4, 10), (9, 100)],
                &[],
                &[(0, 2), (4, 20), (5, 3)],
                &[(4, 30), (9, 1)],
            ],
        );
        let expected = [(0, 2), (1, 1), (4, 60), (5, 3), (9, 101)];
        assert_eq!(out, records_of(count, &expected));
    }

    #[test]
    fn merged_accounts_keep_the_newest_value_whatever_the_bytes() {
        // Oldest first; newer values are smaller and larger than older ones.
        let out = merge_all(
            Kind::Accounts,
            account,
            &[
                &[(1, 500), (2, 7), (3, 9)],
                &[(1, 400), (3, 10)],
                &[(1, 600), (4, 1)],
            ],
        );
        let expected = [(1, 600), (2, 7), (3, 10), (4, 1)];
        assert_eq!(out, records_of(account, &expected));
    }

    #[test]
    fn accounts_read_back_as_the_newest_write_of_each_through_merges_and_a_reopen() {
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        let read_all = |db: &redb::Database| {
            let tx = db.begin_read().unwrap();
            let mut out = BTreeMap::new();
            let mut last: Option<Vec<u8>> = None;
            merged(&tx, &ACCOUNTS, Kind::Accounts, |r| {
                assert!(last.as_deref() < Some(r), "sorted, one record per account");
                last = Some(r.to_vec());
                out.insert(r[..20].to_vec(), r.to_vec());
                Ok(())
            })
            .unwrap();
            (out, levels(&tx, &ACCOUNTS).unwrap())
        };
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let db = redb::Database::create(&path).unwrap();
        let write = |db: &redb::Database, records: &[Vec<u8>], level: u8| {
            let tx = db.begin_write().unwrap();
            create(&tx, &ACCOUNTS).unwrap();
            let size = records.len() as u64;
            add(
                &tx,
                &ACCOUNTS,
                size,
                level,
                &mut [(Kind::Accounts, &mut records.iter().map(|r| r.as_slice()))],
            )
            .unwrap();
            tx.commit().unwrap();
        };
        // A genesis of 600 accounts, then 21 blocks each writing 60 accounts of 700: most
        // already written before, some new.
        let address = |i: u32| {
            let mut a = [0u8; 20];
            a[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
            a
        };
        let record = |i: u32, balance: u64| {
            let mut r = address(i).to_vec();
            r.extend_from_slice(&balance.to_be_bytes());
            r.extend_from_slice(&u64::from(i).to_be_bytes());
            r
        };
        let mut genesis: Vec<Vec<u8>> = (0..600).map(|i| record(i, 1_000)).collect();
        genesis.sort();
        write(&db, &genesis, 0);
        for r in &genesis {
            model.insert(r[..20].to_vec(), r.clone());
        }
        for block in 1..=21u32 {
            let mut writes: Vec<Vec<u8>> = (0..60)
                .map(|k| (block * 37 + k * 11) % 700)
                .map(|i| record(i, u64::from(block) * 1_000 + u64::from(i)))
                .collect();
            writes.sort();
            writes.dedup_by(|a, b| a[..20] == b[..20]);
            write(&db, &writes, 0);
            for r in &writes {
                model.insert(r[..20].to_vec(), r.clone());
            }
            assert_eq!(read_all(&db).0, model, "after block {block}");
        }
        // 22 runs written: 22 = 1·16 + 1·4 + 2, so the merged runs are gone.
        assert_eq!(read_all(&db).1, [2, 1, 0, 0]);
        // A merged run's size is its accounts, each counted once: the first holds the genesis
        // and what 15 blocks wrote, of 700 addresses in all.
        let sizes = sizes(&db.begin_read().unwrap(), &ACCOUNTS).unwrap();
        assert!(sizes[0] > 600 && sizes[0] <= 700, "{sizes:?}");
        assert!(sizes[1] <= 240 && sizes[2] == 60, "{sizes:?}");
        drop(db);
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(read_all(&db).0, model);
        let tx = db.begin_read().unwrap();
        let tables = tx.list_tables().unwrap().count();
        // Four runs of one kind, the run list and `meta`.
        assert_eq!(tables, 4 + 2);
    }

    #[test]
    fn every_kind_of_record_fits_inline() {
        for kind in [Kind::Ids, Kind::History, Kind::Counts, Kind::Accounts] {
            assert!(kind.record_len() <= Record::new().inline_size(), "{kind:?}");
            assert!(kind.key_len() < kind.record_len() || kind == Kind::History);
        }
    }

    #[test]
    fn a_large_first_write_starts_at_a_higher_level() {
        assert_eq!(level_for(0), 0);
        assert_eq!(level_for(20_000), 0);
        assert_eq!(level_for(1 << 16), 0);
        assert_eq!(level_for((1 << 16) + 1), 1);
        assert_eq!(level_for(1_000_000), 2);
        assert_eq!(level_for(u64::MAX), 24);
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
