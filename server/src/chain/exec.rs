//! Executing one shard's block: the seam the parallel executor plugs into.
//!
//! An [`Executor`] turns a shard's state, its incoming receipts and its ordered transactions
//! (signatures already verified) into outcomes, outgoing receipts, account writes and fees.
//! It must be deterministic: the same input gives the same output, byte for byte.
//!
//! Rules of the native transfer:
//! 1. incoming receipts are credited first, in order;
//! 2. a transaction whose nonce is not the sender's next, or whose sender cannot pay the fee,
//!    is not executed: it is returned in `skipped` with the reason (the producer records it);
//! 3. otherwise the fee (the chain's flat fee) is charged and the nonce advances; if the balance
//!    then covers the amount, it moves — to a local account directly, or into a receipt for the
//!    recipient's shard — else the outcome is `InsufficientBalance`;
//! 4. fees are burned: summed once into the shard header, credited to nobody.

use std::collections::BTreeMap;

use joule_light_client::{
    Account, Address, ExecStatus, Payload, Receipt, ShardId, SignedTransaction, TxOutcome,
};

use super::state::ShardState;

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
        let mut out = ShardBlockOutput::default();
        let mut writes: BTreeMap<Address, Account> = BTreeMap::new();
        let read = |w: &BTreeMap<Address, Account>, a: &Address| {
            w.get(a).copied().unwrap_or_else(|| state.get(a))
        };

        for r in input.incoming {
            let mut to = read(&writes, &r.to);
            // Total supply fits in a u64 (checked at genesis), so no balance can overflow.
            to.balance = to.balance.saturating_add(r.amount);
            writes.insert(r.to, to);
        }

        for stx in input.txs {
            let id = stx.id();
            let sender = stx.tx.sender_address();
            let mut acc = read(&writes, &sender);
            if stx.tx.nonce != acc.nonce {
                out.skipped.push((
                    stx.clone(),
                    format!(
                        "nonce {} is not the account's next nonce {}",
                        stx.tx.nonce, acc.nonce
                    ),
                ));
                continue;
            }
            if acc.balance < input.fee || stx.tx.max_fee < input.fee {
                out.skipped
                    .push((stx.clone(), "sender cannot pay the fee".to_owned()));
                continue;
            }
            acc.balance -= input.fee;
            acc.nonce += 1;
            out.fees += input.fee;
            let status = match &stx.tx.payload {
                Payload::Transfer { to, amount } if acc.balance >= *amount => {
                    acc.balance -= amount;
                    writes.insert(sender, acc);
                    let dest = to.shard(input.shard_count);
                    if dest == input.shard {
                        let mut t = read(&writes, to);
                        t.balance = t.balance.saturating_add(*amount);
                        writes.insert(*to, t);
                    } else {
                        out.outgoing.push(Receipt {
                            source_shard: input.shard,
                            dest_shard: dest,
                            source_height: input.height,
                            tx_id: id,
                            from: sender,
                            to: *to,
                            amount: *amount,
                        });
                    }
                    ExecStatus::Success
                }
                _ => {
                    writes.insert(sender, acc);
                    ExecStatus::InsufficientBalance
                }
            };
            out.outcomes.push(TxOutcome {
                tx_id: id,
                status,
                fee: input.fee,
            });
            out.included.push(stx.clone());
        }
        out.writes = writes;
        out
    }
}
