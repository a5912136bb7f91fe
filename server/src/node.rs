//! The node: genesis, storage, in-memory chain state, mempool and consensus, wired together.
//!
//! Lock order, to stay deadlock-free: `chain` before `mempool`, never the reverse. Only the
//! block producer writes `chain`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use joule_light_client::api::{BlockResponse, ExecMode, StatsPoint};
use joule_light_client::object::StateKey;
use joule_light_client::{
    Account, Address, Hash, Payload, Receipt, SecretKey, ShardId, SignedTransaction, Transaction,
};
use thiserror::Error;
use tokio::sync::broadcast;

use crate::chain::{Executor, ParallelExecutor, ShardState};
use crate::consensus::{ConsensusError, Finalizer, LocalValidators};
use crate::devnet::{self, DevnetKeys, DevnetOptions, KeysError};
use crate::faucet::{Faucet, FaucetError};
use crate::genesis::{Genesis, GenesisError};
use crate::janitor::Janitor;
use crate::journal::{frame, Journal, JournalError, Ticket};
use crate::mempool::{check_fields, check_stateless, Mempool, RejectReason};
use crate::store::{Store, StoreError, StoredBlock};

/// Blocks kept in memory for the stats endpoint.
pub const STATS_WINDOW: usize = 120;

/// Why the node could not start or go on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Genesis is missing or invalid.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// Consensus failed.
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
    /// The mempool's journal could not be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The devnet's keys are missing or unreadable.
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// The data directory is unusable.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The genesis does not hash to the parent of the stored block 1.
    #[error(
        "{} is not the genesis of the chain in this data directory (edited, or written by an older joule); restore it, or remove the directory to start a new devnet",
        path.display()
    )]
    GenesisMismatch {
        /// The genesis file.
        path: PathBuf,
    },
    /// The data directory holds a chain but not its genesis.
    #[error(
        "{} is missing but this data directory holds a chain (chain.redb); restore the file, or remove the directory to start a new devnet",
        path.display()
    )]
    GenesisMissing {
        /// The genesis file.
        path: PathBuf,
    },
    /// The directory held a chain whose database is gone (deleted, emptied or replaced by a new
    /// one): starting over at height 0 silently would look like a chain that lost its blocks.
    #[error(
        "{} is missing or empty, but this data directory held a chain ({} says so): restore the database from a backup; or, to start the chain over from its genesis at height 0, run again with --new-chain",
        chain.display(),
        marker.display()
    )]
    ChainMissing {
        /// The chain database.
        chain: PathBuf,
        /// The marker written when the chain began.
        marker: PathBuf,
    },
    /// A block to commit was not executed on the current head.
    #[error("block {height} was not executed on the head (height {head})")]
    NotOnHead {
        /// The block's height.
        height: u64,
        /// The head's height.
        head: u64,
    },
    /// The state on disk does not match the head block's state root.
    #[error("state of shard {shard} does not match the state or objects root of block {height}")]
    StateRootMismatch {
        /// The shard.
        shard: ShardId,
        /// The head height.
        height: u64,
    },
}

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where genesis and the database live.
    pub data_dir: PathBuf,
    /// Shards of a new devnet (ignored when a genesis exists).
    pub shard_count: u16,
    /// Block interval of a new devnet (ignored when a genesis exists).
    pub block_interval_ms: u64,
    /// Most pending transactions.
    pub mempool_capacity: usize,
    /// Run Block-STM on every non-empty block, however small or contended (tests use it to
    /// exercise the parallel path end to end); otherwise the executor decides per block.
    pub always_block_stm: bool,
    /// Start the chain over from its genesis where this directory's chain database is gone
    /// (see [`NodeError::ChainMissing`]); a chain still there is kept.
    pub new_chain: bool,
}

impl NodeConfig {
    /// Devnet defaults in `data_dir`.
    pub fn devnet(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            shard_count: 4,
            block_interval_ms: 500,
            mempool_capacity: 200_000,
            always_block_stm: false,
            new_chain: false,
        }
    }
}

