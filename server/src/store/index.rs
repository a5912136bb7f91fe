//! The explorer's indexes — transaction id → position, each account's transactions with
//! their count, and receipt id → where it was applied — kept in a database of their own and
//! written by a background thread, off the block commit's path.
//!
//! The rows are kept in runs ([`super::runs`]): each write adds one, written in key order, and
//! runs merge like the digits of a counter, so a write costs what it holds however large the
//! index grows (one B-tree of random keys made each write rewrite a share of the whole index).
//!
//! The rows are derived data: the chain database holds every body by position, so the index
//! can always be rebuilt from it. The index records the last height it holds
//! (`indexed_height`); blocks committed after that wait in memory, where reads find them, until
//! the indexer writes them in one batch. At open, blocks the index lacks (after a crash, say)
//! are indexed before the store is returned, so reads are complete from the first request.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use joule_light_client::codec::CodecError;
use joule_light_client::{Address, Hash, Payload, Receipt, SignedTransaction};
use rayon::prelude::*;
use redb::{Database, ReadableTable, TableDefinition};

use super::runs::{self, Kind};
use super::{decode, ReceiptList, Result, StoreError, StoredTx, TxPos, RECEIPTS_IN, TX_BODIES};

/// Index height, layout and the next run's id.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

const INDEXED: &str = "indexed_height";
const LAYOUT: &str = "index_layout";
/// The index's table layout; an index of another layout is rebuilt from the chain. Layout 3
/// had no applied receipts (the chain database kept them), layout 2 numbered runs one after
/// another.
const INDEX_LAYOUT: u64 = 4;

/// Transactions held in memory before a block's commit waits for the indexer: bounds memory
/// when blocks come faster than they can be indexed (about 120 bytes each).
const MAX_PENDING_TXS: usize = 1 << 20;
/// Transactions per index write transaction, when catching up and in the background.
const BATCH_TXS: usize = 200_000;
/// How long a committed block may wait to be indexed, so that the writer takes several blocks
/// at once: fewer, larger runs mean fewer levels to merge through and fewer runs to read.
/// Reads do not wait: they find queued blocks in memory.
const INDEX_DELAY: Duration = Duration::from_millis(1_000);

const HISTORY_KEY: usize = 20 + 8 + 2 + 4;

fn history_key(address: &Address, pos: TxPos) -> [u8; HISTORY_KEY] {
    let mut k = [0u8; HISTORY_KEY];
    k[..20].copy_from_slice(&address.0);
    k[20..].copy_from_slice(&pos_bytes(pos));
    k
}

fn history_pos(key: &[u8]) -> Option<TxPos> {
    let k: &[u8; HISTORY_KEY] = key.try_into().ok()?;
    pos_from(&k[20..])
}

/// A position as 14 bytes, big-endian: height, shard, index.
fn pos_bytes(pos: TxPos) -> [u8; 14] {
    let mut b = [0u8; 14];
    b[..8].copy_from_slice(&pos.height.to_be_bytes());
    b[8..10].copy_from_slice(&pos.shard.to_be_bytes());
    b[10..].copy_from_slice(&pos.index.to_be_bytes());
    b
}

fn pos_from(b: &[u8]) -> Option<TxPos> {
    let b: &[u8; 14] = b.try_into().ok()?;
    Some(TxPos {
        height: u64::from_be_bytes(b[..8].try_into().ok()?),
        shard: u16::from_be_bytes(b[8..10].try_into().ok()?),
        index: u32::from_be_bytes(b[10..].try_into().ok()?),
    })
}

/// The accounts whose history a transaction belongs to: its sender and a transfer's recipient.
fn parties(stx: &SignedTransaction) -> impl Iterator<Item = Address> {
    let sender = stx.tx.sender_address();
    let to = match &stx.tx.payload {
        Payload::Transfer { to, .. } if *to != sender => Some(*to),
        _ => None,
    };
    std::iter::once(sender).chain(to)
}

/// One block's index rows, each list sorted by key.
#[derive(Debug)]
pub(super) struct BlockIndex {
    height: u64,
    ids: Vec<([u8; 32], TxPos)>,
    history: Vec<[u8; HISTORY_KEY]>,
    /// Incoming receipts by id, with where the block applied them (height, destination
    /// shard, index among that shard block's incoming receipts).
    applied: Vec<([u8; 32], TxPos)>,
}

