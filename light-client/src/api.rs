//! JSON bodies of the node's HTTP API (`/api/v1`). The node encodes them and the app decodes
//! them with these same structs, so the two cannot drift.

use serde::{Deserialize, Serialize};

use crate::address::{Address, ShardId};
use crate::block::{BlockHeader, ShardHeader};
use crate::commit::Commit;
use crate::dao::{GovParams, Param, Power, Proposal, Tally, Totals, Vote};
use crate::event::Event;
use crate::genesis::GenesisHeader;
use crate::hash::Hash;
use crate::market::{Book, IntervalRecord, MarketParams};
use crate::merkle::MerkleProof;
use crate::object::{ObjectKind, ObjectProof, StateKey};
use crate::receipt::{Receipt, TxOutcome};
use crate::smt::StateProof;
use crate::state::Account;
use crate::transaction::SignedTransaction;
use crate::validator::ValidatorSet;

/// Body of every error response: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Stable identifier, e.g. `bad_signature`, `nonce_too_low`, `not_found`.
    pub code: String,
    /// What went wrong, readable.
    pub message: String,
}

/// The token's display metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Ticker.
    pub symbol: String,
    /// Decimal places of the smallest unit.
    pub decimals: u8,
}

/// `GET /chain`: what a client needs to start following the chain. All of it is the node's
/// claim until checked: a light client checks `genesis` and `genesis_validators` against the
/// checkpoint its user pinned ([`crate::Checkpoint::verify_genesis`]), which proves the chain's
/// parameters; the head is only a hint of where to look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// The chain's genesis header: its parameters (chain id, shards, fee…), proven by hashing
    /// to the pinned genesis hash.
    pub genesis: GenesisHeader,
    /// Hash of `genesis`.
    pub genesis_hash: Hash,
    /// The genesis validator set (it must hash to `genesis.validator_set_hash`).
    pub genesis_validators: ValidatorSet,
    /// The current validator set.
    pub validators: ValidatorSet,
    /// Latest final block height (0 before the first block).
    pub head_height: u64,
    /// Latest final block hash.
    pub head_hash: Hash,
    /// The token.
    pub token: TokenInfo,
    /// Set when the node runs the community simulator: its prosumers are simulated, and the
    /// app says so (the node's word, not proven).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationInfo>,
}

/// The community simulator a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationInfo {
    /// Simulated prosumers.
    pub prosumers: u32,
    /// Its seed (a run is reproducible).
    pub seed: u64,
    /// Simulated minutes per market interval.
    pub minutes_per_interval: u32,
}

/// One line of a block list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSummary {
    /// Height.
    pub height: u64,
    /// Header hash.
    pub hash: Hash,
    /// Proposer's timestamp.
    pub timestamp_ms: u64,
    /// Transactions over all shards.
    pub tx_count: u64,
    /// Per-shard transaction counts, in shard order.
    pub shard_tx_counts: Vec<u32>,
}

/// `GET /blocks`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockList {
    /// The blocks.
    pub blocks: Vec<BlockSummary>,
    /// Pass as `before` to get the next (older) page; `None` at genesis.
    pub next_before: Option<u64>,
}

/// `GET /blocks/{id}` and each event of `GET /stream`: everything to verify a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockResponse {
    /// Header hash.
    pub hash: Hash,
    /// The header.
    pub header: BlockHeader,
    /// Shard headers, in shard order.
    pub shards: Vec<ShardHeader>,
    /// The commit making it final.
    pub commit: Commit,
    /// The validator set that signed it.
    pub validators: ValidatorSet,
    /// How each shard block was executed, as the node reports it (not covered by the commit).
    #[serde(default)]
    pub metrics: Vec<ShardExecMetrics>,
}

/// Which of the executor's strategies ran a shard block. All give the in-order result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecMode {
    /// One transaction after another (small or contended blocks, one thread).
    #[default]
    InOrder,
    /// Optimistic Block-STM: multi-version memory, validation, re-execution.
    BlockStm,
    /// In parallel, ordered by the keys each transaction declared up front.
    DeclaredKeys,
}

