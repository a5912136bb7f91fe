//! Durable storage on redb: blocks, shard data, transactions, receipts, accounts and the indexes
//! the explorer reads. Each block is written in one redb write transaction, so after a crash
//! the store holds every committed block entirely or not at all.
//!
//! Transactions are stored by position — (height, shard, index) — so each block's bodies append
//! at the right edge of their B-tree. The explorer's indexes (transaction id → position, account
//! histories), whose rows land at random keys, live in a second database written in the
//! background ([`index`]), so a block's commit only writes what the chain needs.

mod bodies;
mod commit;
pub mod events;
mod index;
mod records;
mod runs;
pub mod trees;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use joule_light_client::api::{ExecMode, ShardExecMetrics};
use joule_light_client::codec::{decode_exact, CodecError, Decode, Encode};
use joule_light_client::object::StateKey;
use joule_light_client::{
    Account, Address, Hash, Receipt, ShardId, SignedTransaction, TxOutcome, ValidatorSet,
};
use rayon::prelude::*;
use redb::{Database, ReadableTable, TableDefinition};
use thiserror::Error;

use runs::Kind;
use trees::{Proving, Trees};

pub use commit::WrittenBlock;
pub use records::{AppliedAt, OutcomeList, ReceiptList, StoredBlock, StoredTx};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The hash of the genesis this database was started from (one row, `"hash"`).
const GENESIS: TableDefinition<&str, &[u8]> = TableDefinition::new("genesis");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_BY_HASH: TableDefinition<&[u8], u64> = TableDefinition::new("block_by_hash");
const SHARD_TXS: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("shard_txs");
/// Key: height, shard, chunk ([`bodies`]).
const TX_BODIES: TableDefinition<(u64, u16, u32), &[u8]> = TableDefinition::new("tx_bodies");
const RECEIPTS_OUT: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("receipts_out");
const RECEIPTS_IN: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("receipts_in");
/// Where each receipt was applied, by receipt id: kept by layouts up to 5, now in the explorer's
/// index (one row per receipt at a random key slowed every commit as the table grew).
/// Where each receipt was applied, by id: kept here until the explorer's index took it over (a
/// row per receipt at a random key slowed every commit as the table grew). Deleted at open.
const RECEIPT_APPLIED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipt_applied");
const DROPPED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("dropped");
const VALIDATOR_SETS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("validator_sets");
const MEMPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("mempool");
const EXEC_METRICS: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("exec_metrics");
/// The objects of every shard at the head: state key → encoding. A B-tree rewritten in place:
/// objects are few beside accounts (meters, open orders, certificate lots), and deletions are
/// plain removals.
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");

const HEAD: &str = "head_height";
const LAYOUT: &str = "store_layout";

/// The table layout this build reads and writes. Layout 1 (before transactions were stored by
/// position) has no `store_layout` entry; layout 2 kept the indexes in the chain database;
/// layout 3 kept accounts in one table, rewritten at random keys by every block; layout 4
/// numbered account runs one after another; layout 5 had no objects (its shard headers have no
/// `objects_root`, so its blocks cannot be read here); layout 6's genesis hash did not commit
/// to the objects in state at genesis (its first block names a parent this build does not
/// compute); layout 7's shard headers had no `events_root`.
pub const STORE_LAYOUT: u64 = 8;
const TOTAL_TXS: &str = "total_txs";

/// An account as a run record: address ‖ balance ‖ nonce, big-endian.
const ACCOUNT_RECORD: usize = 36;

fn account_record(address: &Address, account: &Account) -> [u8; ACCOUNT_RECORD] {
    let mut r = [0u8; ACCOUNT_RECORD];
    r[..20].copy_from_slice(&address.0);
    r[20..28].copy_from_slice(&account.balance.to_be_bytes());
    r[28..].copy_from_slice(&account.nonce.to_be_bytes());
    r
}

