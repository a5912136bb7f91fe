//! Executing one shard's block: the seam the parallel executor plugs into.
//!
//! An [`Executor`] turns a shard's state, its incoming receipts and its ordered transactions
//! (signatures already verified) into outcomes, outgoing receipts, account writes and fees.
//! It must be deterministic: the same input gives the same output, byte for byte.
//!
//! Incoming receipts are credited first, in order; then the transactions run in block order
//! through the transfer VM ([`super::vm`]). [`run_sequential`] is the reference every other
//! executor must agree with.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use joule_light_client::api::ExecMode;
use joule_light_client::object::StateKey;
use joule_light_client::{Account, Address, Receipt, ShardId, SignedTransaction, TxOutcome};
use serde::{Deserialize, Serialize};

use super::market::SystemWrites;
use super::state::{ObjectWrite, ShardState};
use super::vm::{Blocked, GovContext, JouleVm, MarketContext, StateView, TxContext, TxResult, Vm};

/// Accounts by address (hashing keyed per process, so crafted addresses cannot collide).
pub type AccountMap = HashMap<Address, Account, ahash::RandomState>;

/// Objects written by a block's transactions, by key (`None`: deleted).
pub type ObjectMap = HashMap<StateKey, Option<Vec<u8>>, ahash::RandomState>;

/// An object map's writes, sorted by key.
pub fn sorted_objects(objects: ObjectMap) -> Vec<ObjectWrite> {
    let mut v: Vec<ObjectWrite> = objects.into_iter().collect();
    v.sort_unstable_by_key(|(k, _)| *k);
    v
}

/// Outputs in block order, as runs of consecutive transactions: parallel workers each fill
/// their own runs, and nothing copies them into one vector.
pub type Runs<O> = Vec<Vec<O>>;

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
    /// The market's rules for this block.
    pub market: MarketContext,
    /// What the block's system steps did to this shard before its transactions.
    pub system: &'a SystemWrites,
    /// Governance's rules for this block.
    pub gov: &'a Arc<GovContext>,
}

/// What executing a shard block produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardBlockOutput {
    /// Indices (into the input) of the transactions executed, in order: what the block includes.
    pub included: Vec<usize>,
    /// Their outcomes, in the same order.
    pub outcomes: Vec<TxOutcome>,
    /// Receipts for other shards, in order of emission.
    pub outgoing: Vec<Receipt>,
    /// Final values of every account touched, sorted by address.
    pub writes: Vec<(Address, Account)>,
    /// Final values of every object touched (`None`: deleted), sorted by key.
    pub objects: Vec<ObjectWrite>,
    /// Total fees charged.
    pub fees: u64,
    /// Indices of transactions not executed, with why (they are not in the block).
    pub skipped: Vec<(usize, String)>,
}

/// How a block was executed: the per-block parallelism metrics the API exposes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStats {
    /// Transactions in the block.
    pub txs: usize,
    /// Threads that worked on it (1 when it ran sequentially).
    pub threads: usize,
    /// Executions begun, including those aborted (`>= txs` when parallel).
    pub incarnations: usize,
    /// Validations run.
    pub validations: usize,
    /// Which strategy ran the block.
    pub mode: ExecMode,
    /// Where the time went (zero where not timed).
    pub phases: Phases,
}

/// A block's execution time by phase, in nanoseconds (for `joule bench exec --phases`; not
/// part of the API's metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// Waking the pool and preparing every transaction.
    pub prepare_ns: u64,
    /// The glance, the key index and the plan (or nothing, when the block runs in order).
    pub plan_ns: u64,
    /// Running the transactions.
    pub run_ns: u64,
    /// Outputs assembled and writes collected, after the last transaction ran.
    pub finish_ns: u64,
}

impl Phases {
    /// The phases of a block that started at `start`, was prepared at `prepared`, planned at
    /// `planned`, had run at `ran`, and is finished now.
    pub fn until_now(start: Instant, prepared: Instant, planned: Instant, ran: Instant) -> Self {
        let ns = |a: Instant, b: Instant| b.saturating_duration_since(a).as_nanos() as u64;
        Phases {
            prepare_ns: ns(start, prepared),
            plan_ns: ns(prepared, planned),
            run_ns: ns(planned, ran),
            finish_ns: ns(ran, Instant::now()),
        }
    }
}

impl ExecStats {
    /// Executions beyond the first per transaction, per transaction.
    pub fn aborts_per_tx(&self) -> f64 {
        if self.txs == 0 {
            0.0
        } else {
            self.incarnations.saturating_sub(self.txs) as f64 / self.txs as f64
        }
    }