impl ExecMode {
    /// Whether transactions ran on more than one thread at a time.
    pub fn is_parallel(self) -> bool {
        self != ExecMode::InOrder
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            ExecMode::InOrder => "in order",
            ExecMode::BlockStm => "Block-STM",
            ExecMode::DeclaredKeys => "parallel by declared keys",
        }
    }

    /// The byte stored for it (0 and 1 as the old `parallel` flag).
    pub fn to_byte(self) -> u8 {
        match self {
            ExecMode::InOrder => 0,
            ExecMode::BlockStm => 1,
            ExecMode::DeclaredKeys => 2,
        }
    }

    /// The mode a stored byte names.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(ExecMode::InOrder),
            1 => Some(ExecMode::BlockStm),
            2 => Some(ExecMode::DeclaredKeys),
            _ => None,
        }
    }
}

/// How one shard block was executed: the parallel executor's per-block metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardExecMetrics {
    /// The shard.
    pub shard: ShardId,
    /// Transactions executed (included or skipped).
    pub txs: u32,
    /// Threads that worked on the block (1 when it ran in order).
    pub threads: u32,
    /// Executions begun, re-executions included.
    pub incarnations: u64,
    /// Validations run.
    pub validations: u64,
    /// How the executor ran the block.
    pub mode: ExecMode,
    /// Time spent executing, in microseconds.
    pub exec_us: u64,
}

/// A page of items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Zero-based page number.
    pub page: u32,
    /// Page size.
    pub limit: u32,
    /// Items over all pages.
    pub total: u64,
}

/// A transaction as listed in a shard block or an account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxSummary {
    /// Id.
    pub id: Hash,
    /// The signed transaction, decoded.
    pub tx: SignedTransaction,
    /// Sender's address.
    pub sender: Address,
    /// Outcome committed in the shard header.
    pub outcome: TxOutcome,
    /// Block height.
    pub height: u64,
    /// Shard.
    pub shard: ShardId,
    /// Position in the shard block.
    pub index: u32,
    /// Block time.
    pub timestamp_ms: u64,
    /// Proof of `outcome` at `index` in the shard header's `tx_root`, where the list gives
    /// one (a shard block's transactions do; an account's history does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<MerkleProof>,
}

/// `GET /blocks/{id}/shards/{shard}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardBlockResponse {
    /// The block's hash.
    pub block_hash: Hash,
    /// The block header.
    pub header: BlockHeader,
    /// The shard header.
    pub shard: ShardHeader,
    /// Proof of the shard header in `header.shards_root`.
    pub shard_proof: MerkleProof,
    /// The shard's transactions, paginated.
    pub transactions: Page<TxSummary>,
    /// Receipts this shard emitted in this block.
    pub outgoing_receipts: Vec<Receipt>,
    /// Receipts this shard applied in this block.
    pub incoming_receipts: Vec<Receipt>,
}

/// Where a shard header sits, with the proofs that tie an item to a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInclusion {
    /// Block height.
    pub height: u64,
    /// Block hash (verify its commit via `GET /blocks/{height}`).
    pub block_hash: Hash,
    /// The shard header.
    pub shard_header: ShardHeader,
    /// Proof of the shard header in the block's `shards_root`.
    pub shard_proof: MerkleProof,
}

/// A transaction's inclusion in a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInclusion {
    /// The shard block it is in.
    pub at: ShardInclusion,
    /// Position in the shard block.
    pub index: u32,
    /// The outcome committed in `tx_root`.
    pub outcome: TxOutcome,
    /// Proof of the outcome in `tx_root`.
    pub proof: MerkleProof,
    /// Block time.
    pub timestamp_ms: u64,
}

/// A cross-shard receipt with its proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptView {
    /// The receipt.
    pub receipt: Receipt,
    /// Proof in the source shard header's `outgoing_receipts_root` (that header is the
    /// transaction's `inclusion.at.shard_header`).
    pub outgoing_proof: MerkleProof,
    /// Where the destination applied it; `None` until it has.
    pub applied: Option<ReceiptApplied>,
}

/// The destination shard block that applied a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptApplied {
    /// The destination shard block.
    pub at: ShardInclusion,
    /// Proof in its `incoming_receipts_root`.
    pub incoming_proof: MerkleProof,
}

