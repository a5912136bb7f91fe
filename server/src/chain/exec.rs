//! Executing one shard's block: the seam the parallel executor plugs into.
//!
//! An [`Executor`] turns a shard's state, its incoming receipts and its ordered transactions
//! (signatures already verified) into outcomes, outgoing receipts, account writes and fees.
//! It must be deterministic: the same input gives the same output, byte for byte.
//!
//! Incoming receipts are credited first, in order; then the transactions run in block order
//! through the VM ([`super::vm`]).

use std::collections::BTreeMap;

use joule_light_client::{Account, Address, Receipt, ShardId, SignedTransaction, TxOutcome};

use super::state::ShardState;
use super::vm::{execute_tx, Blocked, StateView, TxContext, TxResult};

/// What a shard block executes.
#[derive(Debug, Clone, Copy)]
pub struct ShardBlockInput<'a> {
    /// The shard.
    pub shard: ShardId,
    /// The block height.
    pub height: u64,
    /// Shards in the chain (to route receipts).
    pub shard_count: u16,
    /// Flat fee per transaction.
    pub fee: u64,
    /// Receipts to credit, in order.
    pub incoming: &'a [Receipt],
    /// Transactions in block order, signatures verified.
    pub txs: &'a [SignedTransaction],
}

/// What executing a shard block produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardBlockOutput {
    /// Transactions executed, in order (what the block includes).
    pub included: Vec<SignedTransaction>,
    /// Their outcomes, in the same order.
    pub outcomes: Vec<TxOutcome>,
    /// Receipts for other shards, in order of emission.
    pub outgoing: Vec<Receipt>,
    /// Final values of every account touched.
    pub writes: BTreeMap<Address, Account>,
    /// Total fees charged.
    pub fees: u64,
    /// Transactions not executed, with why (they are not in the block).
    pub skipped: Vec<(SignedTransaction, String)>,
}

impl ShardBlockInput<'_> {
    /// What each transaction executes against.
    pub fn context(&self) -> TxContext {
        TxContext {
            shard: self.shard,
            height: self.height,
            shard_count: self.shard_count,
            fee: self.fee,
        }
    }
}

/// Executes shard blocks.
pub trait Executor: Send + Sync {
    /// Executes `input` against `state` (which it must not change).
    fn execute(&self, state: &ShardState, input: ShardBlockInput<'_>) -> ShardBlockOutput;
}

/// Executes transactions one after another, in block order.
#[derive(Debug, Clone, Copy, Default)]
pub struct SequentialExecutor;

impl Executor for SequentialExecutor {
    fn execute(&self, state: &ShardState, input: ShardBlockInput<'_>) -> ShardBlockOutput {
        let mut overlay = Overlay {
            base: state,
            writes: credit_receipts(state, input.incoming),
        };
        let ctx = input.context();
        let results: Vec<TxResult> = input
            .txs
            .iter()
            .map(|stx| execute_tx(&mut overlay, stx, &ctx).expect("a plain overlay never blocks"))
            .collect();
        assemble(input.txs, results, overlay.writes)
    }
}

/// The base state with incoming receipts credited, in order.
pub fn credit_receipts(state: &ShardState, incoming: &[Receipt]) -> BTreeMap<Address, Account> {
    let mut writes: BTreeMap<Address, Account> = BTreeMap::new();
    for r in incoming {
        let mut to = writes
            .get(&r.to)
            .copied()
            .unwrap_or_else(|| state.get(&r.to));
        // Total supply fits in a u64 (checked at genesis), so no balance can overflow.
        to.balance = to.balance.saturating_add(r.amount);
        writes.insert(r.to, to);
    }
    writes
}

/// Builds a block's output from per-transaction results and the final account values.
pub fn assemble(
    txs: &[SignedTransaction],
    results: Vec<TxResult>,
    writes: BTreeMap<Address, Account>,
) -> ShardBlockOutput {
    let mut out = ShardBlockOutput {
        writes,
        ..Default::default()
    };
    for (stx, result) in txs.iter().zip(results) {
        match result {
            TxResult::Executed { outcome, receipt } => {
                out.fees += outcome.fee;
                out.outcomes.push(outcome);
                out.outgoing.extend(receipt);
                out.included.push(stx.clone());
            }
            TxResult::Skipped(reason) => out.skipped.push((stx.clone(), reason)),
        }
    }
    out
}

/// A view that writes into a map over the shard state.
struct Overlay<'a> {
    base: &'a ShardState,
    writes: BTreeMap<Address, Account>,
}

impl StateView for Overlay<'_> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        Ok(self
            .writes
            .get(address)
            .copied()
            .unwrap_or_else(|| self.base.get(address)))
    }

    fn write(&mut self, address: Address, account: Account) {
        self.writes.insert(address, account);
    }
}