/// The chain as of the latest final block.
#[derive(Debug)]
pub struct ChainState {
    /// The latest block (`None` at genesis).
    pub head: Option<Arc<StoredBlock>>,
    /// Each shard's accounts.
    pub shards: Vec<ShardState>,
    /// Receipts to apply in the next block, by destination shard.
    pub pending_receipts: Vec<Vec<Receipt>>,
    /// Recent blocks, for stats.
    pub recent: VecDeque<StatsPoint>,
    /// Transactions in all blocks.
    pub total_txs: u64,
}

impl ChainState {
    /// Height of the head (0 at genesis).
    pub fn height(&self) -> u64 {
        self.head.as_ref().map_or(0, |b| b.header.height)
    }

    /// The account at `address`.
    pub fn account(&self, address: &Address) -> Account {
        self.shards[usize::from(address.shard(self.shards.len() as u16))].get(address)
    }

    /// Tokens held in accounts and in bids' escrow, plus those in flight in receipts.
    pub fn supply_in_state(&self) -> u128 {
        let held: u128 = self
            .shards
            .iter()
            .map(|s| s.total_balance() + s.total_escrow() + s.total_locked())
            .sum();
        let in_flight: u128 = self
            .pending_receipts
            .iter()
            .flatten()
            .map(|r| u128::from(r.amount))
            .sum();
        held + in_flight
    }
}

/// A running node.
pub struct Node {
    /// The genesis.
    pub genesis: Genesis,
    /// Its hash.
    pub genesis_hash: Hash,
    /// The database.
    pub store: Store,
    pub(crate) chain: RwLock<ChainState>,
    pub(crate) mempool: Mutex<Mempool>,
    /// Where admitted transactions are made durable before the node says it accepted them.
    journal: Journal,
    pub(crate) finalizer: Box<dyn Finalizer>,
    pub(crate) executor: Box<dyn Executor>,
    pub(crate) faucet: Option<Mutex<Faucet>>,
    events: broadcast::Sender<Arc<BlockResponse>>,
    /// Fees burned since genesis (kept for the supply invariant).
    pub(crate) burned: Mutex<u128>,
    /// Drops what blocks replace (old state trees) off the producer's path.
    pub(crate) janitor: Janitor,
    /// Where batches of transactions are checked, below the producer's priority.
    admission: rayon::ThreadPool,
    /// The community simulator driving this node, if one is (`GET /chain` says so).
    pub simulation: std::sync::OnceLock<joule_light_client::api::SimulationInfo>,
    /// Forecasts and anomaly flags from the readings the chain accepts.
    pub analytics: Mutex<crate::analytics::tracker::Tracker>,
    /// Where transactions admitted from clients go besides the mempool (a network's
    /// proposers), if anywhere.
    forwarder: std::sync::OnceLock<Forwarder>,
}

