//! The mempool: signed transactions waiting for a block, ordered per sender by nonce.
//!
//! Admission checks everything that can be known before execution, and names the reason when
//! it refuses: size and decoding, chain id, signature, fee, nonce (stale, duplicate or too far
//! ahead), and balance — the sender's committed balance must cover amount + fee of this and
//! every pending transaction it has, so a block built from the pool does not overdraw. Sizes
//! are bounded per sender and in total. A transaction leaves the pool only by being included
//! in a block, or by being dropped with a reason the node records (see [`Mempool::remove`]).

mod queue;

use std::collections::{HashMap, HashSet};

use joule_light_client::market::{price_on_grid, Side, WindowError};
use joule_light_client::transaction::meter_pop_message;
use joule_light_client::{
    Account, Address, CodecError, Hash, KeyError, Payload, SignedTransaction,
};
use rayon::prelude::*;
use thiserror::Error;

use queue::{Entry, SenderQueue};

/// A set of transaction ids (keyed fast hashing: ids are attacker-chosen, so the key is random).
pub type IdSet = HashSet<Hash, ahash::RandomState>;

/// How many nonces past the account's next one a transaction may use.
pub const MAX_NONCE_AHEAD: u64 = 64;
/// Most pending transactions per sender.
pub const MAX_PER_SENDER: usize = 64;