fn account_from(record: &[u8]) -> Option<(Address, Account)> {
    let r: &[u8; ACCOUNT_RECORD] = record.try_into().ok()?;
    Some((
        Address(r[..20].try_into().ok()?),
        Account {
            balance: u64::from_be_bytes(r[20..28].try_into().ok()?),
            nonce: u64::from_be_bytes(r[28..].try_into().ok()?),
        },
    ))
}
const BURNED: &str = "burned_fees";

/// A storage failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (boxed: redb's error is large and this is the cold path).
    #[error("database: {0}")]
    Db(Box<redb::Error>),
    /// Stored bytes did not decode: the database is corrupt or from another version.
    #[error("corrupt record in {table}: {source}")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// Why.
        source: CodecError,
    },
    /// The store has not been initialised with a genesis.
    #[error("store has no genesis")]
    Uninitialised,
    /// The database file cannot be read as a database (truncated, overwritten, garbled).
    #[error(
        "{} is damaged ({reason}); restore it from a backup, or remove the data directory to \
         start a new devnet",
        path.display()
    )]
    Damaged {
        /// The file.
        path: std::path::PathBuf,
        /// What redb said.
        reason: String,
    },
    /// The database was written by a build with another table layout.
    #[error(
        "this database uses store layout {found}, this build reads layout {expected}: it was \
         written by another version of joule; remove the data directory (e.g. ./data) to start \
         a fresh devnet"
    )]
    Layout {
        /// The layout found.
        found: u64,
        /// The layout this build uses.
        expected: u64,
    },
}

macro_rules! db_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(Box::new(e.into()))
            }
        }
    )*};
}
db_error_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Result of a storage operation.
pub type Result<T, E = StoreError> = core::result::Result<T, E>;

fn decode<T: Decode>(table: &'static str, bytes: &[u8]) -> Result<T> {
    decode_exact(bytes).map_err(|source| StoreError::Corrupt { table, source })
}

fn dropped_record(stx: &SignedTransaction, reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    // Reasons are short sentences; cap them so the record always decodes.
    let reason = if reason.len() > 4096 {
        &reason[..reason.floor_char_boundary(4096)]
    } else {
        reason
    };
    joule_light_client::codec::put_str(&mut out, reason);
    stx.encode_to(&mut out);
    out
}

/// Where an included transaction is: its shard block and its index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxPos {
    /// Block height.
    pub height: u64,
    /// Shard.
    pub shard: ShardId,
    /// Index in the shard block.
    pub index: u32,
}

/// `txs u32 | threads u32 | incarnations u64 | validations u64 | mode u8 | exec_us u64`.
fn encode_metrics(m: &ShardExecMetrics) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    m.txs.encode_to(&mut out);
    m.threads.encode_to(&mut out);
    m.incarnations.encode_to(&mut out);
    m.validations.encode_to(&mut out);
    m.mode.to_byte().encode_to(&mut out);
    m.exec_us.encode_to(&mut out);
    out
}

fn decode_metrics(shard: ShardId, bytes: &[u8]) -> Result<ShardExecMetrics> {
    let corrupt = |source| StoreError::Corrupt {
        table: "exec_metrics",
        source,
    };
    let mut r = joule_light_client::codec::Reader::new(bytes);
    let m = (|| {
        Ok(ShardExecMetrics {
            shard,
            txs: r.u32()?,
            threads: r.u32()?,
            incarnations: r.u64()?,
            validations: r.u64()?,
            mode: {
                let tag = r.u8()?;
                ExecMode::from_byte(tag).ok_or(CodecError::UnknownTag {
                    kind: "exec mode",
                    tag,
                })?
            },
            exec_us: r.u64()?,
        })
    })()
    .map_err(corrupt)?;
    r.finish().map_err(corrupt)?;
    Ok(m)
}

