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
//! When [`FAN_IN`] consecutive runs share a level they are merged into one run of the next
//! level: a record is rewritten once per level (about log(records) times), and a read looks
//! at about `FAN_IN - 1` runs per level. Where runs hold the same key, a merge keeps what the
//! kind says ([`Kind::combine`]), so runs are ordered, oldest first, by id: a written run
//! takes the next count shifted left by [`ID_SHIFT`] bits, a merged run its newest source's id
//! plus one, which sorts where its sources did, before every run written since.
//!
//! **Merges are incremental.** A write adds its run, then advances the merge in progress by a
//! budget proportional to what it wrote ([`MERGE_PER_RECORD`]), and starts the next when one
//! is due — in the same transaction, or (the chain's accounts) in a transaction of its own
//! right after. A merge in progress is a cursor (the kind being merged and the last key written,
//! in the `run_merges` table) and the merged run's tables written so far, invisible until the
//! merge completes; until then its sources stay listed and readers read them. So no write
//! waits for a merge of the whole store (at 1,000,000 accounts one took half a second inside a
//! block's commit), and merges need no size limit: storage stays a small multiple of what the
//! runs hold, however large the store grows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use joule_light_client::codec::CodecError;
use redb::{ReadTransaction, ReadableTable, TableDefinition, TableHandle, WriteTransaction};

use super::{Result, StoreError};

/// A set of runs in one database.
pub(super) struct Family {
    /// Its runs: id → (level, size).
    runs: TableDefinition<'static, u64, (u8, u64)>,
    /// Where the next written run's count is kept, in the database's `meta` table.
    next: &'static str,
    /// What each run holds.
    kinds: &'static [Kind],
    /// Records a write may merge per record it writes, and however little it writes.
    merge_per_record: u64,
    merge_min: u64,
}

/// The explorer's index: size in transactions.
pub(super) const INDEX: Family = Family {
    runs: TableDefinition::new("runs"),
    next: "next_run",
    kinds: &[Kind::Ids, Kind::History, Kind::Counts, Kind::Applied],
    merge_per_record: MERGE_PER_RECORD,
    merge_min: MERGE_MIN,
};

/// Kinds of record the index's runs hold.
#[cfg(test)]
pub(super) const INDEX_KINDS: usize = INDEX.kinds.len();

/// The chain's accounts: size in records. Where runs hold one account the newest wins, so a
/// merged run holds no more records than there are accounts.
pub(super) const ACCOUNTS: Family = Family {
    runs: TableDefinition::new("account_runs"),
    next: "next_account_run",
    kinds: &[Kind::Accounts],
    merge_per_record: MERGE_PER_RECORD,
    merge_min: MERGE_MIN,
};

/// A written run's id is its count shifted left this far; the ids between are for merged runs
/// (one per level above a written run, so far fewer than 2^16).
pub(super) const ID_SHIFT: u32 = 16;

/// Records a write may merge per record it writes, times the merges due (so a backlog is
/// worked off faster than it grows). Each record is rewritten once per level it passes, but
/// merged accounts count once, so fewer times than there are levels: `joule bench e2e
/// --accounts 1000000` merged about 2.3 records per record written. A step of a merge costs
/// about a microsecond per record on the 2-core machine while blocks are being verified beside
/// it: a 10,000-transfer block writes 20,000 accounts, so the step after it merges at most
/// about 90,000 records when one merge is due.
pub(super) const MERGE_PER_RECORD: u64 = 3;

/// Records a write may merge however little it writes.
pub(super) const MERGE_MIN: u64 = 1 << 15;

/// The merge in progress of each family, by the family's run list name.
const MERGES: TableDefinition<&str, &[u8]> = TableDefinition::new("run_merges");

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
    /// Receipt id (32) ‖ where it was applied (14: height, shard, index among the shard
    /// block's incoming receipts): one per receipt applied.
    Applied,
}