impl BlockIndex {
    /// The rows of the block at `height` with these transactions and ids, applying these
    /// incoming receipts (per shard, in order).
    pub(super) fn new<'a>(
        height: u64,
        txs: impl ParallelIterator<Item = (TxPos, &'a SignedTransaction, Hash)>,
        incoming: &[&[Receipt]],
    ) -> Self {
        let (mut ids, history): (Vec<_>, Vec<Vec<_>>) = txs
            .map(|(pos, stx, id)| {
                let keys = parties(stx).map(|p| history_key(&p, pos)).collect();
                ((id.0, pos), keys)
            })
            .unzip();
        let mut history: Vec<[u8; HISTORY_KEY]> = history.into_iter().flatten().collect();
        ids.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        history.par_sort_unstable();
        let mut applied: Vec<([u8; 32], TxPos)> = incoming
            .iter()
            .enumerate()
            .flat_map(|(shard, receipts)| {
                receipts.iter().enumerate().map(move |(index, r)| {
                    let at = TxPos {
                        height,
                        shard: shard as u16,
                        index: index as u32,
                    };
                    (r.id().0, at)
                })
            })
            .collect();
        applied.sort_unstable_by_key(|a| a.0);
        Self {
            height,
            ids,
            history,
            applied,
        }
    }

    /// The rows of the block at `height` from its stored transactions and incoming receipts.
    fn from_stored(height: u64, stored: &[StoredTx], incoming: &[&[Receipt]]) -> Self {
        Self::new(
            height,
            stored.par_iter().map(|s| {
                let pos = TxPos {
                    height: s.height,
                    shard: s.shard,
                    index: s.index,
                };
                (pos, &s.stx, s.outcome.tx_id)
            }),
            incoming,
        )
    }

    fn tx_pos(&self, id: &Hash) -> Option<TxPos> {
        find_row(&self.ids, id)
    }

    fn applied_at(&self, id: &Hash) -> Option<TxPos> {
        find_row(&self.applied, id)
    }

    /// This block's history rows of `address`, oldest first.
    fn history_of(&self, address: &Address) -> &[[u8; HISTORY_KEY]] {
        let start = self.history.partition_point(|k| k[..20] < address.0[..]);
        let end = self.history.partition_point(|k| k[..20] <= address.0[..]);
        &self.history[start..end]
    }
}

/// The position of `id` in rows sorted by id.
fn find_row(rows: &[([u8; 32], TxPos)], id: &Hash) -> Option<TxPos> {
    rows.binary_search_by(|(k, _)| k.cmp(&id.0))
        .ok()
        .map(|i| rows[i].1)
}

struct Queue {
    /// Committed blocks not yet in the index database, in height order.
    blocks: VecDeque<Arc<BlockIndex>>,
    /// Their transactions.
    txs: usize,
    /// When the queue last went from empty to not empty.
    since: Option<Instant>,
    /// Callers waiting for the queue to drain (the writer then does not delay).
    flushing: usize,
    stop: bool,
    /// Tests hold the worker back to read from memory and database at once.
    #[cfg(test)]
    held: bool,
}

struct Shared {
    db: Database,
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The index database and its writer thread.
pub(super) struct Indexer {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("pending_blocks", &self.shared.queue().blocks.len())
            .finish_non_exhaustive()
    }
}