/// Every included transaction of a block with its position and outcome, in parallel.
fn positioned(
    c: &BlockCommit,
) -> impl ParallelIterator<Item = (TxPos, &SignedTransaction, &TxOutcome)> {
    let height = c.block.header.height;
    c.shards
        .par_iter()
        .enumerate()
        .flat_map_iter(move |(shard, sc)| {
            sc.txs
                .iter()
                .enumerate()
                .map(move |(index, (stx, outcome))| {
                    let pos = TxPos {
                        height,
                        shard: shard as ShardId,
                        index: index as u32,
                    };
                    (pos, stx, outcome)
                })
        })
}

/// One shard's part of a block to commit.
#[derive(Debug, Clone, Default)]
pub struct ShardCommit {
    /// Included transactions with outcomes, in order.
    pub txs: Vec<(SignedTransaction, TxOutcome)>,
    /// Receipts emitted.
    pub outgoing: Vec<Receipt>,
    /// Receipts applied.
    pub incoming: Vec<Receipt>,
    /// Final values of touched accounts, sorted by address.
    pub writes: Vec<(Address, Account)>,
    /// Final values of touched objects (`None`: deleted), sorted by key.
    pub objects: Vec<crate::chain::ObjectWrite>,
    /// What the block's system steps did on this shard, in `events_root` order.
    pub events: Vec<joule_light_client::event::Event>,
    /// How the shard block was executed.
    pub metrics: ShardExecMetrics,
}

/// Everything one block changes.
#[derive(Debug, Clone)]
pub struct BlockCommit {
    /// The block.
    pub block: StoredBlock,
    /// Per shard, in shard order.
    pub shards: Vec<ShardCommit>,
    /// Transactions dropped while building it, with reasons.
    pub dropped: Vec<(SignedTransaction, String)>,
}

/// The node's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    index: index::Indexer,
    /// Account records committed since [`Store::merge_accounts`] last ran: what the next
    /// merge step may merge is proportional to it.
    unmerged: AtomicU64,
    /// Trees of recently proven shard blocks ([`trees`]).
    outcome_trees: Trees<TxOutcome>,
    receipts_out_trees: Trees<Receipt>,
    receipts_in_trees: Trees<Receipt>,
    #[cfg(test)]
    fail_next_commit: std::sync::atomic::AtomicBool,
}

impl BlockCommit {
    /// A block of one shard that only writes accounts, under a header and commit the store
    /// does not check (benchmarks and tests of the store).
    pub fn writing_accounts(height: u64, writes: Vec<(Address, Account)>) -> Self {
        BlockCommit {
            block: StoredBlock {
                header: joule_light_client::BlockHeader {
                    chain_id: "store".into(),
                    height,
                    parent_hash: Hash::ZERO,
                    timestamp_ms: height,
                    proposer: joule_light_client::PublicKey([0; 32]),
                    shards_root: Hash::ZERO,
                    shard_count: 1,
                    validator_set_hash: Hash::ZERO,
                    next_validator_set_hash: Hash::ZERO,
                },
                shards: Vec::new(),
                commit: joule_light_client::Commit {
                    height,
                    block_hash: Hash::ZERO,
                    signatures: Vec::new(),
                },
            },
            shards: vec![ShardCommit {
                writes,
                ..Default::default()
            }],
            dropped: Vec::new(),
        }
    }
}