/// Where a transaction stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TxState {
    /// Accepted into the mempool, not yet in a block.
    Pending,
    /// In a final block (its outcome says whether it succeeded).
    Included,
    /// Accepted once, then dropped before inclusion; `reason` says why.
    Dropped {
        /// Why.
        reason: String,
    },
}

/// `GET /transactions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResponse {
    /// Id.
    pub id: Hash,
    /// The signed transaction, decoded.
    pub tx: SignedTransaction,
    /// Sender's address.
    pub sender: Address,
    /// Where it stands.
    pub state: TxState,
    /// Its block, once included.
    pub inclusion: Option<TxInclusion>,
    /// Its cross-shard receipt, if it emitted one.
    pub receipt: Option<ReceiptView>,
}

/// Proof of an account's state in a shard block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountProof {
    /// The shard block whose `state_root` the proof is against.
    pub at: ShardInclusion,
    /// Proof of the account's state, or of its absence, in the state tree.
    pub proof: StateProof,
}

/// Proof of an object (or of a key holding none) in a shard block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectProofAt {
    /// The shard block whose `objects_root` the proof is against.
    pub at: ShardInclusion,
    /// Proof of the object, or of its absence, in the object tree.
    pub proof: ObjectProof,
}

/// `GET /state/{key}`: whatever object a state key holds, encoded, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectResponse {
    /// The key.
    pub key: StateKey,
    /// The shard holding it.
    pub shard: ShardId,
    /// The kind its key names (`None`: a kind this node does not know).
    pub kind: Option<ObjectKind>,
    /// The object's encoding in hex (`None`: the key holds nothing).
    pub value: Option<String>,
    /// Proof against the head's shard object root; `None` only before the first block.
    pub proof: Option<ObjectProofAt>,
}

/// `GET /market`: the energy market's parameters (proven) and where its clock stands at the
/// head (derived from them and the head's height).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketResponse {
    /// The parameters in state at the head.
    pub params: MarketParams,
    /// Their proof (the object under [`crate::market::params_key`]); `None` only before the
    /// first block.
    pub proof: Option<ObjectProofAt>,
    /// The head's height.
    pub height: u64,
    /// The interval delivering at the head (`None` before the first one starts).
    pub delivering: Option<u64>,
    /// The first interval whose book is open for orders.
    pub open_interval: u64,
    /// The height at which that book closes.
    pub gate_height: u64,
    /// Blocks from the head to that gate.
    pub blocks_to_gate: u64,
    /// About how long until then, at the chain's block interval.
    pub ms_to_gate: u64,
    /// The community treasury's account, where market fees go
    /// ([`crate::market::treasury`]: a client can check it is that address).
    pub treasury: Address,
}

/// `GET /governance`: governance's parameters at the head, proven, and the history of every
/// parameter governance changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceResponse {
    /// The parameters in state at the head.
    pub params: GovParams,
    /// Their proof (the object under [`crate::dao::gov_params_key`]); `None` only before the
    /// first block.
    pub proof: Option<ObjectProofAt>,
    /// The head's height.
    pub height: u64,
    /// Tokens locked for governance at the head (the quorum's base of a proposal starting
    /// next; a sum over every shard, not proven).
    pub total_locked: u64,
    /// Every parameter change governance executed, newest first (the market's and its own).
    pub history: Vec<ParamChange>,
}

/// One executed parameter change: which proposal changed what, from what, to what, when.
/// Proven by its proposal (`GET /governance/proposals/{id}`: executed, with this action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChange {
    /// The proposal.
    pub proposal: Hash,
    /// The parameter.
    pub param: Param,
    /// Its value before.
    pub previous: u64,
    /// Its value after.
    pub value: u64,
    /// The block it took effect after (the next block runs under it).
    pub height: u64,
}

/// `GET /governance/proposals?state=&page=&limit=`: proposals, newest first.
pub type ProposalsPage = Page<ProposalItem>;