impl Indexer {
    /// Opens (or creates, or rebuilds) the index at `path`, indexes the blocks of `chain` up to
    /// `head` that it lacks, and starts the writer thread.
    pub(super) fn open(path: &Path, chain: &Database, head: u64) -> Result<Self> {
        let db = open_db(path)?;
        let indexed = indexed_height(&db)?;
        if indexed > head {
            // An index ahead of the chain belongs to another chain: rebuild it.
            drop(db);
            std::fs::remove_file(path).map_err(|e| StoreError::Db(Box::new(e.into())))?;
            return Self::open(path, chain, head);
        }
        catch_up(&db, chain, indexed, head)?;
        let shared = Arc::new(Shared {
            db,
            queue: Mutex::new(Queue {
                blocks: VecDeque::new(),
                txs: 0,
                since: None,
                flushing: 0,
                stop: false,
                #[cfg(test)]
                held: false,
            }),
            changed: Condvar::new(),
        });
        let worker = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("joule-indexer".into())
                .spawn(move || run(&shared))
                .map_err(|e| StoreError::Db(Box::new(e.into())))?
        };
        Ok(Self {
            shared,
            worker: Some(worker),
        })
    }

    /// Queues a committed block's rows; waits while too many are queued.
    pub(super) fn push(&self, block: BlockIndex) {
        let mut q = self.shared.queue();
        while q.txs >= MAX_PENDING_TXS && !q.stop {
            q = self
                .shared
                .changed
                .wait(q)
                .unwrap_or_else(|p| p.into_inner());
        }
        q.txs += block.ids.len();
        if q.blocks.is_empty() {
            q.since = Some(Instant::now());
        }
        q.blocks.push_back(Arc::new(block));
        drop(q);
        self.shared.changed.notify_all();
    }

    /// Waits until every queued block is in the index database.
    pub(super) fn wait_idle(&self) {
        let mut q = self.shared.queue();
        q.flushing += 1;
        self.shared.changed.notify_all();
        while !q.blocks.is_empty() {
            q = self
                .shared
                .changed
                .wait(q)
                .unwrap_or_else(|p| p.into_inner());
        }
        q.flushing -= 1;
    }

    /// The queued blocks. Taken before the database is read: a block leaves the queue only
    /// after its rows are committed, so whatever is missing here is in the database snapshot
    /// read next, and blocks in both are told apart by the snapshot's `indexed_height`.
    fn queued(&self) -> Vec<Arc<BlockIndex>> {
        self.shared.queue().blocks.iter().cloned().collect()
    }

    /// Where the transaction with this id is, if it was included.
    pub(super) fn tx_pos(&self, id: &Hash) -> Result<Option<TxPos>> {
        self.find_by_id(id, Kind::Ids, BlockIndex::tx_pos)
    }

    /// Where the receipt with this id was applied (its height, destination shard and index
    /// among that shard block's incoming receipts), if it has been.
    pub(super) fn applied_at(&self, id: &Hash) -> Result<Option<TxPos>> {
        self.find_by_id(id, Kind::Applied, BlockIndex::applied_at)
    }

    /// The position a row of `kind` keyed by `id` holds: in the queued blocks (`queued`
    /// finds it in one), else in the runs.
    fn find_by_id(
        &self,
        id: &Hash,
        kind: Kind,
        queued: fn(&BlockIndex, &Hash) -> Option<TxPos>,
    ) -> Result<Option<TxPos>> {
        if let Some(pos) = self.queued().iter().find_map(|b| queued(b, id)) {
            return Ok(Some(pos));
        }
        let tx = self.shared.db.begin_read()?;
        for run in runs::newest_first(&tx, &runs::INDEX)? {
            if let Some(record) = runs::find(&tx, run, kind, &id.0)? {
                return pos_from(&record[32..]).map(Some).ok_or_else(corrupt);
            }
        }
        Ok(None)
    }

    /// Ids of included transactions that start with `prefix`, at most `limit`, in no set
    /// order (a search box's suggestions: queued blocks first, then the runs newest first).
    pub(super) fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<Hash>> {
        let mut out: Vec<Hash> = Vec::new();
        let mut push = |id: &[u8]| {
            if out.len() < limit && !out.iter().any(|h| h.0[..] == *id) {
                out.push(Hash(id.try_into().expect("an id is 32 bytes")));
            }
            out.len() < limit
        };
        for block in self.queued() {
            let start = block.ids.partition_point(|(id, _)| id[..] < *prefix);
            for (id, _) in block.ids[start..]
                .iter()
                .take_while(|(id, _)| id.starts_with(prefix))
            {
                if !push(id) {
                    return Ok(out);
                }
            }
        }
        let tx = self.shared.db.begin_read()?;
        for run in runs::newest_first(&tx, &runs::INDEX)? {
            for record in runs::with_prefix_descending(&tx, run, Kind::Ids, prefix)? {
                if !push(&record?[..32]) {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// How many transactions involve `address`.
    pub(super) fn count(&self, address: &Address) -> Result<u64> {
        let queued = self.queued();
        let tx = self.shared.db.begin_read()?;
        let indexed = tx.open_table(META)?.get(INDEXED)?.map_or(0, |g| g.value());
        let mut stored = 0u64;
        for run in runs::newest_first(&tx, &runs::INDEX)? {
            if let Some(record) = runs::find(&tx, run, Kind::Counts, &address.0)? {
                let n: [u8; 8] = record[20..].try_into().map_err(|_| corrupt())?;
                stored = stored.saturating_add(u64::from_be_bytes(n));
            }
        }
        let in_memory: usize = queued
            .iter()
            .filter(|b| b.height > indexed)
            .map(|b| b.history_of(address).len())
            .sum();
        Ok(stored + in_memory as u64)
    }

    /// Positions of `address`'s transactions, newest first, `limit` of them after skipping
    /// the `skip` newest.
    pub(super) fn positions(&self, address: &Address, skip: u64, limit: u64) -> Result<Vec<TxPos>> {
        let queued = self.queued();
        let tx = self.shared.db.begin_read()?;
        let indexed = tx.open_table(META)?.get(INDEXED)?.map_or(0, |g| g.value());
        // Queued blocks are newer than every indexed one.
        let newest = queued
            .iter()
            .rev()
            .filter(|b| b.height > indexed)
            .flat_map(|b| b.history_of(address).iter().rev())
            .map(|k| history_pos(k).ok_or_else(corrupt));
        // Runs hold consecutive heights: the newest run first, each newest row first, is the
        // history newest first.
        let stored = runs::newest_first(&tx, &runs::INDEX)?
            .into_iter()
            .map(|run| runs::with_prefix_descending(&tx, run, Kind::History, &address.0))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .map(|row| history_pos(&row?).ok_or_else(corrupt));
        newest
            .chain(stored)
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    }

    /// Keeps the writer from taking queued blocks until the guard drops.
    #[cfg(test)]
    pub(super) fn hold(&self) -> impl Drop + '_ {
        struct Held<'a>(&'a Shared);
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                self.0.queue().held = false;
                self.0.changed.notify_all();
            }
        }
        self.shared.queue().held = true;
        Held(&self.shared)
    }

    /// The runs' levels, oldest run first, and how many tables the database holds.
    #[cfg(test)]
    fn levels_and_tables(&self) -> (Vec<u8>, usize) {
        let tx = self.shared.db.begin_read().unwrap();
        (
            runs::levels(&tx, &runs::INDEX).unwrap(),
            tx.list_tables().unwrap().count(),
        )
    }

    /// The last height the index database holds.
    #[cfg(test)]
    pub(super) fn indexed_height(&self) -> Result<u64> {
        indexed_height(&self.shared.db)
    }
}