    /// Stats of an in-order run of `txs` transactions.
    pub fn sequential(txs: usize) -> Self {
        ExecStats {
            txs,
            threads: 1,
            incarnations: txs,
            validations: 0,
            mode: ExecMode::InOrder,
            phases: Phases::default(),
        }
    }
}

impl ShardBlockInput<'_> {
    /// The VM that executes this block's transactions.
    pub fn vm(&self) -> JouleVm {
        JouleVm {
            ctx: TxContext {
                shard: self.shard,
                height: self.height,
                shard_count: self.shard_count,
                fee: self.fee,
                market: self.market,
                gov: self.gov.clone(),
            },
        }
    }
}

/// Executes shard blocks.
pub trait Executor: Send + Sync {
    /// Executes `input` against `state` (which it must not change).
    fn execute(
        &self,
        state: &ShardState,
        input: ShardBlockInput<'_>,
    ) -> (ShardBlockOutput, ExecStats);

    /// The thread pool shards should run on, if the executor has one.
    fn pool(&self) -> Option<&rayon::ThreadPool> {
        None
    }
}

/// The state a block's transactions start from: the shard's accounts with the incoming
/// receipts credited, in order, then the system steps' credits and objects.
pub struct BaseState<'a> {
    state: &'a ShardState,
    credited: AccountMap,
    objects: ObjectMap,
}

impl<'a> BaseState<'a> {
    /// `state` with `incoming` credited.
    pub fn new(state: &'a ShardState, incoming: &[Receipt]) -> Self {
        Self::with_system(state, incoming, &SystemWrites::default())
    }

    /// `state` with `incoming` credited, then what the system steps wrote.
    pub fn with_system(state: &'a ShardState, incoming: &[Receipt], system: &SystemWrites) -> Self {
        let mut credited = AccountMap::default();
        let credits = incoming
            .iter()
            .map(|r| (r.to, r.amount))
            .chain(system.credits.iter().copied());
        for (to, amount) in credits {
            let to = credited.entry(to).or_insert_with(|| state.get(&to));
            // Total supply fits in a u64 (checked at genesis), so no balance can overflow.
            to.balance = to.balance.saturating_add(amount);
        }
        for (from, amount) in &system.debits {
            let from = credited.entry(*from).or_insert_with(|| state.get(from));
            // The step checked the balance before the block covers every debit.
            from.balance = from.balance.saturating_sub(*amount);
        }
        let objects = system.objects.iter().cloned().collect();
        BaseState {
            state,
            credited,
            objects,
        }
    }

    /// The account before the first transaction.
    pub fn get(&self, address: &Address) -> Account {
        match self.credited.get(address) {
            Some(a) => *a,
            None => self.state.get(address),
        }
    }

    /// The credited accounts (writes of the block even if no transaction touches them).
    pub fn credited(&self) -> &AccountMap {
        &self.credited
    }

    /// The object at `key` before the first transaction.
    pub fn object(&self, key: &StateKey) -> Option<Vec<u8>> {
        match self.objects.get(key) {
            Some(v) => v.clone(),
            None => self.state.object(key).map(<[u8]>::to_vec),
        }
    }

    /// The block's object writes: the system steps' overwritten by the transactions'
    /// (`tx_objects`, sorted by key), sorted by key.
    pub fn block_objects(&self, tx_objects: Vec<ObjectWrite>) -> Vec<ObjectWrite> {
        if self.objects.is_empty() {
            return tx_objects;
        }
        let mut all: ObjectMap = self.objects.clone();
        all.extend(tx_objects);
        sorted_objects(all)
    }
}

/// Executes transactions one after another, in block order.
#[derive(Debug, Clone, Copy, Default)]
pub struct SequentialExecutor;

impl Executor for SequentialExecutor {
    fn execute(
        &self,
        state: &ShardState,
        input: ShardBlockInput<'_>,
    ) -> (ShardBlockOutput, ExecStats) {
        let vm = input.vm();
        let base = BaseState::with_system(state, input.incoming, input.system);
        let (results, tx_writes, objects) =
            run_sequential(&vm, &base, input.txs, |tx| vm.prepare(tx));
        let mut tx_writes: Vec<_> = tx_writes.into_iter().collect();
        tx_writes.sort_unstable_by_key(|(a, _)| *a);
        let mut out = assemble(vec![results]);
        out.writes = block_writes(&base, tx_writes);
        out.objects = base.block_objects(sorted_objects(objects));
        (out, ExecStats::sequential(input.txs.len()))
    }
}