impl Store {
    /// Opens (or creates) the database at `path`, and its index next to it (`*.index.redb`),
    /// indexing any blocks the index lacks.
    pub fn open(path: &Path) -> Result<Self> {
        let db = open_checked(path)?;
        let tx = db.begin_write()?;
        // Create every table so readers never meet a missing one.
        tx.open_table(META)?;
        tx.open_table(BLOCKS)?;
        tx.open_table(BLOCK_BY_HASH)?;
        tx.open_table(SHARD_TXS)?;
        tx.open_table(TX_BODIES)?;
        tx.open_table(RECEIPTS_OUT)?;
        tx.open_table(RECEIPTS_IN)?;
        runs::create(&tx, &runs::ACCOUNTS)?;
        // The index rebuilt from the chain holds these now (its layout changed with them).
        tx.delete_table(RECEIPT_APPLIED)?;
        tx.open_table(DROPPED)?;
        tx.open_table(VALIDATOR_SETS)?;
        tx.open_table(MEMPOOL)?;
        tx.open_table(EXEC_METRICS)?;
        tx.open_table(OBJECTS)?;
        {
            let mut meta = tx.open_table(META)?;
            let layout = meta.get(LAYOUT)?.map(|g| g.value());
            let has_blocks = meta.get(HEAD)?.is_some();
            match layout {
                Some(STORE_LAYOUT) => {}
                None if !has_blocks => {
                    meta.insert(LAYOUT, STORE_LAYOUT)?;
                }
                found => {
                    return Err(StoreError::Layout {
                        found: found.unwrap_or(1),
                        expected: STORE_LAYOUT,
                    })
                }
            }
        }
        tx.commit()?;
        let head = {
            let tx = db.begin_read()?;
            tx.open_table(META)?.get(HEAD)?.map_or(0, |g| g.value())
        };
        let index = index::Indexer::open(&path.with_extension("index.redb"), &db, head)?;
        Ok(Self {
            db,
            index,
            unmerged: AtomicU64::new(0),
            outcome_trees: Trees::new(trees::LEAVES),
            receipts_out_trees: Trees::new(trees::LEAVES),
            receipts_in_trees: Trees::new(trees::LEAVES),
            #[cfg(test)]
            fail_next_commit: Default::default(),
        })
    }

    /// Waits until the background indexer has written every committed block (benchmarks
    /// measure with it idle; reads never need this).
    pub fn wait_indexed(&self) {
        self.index.wait_idle();
    }

