//! The VM interface the executors run, and its first VM: native transfers.
//!
//! A [`Vm`] executes one transaction against a [`StateView`]: it reads and writes accounts only
//! through the view, so the same code runs in the sequential executor (a plain overlay) and in
//! Block-STM (a view over multi-version memory that may report that a read depends on an
//! unfinished earlier transaction). The executors know nothing else about transactions.
//!
//! Execution is split in two: [`Vm::prepare`] does the state-independent work (hashing the
//! transaction, deriving addresses) and names the keys the transaction expects to touch;
//! [`Vm::execute`] does the state-dependent part. The declared keys are hints: an executor may
//! use them to lay out memory or to estimate contention, but must stay correct when a
//! transaction touches a key it did not declare.
//!
//! Rules of the native transfer:
//! 1. a transaction whose nonce is not the sender's next, or whose sender cannot pay the fee,
//!    is not executed: it is skipped with the reason and writes nothing;
//! 2. otherwise the fee (the chain's flat fee) is charged and the nonce advances; if the balance
//!    then covers the amount, it moves — to a local account directly, or into a receipt for the
//!    recipient's shard — else the outcome is `InsufficientBalance`;
//! 3. fees are not credited to anyone here: the block sums them once (no hot fee account).

use joule_light_client::{
    Account, Address, ExecStatus, Hash, Payload, Receipt, ShardId, SignedTransaction, TxOutcome,
};
use smallvec::SmallVec;

/// What a transaction executes against.
#[derive(Debug, Clone, Copy)]
pub struct TxContext {
    /// The executing shard.
    pub shard: ShardId,
    /// The block height.
    pub height: u64,
    /// Shards in the chain (to route receipts).
    pub shard_count: u16,
    /// Flat fee per transaction.
    pub fee: u64,
}

/// A read hit a value an earlier, unfinished transaction (this index) is expected to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked(pub usize);

/// Account access for one transaction.
pub trait StateView {
    /// The account's current value (as of this transaction's position in the block).
    fn read(&mut self, address: &Address) -> Result<Account, Blocked>;
    /// Sets the account's value.
    fn write(&mut self, address: Address, account: Account);
}

/// Keys a prepared transaction declares (most touch one or two).
pub type DeclaredKeys = SmallVec<[Address; 2]>;

/// A transaction language the executors can run.
pub trait Vm: Sync {
    /// A transaction.
    type Tx: Sync;
    /// The state-independent part of executing a transaction.
    type Prepared: Send + Sync;
    /// What executing one transaction produced.
    type Output: Send + Sync;

    /// Work that needs no state (hashing, address derivation); may run in any order.
    fn prepare(&self, tx: &Self::Tx) -> Self::Prepared;

    /// Keys the transaction expects to read or write (a hint, see the module doc).
    fn declared_keys(prepared: &Self::Prepared) -> &[Address];

    /// Executes one transaction against `view`.
    fn execute<V: StateView>(
        &self,
        tx: &Self::Tx,
        prepared: &Self::Prepared,
        view: &mut V,
    ) -> Result<Self::Output, Blocked>;
}

/// How one transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxResult {
    /// Included, with its outcome and the receipt it emitted, if any.
    Executed {
        /// The outcome committed in the shard header.
        outcome: TxOutcome,
        /// A credit for another shard (boxed: most transfers stay on their shard, and a small
        /// result is cheaper to move through the executors).
        receipt: Option<Box<Receipt>>,
    },
    /// Not included; why.
    Skipped(String),
}

/// Native transfers on one shard.
#[derive(Debug, Clone, Copy)]
pub struct TransferVm {
    /// Where and under which rules.
    pub ctx: TxContext,
}

/// A transfer's id and keys, computed once.
#[derive(Debug, Clone)]
pub struct PreparedTransfer {
    id: Hash,
    /// Sender, then the recipient if it lives on this shard. The sender is always declared,
    /// so `keys[0]` is the sender.
    keys: DeclaredKeys,
}

#[cfg(test)]
impl PreparedTransfer {
    /// The same transfer declaring only its sender (tests of undeclared keys).
    pub fn only_sender(mut self) -> Self {
        self.keys.truncate(1);
        self
    }
}

impl Vm for TransferVm {
    type Tx = SignedTransaction;
    type Prepared = PreparedTransfer;
    type Output = TxResult;

    fn prepare(&self, stx: &SignedTransaction) -> PreparedTransfer {
        let sender = stx.tx.sender_address();
        let mut keys = DeclaredKeys::new();
        keys.push(sender);
        if let Payload::Transfer { to, .. } = &stx.tx.payload {
            if *to != sender && to.shard(self.ctx.shard_count) == self.ctx.shard {
                keys.push(*to);
            }
        }
        PreparedTransfer { id: stx.id(), keys }
    }

    fn declared_keys(prepared: &PreparedTransfer) -> &[Address] {
        &prepared.keys
    }

    fn execute<V: StateView>(
        &self,
        stx: &SignedTransaction,
        p: &PreparedTransfer,
        view: &mut V,
    ) -> Result<TxResult, Blocked> {
        let ctx = &self.ctx;
        let sender = p.keys[0];
        let mut acc = view.read(&sender)?;
        if stx.tx.nonce != acc.nonce {
            return Ok(TxResult::Skipped(format!(
                "nonce {} is not the account's next nonce {}",
                stx.tx.nonce, acc.nonce
            )));
        }
        if acc.balance < ctx.fee || stx.tx.max_fee < ctx.fee {
            return Ok(TxResult::Skipped("sender cannot pay the fee".to_owned()));
        }
        acc.balance -= ctx.fee;
        acc.nonce += 1;
        let mut receipt = None;
        let status = match &stx.tx.payload {
            Payload::Transfer { to, amount } if acc.balance >= *amount => {
                acc.balance -= amount;
                view.write(sender, acc);
                let dest = to.shard(ctx.shard_count);
                if dest == ctx.shard {
                    let mut t = view.read(to)?;
                    // Total supply fits in a u64 (checked at genesis), so no balance can overflow.
                    t.balance = t.balance.saturating_add(*amount);
                    view.write(*to, t);
                } else {
                    receipt = Some(Box::new(Receipt {
                        source_shard: ctx.shard,
                        dest_shard: dest,
                        source_height: ctx.height,
                        tx_id: p.id,
                        from: sender,
                        to: *to,
                        amount: *amount,
                    }));
                }
                ExecStatus::Success
            }
            _ => {
                view.write(sender, acc);
                ExecStatus::InsufficientBalance
            }
        };
        Ok(TxResult::Executed {
            outcome: TxOutcome {
                tx_id: p.id,
                status,
                fee: ctx.fee,
            },
            receipt,
        })
    }
}