/// Passes admitted transactions on (see [`Node::set_forwarder`]).
pub type Forwarder = Box<dyn Fn(Vec<SignedTransaction>) + Send + Sync>;

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("chain_id", &self.genesis.chain_id)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Node {
    /// Opens the node in `config.data_dir`, creating a devnet genesis on first start, and
    /// resumes from the stored head (checking the state against its state roots).
    pub fn open(config: &NodeConfig) -> Result<Self, NodeError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| NodeError::DataDir {
            path: dir.clone(),
            source,
        })?;
        if config.new_chain {
            allow_new_chain(dir)?;
        }
        let genesis_path = dir.join("genesis.json");
        let (genesis, keys) = if genesis_path.exists() {
            (Genesis::load(&genesis_path)?, DevnetKeys::load(dir)?)
        } else if dir.join("chain.redb").exists() || dir.join(CHAIN_MARKER).exists() {
            // A chain without its genesis: making a new one would put the old chain under a
            // genesis it did not grow from.
            return Err(NodeError::GenesisMissing { path: genesis_path });
        } else {
            // Keys first: a start interrupted before the genesis is written makes new ones
            // next time, and a genesis never exists without its keys.
            let keys = DevnetKeys::generate();
            keys.save(dir)?;
            let g = devnet::genesis(
                &DevnetOptions {
                    shard_count: config.shard_count,
                    block_interval_ms: config.block_interval_ms,
                    genesis_time_ms: now_ms(),
                },
                &keys,
            );
            g.validate()?;
            g.save(&genesis_path)?;
            (g, keys)
        };
        let finalizer = LocalValidators::new(keys.validators, genesis.validators.clone())?;
        Self::open_with(
            dir,
            genesis,
            Box::new(finalizer),
            // One pool, one thread per core, shared by shards, Block-STM and the state trees.
            Box::new(if config.always_block_stm {
                ParallelExecutor::per_core().always(ExecMode::BlockStm)
            } else {
                ParallelExecutor::per_core()
            }),
            config.mempool_capacity,
            Some(keys.faucet),
        )
    }

    /// Opens a node of a network in `dir` under `genesis` (copied into `dir` on first start and
    /// compared on every later one), finalized by the network's validators.
    /// `new_chain` as in [`NodeConfig::new_chain`].
    pub fn open_network(
        dir: &Path,
        genesis: Genesis,
        faucet_key: Option<SecretKey>,
        new_chain: bool,
    ) -> Result<Self, NodeError> {
        std::fs::create_dir_all(dir).map_err(|source| NodeError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        if new_chain {
            allow_new_chain(dir)?;
        }
        let path = dir.join("genesis.json");
        if path.exists() {
            if Genesis::load(&path)?.hash() != genesis.hash() {
                return Err(NodeError::GenesisMismatch { path });
            }
        } else {
            genesis.save(&path)?;
        }
        let set = genesis.validators.clone();
        Self::open_with(
            dir,
            genesis,
            Box::new(crate::network::NetworkValidators::new(set)),
            Box::new(ParallelExecutor::per_core()),
            200_000,
            faucet_key,
        )
    }

    /// Opens with explicit parts (tests and benchmarks use other finalizers and executors).
    /// The faucet runs when genesis names one and `faucet_key` is its key.
    pub fn open_with(
        dir: &Path,
        genesis: Genesis,
        finalizer: Box<dyn Finalizer>,
        executor: Box<dyn Executor>,
        mempool_capacity: usize,
        faucet_key: Option<SecretKey>,
    ) -> Result<Self, NodeError> {
        let store = Store::open(&dir.join("chain.redb"))?;
        let (journal, recovered) = Journal::open(&dir.join("mempool"))?;
        let n = genesis.shard_count;
        let marker = dir.join(CHAIN_MARKER);
        if store.head_height()?.is_none() {
            if marker.exists() {
                return Err(NodeError::ChainMissing {
                    chain: dir.join("chain.redb"),
                    marker,
                });
            }
            let accounts: Vec<(Address, Account)> = genesis
                .accounts
                .iter()
                .map(|a| {
                    (
                        a.address,
                        Account {
                            balance: a.balance,
                            nonce: 0,
                        },
                    )
                })
                .collect();
            store.init_genesis(&accounts, &genesis.objects(), &genesis.validators)?;
            store.record_genesis(&genesis.hash())?;
        }
        // The database names the genesis it grew from: another one (edited: a chain id, a
        // balance) is refused, not continued under.
        if let Some(recorded) = store.genesis_hash()? {
            if recorded != genesis.hash() {
                return Err(NodeError::GenesisMismatch {
                    path: dir.join("genesis.json"),
                });
            }
        }
        if !marker.exists() {
            // From here on, a missing or empty database is a lost chain, not a first start
            // (written for directories of an older joule too).
            write_marker(&marker, &genesis.hash()).map_err(|source| NodeError::DataDir {
                path: marker.clone(),
                source,
            })?;
        }
        let height = store.head_height()?.ok_or(StoreError::Uninitialised)?;
        // The state trees are rebuilt from the stored accounts (in parallel) and must give
        // the head's state roots: a mismatch means the database is corrupt.
        let mut by_shard: Vec<Vec<(Address, Account)>> = vec![Vec::new(); usize::from(n)];
        for (a, acc) in store.accounts()? {
            by_shard[usize::from(a.shard(n))].push((a, acc));
        }
        let mut objects_by_shard: Vec<Vec<(StateKey, Vec<u8>)>> = vec![Vec::new(); usize::from(n)];
        // Stored in key order: each shard's list stays sorted.
        for (k, v) in store.objects()? {
            objects_by_shard[usize::from(k.shard(n))].push((k, v));
        }
        let shards: Vec<ShardState> = by_shard
            .iter_mut()
            .zip(&objects_by_shard)
            .map(|(w, objects)| {
                w.sort_unstable_by_key(|(a, _)| *a);
                ShardState::from_parts(w, objects)
            })
            .collect();
        let head = if height > 0 {
            store.block(height)?.map(Arc::new)
        } else {
            None
        };
        // Block 1 names the genesis hash as its parent: a genesis that hashes otherwise is
        // not the one this chain grew from (edited, or from an older joule).
        let genesis_hash = genesis.hash();
        if let Some(first) = store.block(1)? {
            if first.header.parent_hash != genesis_hash {
                return Err(NodeError::GenesisMismatch {
                    path: dir.join("genesis.json"),
                });
            }
        }
        let mut pending_receipts = vec![Vec::new(); usize::from(n)];
        if let Some(b) = &head {
            for (s, sh) in b.shards.iter().enumerate() {
                if shards[s].root() != sh.state_root || shards[s].objects_root() != sh.objects_root
                {
                    return Err(NodeError::StateRootMismatch {
                        shard: s as ShardId,
                        height,
                    });
                }
                for r in store.receipts_out(height, s as ShardId)? {
                    pending_receipts[usize::from(r.dest_shard)].push(r);
                }
            }
        }
        let mut recent = VecDeque::new();
        for h in height.saturating_sub(STATS_WINDOW as u64 - 1).max(1)..=height {
            let Some(b) = store.block(h)? else { continue };
            recent.push_back(StatsPoint {
                height: h,
                timestamp_ms: b.header.timestamp_ms,
                tx_count: b.shards.iter().map(|s| u64::from(s.tx_count)).sum(),
            });
        }
        let burned = u128::from(store.burned()?);
        let chain = ChainState {
            head,
            shards,
            pending_receipts,
            recent,
            total_txs: store.total_txs()?,
        };
        let faucet = match (&genesis.faucet, faucet_key) {
            (Some(f), Some(key)) if Address::from_public_key(&key.public_key()) == f.address => {
                Some(Mutex::new(Faucet::new(key, f.amount)))
            }
            (Some(_), Some(_)) => {
                return Err(GenesisError::Invalid(
                    "the faucet key does not match the genesis faucet's address".into(),
                )
                .into())
            }
            _ => None,
        };
        // Intervals in a real day, for the forecast's daily pattern (a simulator sets its own).
        let interval_ms = u64::from(genesis.market.interval_blocks) * genesis.block_interval_ms;
        let real_day = usize::try_from(86_400_000 / interval_ms.max(1)).unwrap_or(usize::MAX);
        let mempool = Mempool::new(genesis.min_fee, mempool_capacity);
        let (events, _) = broadcast::channel(64);
        let node = Self {
            genesis_hash,
            genesis,
            store,
            chain: RwLock::new(chain),
            mempool: Mutex::new(mempool),
            journal,
            finalizer,
            executor,
            faucet,
            events,
            burned: Mutex::new(burned),
            janitor: Janitor::new(),
            admission: crate::priority::admission_pool(),
            simulation: std::sync::OnceLock::new(),
            analytics: Mutex::new(crate::analytics::tracker::Tracker::new(real_day)),
            forwarder: std::sync::OnceLock::new(),
        };
        let started = Instant::now();
        let restored = node.restore_mempool(recovered.txs)?;
        if recovered.segments > 0 {
            tracing::info!(
                pending = restored,
                segments = recovered.segments,
                ms = started.elapsed().as_millis() as u64,
                "mempool restored from its journal"
            );
        }
        Ok(node)
    }

    /// Re-admits what the journal (and, from an older joule, the mempool table) held, records
    /// why any that is neither pending again, included nor already dropped cannot be, and
    /// compacts the journal to what is pending. Returns how many are pending.
    ///
    /// Signatures are not checked again: the journal is the node's own file, written after
    /// admission checked them and guarded frame by frame by a checksum (like `chain.redb`,
    /// its integrity rests on the data directory's) — which is what lets 120,000 pending
    /// transactions come back in well under a second.
    fn restore_mempool(&self, journaled: Vec<SignedTransaction>) -> Result<usize, NodeError> {
        let saved = self.store.saved_mempool()?;
        let had_saved = !saved.is_empty();
        let g = &self.genesis;
        let mut dropped = Vec::new();
        for stx in saved.into_iter().chain(journaled) {
            let id = stx.id();
            let verdict = check_fields(&g.chain_id, g.min_fee, g.shard_count, &stx)
                .and_then(|()| self.insert_checked_signature(stx.clone(), id));
            match verdict {
                Ok(_) | Err(RejectReason::AlreadyKnown) => {}
                Err(e) => {
                    // Included or dropped since it was journaled: its record is in the chain.
                    if self.store.tx(&id)?.is_some() || self.store.dropped(&id)?.is_some() {
                        continue;
                    }
                    dropped.push((stx, format!("dropped at restart: {e}")));
                }
            }
        }
        if !dropped.is_empty() {
            tracing::warn!(
                count = dropped.len(),
                "pending transactions dropped at restart"
            );
            self.store.record_dropped(&dropped)?;
        }
        let (pending, ticket) = {
            let mempool = self.mempool();
            (mempool.len(), self.journal.compact(mempool.oldest_first()))
        };
        self.journal.wait(ticket)?;
        if had_saved {
            self.store.clear_saved_mempool()?;
        }
        Ok(pending)
    }

    /// Admits a transaction whose signature is known good, with its id.
    fn insert_checked_signature(
        &self,
        stx: SignedTransaction,
        id: Hash,
    ) -> Result<Hash, RejectReason> {
        let chain = self.chain();
        check_window(
            &self.market_context(&chain),
            &self.gov_params(&chain),
            chain.height() + 1,
            &stx,
            live_of(&chain, &stx),
        )?;
        let sender = stx.tx.sender_address();
        let account = chain.account(&sender);
        self.mempool().insert_checked(stx, id, sender, &account)
    }

    /// Read access to the chain state.
    pub fn chain(&self) -> RwLockReadGuard<'_, ChainState> {
        self.chain.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes to new final blocks.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BlockResponse>> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, block: Arc<BlockResponse>) {
        // No subscribers is fine.
        let _ = self.events.send(block);
    }

    /// The finalizer (for the validator sets it reports).
    pub fn finalizer(&self) -> &dyn Finalizer {
        self.finalizer.as_ref()
    }

    /// Tokens burned as fees since genesis.
    pub fn burned(&self) -> u128 {
        *self.burned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decodes, checks and admits a transaction from its canonical bytes (see [`Self::admit`]).
    pub fn submit(&self, bytes: &[u8]) -> Result<Hash, RejectReason> {
        let stx = SignedTransaction::from_bytes(bytes)?;
        self.admit(stx)
    }

    /// Checks and admits a decoded transaction, and waits until the journal holds it: `Ok`
    /// means it survives a crash of the node.
    pub fn admit(&self, stx: SignedTransaction) -> Result<Hash, RejectReason> {
        let admitted = self.admit_queued(stx)?;
        let durable = self.journal.wait(admitted.ticket);
        self.settle(admitted, durable)
    }

    /// [`Self::admit`] without the wait: the transaction is pending and queued for the
    /// journal; [`Self::durable`] waits until it is on disk.
    pub fn admit_queued(&self, stx: SignedTransaction) -> Result<Admitted, RejectReason> {
        let g = &self.genesis;
        check_stateless(&g.chain_id, g.min_fee, g.shard_count, &stx)?;
        let frames = frame::encode(&stx);
        let forward = self.forwarder.get().map(|_| stx.clone());
        let id = stx.id();
        let id = self.insert_checked_signature(stx, id)?;
        let ticket = self.journal.append_encoded(frames);
        Ok(Admitted {
            id,
            ticket,
            forward,
        })
    }

    /// Waits, without blocking a thread, until an admitted transaction is in the journal;
    /// then it is relayed to peers. If the journal failed, it is taken back out of the pool.
    /// A caller that stops waiting (its client went away) leaves it admitted: a network node
    /// relays it with its periodic re-send of what is still pending.
    pub async fn durable(&self, admitted: Admitted) -> Result<Hash, RejectReason> {
        let durable = self.journal.durable(admitted.ticket).await;
        self.settle(admitted, durable)
    }

    /// After the journal's verdict on an admission: relay it once durable (peers never hold a
    /// transaction this node answered 503 for), or take it back out of the pool, so that the
    /// 503 is true — unless a block already took it (the error says to look it up).
    fn settle(
        &self,
        admitted: Admitted,
        durable: Result<(), JournalError>,
    ) -> Result<Hash, RejectReason> {
        match durable {
            Ok(()) => {
                self.forward(admitted.forward.into_iter().collect());
                Ok(admitted.id)
            }
            Err(e) => {
                self.take_back(vec![admitted.id]);
                Err(not_durable(e))
            }
        }
    }

    /// Removes admitted transactions whose journal write failed.
    fn take_back(&self, ids: Vec<Hash>) {
        drop(self.mempool().remove(ids));
    }

    /// Checks and admits many transactions, their signatures verified in parallel batches
    /// ([`crate::sigverify`]); each gets its own verdict, in order. Those admitted are in the
    /// journal when this returns.
    pub fn admit_many(&self, txs: Vec<SignedTransaction>) -> Vec<Result<Hash, RejectReason>> {
        let copies = self.forwarder.get().map(|_| txs.clone());
        let (mut verdicts, ticket) = self
            .admission
            .install(|| self.admit_many_in_pool(txs, true));
        if let Err(e) = self.journal.wait(ticket) {
            let ids = verdicts.iter().filter_map(|v| v.as_ref().ok().copied());
            self.take_back(ids.collect());
            for v in verdicts.iter_mut().filter(|v| v.is_ok()) {
                *v = Err(not_durable(e.clone()));
            }
        }
        if let Some(copies) = copies {
            let admitted = copies
                .into_iter()
                .zip(&verdicts)
                .filter(|(_, v)| v.is_ok())
                .map(|(stx, _)| stx)
                .collect();
            self.forward(admitted);
        }
        verdicts
    }

    /// Admits transactions a peer relayed (checked like a client's, not forwarded again, not
    /// journaled: the node that accepted them from a client journaled them, and sends them
    /// again until they are in a block).
    pub fn admit_relayed(&self, txs: Vec<SignedTransaction>) -> Vec<Result<Hash, RejectReason>> {
        self.admission
            .install(|| self.admit_many_in_pool(txs, false))
            .0
    }

    /// Sends every transaction admitted from a client to `forwarder` too (once; a network
    /// node passes them to its peers).
    pub fn set_forwarder(&self, forwarder: Forwarder) {
        let _ = self.forwarder.set(forwarder);
    }

    fn forward(&self, txs: Vec<SignedTransaction>) {
        if let (Some(f), false) = (self.forwarder.get(), txs.is_empty()) {
            f(txs);
        }
    }

    /// Runs `f` on the admission pool (below block production's priority).
    pub(crate) fn on_admission_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.admission.install(f)
    }

    /// Admits a batch; with `journal`, queues the admitted ones' frames and returns the ticket.
    fn admit_many_in_pool(
        &self,
        txs: Vec<SignedTransaction>,
        journal: bool,
    ) -> (Vec<Result<Hash, RejectReason>>, Ticket) {
        use rayon::prelude::*;
        let verdicts = crate::sigverify::verify_signatures(&txs);
        let (chain_id, min_fee) = (&self.genesis.chain_id, self.genesis.min_fee);
        let shard_count = self.genesis.shard_count;
        // What needs no state, in parallel like the signatures: fields, and the sender's address
        // (the verdict carries the id).
        let checked: Vec<Result<(Hash, Address), RejectReason>> = txs
            .par_iter()
            .zip(verdicts)
            .map(|(stx, sig)| {
                check_fields(chain_id, min_fee, shard_count, stx)?;
                let id = sig.map_err(RejectReason::BadSignature)?;
                Ok((id, stx.tx.sender_address()))
            })
            .collect();
        // One read of the chain for the batch (its accounts read in parallel), then one lock of
        // the pool: the same verdicts as admitting one by one, without 2n lock round trips.
        // Journal frames are encoded here too, off the pool's lock.
        let chain = self.chain();
        let (market, gov) = (self.market_context(&chain), self.gov_params(&chain));
        type Checked = (Hash, Address, Account, Vec<u8>);
        let checked: Vec<Result<Checked, RejectReason>> = checked
            .into_par_iter()
            .zip(&txs)
            .map(|(c, stx)| {
                let (id, sender) = c?;
                check_window(&market, &gov, chain.height() + 1, stx, live_of(&chain, stx))?;
                let frames = if journal {
                    frame::encode(stx)
                } else {
                    Vec::new()
                };
                Ok((id, sender, chain.account(&sender), frames))
            })
            .collect();
        let mut mempool = self.mempool();
        let mut admitted = Vec::new();
        let verdicts = txs
            .into_iter()
            .zip(checked)
            .map(|(stx, c)| {
                let (id, sender, account, frames) = c?;
                let id = mempool.insert_checked(stx, id, sender, &account)?;
                admitted.push(frames);
                Ok(id)
            })
            .collect();
        drop(mempool);
        drop(chain);
        let ticket = if journal {
            self.journal.append_encoded(admitted.concat())
        } else {
            Ticket::NONE
        };
        (verdicts, ticket)
    }

    /// Pending transaction by id.
    pub fn pending(&self, id: &Hash) -> Option<SignedTransaction> {
        self.mempool().get(id).cloned()
    }

    /// Ids of pending transactions that start with `prefix` (at most `limit`).
    pub fn pending_with_prefix(&self, prefix: &[u8], limit: usize) -> Vec<Hash> {
        self.mempool().ids_with_prefix(prefix, limit)
    }

    /// Pending transactions.
    pub fn mempool_len(&self) -> usize {
        self.mempool().len()
    }

    /// The next nonce `address` should use, counting its pending transactions.
    pub fn next_nonce(&self, address: &Address) -> u64 {
        let chain = self.chain();
        let account = chain.account(address);
        self.mempool().next_nonce(address, &account)
    }

    /// Sends faucet tokens to `to` (devnet only; rate-limited).
    pub fn faucet(&self, to: Address) -> Result<(Hash, u64), FaucetError> {
        let faucet = self.faucet.as_ref().ok_or(FaucetError::Disabled)?;
        let mut faucet = faucet.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        faucet.check(to, now)?;
        let key: &SecretKey = faucet.key();
        let from = Address::from_public_key(&key.public_key());
        let chain = self.chain();
        let account = chain.account(&from);
        let mut mempool = self.mempool();
        let nonce = mempool.next_nonce(&from, &account);
        let stx = Transaction {
            chain_id: self.genesis.chain_id.clone(),
            sender: key.public_key(),
            nonce,
            max_fee: self.genesis.min_fee,
            payload: Payload::Transfer {
                to,
                amount: faucet.amount(),
            },
        }
        .sign(key);
        let forwarded = self.forwarder.get().map(|_| stx.clone());
        let frames = frame::encode(&stx);
        let id = mempool
            .insert(stx, &account)
            .map_err(FaucetError::Rejected)?;
        let ticket = self.journal.append_encoded(frames);
        // Only a grant that reached the mempool starts the cooldown.
        faucet.record(to, now);
        let amount = faucet.amount();
        drop((mempool, chain, faucet));
        let durable = self.journal.wait(ticket);
        let admitted = Admitted {
            id,
            ticket,
            forward: forwarded,
        };
        let id = self
            .settle(admitted, durable)
            .map_err(FaucetError::Rejected)?;
        Ok((id, amount))
    }

    /// Compacts the journal when it has grown enough (after a block, off its critical path):
    /// the snapshot is read and queued under the pool's lock, see [`Journal::compact`].
    pub(crate) fn compact_journal_if_due(&self) {
        if self.journal.wants_compaction() {
            let started = Instant::now();
            let mempool = self.mempool();
            let _queued = self.journal.compact(mempool.oldest_first());
            let pending = mempool.len();
            drop(mempool);
            tracing::debug!(
                pending,
                ms = started.elapsed().as_secs_f64() * 1e3,
                "mempool journal compaction queued"
            );
        }
    }

    /// Stops the journal once what it was given is on disk (at a clean stop; after it, no
    /// transaction is accepted). Every pending transaction is in the journal already.
    pub fn shutdown(&self) -> Result<(), NodeError> {
        self.journal.close();
        tracing::info!(
            pending = self.mempool_len(),
            height = self.chain().height(),
            "node stopped; pending transactions are in the journal"
        );
        Ok(())
    }

    /// The target time between blocks.
    pub fn block_interval(&self) -> Duration {
        Duration::from_millis(self.genesis.block_interval_ms)
    }
}