    /// Height of the latest committed block, or `None` before genesis was written.
    pub fn head_height(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(META)?.get(HEAD)?.map(|g| g.value()))
    }

    /// Transactions in all blocks.
    pub fn total_txs(&self) -> Result<u64> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(META)?
            .get(TOTAL_TXS)?
            .map_or(0, |g| g.value()))
    }

    /// Fees burned in all blocks.
    pub fn burned(&self) -> Result<u64> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(META)?.get(BURNED)?.map_or(0, |g| g.value()))
    }

    /// Records the hash of the genesis this database holds the chain of.
    pub fn record_genesis(&self, hash: &Hash) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(GENESIS)?.insert("hash", hash.0.as_slice())?;
        tx.commit()?;
        Ok(())
    }

    /// The recorded genesis hash (`None`: a database from before it was recorded).
    pub fn genesis_hash(&self) -> Result<Option<Hash>> {
        let tx = self.db.begin_read()?;
        let t = match tx.open_table(GENESIS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(v) = t.get("hash")? else {
            return Ok(None);
        };
        let bytes: [u8; 32] = v.value().try_into().map_err(|_| StoreError::Corrupt {
            table: "genesis",
            source: joule_light_client::codec::CodecError::Invalid {
                field: "hash",
                reason: "not 32 bytes",
            },
        })?;
        Ok(Some(Hash(bytes)))
    }

    /// Writes the genesis state: balances, objects and the validator set, head at height 0.
    pub fn init_genesis(
        &self,
        accounts: &[(Address, Account)],
        objects: &[(StateKey, Vec<u8>)],
        validators: &ValidatorSet,
    ) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let mut table = tx.open_table(OBJECTS)?;
            for (k, v) in objects {
                table.insert(k.0.as_slice(), v.as_slice())?;
            }
            drop(table);
            let mut records: Vec<[u8; ACCOUNT_RECORD]> = accounts
                .iter()
                .map(|(a, acc)| account_record(a, acc))
                .collect();
            records.sort_unstable();
            // A run's keys are unique. Genesis validation refuses an address listed twice, so
            // this only guards the run's shape.
            records.dedup_by(|a, b| a[..20] == b[..20]);
            let n = records.len() as u64;
            runs::add(
                &tx,
                &runs::ACCOUNTS,
                n,
                runs::level_for(n),
                &mut [(Kind::Accounts, &mut records.iter().map(|r| r.as_slice()))],
            )?;
            tx.open_table(VALIDATOR_SETS)?.insert(
                validators.hash().0.as_slice(),
                validators.encode().as_slice(),
            )?;
            let mut meta = tx.open_table(META)?;
            meta.insert(HEAD, 0)?;
            meta.insert(TOTAL_TXS, 0)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Advances the merging of account runs by the budget that the blocks committed since the
    /// last call earned ([`runs::MERGE_PER_RECORD`] per account written), in a write
    /// transaction of its own that does not wait for the disk: the next block's commit makes
    /// it durable, and a crash loses only merge progress. The producer calls it after each
    /// block, once readers and admission no longer wait on that block, so merges delay neither
    /// a block's commit nor the API.
    pub fn merge_accounts(&self) -> Result<()> {
        let written = self.unmerged.swap(0, Ordering::Relaxed);
        if written == 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut tx = self.db.begin_write()?;
        tx.set_durability(redb::Durability::None);
        runs::advance(&tx, &runs::ACCOUNTS, written)?;
        tx.commit()?;
        tracing::debug!(
            written,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "account runs merged a step"
        );
        Ok(())
    }

    /// Records transactions dropped outside block building (e.g. at restart).
    pub fn record_dropped(&self, dropped: &[(SignedTransaction, String)]) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(DROPPED)?;
            for (stx, reason) in dropped {
                t.insert(
                    stx.id().0.as_slice(),
                    dropped_record(stx, reason).as_slice(),
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(BLOCKS)?;
        t.get(height)?
            .map(|g| decode("blocks", g.value()))
            .transpose()
    }

    /// How each shard block at `height` was executed (empty if not recorded).
    pub fn exec_metrics(&self, height: u64) -> Result<Vec<ShardExecMetrics>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(EXEC_METRICS)?;
        let mut out = Vec::new();
        for row in t.range((height, 0)..=(height, u16::MAX))? {
            let (k, v) = row?;
            out.push(decode_metrics(k.value().1, v.value())?);
        }
        Ok(out)
    }

    /// Height of the block with this hash.
    pub fn height_of(&self, hash: &Hash) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(BLOCK_BY_HASH)?
            .get(hash.0.as_slice())?
            .map(|g| g.value()))
    }

    /// Blocks whose hash starts with `prefix`, at most `limit`, by hash.
    pub fn blocks_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<(Hash, u64)>> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(BLOCK_BY_HASH)?;
        let mut out = Vec::new();
        for row in table.range::<&[u8]>(prefix..)? {
            let (k, v) = row?;
            if !k.value().starts_with(prefix) || out.len() == limit {
                break;
            }
            let hash = Hash(k.value().try_into().map_err(|_| StoreError::Corrupt {
                table: "block_by_hash",
                source: CodecError::UnexpectedEnd,
            })?);
            out.push((hash, v.value()));
        }
        Ok(out)
    }

    /// Included transactions whose id starts with `prefix`, at most `limit`.
    pub fn tx_ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<Hash>> {
        self.index.ids_with_prefix(prefix, limit)
    }

    /// Outcomes of a shard block's transactions, in order.
    pub fn shard_outcomes(&self, height: u64, shard: ShardId) -> Result<Vec<TxOutcome>> {
        Ok(self.shard_outcomes_row(height, shard)?.unwrap_or_default())
    }

    fn shard_outcomes_row(&self, height: u64, shard: ShardId) -> Result<Option<Vec<TxOutcome>>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SHARD_TXS)?;
        let list = t
            .get((height, shard))?
            .map(|g| decode::<OutcomeList>("shard_txs", g.value()))
            .transpose()?;
        Ok(list.map(|l| l.0))
    }

    /// A shard block's outcomes with their tree, whose root is its `tx_root` (cached: see
    /// [`trees`]).
    pub fn outcomes_proving(&self, height: u64, shard: ShardId) -> Result<Arc<Proving<TxOutcome>>> {
        self.outcome_trees.get_or_load(
            (height, shard),
            || self.shard_outcomes_row(height, shard),
            joule_light_client::receipt::outcomes_tree,
        )
    }

    /// Receipts a shard sent at `height` with their tree (its `outgoing_receipts_root`).
    pub fn receipts_out_proving(
        &self,
        height: u64,
        shard: ShardId,
    ) -> Result<Arc<Proving<Receipt>>> {
        self.receipts_proving(&self.receipts_out_trees, RECEIPTS_OUT, height, shard)
    }

    /// Receipts a shard applied at `height` with their tree (its `incoming_receipts_root`).
    pub fn receipts_in_proving(
        &self,
        height: u64,
        shard: ShardId,
    ) -> Result<Arc<Proving<Receipt>>> {
        self.receipts_proving(&self.receipts_in_trees, RECEIPTS_IN, height, shard)
    }

    fn receipts_proving(
        &self,
        trees: &Trees<Receipt>,
        table: TableDefinition<(u64, u16), &[u8]>,
        height: u64,
        shard: ShardId,
    ) -> Result<Arc<Proving<Receipt>>> {
        trees.get_or_load(
            (height, shard),
            || self.receipts_row(table, height, shard),
            joule_light_client::receipt::receipts_tree,
        )
    }

    /// An included transaction.
    pub fn tx(&self, id: &Hash) -> Result<Option<StoredTx>> {
        let Some(pos) = self.index.tx_pos(id)? else {
            return Ok(None);
        };
        Ok(self.txs_at(&[pos])?.pop())
    }

    /// Included transactions at `positions`, in that order (missing ones skipped).
    pub fn txs_at(&self, positions: &[TxPos]) -> Result<Vec<StoredTx>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(TX_BODIES)?;
        let mut out = Vec::with_capacity(positions.len());
        // Neighbouring positions share a chunk: read each once.
        type Chunk<'a> = (
            (u64, u16, u32),
            Option<redb::AccessGuard<'a, &'static [u8]>>,
        );
        let mut current: Option<Chunk<'_>> = None;
        for pos in positions {
            let (chunk, slot) = bodies::locate(pos.index);
            let key = (pos.height, pos.shard, chunk);
            if current.as_ref().is_none_or(|(k, _)| *k != key) {
                current = Some((key, t.get(key)?));
            }
            let Some((_, Some(g))) = &current else {
                continue;
            };
            let record = bodies::record(g.value(), slot).map_err(|source| StoreError::Corrupt {
                table: "tx_bodies",
                source,
            })?;
            if let Some(bytes) = record {
                out.push(decode("tx_bodies", bytes)?);
            }
        }
        Ok(out)
    }

    /// Receipts a shard emitted at `height`.
    pub fn receipts_out(&self, height: u64, shard: ShardId) -> Result<Vec<Receipt>> {
        self.receipts(RECEIPTS_OUT, height, shard)
    }

    /// Receipts a shard applied at `height`.
    pub fn receipts_in(&self, height: u64, shard: ShardId) -> Result<Vec<Receipt>> {
        self.receipts(RECEIPTS_IN, height, shard)
    }

    fn receipts(
        &self,
        table: TableDefinition<(u64, u16), &[u8]>,
        height: u64,
        shard: ShardId,
    ) -> Result<Vec<Receipt>> {
        Ok(self.receipts_row(table, height, shard)?.unwrap_or_default())
    }

    fn receipts_row(
        &self,
        table: TableDefinition<(u64, u16), &[u8]>,
        height: u64,
        shard: ShardId,
    ) -> Result<Option<Vec<Receipt>>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(table)?;
        Ok(t.get((height, shard))?
            .map(|g| decode::<ReceiptList>("receipts", g.value()))
            .transpose()?
            .map(|l| l.0))
    }

    /// Where a receipt was applied, if it has been (from the explorer's index: found as soon
    /// as the block applying it is committed).
    pub fn receipt_applied(&self, id: &Hash) -> Result<Option<AppliedAt>> {
        Ok(self.index.applied_at(id)?.map(|at| AppliedAt {
            height: at.height,
            shard: at.shard,
            index: at.index,
        }))
    }

    /// Every object, sorted by key.
    pub fn objects(&self) -> Result<Vec<(StateKey, Vec<u8>)>> {
        let tx = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in tx.open_table(OBJECTS)?.iter()? {
            let (k, v) = row?;
            let key: [u8; 32] = k.value().try_into().map_err(|_| StoreError::Corrupt {
                table: "objects",
                source: CodecError::UnexpectedEnd,
            })?;
            out.push((StateKey(key), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Every account, sorted by address.
    pub fn accounts(&self) -> Result<Vec<(Address, Account)>> {
        let tx = self.db.begin_read()?;
        let mut out = Vec::new();
        runs::merged(&tx, &runs::ACCOUNTS, Kind::Accounts, |r| {
            out.push(account_from(r).ok_or(StoreError::Corrupt {
                table: "account_state",
                source: CodecError::UnexpectedEnd,
            })?);
            Ok(())
        })?;
        Ok(out)
    }

    /// How many transactions involve `address`.
    pub fn account_tx_count(&self, address: &Address) -> Result<u64> {
        self.index.count(address)
    }

    /// Positions of `address`'s transactions, newest first, `limit` of them after skipping
    /// the `skip` newest.
    pub fn account_tx_positions(
        &self,
        address: &Address,
        skip: u64,
        limit: u64,
    ) -> Result<Vec<TxPos>> {
        self.index.positions(address, skip, limit)
    }

    /// A dropped transaction and why it was dropped.
    pub fn dropped(&self, id: &Hash) -> Result<Option<(SignedTransaction, String)>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(DROPPED)?;
        let Some(g) = t.get(id.0.as_slice())? else {
            return Ok(None);
        };
        let mut r = joule_light_client::codec::Reader::new(g.value());
        let parsed = (|| {
            let reason = r.string("reason", 4096)?;
            let stx = SignedTransaction::decode_from(&mut r)?;
            r.finish()?;
            Ok((stx, reason))
        })();
        parsed.map(Some).map_err(|source| StoreError::Corrupt {
            table: "dropped",
            source,
        })
    }

    /// A validator set by hash.
    pub fn validator_set(&self, hash: &Hash) -> Result<Option<ValidatorSet>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(VALIDATOR_SETS)?;
        t.get(hash.0.as_slice())?
            .map(|g| decode("validator_sets", g.value()))
            .transpose()
    }

    /// The mempool an older joule saved here at shutdown (before the journal; read once at
    /// start, then [cleared](Self::clear_saved_mempool)).
    pub fn saved_mempool(&self) -> Result<Vec<SignedTransaction>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(MEMPOOL)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            out.push(decode("mempool", v.value())?);
        }
        Ok(out)
    }

    /// Empties the saved mempool (once the journal holds it).
    pub fn clear_saved_mempool(&self) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(MEMPOOL)?.retain(|_, _| false)?;
        tx.commit()?;
        Ok(())
    }
}