/// A proposal with its proof against the head and its heights in estimated wall time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalItem {
    /// The proposal (under its proposer: [`crate::dao::proposal_key`]).
    pub proposal: Proposal,
    /// Its proof in the proposer's shard's objects root at `height`.
    pub proof: ObjectProof,
    /// The block the proof is against (the head when asked).
    pub height: u64,
    /// About when its vote starts, ends and it executes (ms since the epoch): the head's
    /// time plus the blocks to go at the chain's block interval (the past: the head's time
    /// less the blocks since).
    pub times: ProposalTimes,
}

/// A proposal's heights as estimated wall times, ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalTimes {
    /// Its vote opens.
    pub start_ms: u64,
    /// Its vote closes.
    pub end_ms: u64,
    /// It executes, if it passes.
    pub eta_ms: u64,
}

/// `GET /governance/proposals/{id}`: a proposal, its live provisional tally while its vote
/// runs, and once it has ended every shard's tally with its proof against the same block
/// ([`crate::ProvenTally`] recomputes the outcome from them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalResponse {
    /// The proposal, its proof and times (nested, not flattened: serde's flattening costs the
    /// browser's bundle more than the nesting costs a reader).
    pub item: ProposalItem,
    /// While active: the votes cast so far, summed over every shard (**not proven**: an
    /// aggregate of every vote; each vote is proven on its own).
    pub provisional: Option<Totals>,
    /// After its end: each shard's tally, in shard order (empty before).
    pub tallies: Vec<Tally>,
    /// Their proofs (or of their absence), in shard order, against `height`.
    pub tally_proofs: Vec<ObjectProof>,
}

/// `GET /governance/proposals/{id}/votes?page=&limit=`: the votes cast, by shard then voter.
pub type VotesPage = Page<VoteItem>;

/// A vote and its proof (under the voter: [`crate::dao::vote_key`]) against `height`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteItem {
    /// The vote (the voter's last).
    pub vote: Vote,
    /// Its proof in the voter's shard's objects root.
    pub proof: ObjectProof,
    /// The block the proof is against.
    pub height: u64,
}

/// `GET /accounts/{address}/power`: a member's lock and delegate (proven), and the members
/// who delegate to it, each with its own proven lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerResponse {
    /// The member.
    pub member: Address,
    /// Its power object (`None`: it never locked or delegated).
    pub power: Option<Power>,
    /// Proof of it (or of its absence) against `height`.
    pub proof: ObjectProof,
    /// The block the proofs are against.
    pub height: u64,
    /// Members whose power goes to this one now, each with its power object's proof.
    pub delegators: Vec<DelegatorItem>,
    /// Their locks summed with its own (if it delegates to no one): what it would vote with
    /// on a proposal starting next.
    pub voting_power: u64,
}

/// A member delegating to another, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatorItem {
    /// Its power object.
    pub power: Power,
    /// The proof, against the response's `height`.
    pub proof: ObjectProof,
}

/// The most proposals, votes or delegators one page lists.
pub const MAX_GOV_PAGE: u32 = 100;

/// `GET /market/intervals?before=&limit=`: the latest closed intervals, newest first, each
/// record proven in shard 0's objects root at `height`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalsPage {
    /// The block every proof is against (the head when asked).
    pub height: u64,
    /// At most `limit` intervals below `before`, newest first; intervals without a record
    /// (their gate came before this chain's first block) are left out.
    pub intervals: Vec<IntervalItem>,
    /// `before` for the next page (`None`: no older interval).
    pub next_before: Option<u64>,
}

/// One closed interval's record and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalItem {
    /// The interval.
    pub interval: u64,
    /// Its record: clearing (price, volume, margins per shard) and settlement once done.
    pub record: IntervalRecord,
    /// Proof of the record under [`crate::market::interval_key`].
    pub proof: ObjectProof,
}

/// An event (a trade's fill or settlement) and where it is, with its proof against the
/// `events_root` of that block's shard header ([`crate::ProvenEvent`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventItem {
    /// The block it happened in.
    pub height: u64,
    /// The shard.
    pub shard: ShardId,
    /// The event.
    pub event: Event,
    /// Its Merkle proof (its index among the shard block's events is `proof.index`).
    pub proof: MerkleProof,
}

/// The most intervals one page of `GET /market/intervals` lists.
pub const MAX_INTERVALS_PAGE: u64 = 100;