/// The file that says a data directory holds a chain (written once its database holds the
/// genesis state; outside the database, so it outlives the database's loss).
pub const CHAIN_MARKER: &str = "chain.started";

fn write_marker(path: &Path, genesis: &Hash) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    writeln!(f, "genesis {genesis}")?;
    f.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `--new-chain`: where the chain database is gone, forgets that there was a chain so the
/// node starts over at height 0. A database that still holds blocks is left alone (the node
/// goes on with it): discarding a chain takes removing its files by hand.
fn allow_new_chain(dir: &Path) -> Result<(), NodeError> {
    let marker = dir.join(CHAIN_MARKER);
    if !marker.exists() {
        return Ok(());
    }
    let chain = dir.join("chain.redb");
    if chain.exists() && Store::open(&chain)?.head_height()?.is_some() {
        tracing::warn!(chain = %chain.display(), "--new-chain: the chain database holds a chain; it is kept");
        return Ok(());
    }
    tracing::warn!(dir = %dir.display(), "--new-chain: starting the chain over at height 0 from its genesis");
    std::fs::remove_file(&marker).map_err(|source| NodeError::DataDir {
        path: marker,
        source,
    })
}

/// A transaction in the pool whose journal write is queued: [`Node::durable`] finishes its
/// admission.
#[derive(Debug)]
#[must_use = "an admission is not durable until it is waited on"]
pub struct Admitted {
    id: Hash,
    ticket: Ticket,
    /// A copy for the peers, when the node relays.
    forward: Option<SignedTransaction>,
}