impl Drop for Indexer {
    /// Writes what is queued, then stops the thread (what it could not write is indexed again
    /// at the next open).
    fn drop(&mut self) {
        self.shared.queue().stop = true;
        self.shared.changed.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn open_db(path: &Path) -> Result<Database> {
    // The index is derived from the chain: whatever state its file is in, it is rebuilt.
    let db = match super::open_checked(path) {
        Ok(db) => db,
        Err(StoreError::Damaged { reason, .. }) => {
            tracing::warn!(path = %path.display(), reason, "index damaged; rebuilding it");
            std::fs::remove_file(path).map_err(|e| StoreError::Db(Box::new(e.into())))?;
            super::create_db(path)?
        }
        Err(e) => return Err(e),
    };
    let tx = db.begin_write()?;
    runs::create(&tx, &runs::INDEX)?;
    let layout = {
        let mut meta = tx.open_table(META)?;
        let layout = meta.get(LAYOUT)?.map(|g| g.value());
        if layout.is_none() && meta.get(INDEXED)?.is_none() {
            meta.insert(LAYOUT, INDEX_LAYOUT)?;
            meta.insert(INDEXED, 0)?;
            Some(INDEX_LAYOUT)
        } else {
            layout
        }
    };
    tx.commit()?;
    if layout == Some(INDEX_LAYOUT) {
        return Ok(db);
    }
    // Derived data of another layout: start again.
    tracing::warn!(path = %path.display(), "index of another layout; rebuilding it");
    drop(db);
    std::fs::remove_file(path).map_err(|e| StoreError::Db(Box::new(e.into())))?;
    open_db(path)
}

fn indexed_height(db: &Database) -> Result<u64> {
    let tx = db.begin_read()?;
    Ok(tx.open_table(META)?.get(INDEXED)?.map_or(0, |g| g.value()))
}

/// Indexes the chain's blocks `indexed + 1 ..= head` from their stored bodies.
fn catch_up(db: &Database, chain: &Database, indexed: u64, head: u64) -> Result<()> {
    if indexed >= head {
        return Ok(());
    }
    tracing::info!(from = indexed + 1, to = head, "indexing blocks");
    let read = chain.begin_read()?;
    let bodies = read.open_table(TX_BODIES)?;
    let receipts_in = read.open_table(RECEIPTS_IN)?;
    let mut batch = Vec::new();
    let mut txs = 0;
    for height in indexed + 1..=head {
        let mut stored: Vec<StoredTx> = Vec::new();
        for row in bodies.range((height, 0, 0)..=(height, u16::MAX, u32::MAX))? {
            let (_, chunk) = row?;
            let records =
                super::bodies::records(chunk.value()).map_err(|source| StoreError::Corrupt {
                    table: "tx_bodies",
                    source,
                })?;
            for bytes in records {
                stored.push(decode("tx_bodies", bytes)?);
            }
        }
        // Every shard of a block has its row of incoming receipts, in shard order.
        let mut incoming = Vec::new();
        for row in receipts_in.range((height, 0)..=(height, u16::MAX))? {
            let (_, list) = row?;
            incoming.push(decode::<ReceiptList>("receipts_in", list.value())?.0);
        }
        txs += stored.len();
        let incoming: Vec<&[Receipt]> = incoming.iter().map(Vec::as_slice).collect();
        batch.push(Arc::new(BlockIndex::from_stored(
            height, &stored, &incoming,
        )));
        if txs >= BATCH_TXS || height == head {
            write(db, &batch, true)?;
            batch.clear();
            txs = 0;
        }
    }
    Ok(())
}

/// Rows keyed by id (transactions', applied receipts') as a run's records: id ‖ position,
/// sorted.
fn id_records<'a>(rows: impl Iterator<Item = &'a ([u8; 32], TxPos)>) -> Vec<[u8; 46]> {
    let mut records: Vec<[u8; 46]> = rows
        .map(|(id, pos)| {
            let mut r = [0u8; 46];
            r[..32].copy_from_slice(id);
            r[32..].copy_from_slice(&pos_bytes(*pos));
            r
        })
        .collect();
    records.par_sort_unstable();
    records
}

/// Writes blocks' rows (in height order) in one transaction, as a new run, with the last
/// block's height. `durable` commits wait for the disk; the others need not, since a crash
/// only loses index rows the next open writes again from the chain (the height is in the same
/// transaction).
fn write(db: &Database, blocks: &[Arc<BlockIndex>], durable: bool) -> Result<()> {
    let Some(last) = blocks.last() else {
        return Ok(());
    };
    let ids = id_records(blocks.iter().flat_map(|b| &b.ids));
    let applied = id_records(blocks.iter().flat_map(|b| &b.applied));
    let mut history: Vec<&[u8; HISTORY_KEY]> = blocks.iter().flat_map(|b| &b.history).collect();
    history.par_sort_unstable();
    let counts: Vec<[u8; 28]> = history
        .chunk_by(|a, b| a[..20] == b[..20])
        .map(|same| {
            let mut r = [0u8; 28];
            r[..20].copy_from_slice(&same[0][..20]);
            r[20..].copy_from_slice(&(same.len() as u64).to_be_bytes());
            r
        })
        .collect();
    let mut tx = db.begin_write()?;
    if !durable {
        tx.set_durability(redb::Durability::None);
    }
    if !ids.is_empty() || !applied.is_empty() {
        runs::add(
            &tx,
            &runs::INDEX,
            ids.len() as u64,
            0,
            &mut [
                (Kind::Ids, &mut ids.iter().map(|r| r.as_slice())),
                (Kind::History, &mut history.iter().map(|r| r.as_slice())),
                (Kind::Counts, &mut counts.iter().map(|r| r.as_slice())),
                (Kind::Applied, &mut applied.iter().map(|r| r.as_slice())),
            ],
        )?;
    }
    tx.open_table(META)?.insert(INDEXED, last.height)?;
    tx.commit()?;
    Ok(())
}

fn corrupt() -> StoreError {
    StoreError::Corrupt {
        table: "explorer index",
        source: CodecError::UnexpectedEnd,
    }
}

/// Every this many index commits, one waits for the disk even under load (redb reuses the
/// pages a commit frees only after a durable one).
const DURABLE_EVERY: u32 = 8;

/// The writer: takes every queued block (up to a batch), writes them, then lets them go.
fn run(shared: &Shared) {
    let mut since_durable = 0;
    loop {
        let (batch, drains) = {
            let mut q = shared.queue();
            loop {
                #[cfg(test)]
                let held = q.held && !q.stop;
                #[cfg(not(test))]
                let held = false;
                if q.blocks.is_empty() {
                    if q.stop {
                        return;
                    }
                    q = shared.changed.wait(q).unwrap_or_else(|p| p.into_inner());
                    continue;
                }
                let waited = q.since.map_or(INDEX_DELAY, |t| t.elapsed());
                let now = q.stop || q.flushing > 0 || q.txs >= BATCH_TXS || waited >= INDEX_DELAY;
                if now && !held {
                    break;
                }
                let wait = if held {
                    INDEX_DELAY
                } else {
                    INDEX_DELAY - waited
                };
                q = shared
                    .changed
                    .wait_timeout(q, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            let mut txs = 0;
            let batch: Vec<Arc<BlockIndex>> = q
                .blocks
                .iter()
                .take_while(|b| {
                    let take = txs < BATCH_TXS;
                    txs += b.ids.len();
                    take
                })
                .cloned()
                .collect();
            let drains = batch.len() == q.blocks.len();
            (batch, drains)
        };
        // Durable when this empties the queue (the node is keeping up, or stopping).
        let durable = drains || since_durable + 1 >= DURABLE_EVERY;
        match write(&shared.db, &batch, durable) {
            Ok(()) => {
                since_durable = if durable { 0 } else { since_durable + 1 };
                let mut q = shared.queue();
                for b in &batch {
                    q.txs -= b.ids.len();
                    q.blocks.pop_front();
                }
                drop(q);
                shared.changed.notify_all();
            }
            Err(e) => {
                // Nothing is lost: the blocks stay queued (and readable) and are tried again;
                // if the node stops first, the next open indexes them from the chain.
                tracing::error!(error = %e, "indexing failed; retrying");
                if shared.queue().stop {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::codec::Encode;
    use joule_light_client::{ExecStatus, SecretKey, Transaction, TxOutcome};

    use super::super::ReceiptList;

    use super::*;

    /// A transfer from key `from` to address `[to; 20]`.
    fn transfer(from: u8, nonce: u64, to: u8) -> SignedTransaction {
        let key = SecretKey::from_seed(&[from; 32]);
        Transaction {
            chain_id: "t".into(),
            sender: key.public_key(),
            nonce,
            max_fee: 1,
            payload: Payload::Transfer {
                to: Address([to; 20]),
                amount: 1,
            },
        }
        .sign(&key)
    }

    fn sender(from: u8) -> Address {
        Address::from_public_key(&SecretKey::from_seed(&[from; 32]).public_key())
    }

    /// Block `height` of one shard: key 1 pays `[9; 20]` once per transaction.
    fn block(height: u64, txs: u32) -> Vec<StoredTx> {
        (0..txs)
            .map(|index| {
                let stx = transfer(1, height * 1_000_000 + u64::from(index), 9);
                StoredTx {
                    outcome: TxOutcome {
                        tx_id: stx.id(),
                        status: ExecStatus::Success,
                        fee: 1,
                    },
                    stx,
                    height,
                    shard: 0,
                    index,
                    timestamp_ms: height,
                }
            })
            .collect()
    }

    fn rows(txs: &[StoredTx]) -> BlockIndex {
        BlockIndex::from_stored(txs[0].height, txs, &[])
    }

    /// A receipt from shard 1 for shard 0.
    fn receipt(n: u8) -> Receipt {
        Receipt {
            source_shard: 1,
            dest_shard: 0,
            source_height: 1,
            tx_id: Hash([n; 32]),
            from: Address([n; 20]),
            to: Address([9; 20]),
            amount: u64::from(n),
        }
    }

    /// A chain database holding these blocks' bodies, as the store writes them.
    fn chain_with(path: &Path, blocks: &[Vec<StoredTx>]) -> Database {
        chain_with_receipts(path, blocks, &[])
    }

    /// The same, block `i` applying `incoming[i]` (none if absent) on its one shard.
    fn chain_with_receipts(
        path: &Path,
        blocks: &[Vec<StoredTx>],
        incoming: &[Vec<Receipt>],
    ) -> Database {
        let db = Database::create(path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(TX_BODIES).unwrap();
            let mut r = tx.open_table(RECEIPTS_IN).unwrap();
            for (i, b) in blocks.iter().enumerate() {
                for (k, part) in b.chunks(super::super::bodies::CHUNK as usize).enumerate() {
                    let records: Vec<Vec<u8>> = part.iter().map(Encode::encode).collect();
                    let chunk = super::super::bodies::encode(&records);
                    t.insert((part[0].height, 0, k as u32), chunk.as_slice())
                        .unwrap();
                }
                let list = ReceiptList(incoming.get(i).cloned().unwrap_or_default());
                r.insert((b[0].height, 0), list.encode().as_slice())
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        db
    }

    fn pos(height: u64, index: u32) -> TxPos {
        TxPos {
            height,
            shard: 0,
            index,
        }
    }

    #[test]
    fn reads_see_queued_blocks_and_indexed_ones_as_one_history() {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain_with(&dir.path().join("chain.redb"), &[]);
        let index = Indexer::open(&dir.path().join("index.redb"), &chain, 0).unwrap();
        let blocks: Vec<Vec<StoredTx>> = (1..=3).map(|h| block(h, 70)).collect();
        index.push(rows(&blocks[0]));
        index.wait_idle();
        assert_eq!(index.indexed_height().unwrap(), 1);
        let check = |index: &Indexer| {
            let (a, b) = (sender(1), Address([9; 20]));
            assert_eq!(index.count(&a).unwrap(), 210);
            assert_eq!(index.count(&b).unwrap(), 210);
            assert_eq!(index.count(&Address([3; 20])).unwrap(), 0);
            let all = index.positions(&b, 0, 1_000).unwrap();
            let newest_first: Vec<TxPos> = (1..=3)
                .rev()
                .flat_map(|h| (0..70).rev().map(move |i| pos(h, i)))
                .collect();
            assert_eq!(all, newest_first);
            // A page across the boundary between memory and database.
            assert_eq!(
                index.positions(&a, 135, 10).unwrap(),
                newest_first[135..145]
            );
            for b in &blocks {
                for s in b {
                    let found = index.tx_pos(&s.outcome.tx_id).unwrap();
                    assert_eq!(found, Some(pos(s.height, s.index)));
                }
            }
            assert_eq!(index.tx_pos(&Hash([7; 32])).unwrap(), None);
            // Prefix search finds every id with that first byte, in memory and in the runs.
            let ids: Vec<Hash> = blocks.iter().flatten().map(|s| s.outcome.tx_id).collect();
            for id in &ids[..20] {
                let mut want: Vec<Hash> =
                    ids.iter().filter(|i| i.0[0] == id.0[0]).copied().collect();
                let mut found = index.ids_with_prefix(&id.0[..1], 1_000).unwrap();
                want.sort_unstable();
                found.sort_unstable();
                assert_eq!(found, want);
                assert_eq!(index.ids_with_prefix(&id.0[..1], 1).unwrap().len(), 1);
                assert_eq!(index.ids_with_prefix(&id.0, 10).unwrap(), vec![*id]);
            }
        };
        {
            let _held = index.hold();
            index.push(rows(&blocks[1]));
            index.push(rows(&blocks[2]));
            assert_eq!(index.indexed_height().unwrap(), 1);
            check(&index);
        }
        index.wait_idle();
        assert_eq!(index.indexed_height().unwrap(), 3);
        check(&index);
    }

    #[test]
    fn runs_merge_like_a_counter_and_reads_still_see_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain_with(&dir.path().join("chain.redb"), &[]);
        let path = dir.path().join("index.redb");
        let index = Indexer::open(&path, &chain, 0).unwrap();
        let blocks: Vec<Vec<StoredTx>> = (1..=21).map(|h| block(h, 10)).collect();
        for b in &blocks {
            // One write, so one run, per block.
            index.push(rows(b));
            index.wait_idle();
        }
        // 21 = 1·16 + 1·4 + 1: one run of each level, oldest (largest) first; the merged
        // runs' tables are gone (one per kind per run, plus the run list, the metadata and
        // the merges in progress).
        assert_eq!(
            index.levels_and_tables(),
            (vec![2, 1, 0], 3 * runs::INDEX_KINDS + 3)
        );
        let check = |index: &Indexer| {
            assert_eq!(index.count(&sender(1)).unwrap(), 210);
            assert_eq!(index.count(&Address([9; 20])).unwrap(), 210);
            let newest_first: Vec<TxPos> = (1..=21)
                .rev()
                .flat_map(|h| (0..10).rev().map(move |i| pos(h, i)))
                .collect();
            assert_eq!(index.positions(&sender(1), 0, 1_000).unwrap(), newest_first);
            assert_eq!(
                index.positions(&Address([9; 20]), 45, 30).unwrap(),
                newest_first[45..75]
            );
            for s in blocks.iter().flatten() {
                let found = index.tx_pos(&s.outcome.tx_id).unwrap();
                assert_eq!(found, Some(pos(s.height, s.index)));
            }
            assert_eq!(index.tx_pos(&Hash([7; 32])).unwrap(), None);
        };
        check(&index);
        drop(index);
        let index = Indexer::open(&path, &chain, 21).unwrap();
        check(&index);
    }

    #[test]
    fn rows_spread_over_many_blocks_of_a_run_are_all_found() {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain_with(&dir.path().join("chain.redb"), &[]);
        let index = Indexer::open(&dir.path().join("index.redb"), &chain, 0).unwrap();
        // 5 × 1,500 transactions: each run's records fill several blocks, and the fourth
        // write merges the first four runs.
        let blocks: Vec<Vec<StoredTx>> = (1..=5).map(|h| block(h, 1_500)).collect();
        for b in &blocks {
            index.push(rows(b));
            index.wait_idle();
        }
        assert_eq!(index.levels_and_tables().0, [1, 0]);
        assert_eq!(index.count(&sender(1)).unwrap(), 7_500);
        let newest_first: Vec<TxPos> = (1..=5)
            .rev()
            .flat_map(|h| (0..1_500).rev().map(move |i| pos(h, i)))
            .collect();
        let to = Address([9; 20]);
        assert_eq!(index.positions(&to, 0, 10_000).unwrap(), newest_first);
        for (skip, limit) in [
            (0, 20),
            (1_490, 20),
            (1_000, 2_700),
            (7_490, 20),
            (7_500, 5),
        ] {
            let end = (skip + limit).min(7_500);
            assert_eq!(
                index.positions(&to, skip as u64, limit as u64).unwrap(),
                newest_first[skip..end],
                "skip {skip}, limit {limit}"
            );
        }
        for s in blocks.iter().flatten() {
            let found = index.tx_pos(&s.outcome.tx_id).unwrap();
            assert_eq!(found, Some(pos(s.height, s.index)));
        }
        // Ids just beside stored ones are absent, at any block's edge.
        for s in blocks.iter().flatten().step_by(97) {
            let mut near = s.outcome.tx_id.0;
            near[31] ^= 1;
            assert_eq!(index.tx_pos(&Hash(near)).unwrap(), None);
        }
        assert_eq!(index.tx_pos(&Hash([0; 32])).unwrap(), None);
        assert_eq!(index.tx_pos(&Hash([0xff; 32])).unwrap(), None);
        assert_eq!(index.count(&Address([0; 20])).unwrap(), 0);
        assert_eq!(index.positions(&Address([0xff; 20]), 0, 5).unwrap(), []);
    }

    #[test]
    fn an_index_behind_the_chain_catches_up_from_the_bodies_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let blocks: Vec<Vec<StoredTx>> = (1..=3).map(|h| block(h, 100)).collect();
        let chain = chain_with(&dir.path().join("chain.redb"), &blocks);
        let path = dir.path().join("index.redb");
        {
            // The node stopped after indexing block 1 of 3 (say it was killed).
            let index = Indexer::open(&path, &chain, 0).unwrap();
            index.push(rows(&blocks[0]));
        }
        let index = Indexer::open(&path, &chain, 3).unwrap();
        assert_eq!(index.indexed_height().unwrap(), 3);
        assert_eq!(index.count(&sender(1)).unwrap(), 300);
        let last = &blocks[2][99];
        assert_eq!(index.tx_pos(&last.outcome.tx_id).unwrap(), Some(pos(3, 99)));
        assert_eq!(index.positions(&sender(1), 0, 1).unwrap(), [pos(3, 99)]);
    }

    /// `index` holds the two blocks of five transactions the layout tests write.
    fn indexes_both_blocks(index: &Indexer, blocks: &[Vec<StoredTx>]) {
        assert_eq!(index.indexed_height().unwrap(), 2);
        assert_eq!(index.count(&sender(1)).unwrap(), 10);
        let last = &blocks[1][4];
        assert_eq!(index.tx_pos(&last.outcome.tx_id).unwrap(), Some(pos(2, 4)));
    }

    #[test]
    fn an_index_of_another_layout_is_rebuilt_from_the_chain() {
        // Layout 1 kept one B-tree per kind, 2 numbered runs one after another, 3 had no
        // applied receipts: each claims both blocks, and is rebuilt with the receipts.
        for layout in 1..INDEX_LAYOUT {
            let dir = tempfile::tempdir().unwrap();
            let blocks: Vec<Vec<StoredTx>> = (1..=2).map(|h| block(h, 5)).collect();
            let incoming = [vec![], vec![receipt(1), receipt(2)]];
            let chain = chain_with_receipts(&dir.path().join("chain.redb"), &blocks, &incoming);
            let path = dir.path().join("index.redb");
            {
                let db = Database::create(&path).unwrap();
                let tx = db.begin_write().unwrap();
                {
                    let mut meta = tx.open_table(META).unwrap();
                    meta.insert(LAYOUT, layout).unwrap();
                    meta.insert(INDEXED, 2).unwrap();
                }
                tx.commit().unwrap();
            }
            let index = Indexer::open(&path, &chain, 2).unwrap();
            indexes_both_blocks(&index, &blocks);
            let applied = index.applied_at(&receipt(2).id()).unwrap();
            assert_eq!(applied, Some(pos(2, 1)), "layout {layout}");
        }
    }

    #[test]
    fn applied_receipts_are_found_queued_and_written_even_in_blocks_without_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain_with(&dir.path().join("chain.redb"), &[]);
        let index = Indexer::open(&dir.path().join("index.redb"), &chain, 0).unwrap();
        let txs = block(1, 3);
        let with_txs = BlockIndex::from_stored(1, &txs, &[&[receipt(1), receipt(2)]]);
        // Block 2 applies a receipt and includes no transaction.
        let only_receipts = BlockIndex::from_stored(2, &[], &[&[receipt(3)]]);
        let check = |index: &Indexer| {
            assert_eq!(index.applied_at(&receipt(1).id()).unwrap(), Some(pos(1, 0)));
            assert_eq!(index.applied_at(&receipt(2).id()).unwrap(), Some(pos(1, 1)));
            assert_eq!(index.applied_at(&receipt(3).id()).unwrap(), Some(pos(2, 0)));
            assert_eq!(index.applied_at(&receipt(4).id()).unwrap(), None);
            // Receipt ids and transaction ids are looked up apart.
            assert_eq!(index.tx_pos(&receipt(1).id()).unwrap(), None);
            assert_eq!(index.applied_at(&txs[0].outcome.tx_id).unwrap(), None);
        };
        {
            let _held = index.hold();
            index.push(with_txs);
            index.push(only_receipts);
            check(&index);
        }
        index.wait_idle();
        assert_eq!(index.indexed_height().unwrap(), 2);
        check(&index);
    }

    #[test]
    fn an_index_ahead_of_the_chain_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let blocks: Vec<Vec<StoredTx>> = (1..=2).map(|h| block(h, 5)).collect();
        let chain = chain_with(&dir.path().join("chain.redb"), &blocks);
        let path = dir.path().join("index.redb");
        drop(Indexer::open(&path, &chain, 2).unwrap());
        // Opened against a chain that ends at 1 (another chain in the same directory).
        let index = Indexer::open(&path, &chain, 1).unwrap();
        assert_eq!(index.indexed_height().unwrap(), 1);
        assert_eq!(index.count(&sender(1)).unwrap(), 5);
        assert_eq!(index.tx_pos(&blocks[1][0].outcome.tx_id).unwrap(), None);
    }

    #[test]
    fn history_keys_order_by_address_then_position() {
        let a = Address([7; 20]);
        let pos = |height, shard, index| TxPos {
            height,
            shard,
            index,
        };
        let mut keys = [
            history_key(&a, pos(2, 0, 0)),
            history_key(&a, pos(1, 1, 0)),
            history_key(&a, pos(1, 0, 300)),
            history_key(&Address([6; 20]), pos(9, 9, 9)),
        ];
        keys.sort_unstable();
        let decoded: Vec<TxPos> = keys.iter().filter_map(|k| history_pos(k)).collect();
        assert_eq!(
            decoded,
            [pos(9, 9, 9), pos(1, 0, 300), pos(1, 1, 0), pos(2, 0, 0)]
        );
        assert_eq!(history_pos(&keys[0][..10]), None);
    }
}