/// Runs `txs` in order over an overlay of `base`; `prepared(i)` gives transaction `i`'s
/// prepared form. Returns the outputs and every account and object the transactions wrote.
pub fn run_sequential<V: Vm, P: std::borrow::Borrow<V::Prepared>>(
    vm: &V,
    base: &BaseState<'_>,
    txs: &[V::Tx],
    mut prepared: impl FnMut(&V::Tx) -> P,
) -> (Vec<V::Output>, AccountMap, ObjectMap) {
    let mut overlay = Overlay {
        base,
        writes: AccountMap::with_capacity_and_hasher(txs.len() * 2, Default::default()),
        objects: ObjectMap::default(),
    };
    let outputs = txs
        .iter()
        .map(|tx| {
            let p = prepared(tx);
            match vm.execute(tx, p.borrow(), &mut overlay) {
                Ok(out) => out,
                Err(Blocked(_)) => unreachable!("a plain overlay never blocks"),
            }
        })
        .collect();
    (outputs, overlay.writes, overlay.objects)
}

/// The block's writes, sorted by address: the credited accounts overwritten by the
/// transactions' writes (`tx_writes`, sorted by address, one entry per account).
pub fn block_writes(
    base: &BaseState<'_>,
    tx_writes: Vec<(Address, Account)>,
) -> Vec<(Address, Account)> {
    // Few receipts, many transaction writes: add the credits no transaction overwrote.
    let mut credits: Vec<(Address, Account)> = base
        .credited()
        .iter()
        .filter(|(a, _)| tx_writes.binary_search_by_key(*a, |(w, _)| *w).is_err())
        .map(|(a, c)| (*a, *c))
        .collect();
    if credits.is_empty() {
        return tx_writes;
    }
    credits.sort_unstable_by_key(|(a, _)| *a);
    let mut all = Vec::with_capacity(tx_writes.len() + credits.len());
    let mut credits = credits.into_iter().peekable();
    for w in tx_writes {
        while let Some(c) = credits.next_if(|c| c.0 < w.0) {
            all.push(c);
        }
        all.push(w);
    }
    all.extend(credits);
    all
}

/// Builds a block's output from per-transaction results; its writes are left for the caller.
pub fn assemble(results: Runs<TxResult>) -> ShardBlockOutput {
    let n = results.iter().map(Vec::len).sum();
    let mut out = ShardBlockOutput {
        included: Vec::with_capacity(n),
        outcomes: Vec::with_capacity(n),
        ..Default::default()
    };
    for (i, result) in results.into_iter().flatten().enumerate() {
        match result {
            TxResult::Executed { outcome, receipt } => {
                out.fees += outcome.fee;
                out.outcomes.push(outcome);
                out.outgoing.extend(receipt.map(|r| *r));
                out.included.push(i);
            }
            TxResult::Skipped(reason) => out.skipped.push((i, reason)),
        }
    }
    out
}

/// A view that writes into maps over the base state.
struct Overlay<'a, 'b> {
    base: &'a BaseState<'b>,
    writes: AccountMap,
    objects: ObjectMap,
}

impl StateView for Overlay<'_, '_> {
    fn read(&mut self, address: &Address) -> Result<Account, Blocked> {
        Ok(match self.writes.get(address) {
            Some(a) => *a,
            None => self.base.get(address),
        })
    }

    fn write(&mut self, address: Address, account: Account) {
        self.writes.insert(address, account);
    }

    fn read_object(&mut self, _home: &Address, key: &StateKey) -> Result<Option<Vec<u8>>, Blocked> {
        Ok(match self.objects.get(key) {
            Some(v) => v.clone(),
            None => self.base.object(key),
        })
    }

    fn write_object(&mut self, _home: &Address, key: StateKey, value: Option<Vec<u8>>) {
        self.objects.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(balance: u64) -> Account {
        Account { balance, nonce: 0 }
    }

    #[test]
    fn block_writes_merge_the_credits_no_transaction_overwrote_in_address_order() {
        let state = ShardState::default();
        let to = |b: u8| Address([b; 20]);
        let receipt = |b: u8, amount| Receipt {
            source_shard: 1,
            dest_shard: 0,
            source_height: 1,
            tx_id: joule_light_client::Hash([b; 32]),
            from: to(0xff),
            to: to(b),
            amount,
        };
        let base = BaseState::new(&state, &[receipt(1, 5), receipt(4, 7), receipt(9, 3)]);
        // The transactions wrote 4 (overwriting its credit) and two accounts without credits.
        let tx_writes = vec![
            (to(2), account(1)),
            (to(4), account(70)),
            (to(6), account(2)),
        ];
        assert_eq!(
            block_writes(&base, tx_writes),
            vec![
                (to(1), account(5)),
                (to(2), account(1)),
                (to(4), account(70)),
                (to(6), account(2)),
                (to(9), account(3)),
            ]
        );
    }
}