/// `GET /market/intervals/{interval}/book`: the open book's depth across every shard, at
/// `height`. **Not proven**: an aggregate of every open order, which a client could only check
/// by fetching each one; the closed book (each shard's curve) is proven after the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookDepth {
    /// The interval.
    pub interval: u64,
    /// The head it was read at.
    pub height: u64,
    /// Whether the book still takes orders.
    pub open: bool,
    /// Bids by price, highest first.
    pub bids: Vec<DepthLevel>,
    /// Offers by price, lowest first.
    pub asks: Vec<DepthLevel>,
}

/// One price level of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthLevel {
    /// Limit price, token units per Wh.
    pub price: u64,
    /// Wh at this price.
    pub qty_wh: u64,
    /// Orders at this price.
    pub orders: u32,
}

/// `GET /market/intervals/{interval}`: an interval's clearing and every shard's closed book
/// (once its gate has passed), each with its proof against the same block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalResponse {
    /// The interval.
    pub interval: u64,
    /// The height its delivery starts at, its gate and its readings' deadline (from the
    /// parameters at the head).
    pub start_height: Option<u64>,
    /// Where its book closes.
    pub gate_height: Option<u64>,
    /// Where its readings close.
    pub deadline_height: Option<u64>,
    /// The block every proof below is against (the head when asked).
    pub height: u64,
    /// The record, once the gate has passed (`None` before).
    pub record: Option<IntervalRecord>,
    /// Each shard's closed book, in shard order (empty before the gate).
    pub books: Vec<Book>,
    /// Proof of the record (or of its absence) in shard 0's objects root at `height`.
    pub record_proof: ObjectProof,
    /// Proof of each shard's book at `height`, in shard order.
    pub book_proofs: Vec<ObjectProof>,
}

/// One object of an account's, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedObject {
    /// Its key.
    pub key: StateKey,
    /// Its encoding in hex.
    pub value: String,
    /// Its proof against the head's objects root of the account's shard.
    pub proof: ObjectProof,
}

/// `GET /accounts/{address}/objects?kind=`: the account's objects of one kind (orders,
/// certificate lots, meters it owns), in key order, each proven at `height`. The node could leave one out: each
/// is proven, the list is not proven complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedObjects {
    /// The account.
    pub address: Address,
    /// The kind listed.
    pub kind: ObjectKind,
    /// The block every proof is against.
    pub height: u64,
    /// The objects, at most [`MAX_OWNED_OBJECTS`].
    pub objects: Vec<OwnedObject>,
}

/// The most objects `GET /accounts/{address}/objects` lists.
pub const MAX_OWNED_OBJECTS: usize = 100;

/// `GET /accounts/{address}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountResponse {
    /// The address.
    pub address: Address,
    /// Its shard.
    pub shard: ShardId,
    /// State at the latest final block (zero if the account does not exist yet).
    pub account: Account,
    /// Whether the account exists (has ever been written).
    pub exists: bool,
    /// Proof of `account` (or of its absence) against the head's shard state root; `None`
    /// only before the first block.
    pub proof: Option<AccountProof>,
    /// Next nonce to use, counting the account's pending transactions.
    pub next_nonce: u64,
    /// Transactions sent or received, newest first.
    pub transactions: Page<TxSummary>,
}

/// `GET /search?q=`: what a query names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SearchResult {
    /// A block.
    Block {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: Hash,
    },
    /// A transaction.
    Transaction {
        /// Its id.
        id: Hash,
    },
    /// An account.
    Account {
        /// Its address.
        address: Address,
    },
    /// A hash prefix that several blocks or transactions share: the first few of them, for
    /// the user to pick.
    Several {
        /// Heights of the blocks whose hash starts so.
        blocks: Vec<u64>,
        /// Ids of the transactions whose id starts so.
        transactions: Vec<Hash>,
    },
}

/// One point of the throughput series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsPoint {
    /// Block height.
    pub height: u64,
    /// Block time.
    pub timestamp_ms: u64,
    /// Transactions in the block.
    pub tx_count: u64,
}