/// Page cache of each database file (redb's default is 1 GiB each, which a long-running node
/// fills: resident memory grew by 500 MB over half a million transactions). The node's state
/// lives in memory; the files serve recent blocks and indexes, for which this is plenty.
pub const CACHE_BYTES: usize = 64 << 20;

/// Creates or opens a redb database with the node's cache size.
pub(crate) fn create_db(path: &Path) -> std::result::Result<Database, redb::DatabaseError> {
    Database::builder().set_cache_size(CACHE_BYTES).create(path)
}

/// Opens (or creates) the database at `path`, turning redb's failures and panics on a damaged
/// file into [`StoreError::Damaged`] that names the file. redb asserts on some corruptions
/// instead of returning an error; a node must say which file is broken, not crash.
pub(crate) fn open_checked(path: &Path) -> Result<Database> {
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let opened = std::panic::catch_unwind(|| {
        let db = create_db(path).map_err(|e| Box::new(redb::Error::from(e)))?;
        // Reading a table walks the file's root pages: a garbled file fails here.
        let tx = db
            .begin_read()
            .map_err(|e| Box::new(redb::Error::from(e)))?;
        drop(tx);
        Ok::<_, Box<redb::Error>>(db)
    });
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) if matches!(*e, redb::Error::DatabaseAlreadyOpen) => Err(StoreError::Db(e)),
        Ok(Err(e)) => Err(damaged(e.to_string())),
        Err(panic) => Err(damaged(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unreadable".into()),
        )),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_an_older_layout_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("joule.redb");
        {
            // Layout 1 had blocks but no layout entry.
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert(HEAD, 12).unwrap();
            tx.commit().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Layout {
                    found: 1,
                    expected: STORE_LAYOUT
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("remove the data directory"),
            "{err}"
        );
    }

    #[test]
    fn a_fresh_database_records_its_layout_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("joule.redb");
        Store::open(&path)
            .unwrap()
            .init_genesis(
                &[],
                &[],
                &crate::devnet::DevnetKeys::generate().validator_set(),
            )
            .unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.head_height().unwrap(), Some(0));
    }

    #[test]
    fn an_older_layout_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("joule.redb");
        {
            let store = Store::open(&path).unwrap();
            let validators = crate::devnet::DevnetKeys::generate().validator_set();
            store.init_genesis(&[], &[], &validators).unwrap();
            let tx = store.db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert(LAYOUT, 7).unwrap();
            tx.commit().unwrap();
        }
        let err = Store::open(&path).map(|_| ()).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Layout {
                    found: 7,
                    expected: STORE_LAYOUT
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("remove"), "{err}");
    }

    #[test]
    fn account_runs_merge_between_commits_and_reads_keep_the_newest_value() {
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("joule.redb")).unwrap();
        let validators = crate::devnet::DevnetKeys::generate().validator_set();
        store.init_genesis(&[], &[], &validators).unwrap();
        let mut model = BTreeMap::new();
        let mut most_runs = 0;
        for height in 1..=40u64 {
            let writes: BTreeMap<Address, Account> = (0..50u64)
                .map(|k| {
                    let i = (height * 7 + k * 13) % 300;
                    let mut a = [0x11; 20];
                    a[12..].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
                    let account = Account {
                        balance: height * 1_000 + i,
                        nonce: height,
                    };
                    (Address(a), account)
                })
                .collect();
            model.extend(writes.clone());
            store
                .commit_block(&BlockCommit::writing_accounts(
                    height,
                    writes.into_iter().collect(),
                ))
                .unwrap();
            // The producer merges after every block; here a step is sometimes skipped, and
            // the next one merges what both blocks earned.
            if height % 3 != 0 {
                store.merge_accounts().unwrap();
            }
            let tx = store.db.begin_read().unwrap();
            most_runs = most_runs.max(runs::newest_first(&tx, &runs::ACCOUNTS).unwrap().len());
        }
        assert_eq!(
            store.accounts().unwrap(),
            model.into_iter().collect::<Vec<_>>()
        );
        // 40 runs written, merged between commits: a few per level at most.
        assert!(most_runs <= 8, "{most_runs} runs");
    }
}