impl Kind {
    /// Bytes of a record's key.
    pub(super) fn key_len(self) -> usize {
        match self {
            Kind::Ids | Kind::Applied => 32,
            Kind::History => 34,
            Kind::Counts | Kind::Accounts => 20,
        }
    }

    /// Bytes of a record.
    pub(super) fn record_len(self) -> usize {
        match self {
            Kind::Ids | Kind::Applied => 46,
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
            Kind::Applied => "receipt_applied",
        }
    }

    /// Two records of one key, `into` from an older run than `newer`, as one. Ids, history
    /// and applied receipts never share a key across runs.
    fn combine(self, into: &mut [u8], newer: &[u8]) {
        match self {
            Kind::Counts => {
                let n = |r: &[u8]| u64::from_be_bytes(r[20..28].try_into().unwrap_or_default());
                let sum = n(into).saturating_add(n(newer));
                into[20..28].copy_from_slice(&sum.to_be_bytes());
            }
            Kind::Accounts => into.copy_from_slice(newer),
            Kind::Ids | Kind::History | Kind::Applied => {}
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
    tx.open_table(MERGES)?;
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
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let runs = all_runs(&tx.open_table(family.runs)?)?;
    let names: Vec<TableName> = runs.iter().map(|r| TableName::of(r.id, kind)).collect();
    let tables = names
        .iter()
        .map(|n| tx.open_table(n.def()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let streams = tables
        .iter()
        .map(|t| Ok(stream(t.range::<&[u8]>(..)?, kind)))
        .collect::<Result<Vec<_>>>()?;
    merge_sorted(streams, kind, |r| emit(r).map(|()| true)).map(|_| ())
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
/// (each kind's sorted by key, keys unique, one entry per kind of the family), then advances
/// the family's merges by a budget proportional to the records written ([`add_run`] then
/// [`advance`]).
pub(super) fn add(
    tx: &WriteTransaction,
    family: &Family,
    size: u64,
    level: u8,
    kinds: &mut [(Kind, &mut dyn Iterator<Item = &[u8]>)],
) -> Result<()> {
    let written = add_run(tx, family, size, level, kinds)?;
    advance(tx, family, written)
}

/// Adds a run as [`add`] does, without merging; returns the records written.
pub(super) fn add_run(
    tx: &WriteTransaction,
    family: &Family,
    size: u64,
    level: u8,
    kinds: &mut [(Kind, &mut dyn Iterator<Item = &[u8]>)],
) -> Result<u64> {
    debug_assert!(kinds
        .iter()
        .map(|(k, _)| *k)
        .eq(family.kinds.iter().copied()));
    let run = next_id(tx, family)?;
    let mut written = 0;
    for (kind, records) in kinds.iter_mut() {
        let mut w = BlockWriter::new(tx, &TableName::of(run, *kind), *kind)?;
        for r in records {
            w.push(r)?;
        }
        written += w.finish()?;
    }
    tx.open_table(family.runs)?.insert(run, (level, size))?;
    Ok(written)
}

/// Advances the family's merges by the budget earned by writing `written` records.
pub(super) fn advance(tx: &WriteTransaction, family: &Family, written: u64) -> Result<()> {
    compact(
        tx,
        family,
        written
            .saturating_mul(family.merge_per_record)
            .saturating_add(family.merge_min),
    )
}

fn next_id(tx: &WriteTransaction, family: &Family) -> Result<u64> {
    let mut meta = tx.open_table(META)?;
    let n = meta.get(family.next)?.map_or(0, |g| g.value());
    meta.insert(family.next, n + 1)?;
    Ok(n << ID_SHIFT)
}

/// A merge in progress: runs `first..=last` (consecutive, of one level) into run
/// [`Merge::target`], `last + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Merge {
    first: u64,
    last: u64,
    level: u8,
    /// The kind being merged (an index into the family's kinds); those before are done.
    kind: u8,
    /// The last key of that kind written, if any.
    after: Option<Vec<u8>>,
    /// Records of the family's first kind written so far: the merged run's size.
    size: u64,
}

impl Merge {
    fn target(&self) -> u64 {
        self.last + 1
    }

    /// The ids of its sources: the listed runs from `first` to `last`.
    fn sources(&self, runs: &impl ReadableTable<u64, (u8, u64)>) -> Result<Vec<u64>> {
        runs.range(self.first..=self.last)?
            .map(|row| Ok(row?.0.value()))
            .collect()
    }

    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(26 + self.after.as_ref().map_or(0, Vec::len));
        v.extend_from_slice(&self.first.to_be_bytes());
        v.extend_from_slice(&self.last.to_be_bytes());
        v.push(self.level);
        v.push(self.kind);
        v.extend_from_slice(&self.size.to_be_bytes());
        if let Some(after) = &self.after {
            v.extend_from_slice(after);
        }
        v
    }

    fn decode(b: &[u8], family: &Family) -> Result<Self> {
        let word = |at: usize| -> Result<u64> {
            Ok(u64::from_be_bytes(
                b.get(at..at + 8)
                    .and_then(|w| w.try_into().ok())
                    .ok_or_else(corrupt)?,
            ))
        };
        let (first, last, size) = (word(0)?, word(8)?, word(18)?);
        let (level, kind) = (b[16], b[17]);
        let rest = &b[26..];
        let after = match family.kinds.get(usize::from(kind)) {
            Some(_) if rest.is_empty() => None,
            Some(k) if rest.len() == k.key_len() => Some(rest.to_vec()),
            _ => return Err(corrupt()),
        };
        if first > last {
            return Err(corrupt());
        }
        Ok(Merge {
            first,
            last,
            level,
            kind,
            after,
            size,
        })
    }
}

fn load_merge(tx: &WriteTransaction, family: &Family) -> Result<Option<Merge>> {
    let table = tx.open_table(MERGES)?;
    let row = table.get(family.runs.name())?;
    row.map(|g| Merge::decode(g.value(), family)).transpose()
}

/// The merge due, if any: the oldest [`FAN_IN`] runs of the newest group of at least
/// [`FAN_IN`] consecutive runs sharing a level. Levels never rise from the oldest run to the
/// newest, so the merged run, one level up, keeps them so.
fn due(runs: &[RunInfo]) -> Option<Merge> {
    let mut end = runs.len();
    while end > 0 {
        let level = runs[end - 1].level;
        let start = runs[..end]
            .iter()
            .rposition(|r| r.level != level)
            .map_or(0, |i| i + 1);
        if end - start >= FAN_IN {
            return Some(Merge {
                first: runs[start].id,
                last: runs[start + FAN_IN - 1].id,
                level,
                kind: 0,
                after: None,
                size: 0,
            });
        }
        end = start;
    }
    None
}

/// Merges due in `runs`: every [`FAN_IN`] consecutive runs of one level (the one in
/// progress included, its sources still listed).
fn due_count(runs: &[RunInfo]) -> u64 {
    let mut count = 0;
    let mut same = 0;
    for (i, r) in runs.iter().enumerate() {
        same = if i > 0 && runs[i - 1].level == r.level {
            same + 1
        } else {
            1
        };
        if same % FAN_IN == 0 {
            count += 1;
        }
    }
    count
}

/// Advances the family's merges by up to `budget` records written for each merge due: the
/// one in progress, then any that fall due. What is left unfinished is saved for the next
/// write.
fn compact(tx: &WriteTransaction, family: &Family, budget: u64) -> Result<()> {
    let due_now = due_count(&all_runs(&tx.open_table(family.runs)?)?);
    let mut budget = budget.saturating_mul(due_now.max(1));
    let mut merge = load_merge(tx, family)?;
    loop {
        let mut m = match merge.take() {
            Some(m) => m,
            None => match due(&all_runs(&tx.open_table(family.runs)?)?) {
                Some(m) => m,
                None => break,
            },
        };
        if budget == 0 {
            merge = Some(m);
            break;
        }
        let started = std::time::Instant::now();
        let before = budget;
        let done = step(tx, family, &mut m, &mut budget)?;
        tracing::debug!(
            runs = family.runs.name(),
            level = m.level + 1,
            records = before - budget,
            done,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "runs merging"
        );
        if !done {
            merge = Some(m);
            break;
        }
        complete(tx, family, &m)?;
    }
    let mut table = tx.open_table(MERGES)?;
    match merge {
        Some(m) => table.insert(family.runs.name(), m.encode().as_slice())?,
        None => table.remove(family.runs.name())?,
    };
    Ok(())
}

/// Merges `m`'s sources into its run, kind by kind from its cursor, until done (true) or
/// `budget` records are written (false, the cursor moved on).
fn step(tx: &WriteTransaction, family: &Family, m: &mut Merge, budget: &mut u64) -> Result<bool> {
    let sources = m.sources(&tx.open_table(family.runs)?)?;
    if sources.len() < 2 {
        return Err(corrupt());
    }
    while let Some(&kind) = family.kinds.get(usize::from(m.kind)) {
        let names: Vec<TableName> = sources.iter().map(|&id| TableName::of(id, kind)).collect();
        let mut out = BlockWriter::new(tx, &TableName::of(m.target(), kind), kind)?;
        let tables = names
            .iter()
            .map(|n| tx.open_table(n.def()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let streams = tables
            .iter()
            .map(|t| stream_after(t, kind, m.after.as_deref()))
            .collect::<Result<Vec<_>>>()?;
        let mut last: Option<Record> = None;
        let finished = merge_sorted(streams, kind, |r| {
            out.push(r)?;
            *budget = budget.saturating_sub(1);
            if *budget == 0 {
                last = Some(Record::from_slice(&r[..kind.key_len()]));
                return Ok(false);
            }
            Ok(true)
        })?;
        let written = out.finish()?;
        if m.kind == 0 {
            m.size += written;
        }
        if !finished {
            m.after = last.map(|k| k.to_vec());
            return Ok(false);
        }
        m.kind += 1;
        m.after = None;
        if *budget == 0 && usize::from(m.kind) < family.kinds.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Lists `m`'s merged run in place of its sources and deletes the sources' tables.
fn complete(tx: &WriteTransaction, family: &Family, m: &Merge) -> Result<()> {
    let mut table = tx.open_table(family.runs)?;
    let sources = m.sources(&table)?;
    for &id in &sources {
        table.remove(id)?;
        for &kind in family.kinds {
            tx.delete_table(TableName::of(id, kind).def())?;
        }
    }
    table.insert(m.target(), (m.level.saturating_add(1), m.size))?;
    tracing::debug!(
        runs = family.runs.name(),
        level = m.level + 1,
        sources = sources.len(),
        size = m.size,
        "runs merged"
    );
    Ok(())
}

/// The records of a run's table whose key is above `after` (all, if none), in key order.
fn stream_after<'a>(
    table: &'a redb::Table<'_, &'static [u8], &'static [u8]>,
    kind: Kind,
    after: Option<&[u8]>,
) -> Result<impl Iterator<Item = Result<Record>> + 'a> {
    let kl = kind.key_len();
    let (blocks, after) = match after {
        None => (table.range::<&[u8]>(..)?, None),
        Some(key) => {
            // From the block that may hold the key, or the first if none starts at or
            // before it.
            let from = table.range::<&[u8]>(..=key)?.next_back().transpose()?;
            let blocks = match from {
                Some((first, _)) => table.range::<&[u8]>(first.value()..)?,
                None => table.range::<&[u8]>(..)?,
            };
            (blocks, Some(Record::from_slice(key)))
        }
    };
    Ok(stream(blocks, kind)
        .skip_while(move |r| matches!((r, &after), (Ok(r), Some(a)) if r[..kl] <= a[..])))
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
/// combined oldest first, until `emit` says to stop (false). Returns whether every record
/// was emitted.
fn merge_sorted(
    mut sources: Vec<impl Iterator<Item = Result<Record>>>,
    kind: Kind,
    mut emit: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<bool> {
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
                    if !emit(&p)? {
                        return Ok(false);
                    }
                }
            }
        }
    }
    match pending {
        Some(p) => emit(&p).map(|_| true),
        None => Ok(true),
    }
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
        assert!(merge_sorted(streams, kind, |r| {
            out.push(r.to_vec());
            Ok(true)
        })
        .unwrap());
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
        // Four runs of one kind, the run list, `meta` and the merges in progress (none).
        assert_eq!(tables, 4 + 3);
    }

    #[test]
    fn every_kind_of_record_fits_inline() {
        for kind in [
            Kind::Ids,
            Kind::History,
            Kind::Counts,
            Kind::Accounts,
            Kind::Applied,
        ] {
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

    /// Runs holding accounts and counts, whose merges advance by three records per record
    /// written: a merge spans several writes.
    const SLOW: Family = Family {
        runs: TableDefinition::new("slow_runs"),
        next: "next_slow_run",
        kinds: &[Kind::Accounts, Kind::Counts],
        merge_per_record: 3,
        merge_min: 1,
    };

    /// A family's accounts and counts, merged, by key; and its runs' levels.
    type Read = (
        std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
        std::collections::BTreeMap<Vec<u8>, u64>,
        Vec<u8>,
    );

    fn read_family(db: &redb::Database, family: &Family) -> Read {
        let tx = db.begin_read().unwrap();
        let mut accounts = std::collections::BTreeMap::new();
        merged(&tx, family, Kind::Accounts, |r| {
            assert!(accounts.insert(r[..20].to_vec(), r.to_vec()).is_none());
            Ok(())
        })
        .unwrap();
        let mut counts = std::collections::BTreeMap::new();
        merged(&tx, family, Kind::Counts, |r| {
            let n = u64::from_be_bytes(r[20..28].try_into().unwrap());
            assert!(counts.insert(r[..20].to_vec(), n).is_none());
            Ok(())
        })
        .unwrap();
        (accounts, counts, levels(&tx, family).unwrap())
    }

    #[test]
    fn merges_spread_over_many_writes_never_change_what_reads_see() {
        use rand::{Rng, SeedableRng};
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slow.redb");
        let mut db = redb::Database::create(&path).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut accounts: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let (mut in_progress, mut most_runs) = (0, 0);
        for write in 0..80u64 {
            // Addresses share their leading bytes, so blocks and cursors fall inside them.
            let mut addresses: Vec<[u8; 20]> = (0..rng.gen_range(1..90))
                .map(|_| {
                    let mut a = [0x5a; 20];
                    a[18..].copy_from_slice(&rng.gen_range(0u16..400).to_be_bytes());
                    a
                })
                .collect();
            addresses.sort_unstable();
            addresses.dedup();
            let account_records: Vec<Vec<u8>> = addresses
                .iter()
                .map(|a| {
                    let mut r = a.to_vec();
                    r.extend_from_slice(&(write * 1_000 + u64::from(a[19])).to_be_bytes());
                    r.extend_from_slice(&write.to_be_bytes());
                    r
                })
                .collect();
            let count_records: Vec<Vec<u8>> = addresses
                .iter()
                .map(|a| {
                    let mut r = a.to_vec();
                    r.extend_from_slice(&1u64.to_be_bytes());
                    r
                })
                .collect();
            let tx = db.begin_write().unwrap();
            create(&tx, &SLOW).unwrap();
            add(
                &tx,
                &SLOW,
                addresses.len() as u64,
                0,
                &mut [
                    (
                        Kind::Accounts,
                        &mut account_records.iter().map(|r| r.as_slice()),
                    ),
                    (
                        Kind::Counts,
                        &mut count_records.iter().map(|r| r.as_slice()),
                    ),
                ],
            )
            .unwrap();
            if load_merge(&tx, &SLOW).unwrap().is_some() {
                in_progress += 1;
            }
            tx.commit().unwrap();
            for r in account_records {
                accounts.insert(r[..20].to_vec(), r);
            }
            for a in &addresses {
                *counts.entry(a.to_vec()).or_default() += 1;
            }
            if write == 41 {
                // Reopened in the middle of it all: the cursor was committed with the writes.
                drop(db);
                db = redb::Database::create(&path).unwrap();
            }
            let (got_accounts, got_counts, levels) = read_family(&db, &SLOW);
            assert_eq!(got_accounts, accounts, "after write {write}");
            assert_eq!(got_counts, counts, "after write {write}");
            assert!(levels.windows(2).all(|w| w[0] >= w[1]), "{levels:?}");
            most_runs = most_runs.max(levels.len());
        }
        assert!(
            in_progress > 10,
            "merges spanned writes {in_progress} times"
        );
        // Merges kept up: of 80 runs written, never more than 16 listed (at most FAN_IN - 1 a
        // level, plus those that wait for the merge in progress).
        assert!(most_runs <= 16, "{most_runs} runs at most");
    }

    #[test]
    fn the_merge_due_is_the_oldest_of_the_newest_group_of_one_level() {
        let runs = |levels: &[u8]| -> Vec<RunInfo> {
            levels
                .iter()
                .enumerate()
                .map(|(i, &level)| RunInfo {
                    id: (i as u64 + 1) << ID_SHIFT,
                    level,
                    size: 1,
                })
                .collect()
        };
        let span =
            |levels: &[u8]| due(&runs(levels)).map(|m| (m.first >> 16, m.last >> 16, m.level));
        assert_eq!(span(&[2, 1, 0, 0, 0, 0]), Some((3, 6, 0)));
        assert_eq!(span(&[2, 1, 0, 0, 0, 0, 0, 0]), Some((3, 6, 0)));
        assert_eq!(span(&[1, 1, 1, 1, 0, 0, 0]), Some((1, 4, 1)));
        assert_eq!(span(&[3, 2, 1, 0]), None);
        assert_eq!(span(&[]), None);
        let count = |levels: &[u8]| due_count(&runs(levels));
        assert_eq!(count(&[3, 2, 1, 0]), 0);
        assert_eq!(count(&[2, 1, 0, 0, 0, 0]), 1);
        assert_eq!(count(&[1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 3);
    }

    #[test]
    fn a_merge_cursor_has_a_golden_encoding_and_bad_bytes_are_corrupt() {
        let m = Merge {
            first: 1 << 16,
            last: (3 << 16) + 1,
            level: 2,
            kind: 0,
            after: Some(vec![0xab; 20]),
            size: 700,
        };
        let bytes = m.encode();
        assert_eq!(
            hex::encode(&bytes),
            "0000000000010000\
             0000000000030001\
             02\
             00\
             00000000000002bc\
             abababababababababababababababababababab"
        );
        assert_eq!(Merge::decode(&bytes, &ACCOUNTS).unwrap(), m);
        // Short; a cursor that is not a key; a kind the family lacks; sources out of order.
        assert!(Merge::decode(&bytes[..20], &ACCOUNTS).is_err());
        assert!(Merge::decode(&bytes[..40], &ACCOUNTS).is_err());
        let backwards = Merge {
            first: m.last + 5,
            ..m.clone()
        };
        assert!(Merge::decode(&backwards.encode(), &ACCOUNTS).is_err());
        let mut other_kind = bytes;
        other_kind[17] = 1;
        assert!(Merge::decode(&other_kind, &ACCOUNTS).is_err());
        // A merge not yet past its first key.
        let fresh = Merge { after: None, ..m };
        assert_eq!(Merge::decode(&fresh.encode(), &ACCOUNTS).unwrap(), fresh);
    }
}