/// `GET /stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Latest final height.
    pub head_height: u64,
    /// Transactions in all blocks so far.
    pub total_transactions: u64,
    /// Transactions per second over the window.
    pub tps: f64,
    /// Blocks in the window.
    pub window_blocks: u64,
    /// The window's blocks, oldest first.
    pub recent: Vec<StatsPoint>,
    /// Transactions waiting in the mempool.
    pub mempool_size: u64,
    /// Accounts that exist, over all shards.
    #[serde(default)]
    pub accounts: u64,
    /// Tokens in existence: the genesis supply less the fees burned since.
    #[serde(default)]
    pub supply: u64,
    /// Fees burned since genesis.
    #[serde(default)]
    pub burned: u64,
}

/// `GET /transactions?limit=`: the latest included transactions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxList {
    /// The transactions.
    pub transactions: Vec<TxSummary>,
}

/// `POST /transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// The signed transaction's canonical bytes, hex.
    pub tx: String,
}

/// Answer to an accepted submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// The transaction's id.
    pub id: Hash,
}

/// `POST /transactions/batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSubmitRequest {
    /// Signed transactions, hex each.
    pub txs: Vec<String>,
}

/// Per-transaction answer of a batch: `id` when accepted, `error` when not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    /// Id of an accepted transaction.
    pub id: Option<Hash>,
    /// Why it was refused.
    pub error: Option<ApiErrorBody>,
}

/// `POST /transactions/batch` answer, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSubmitResponse {
    /// One per submitted transaction.
    pub results: Vec<BatchItem>,
}

/// `POST /faucet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaucetRequest {
    /// Recipient, bech32m text (validated by the node, which names the problem if it is bad).
    pub address: String,
}

/// Answer of the faucet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaucetResponse {
    /// The funding transaction.
    pub id: Hash,
    /// Tokens sent.
    pub amount: u64,
}

/// `GET /market/forecast`: the community's production and consumption over the last settled
/// intervals and a forecast of the next ones, **computed by the node** from the readings its
/// chain accepted (not proven: a forecast is an opinion), with its error measured on the
/// chain's own history beside the naive same-time-yesterday forecast's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastResponse {
    /// Who computed it: "node".
    pub computed_by: String,
    /// Intervals in the daily pattern the model learns (it forecasts after one full day).
    pub season_intervals: u64,
    /// Settled intervals' totals, oldest first.
    pub history: Vec<IntervalTotals>,
    /// The next intervals (empty until a full day has settled).
    pub forecast: Vec<ForecastPoint>,
    /// One interval ahead, production: the model's and the naive forecast's MAPE so far.
    pub production_error: ForecastError,
    /// The same for consumption.
    pub consumption_error: ForecastError,
    /// Clearing prices forecast for the next intervals whose books are open: interval,
    /// expected, low, high (token units per Wh).
    pub price_forecast: Vec<(u64, [f64; 3])>,
    /// The price forecast's one-interval-ahead MAPE so far, beside the naive one's.
    pub price_error: ForecastError,
}

/// One settled interval's community totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalTotals {
    /// The interval.
    pub interval: u64,
    /// Wh the meters reported producing.
    pub produced_wh: u64,
    /// Wh they reported consuming.
    pub consumed_wh: u64,
    /// Meters that reported.
    pub meters: u32,
}

/// A forecast interval: expected values with a band of about 95 %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// The interval.
    pub interval: u64,
    /// Production, Wh: expected, low, high.
    pub production_wh: [f64; 3],
    /// Consumption, Wh: expected, low, high.
    pub consumption_wh: [f64; 3],
}

/// A forecast's measured error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastError {
    /// The model's MAPE, % (`None` before anything was scored).
    pub mape: Option<f64>,
    /// The same-time-yesterday forecast's MAPE, %.
    pub naive_mape: Option<f64>,
    /// Intervals scored.
    pub scored: u64,
}

/// `GET /market/anomalies`: meters the node's anomaly rules flagged (not proven: an opinion on
/// what the meters reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomaliesResponse {
    /// Flagged meters.
    pub flags: Vec<AnomalyFlag>,
}

/// One flagged meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyFlag {
    /// The meter.
    pub meter: Address,
    /// `underproducing`, `overreporting` or `stuck`.
    pub anomaly: String,
    /// The interval the flag was raised at.
    pub interval: u64,
}
