//! A block's atomic commit, in two steps: [`Store::write_block`] writes everything the block
//! changes into one redb write transaction, and [`WrittenBlock::commit_beside`] makes it
//! durable — waiting on the disk on the calling thread while a pool does other work, such as
//! the producer's update of its memory.

use std::sync::atomic::Ordering;

use joule_light_client::codec::Encode;
use joule_light_client::{Receipt, ShardId};
use rayon::prelude::*;
use redb::{ReadableTable, WriteTransaction};

use super::records::{OutcomeList, ReceiptList, StoredTxRef};
use super::runs::{self, Kind};
use super::{
    account_record, bodies, dropped_record, encode_metrics, index, positioned, BlockCommit, Result,
    Store, ACCOUNT_RECORD, BLOCKS, BLOCK_BY_HASH, BURNED, DROPPED, EXEC_METRICS, HEAD, META,
    OBJECTS, RECEIPTS_IN, RECEIPTS_OUT, SHARD_TXS, TOTAL_TXS, TX_BODIES,
};

/// A block written into a write transaction that is not committed yet: dropped, it is
/// abandoned and the store is as before.
#[must_use = "a written block is abandoned unless committed"]
pub struct WrittenBlock<'a> {
    store: &'a Store,
    commit: &'a BlockCommit,
    tx: WriteTransaction,
}

impl Store {
    /// Commits a block and all it changes atomically (see [`Self::write_block`]).
    pub fn commit_block(&self, c: &BlockCommit) -> Result<()> {
        self.write_block(c)?.commit_beside(None, || ()).0
    }

    /// Writes a block and all it changes into one write transaction, its parallel parts
    /// (encoding, sorting) on the current rayon pool. Its accounts are written as a run that
    /// [`Self::merge_accounts`] merges later, so the commit never waits for a merge.
    pub fn write_block<'a>(&'a self, c: &'a BlockCommit) -> Result<WrittenBlock<'a>> {
        let header = &c.block.header;
        let height = header.height;
        let hash = header.hash();
        let tx = self.db.begin_write()?;
        {
            tx.open_table(BLOCKS)?
                .insert(height, c.block.encode().as_slice())?;
            tx.open_table(BLOCK_BY_HASH)?
                .insert(hash.0.as_slice(), height)?;
            let mut shard_txs = tx.open_table(SHARD_TXS)?;
            let mut bodies = tx.open_table(TX_BODIES)?;
            let mut out_t = tx.open_table(RECEIPTS_OUT)?;
            let mut in_t = tx.open_table(RECEIPTS_IN)?;
            let mut metrics = tx.open_table(EXEC_METRICS)?;
            let mut dropped = tx.open_table(DROPPED)?;
            // Bodies are encoded in parallel, in chunks, and appended in position order.
            let chunks: Vec<((u64, u16, u32), Vec<u8>)> =
                c.shards
                    .par_iter()
                    .enumerate()
                    .flat_map(|(shard, sc)| {
                        sc.txs.par_chunks(bodies::CHUNK as usize).enumerate().map(
                            move |(k, part)| {
                                let first = k as u32 * bodies::CHUNK;
                                // Transfers encode to about 200 bytes.
                                let chunk =
                                    bodies::encode_with(part.len(), 256 * part.len(), |i, out| {
                                        let (stx, outcome) = &part[i];
                                        StoredTxRef {
                                            stx,
                                            height,
                                            shard: shard as ShardId,
                                            index: first + i as u32,
                                            outcome,
                                            timestamp_ms: header.timestamp_ms,
                                        }
                                        .encode_to(out)
                                    });
                                ((height, shard as ShardId, k as u32), chunk)
                            },
                        )
                    })
                    .collect();
            for (key, chunk) in &chunks {
                bodies.insert(key, chunk.as_slice())?;
            }
            drop(chunks);
            let added: u64 = c.shards.iter().map(|sc| sc.txs.len() as u64).sum();

            for (shard, sc) in c.shards.iter().enumerate() {
                let shard = shard as ShardId;
                let outcomes = OutcomeList(sc.txs.iter().map(|(_, o)| *o).collect());
                shard_txs.insert((height, shard), outcomes.encode().as_slice())?;
                out_t.insert(
                    (height, shard),
                    ReceiptList(sc.outgoing.clone()).encode().as_slice(),
                )?;
                in_t.insert(
                    (height, shard),
                    ReceiptList(sc.incoming.clone()).encode().as_slice(),
                )?;
                metrics.insert((height, shard), encode_metrics(&sc.metrics).as_slice())?;
            }
            let mut objects = tx.open_table(OBJECTS)?;
            for (key, value) in c.shards.iter().flat_map(|sc| &sc.objects) {
                match value {
                    Some(v) => objects.insert(key.0.as_slice(), v.as_slice())?,
                    None => objects.remove(key.0.as_slice())?,
                };
            }
            drop(objects);
            super::events::write(&tx, c)?;
            // Each shard's writes are sorted; shards interleave in address order. One run per
            // block: written in order into fresh tables, whatever the number of accounts.
            let mut writes: Vec<[u8; ACCOUNT_RECORD]> = c
                .shards
                .iter()
                .flat_map(|sc| &sc.writes)
                .map(|(a, acc)| account_record(a, acc))
                .collect();
            writes.par_sort_unstable();
            if !writes.is_empty() {
                let written = runs::add_run(
                    &tx,
                    &runs::ACCOUNTS,
                    writes.len() as u64,
                    0,
                    &mut [(Kind::Accounts, &mut writes.iter().map(|r| r.as_slice()))],
                )?;
                // Counted before the commit: a failed commit only lends the next merge step
                // a larger budget.
                self.unmerged.fetch_add(written, Ordering::Relaxed);
            }
            for (stx, reason) in &c.dropped {
                dropped.insert(
                    stx.id().0.as_slice(),
                    dropped_record(stx, reason).as_slice(),
                )?;
            }
            let mut meta = tx.open_table(META)?;
            let total = meta.get(TOTAL_TXS)?.map_or(0, |g| g.value());
            meta.insert(TOTAL_TXS, total + added)?;
            // Fits: the supply is a u64 and fees are burned out of it.
            let fees: u64 = c.block.shards.iter().map(|s| s.fees).sum();
            let burned = meta.get(BURNED)?.map_or(0, |g| g.value());
            meta.insert(BURNED, burned + fees)?;
            meta.insert(HEAD, height)?;
        }
        Ok(WrittenBlock {
            store: self,
            commit: c,
            tx,
        })
    }
}