/// Why a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// Not a valid canonical transaction (or too large).
    #[error("malformed transaction: {0}")]
    Malformed(#[from] CodecError),
    /// Signature or key invalid.
    #[error("bad signature: {0}")]
    BadSignature(KeyError),
    /// For another chain.
    #[error("wrong chain id: expected {expected:?}, got {got:?}")]
    WrongChainId {
        /// This chain's id.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// `max_fee` is below the fee the chain charges.
    #[error("max fee {max_fee} is below the minimum fee {min_fee}")]
    FeeTooLow {
        /// Offered.
        max_fee: u64,
        /// Required.
        min_fee: u64,
    },
    /// Nonce already used by a committed transaction.
    #[error("nonce {nonce} is stale: the account's next nonce is {expected}")]
    NonceTooLow {
        /// The transaction's nonce.
        nonce: u64,
        /// The account's next nonce.
        expected: u64,
    },
    /// Nonce too far ahead of the account's.
    #[error("nonce {nonce} is too far ahead: the account's next nonce is {expected}, at most {MAX_NONCE_AHEAD} ahead accepted")]
    NonceTooHigh {
        /// The transaction's nonce.
        nonce: u64,
        /// The account's next nonce.
        expected: u64,
    },
    /// Another pending transaction has this nonce.
    #[error("another pending transaction already uses nonce {0}")]
    DuplicateNonce(u64),
    /// This exact transaction is already pending.
    #[error("transaction already pending")]
    AlreadyKnown,
    /// Balance cannot cover it together with the sender's pending transactions.
    #[error("insufficient balance: need {needed} (amount + fee, with pending transactions), have {available}")]
    InsufficientBalance {
        /// Amount + fees required.
        needed: u128,
        /// Committed balance.
        available: u64,
    },
    /// The sender has too many pending transactions.
    #[error("sender has {MAX_PER_SENDER} pending transactions already")]
    SenderQueueFull,
    /// The pool is full.
    #[error("mempool is full")]
    PoolFull,
    /// A meter registration that can never succeed.
    #[error("invalid meter registration: {0}")]
    InvalidMeter(&'static str),
    /// An order that can never succeed.
    #[error("invalid order: {0}")]
    InvalidOrder(&'static str),
    /// A certificate claim that can never succeed.
    #[error("invalid claim: {0}")]
    InvalidClaim(&'static str),
    /// A governance lock, unlock or delegation that can never succeed.
    #[error("invalid power change: {0}")]
    InvalidPower(&'static str),
    /// A proposal that can never pass: no title, or an action out of its bounds.
    #[error("invalid action: {0}")]
    InvalidAction(String),
    /// An order for an interval whose book has closed (or is not open yet).
    #[error("{0}")]
    MarketClosed(WindowError),
    /// A reading before its interval has ended, or after its window.
    #[error("{0}")]
    ReadingOutOfWindow(WindowError),
    /// The node could not make the transaction durable (its journal failed or it is
    /// stopping), so it took it back out of its pool — unless a block took it first.
    #[error("not accepted: {0} (if a block took it before this answer, it is included: look its id up before sending it again)")]
    NotDurable(String),
}

impl RejectReason {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::Malformed(_) => "malformed_transaction",
            RejectReason::BadSignature(_) => "bad_signature",
            RejectReason::WrongChainId { .. } => "wrong_chain_id",
            RejectReason::FeeTooLow { .. } => "fee_too_low",
            RejectReason::NonceTooLow { .. } => "nonce_too_low",
            RejectReason::NonceTooHigh { .. } => "nonce_too_high",
            RejectReason::DuplicateNonce(_) => "duplicate_nonce",
            RejectReason::AlreadyKnown => "already_known",
            RejectReason::InsufficientBalance { .. } => "insufficient_balance",
            RejectReason::SenderQueueFull => "sender_queue_full",
            RejectReason::PoolFull => "mempool_full",
            RejectReason::InvalidMeter(_) => "invalid_meter",
            RejectReason::InvalidOrder(_) => "invalid_order",
            RejectReason::InvalidClaim(_) => "invalid_claim",
            RejectReason::InvalidPower(_) => "invalid_power",
            RejectReason::InvalidAction(_) => "invalid_action",
            RejectReason::MarketClosed(_) => "market_closed",
            RejectReason::ReadingOutOfWindow(_) => "reading_out_of_window",
            RejectReason::NotDurable(_) => "not_durable",
        }
    }
}

/// Transactions [`Mempool::remove`] took out of the pool, with their senders.
#[derive(Debug)]
pub struct Removed(Vec<(Address, Entry)>);

impl Removed {
    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Pending transactions.
#[derive(Debug)]
pub struct Mempool {
    min_fee: u64,
    capacity: usize,
    by_sender: HashMap<Address, SenderQueue, ahash::RandomState>,
    by_id: HashMap<Hash, (Address, u64), ahash::RandomState>,
    next_seq: u64,
}

impl Mempool {
    /// An empty pool holding at most `capacity` transactions (chain id, fee floor and signature
    /// are checked before, by [`check_stateless`]).
    pub fn new(min_fee: u64, capacity: usize) -> Self {
        Self {
            min_fee,
            capacity,
            by_sender: HashMap::default(),
            by_id: HashMap::default(),
            next_seq: 0,
        }
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Ids of pending transactions that start with `prefix`, at most `limit` (in no order).
    pub fn ids_with_prefix(&self, prefix: &[u8], limit: usize) -> Vec<Hash> {
        self.by_id
            .keys()
            .filter(|id| id.0.starts_with(prefix))
            .take(limit)
            .copied()
            .collect()
    }

    /// The pending transaction with this id.
    pub fn get(&self, id: &Hash) -> Option<&SignedTransaction> {
        let (sender, nonce) = self.by_id.get(id)?;
        self.by_sender.get(sender)?.get(*nonce).map(|e| &e.stx)
    }

    /// The next nonce `sender` should use, counting contiguous pending transactions.
    pub fn next_nonce(&self, sender: &Address, account: &Account) -> u64 {
        let mut n = account.nonce;
        if let Some(q) = self.by_sender.get(sender) {
            while q.contains(n) {
                n += 1;
            }
        }
        n
    }

    /// Admits a transaction whose stateless checks passed, given the sender's committed state.
    pub fn insert(
        &mut self,
        stx: SignedTransaction,
        account: &Account,
    ) -> Result<Hash, RejectReason> {
        let (id, sender) = (stx.id(), stx.tx.sender_address());
        self.insert_checked(stx, id, sender, account)
    }

    /// [`Self::insert`] for a transaction whose id and sender address are known (computed in
    /// parallel with its signature check).
    pub fn insert_checked(
        &mut self,
        stx: SignedTransaction,
        id: Hash,
        sender: Address,
        account: &Account,
    ) -> Result<Hash, RejectReason> {
        debug_assert!(id == stx.id() && sender == stx.tx.sender_address());
        if self.by_id.contains_key(&id) {
            return Err(RejectReason::AlreadyKnown);
        }
        let nonce = stx.tx.nonce;
        if nonce < account.nonce {
            return Err(RejectReason::NonceTooLow {
                nonce,
                expected: account.nonce,
            });
        }
        if nonce > account.nonce + MAX_NONCE_AHEAD {
            return Err(RejectReason::NonceTooHigh {
                nonce,
                expected: account.nonce,
            });
        }
        let queue = self.by_sender.get(&sender);
        if queue.is_some_and(|q| q.contains(nonce)) {
            return Err(RejectReason::DuplicateNonce(nonce));
        }
        if queue.map_or(0, SenderQueue::len) >= MAX_PER_SENDER {
            return Err(RejectReason::SenderQueueFull);
        }
        if self.by_id.len() >= self.capacity {
            return Err(RejectReason::PoolFull);
        }
        let cost = |s: &SignedTransaction| u128::from(s.tx.amount_out()) + u128::from(self.min_fee);
        let pending: u128 = queue.map_or(0, |q| q.iter().map(|e| cost(&e.stx)).sum());
        let needed = pending + cost(&stx);
        if needed > u128::from(account.balance) {
            return Err(RejectReason::InsufficientBalance {
                needed,
                available: account.balance,
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry { stx, id, seq };
        match self.by_sender.get_mut(&sender) {
            Some(q) => {
                let added = q.insert(entry);
                debug_assert!(added, "the nonce was checked free above");
            }
            None => {
                self.by_sender.insert(sender, SenderQueue::one(entry));
            }
        }
        self.by_id.insert(id, (sender, nonce));
        Ok(id)
    }

    /// Picks transactions for a block: per sender, the run of consecutive nonces starting at
    /// its account's next nonce; senders ordered by arrival of their first pick. Returns them
    /// grouped by `shard_of(sender)`, at most `max_per_shard` each. Nothing is removed. The
    /// accounts are looked up, the runs sorted and the picks copied on the current rayon pool
    /// (the producer waits on it, and holds the pool's lock meanwhile).
    pub fn select(
        &self,
        shard_count: u16,
        max_per_shard: usize,
        account: impl Fn(&Address) -> Account + Sync,
    ) -> Vec<Vec<SignedTransaction>> {
        let queues: Vec<(&Address, &SenderQueue)> = self.by_sender.iter().collect();
        let mut runs: Vec<(u64, Address, &[Entry])> = queues
            .par_iter()
            .with_min_len(1024)
            .filter_map(|(sender, queue)| {
                let run = queue.run_from(account(sender).nonce);
                run.first().map(|first| (first.seq, **sender, run))
            })
            .collect();
        // Arrival numbers are unique: the order is total.
        runs.par_sort_unstable_by_key(|(seq, _, _)| *seq);
        let mut picks: Vec<Vec<&[Entry]>> = vec![Vec::new(); usize::from(shard_count)];
        let mut room = vec![max_per_shard; usize::from(shard_count)];
        for (_, sender, run) in runs {
            let shard = usize::from(sender.shard(shard_count));
            let take = run.len().min(room[shard]);
            if take > 0 {
                room[shard] -= take;
                picks[shard].push(&run[..take]);
            }
        }
        picks
            .into_par_iter()
            .map(|runs| {
                runs.par_iter()
                    .with_min_len(256)
                    .flat_map_iter(|run| run.iter().map(|e| e.stx.clone()))
                    .collect()
            })
            .collect()
    }

    /// Removes transactions (included or dropped) by id, on the current rayon pool: where each
    /// is is looked up in parallel, then both indexes are updated side by side (a block's
    /// removals are random lookups; each index costs as much as the other). Returns what was
    /// removed, which [`Self::restore`] puts back; dropping it frees the transactions.
    #[must_use = "dropping the removed transactions frees them: the caller chooses where"]
    pub fn remove(&mut self, ids: Vec<Hash>) -> Removed {
        let at: Vec<(Address, u64)> = ids
            .par_iter()
            .with_min_len(1024)
            .filter_map(|id| self.by_id.get(id).copied())
            .collect();
        let (by_id, by_sender) = (&mut self.by_id, &mut self.by_sender);
        let ((), entries) = rayon::join(
            || {
                for id in &ids {
                    by_id.remove(id);
                }
            },
            || {
                at.into_iter()
                    .filter_map(|(sender, nonce)| {
                        let q = by_sender.get_mut(&sender)?;
                        let entry = q.remove(nonce);
                        if q.is_empty() {
                            by_sender.remove(&sender);
                        }
                        Some((sender, entry?))
                    })
                    .collect()
            },
        );
        Removed(entries)
    }

    /// Puts back what [`Self::remove`] removed, as it was (arrival order included): the
    /// producer removes a block's transactions while the disk commits it, and puts them back
    /// if the commit fails.
    pub fn restore(&mut self, removed: Removed) {
        for (sender, entry) in removed.0 {
            self.by_id.insert(entry.id, (sender, entry.stx.tx.nonce));
            let queue = self.by_sender.entry(sender).or_default();
            let added = queue.insert(entry);
            debug_assert!(added, "the pool has not changed since the removal");
        }
    }

    /// Pending transactions (other than those in `exclude`) whose nonce a block has passed:
    /// another transaction used that nonce. `changed` are the accounts the block wrote, with
    /// their new state, shard by shard — only a nonce that moved can pass a pending one, since admission refuses
    /// nonces below the account's. Nothing is removed.
    pub fn stale(
        &self,
        changed: &[&[(Address, Account)]],
        exclude: &IdSet,
    ) -> Vec<(SignedTransaction, String)> {
        // A block writes its senders and recipients, 20,000 lookups for 10,000 transfers: on
        // the current rayon pool, while the producer holds the locks.
        changed
            .par_iter()
            .flat_map(|writes| {
                writes
                    .par_iter()
                    .with_min_len(1024)
                    .flat_map_iter(|(sender, account)| {
                        let below = self
                            .by_sender
                            .get(sender)
                            .map_or(&[][..], |queue| queue.below(account.nonce));
                        below.iter().filter(|e| !exclude.contains(&e.id)).map(|e| {
                            let nonce = e.stx.tx.nonce;
                            let reason = format!("nonce {nonce} was used by another transaction");
                            (e.stx.clone(), reason)
                        })
                    })
            })
            .collect()
    }

    /// The sequence number the next admitted transaction gets (a mark: what is older was
    /// admitted before it was read).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Up to `n` of the oldest transactions admitted before `seq`, oldest first.
    pub fn oldest_before(&self, seq: u64, n: usize) -> Vec<SignedTransaction> {
        let mut v: Vec<&Entry> = self
            .by_sender
            .values()
            .flat_map(SenderQueue::iter)
            .filter(|e| e.seq < seq)
            .collect();
        if v.len() > n {
            v.select_nth_unstable_by_key(n, |e| e.seq);
            v.truncate(n);
        }
        v.sort_unstable_by_key(|e| e.seq);
        v.into_iter().map(|e| e.stx.clone()).collect()
    }

    /// Every pending transaction, oldest first.
    pub fn all(&self) -> Vec<SignedTransaction> {
        self.oldest_first().into_iter().cloned().collect()
    }

    /// Every pending transaction, oldest first, borrowed (the journal's snapshot).
    pub fn oldest_first(&self) -> Vec<&SignedTransaction> {
        let mut v: Vec<&Entry> = self
            .by_sender
            .values()
            .flat_map(SenderQueue::iter)
            .collect();
        v.sort_unstable_by_key(|e| e.seq);
        v.into_iter().map(|e| &e.stx).collect()
    }
}

/// The checks that need no state: chain id, fee floor, the payload's own rules, signature.
pub fn check_stateless(
    chain_id: &str,
    min_fee: u64,
    shard_count: u16,
    stx: &SignedTransaction,
) -> Result<(), RejectReason> {
    check_fields(chain_id, min_fee, shard_count, stx)?;
    stx.verify_signature().map_err(RejectReason::BadSignature)
}

/// The stateless checks except the signature (checked elsewhere, e.g. in a batch).
pub fn check_fields(
    chain_id: &str,
    min_fee: u64,
    shard_count: u16,
    stx: &SignedTransaction,
) -> Result<(), RejectReason> {
    if stx.tx.chain_id != chain_id {
        return Err(RejectReason::WrongChainId {
            expected: chain_id.to_owned(),
            got: stx.tx.chain_id.clone(),
        });
    }
    if stx.tx.max_fee < min_fee {
        return Err(RejectReason::FeeTooLow {
            max_fee: stx.tx.max_fee,
            min_fee,
        });
    }
    check_payload(shard_count, stx)
}

/// What a market payload must satisfy whatever the state: refused here rather than charged a
/// fee for a transaction that can never succeed.
fn check_payload(shard_count: u16, stx: &SignedTransaction) -> Result<(), RejectReason> {
    let sender = stx.tx.sender_address();
    let same_shard = |a: &Address| a.shard(shard_count) == sender.shard(shard_count);
    match &stx.tx.payload {
        Payload::Transfer { .. } | Payload::Reading { .. } | Payload::CancelOrder { .. } => Ok(()),
        Payload::RegisterMeter {
            meter,
            kind,
            capacity_w,
            pop,
        } => {
            let at = Address::from_public_key(meter);
            if *capacity_w == 0 {
                return Err(RejectReason::InvalidMeter("capacity must be above zero"));
            }
            if at == sender {
                return Err(RejectReason::InvalidMeter(
                    "a meter has its own key, not its owner's",
                ));
            }
            if !same_shard(&at) {
                return Err(RejectReason::InvalidMeter(
                    "the meter's address must be on its owner's shard: make another meter key",
                ));
            }
            let message = meter_pop_message(&stx.tx.chain_id, &sender, meter, *kind, *capacity_w);
            meter.verify(message.as_bytes(), pop).map_err(|_| {
                RejectReason::InvalidMeter(
                    "the meter's signature (proof of possession) does not verify",
                )
            })
        }
        Payload::PlaceOrder {
            side,
            price,
            qty_wh,
            meter,
            ..
        } => {
            if *price == 0 || *qty_wh == 0 {
                return Err(RejectReason::InvalidOrder(
                    "price and quantity must be above zero",
                ));
            }
            if !price_on_grid(*price) {
                return Err(RejectReason::InvalidOrder(
                    "a price has at most three significant digits and is at most 999,000,000 units per Wh",
                ));
            }
            if price.checked_mul(*qty_wh).is_none() {
                return Err(RejectReason::InvalidOrder(
                    "price × quantity exceeds the token's range",
                ));
            }
            match (side, meter) {
                (Side::Ask, None) => Err(RejectReason::InvalidOrder(
                    "an offer names the meter that delivers it",
                )),
                (Side::Bid, Some(_)) => Err(RejectReason::InvalidOrder("a bid names no meter")),
                (Side::Ask, Some(m)) if !same_shard(m) => Err(RejectReason::InvalidOrder(
                    "the offer's meter is not on its owner's shard",
                )),
                _ => Ok(()),
            }
        }
        Payload::ClaimCertificates {
            meter, kind, wh, ..
        } => {
            if *wh == 0 {
                return Err(RejectReason::InvalidClaim("claim at least 1 Wh"));
            }
            if !kind.renewable() {
                return Err(RejectReason::InvalidClaim(
                    "certificates are only minted for solar and wind",
                ));
            }
            match meter {
                Some(m) if !same_shard(m) => Err(RejectReason::InvalidClaim(
                    "the meter holding the certificates is not on its owner's shard",
                )),
                _ => Ok(()),
            }
        }
        Payload::LockPower { amount: 0 } | Payload::UnlockPower { amount: 0 } => Err(
            RejectReason::InvalidPower("lock or unlock at least one unit"),
        ),
        Payload::Delegate { to: Some(to) } if *to == sender => Err(RejectReason::InvalidPower(
            "delegating to yourself is voting yourself: send a delegation with no `to`",
        )),
        Payload::Propose { title, .. } if title.trim().is_empty() => Err(
            RejectReason::InvalidAction("a proposal needs a title".to_owned()),
        ),
        Payload::LockPower { .. }
        | Payload::UnlockPower { .. }
        | Payload::Delegate { .. }
        | Payload::Propose { .. }
        | Payload::Vote { .. }
        | Payload::CancelProposal { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::{Payload, SecretKey, Transaction};

    use super::*;

    const FEE: u64 = 10;

    fn tx(key: &SecretKey, nonce: u64, amount: u64) -> SignedTransaction {
        Transaction {
            chain_id: "c".into(),
            sender: key.public_key(),
            nonce,
            max_fee: FEE,
            payload: Payload::Transfer {
                to: Address([9; 20]),
                amount,
            },
        }
        .sign(key)
    }

    fn rich() -> Account {
        Account {
            balance: 1_000_000,
            nonce: 0,
        }
    }

    #[test]
    fn nonce_rules() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut mp = Mempool::new(FEE, 100);
        let acc = Account {
            balance: 1_000_000,
            nonce: 5,
        };
        assert_eq!(
            mp.insert(tx(&k, 4, 1), &acc),
            Err(RejectReason::NonceTooLow {
                nonce: 4,
                expected: 5
            })
        );
        assert!(matches!(
            mp.insert(tx(&k, 5 + MAX_NONCE_AHEAD + 1, 1), &acc),
            Err(RejectReason::NonceTooHigh { .. })
        ));
        mp.insert(tx(&k, 5, 1), &acc).unwrap();
        assert_eq!(
            mp.insert(tx(&k, 5, 1), &acc),
            Err(RejectReason::AlreadyKnown)
        );
        assert_eq!(
            mp.insert(tx(&k, 5, 2), &acc),
            Err(RejectReason::DuplicateNonce(5))
        );
        mp.insert(tx(&k, 7, 1), &acc).unwrap();
        assert_eq!(mp.next_nonce(&tx(&k, 0, 0).tx.sender_address(), &acc), 6);
    }

    #[test]
    fn balance_counts_pending() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut mp = Mempool::new(FEE, 100);
        // 50 + fee 10 pending; 41 + 10 more would need 111 of 110.
        let acc = Account {
            balance: 110,
            nonce: 0,
        };
        mp.insert(tx(&k, 0, 50), &acc).unwrap();
        assert!(matches!(
            mp.insert(tx(&k, 1, 41), &acc),
            Err(RejectReason::InsufficientBalance { needed: 111, .. })
        ));
        mp.insert(tx(&k, 1, 40), &acc).unwrap();
    }

    #[test]
    fn bounds() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut mp = Mempool::new(FEE, 100);
        for n in 0..MAX_PER_SENDER as u64 {
            mp.insert(tx(&k, n, 1), &rich()).unwrap();
        }
        assert_eq!(
            mp.insert(tx(&k, MAX_PER_SENDER as u64, 1), &rich()),
            Err(RejectReason::SenderQueueFull)
        );
        let mut small = Mempool::new(FEE, 1);
        small.insert(tx(&k, 0, 1), &rich()).unwrap();
        let other = SecretKey::from_seed(&[2; 32]);
        assert_eq!(
            small.insert(tx(&other, 0, 1), &rich()),
            Err(RejectReason::PoolFull)
        );
    }

    #[test]
    fn select_takes_contiguous_runs_only() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut mp = Mempool::new(FEE, 100);
        for n in [0, 1, 3] {
            mp.insert(tx(&k, n, 1), &rich()).unwrap();
        }
        let picked: Vec<u64> = mp
            .select(1, 100, |_| rich())
            .concat()
            .iter()
            .map(|s| s.tx.nonce)
            .collect();
        assert_eq!(picked, vec![0, 1]);
        let capped = mp.select(1, 1, |_| rich()).concat();
        assert_eq!(capped.len(), 1);
    }

    #[test]
    fn a_large_selection_keeps_arrival_order_and_each_shards_cap() {
        use joule_light_client::{Domain, PublicKey, Signature};
        // Enough senders that the parallel lookups, sort and copies split the work.
        let unsigned = |sender: u16, nonce: u64| SignedTransaction {
            tx: Transaction {
                chain_id: "c".into(),
                sender: PublicKey(Domain::Address.hash(&sender.to_le_bytes()).0),
                nonce,
                max_fee: FEE,
                payload: Payload::Transfer {
                    to: Address([9; 20]),
                    amount: 1,
                },
            },
            signature: Signature([0; 64]),
        };
        let mut mp = Mempool::new(FEE, 100_000);
        let mut arrivals = Vec::new();
        // Senders arrive in a scrambled order, some with runs of three, some with a gap.
        for round in 0..3u64 {
            for i in 0..3_000u16 {
                let sender = (u32::from(i) * 7_919 % 3_000) as u16;
                if round == 1 && sender.is_multiple_of(5) {
                    continue;
                }
                let stx = unsigned(sender, round);
                arrivals.push(stx.clone());
                mp.insert(stx, &rich()).unwrap();
            }
        }
        let (shards, cap) = (4u16, 600);
        // What selection means, one transaction at a time.
        let by_key: HashMap<(Address, u64), &SignedTransaction> = arrivals
            .iter()
            .map(|t| ((t.tx.sender_address(), t.tx.nonce), t))
            .collect();
        let mut expected = vec![Vec::new(); usize::from(shards)];
        // Every account's next nonce is 0: a sender's run starts with its first arrival.
        for stx in arrivals.iter().filter(|t| t.tx.nonce == 0) {
            let sender = stx.tx.sender_address();
            let run: Vec<&SignedTransaction> = (0u64..)
                .map_while(|n| by_key.get(&(sender, n)).copied())
                .collect();
            let shard = &mut expected[usize::from(sender.shard(shards))];
            let room = cap - shard.len();
            shard.extend(run.into_iter().take(room).cloned());
        }
        let picked = mp.select(shards, cap, |_| rich());
        assert_eq!(picked, expected);
        assert!(picked.iter().all(|s| s.len() == cap));
    }

    #[test]
    fn stale_lists_passed_nonces_except_excluded() {
        let k = SecretKey::from_seed(&[1; 32]);
        let mut mp = Mempool::new(FEE, 100);
        let ids: Vec<Hash> = (0..3)
            .map(|n| mp.insert(tx(&k, n, 1), &rich()).unwrap())
            .collect();
        let moved = Account {
            balance: 1_000_000,
            nonce: 2,
        };
        let exclude: IdSet = [ids[0]].into_iter().collect();
        let stale = mp.stale(
            &[&[(Address::from_public_key(&k.public_key()), moved)]],
            &exclude,
        );
        assert!(mp
            .stale(&[&[(Address([5; 20]), moved)]], &exclude)
            .is_empty());
        assert_eq!(
            stale.iter().map(|(s, _)| s.tx.nonce).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(mp.len(), 3, "nothing removed");
    }

    #[test]
    fn restore_puts_back_what_remove_took_in_arrival_order() {
        let (a, b) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
        );
        let mut mp = Mempool::new(FEE, 100);
        // Interleaved arrivals; `b` leaves the pool entirely, `a` keeps nonce 2.
        let ids: Vec<Hash> = [(&b, 0), (&a, 0), (&b, 1), (&a, 1), (&a, 2)]
            .into_iter()
            .map(|(k, n)| mp.insert(tx(k, n, 1), &rich()).unwrap())
            .collect();
        let picked = |mp: &Mempool| -> Vec<Hash> {
            let mut ids: Vec<Hash> = mp
                .select(1, 100, |_| rich())
                .concat()
                .iter()
                .map(SignedTransaction::id)
                .collect();
            ids.sort_unstable();
            ids
        };
        let before = picked(&mp);
        let unknown = Hash([7; 32]);
        let removed = mp.remove(vec![ids[0], ids[1], ids[2], ids[3], unknown]);
        assert_eq!(removed.len(), 4, "the unknown id removes nothing");
        assert_eq!(mp.len(), 1);
        assert!(mp.get(&ids[0]).is_none() && mp.get(&ids[4]).is_some());
        mp.restore(removed);
        assert_eq!(mp.len(), 5);
        assert!(ids.iter().all(|id| mp.get(id).is_some()));
        assert_eq!(picked(&mp), before);
        // Arrival order kept: `b` arrived first, so its run comes first.
        let order: Vec<Hash> = mp
            .select(1, 100, |_| rich())
            .concat()
            .iter()
            .map(SignedTransaction::id)
            .collect();
        assert_eq!(order, [ids[0], ids[2], ids[1], ids[3], ids[4]]);
        assert_eq!(
            mp.all()
                .iter()
                .map(SignedTransaction::id)
                .collect::<Vec<_>>(),
            ids
        );
        // The restored entries are live again: their nonces are taken.
        assert_eq!(
            mp.insert(tx(&b, 0, 2), &rich()),
            Err(RejectReason::DuplicateNonce(0))
        );
    }

    #[test]
    fn stateless_checks() {
        let k = SecretKey::from_seed(&[1; 32]);
        let good = tx(&k, 0, 1);
        assert_eq!(check_stateless("c", FEE, 4, &good), Ok(()));
        assert!(matches!(
            check_stateless("d", FEE, 4, &good),
            Err(RejectReason::WrongChainId { .. })
        ));
        assert!(matches!(
            check_stateless("c", FEE + 1, 4, &good),
            Err(RejectReason::FeeTooLow { .. })
        ));
        let mut forged = good;
        forged.tx.nonce = 1;
        assert!(matches!(
            check_stateless("c", FEE, 4, &forged),
            Err(RejectReason::BadSignature(_))
        ));
    }
}