fn not_durable(e: JournalError) -> RejectReason {
    RejectReason::NotDurable(e.to_string())
}

/// A proposer's live-proposal marker at the head, if the transaction is a proposal.
fn live_of<'a>(chain: &'a ChainState, stx: &SignedTransaction) -> Option<&'a [u8]> {
    if !matches!(stx.tx.payload, Payload::Propose { .. }) {
        return None;
    }
    let sender = stx.tx.sender_address();
    let shard = usize::from(sender.shard(chain.shards.len() as u16));
    chain.shards[shard].object(&joule_light_client::dao::live_proposal_key(&sender))
}

/// An order for a closed book, a reading outside its window, a proposal while the proposer
/// has one live, or a proposal whose action
/// leaves its bounds, refused at admission: it would be refused in the next block (at
/// `height`) anyway. (Near a boundary one may pass here and fail in the block: it then pays
/// the fee with `MarketClosed`, `StaleReading` or `InvalidAction`.)
fn check_window(
    market: &crate::chain::MarketContext,
    gov: &joule_light_client::dao::GovParams,
    height: u64,
    stx: &SignedTransaction,
    live: Option<&[u8]>,
) -> Result<(), RejectReason> {
    match &stx.tx.payload {
        Payload::PlaceOrder { interval, .. } => market
            .schedule(*interval)
            .order_window(*interval, height)
            .map_err(RejectReason::MarketClosed),
        Payload::Reading { interval, .. } => market
            .schedule(*interval)
            .reading_window(*interval, height)
            .map_err(RejectReason::ReadingOutOfWindow),
        Payload::Propose { action, .. } => {
            if live.is_some() {
                return Err(RejectReason::InvalidAction(
                    "you have a proposal pending or active: a member makes one at a time (cancel it before its vote starts, or wait for its end)".to_owned(),
                ));
            }
            let params = joule_light_client::dao::ChainParams {
                market: market.params,
                gov: *gov,
            };
            action
                .check(&params, height)
                .map_err(|e| RejectReason::InvalidAction(e.to_string()))
        }
        Payload::Transfer { .. }
        | Payload::RegisterMeter { .. }
        | Payload::CancelOrder { .. }
        | Payload::ClaimCertificates { .. }
        | Payload::LockPower { .. }
        | Payload::UnlockPower { .. }
        | Payload::Delegate { .. }
        | Payload::Vote { .. }
        | Payload::CancelProposal { .. } => Ok(()),
    }
}