impl WrittenBlock<'_> {
    /// Makes the block durable, waiting on the disk on the calling thread while `pool` (the
    /// global rayon pool if none) builds the block's index rows and runs `beside`: a thread
    /// blocked in `fsync` would otherwise hold one of the pool's workers idle. The index rows
    /// are queued only once the block is durable (a failed commit leaves nothing to index);
    /// `beside` runs whatever the outcome, and its result is returned with it.
    pub fn commit_beside<R: Send>(
        self,
        pool: Option<&rayon::ThreadPool>,
        beside: impl FnOnce() -> R + Send,
    ) -> (Result<()>, R) {
        let WrittenBlock { store, commit, tx } = self;
        let (mut rows, mut out) = (None, None);
        let committed = in_place_scope(pool, |s| {
            s.spawn(|_| {
                let incoming: Vec<&[Receipt]> = commit
                    .shards
                    .iter()
                    .map(|sc| sc.incoming.as_slice())
                    .collect();
                let height = commit.block.header.height;
                let positions = positioned(commit).map(|(pos, stx, o)| (pos, stx, o.tx_id));
                rows = Some(index::BlockIndex::new(height, positions, &incoming));
            });
            s.spawn(|_| out = Some(beside()));
            store.durable(tx)
        });
        // Both spawned tasks have run when the scope returns (a panic in one is re-raised
        // by the scope, so neither option is empty here).
        let (Some(rows), Some(out)) = (rows, out) else {
            unreachable!("a rayon scope returns after its spawned tasks")
        };
        if committed.is_ok() {
            store.index.push(rows);
        }
        (committed, out)
    }
}

/// `op` on the calling thread, with a scope whose tasks run on `pool` (or the global one).
fn in_place_scope<'scope, T>(
    pool: Option<&rayon::ThreadPool>,
    op: impl FnOnce(&rayon::Scope<'scope>) -> T,
) -> T {
    match pool {
        Some(pool) => pool.in_place_scope(op),
        None => rayon::in_place_scope(op),
    }
}

impl Store {
    /// Commits `tx` durably.
    fn durable(&self, tx: WriteTransaction) -> Result<()> {
        #[cfg(test)]
        if self.fail_next_commit.swap(false, Ordering::Relaxed) {
            // What a full disk looks like to the caller; dropping `tx` aborts it.
            drop(tx);
            let e = std::io::Error::other("injected commit failure");
            return Err(redb::StorageError::Io(e).into());
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes the next block commit fail as an I/O error would, the store left as before.
    #[cfg(test)]
    pub(crate) fn fail_next_commit(&self) {
        self.fail_next_commit.store(true, Ordering::Relaxed);
    }
}
