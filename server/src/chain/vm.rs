//! The VM interface the executors run, and Joule's VM: native transfers and the energy
//! market's transactions.
//!
//! A [`Vm`] executes one transaction against a [`StateView`]: it reads and writes accounts and
//! objects only through the view, so the same code runs in the sequential executor (a plain
//! overlay), in the declared-keys plan and in Block-STM (a view over multi-version memory that
//! may report that a read depends on an unfinished earlier transaction). The executors know
//! nothing else about transactions.
//!
//! Execution is split in two: [`Vm::prepare`] does the state-independent work (hashing the
//! transaction, deriving addresses) and names the keys the transaction expects to touch;
//! [`Vm::execute`] does the state-dependent part. The declared keys are hints: an executor may
//! use them to lay out memory or to estimate contention, but must stay correct when a
//! transaction touches a key it did not declare.
//!
//! **Objects are guarded by accounts.** Every object a transaction touches lives under an
//! account it declares (its *home*: the owner of an order, the meter's own address for a
//! meter): [`StateView::read_object`] names that account. So two transactions conflict on an
//! object only if they declare the same account, and the executors order them as they order
//! account accesses — a block of orders from different senders runs in parallel.
//!
//! Rules common to every kind:
//! 1. a transaction whose nonce is not the sender's next, or whose sender cannot pay the fee,
//!    is not executed: it is skipped with the reason and writes nothing;
//! 2. otherwise the fee (the chain's flat fee) is charged and the nonce advances, whatever
//!    else happens; a transaction that breaks a rule of its kind ends with a status naming the
//!    rule and changes nothing else;
//! 3. fees are not credited to anyone here: the block sums them once (no hot fee account).
//!
//! The kinds:
//! - **transfer**: if the balance covers the amount, it moves — to a local account directly, or
//!   into a receipt for the recipient's shard — else `InsufficientBalance`;
//! - **register meter** (sender = owner): the meter (on the owner's shard, its key proven at
//!   admission) is written with its kind and capacity, unless registered already
//!   (`MeterExists`);
//! - **reading** (sender = meter): for an interval not before the meter's next (else
//!   `StaleReading`), inside the interval's reading window (else `StaleReading`), within what
//!   its rated power delivers in an interval (else `OverCapacity`), and no production from a
//!   consumption-only meter (`NotAProducer`); the meter's totals advance, and renewable
//!   production is minted as certificates of origin held by the meter, per day and kind;
//! - **place order** (sender = owner): a price above zero and at least the market's minimum
//!   quantity (else `OrderTooSmall`), on the price grid (else `BadPrice`), an interval whose book is open (else `MarketClosed`); an
//!   offer names a meter of the sender's that can produce (`UnknownMeter`, `NotMeterOwner`,
//!   `NotAProducer`); a bid moves its escrow — price × quantity plus the market fee on it —
//!   out of the balance (else `InsufficientBalance`); the order is written under the sender;
//! - **cancel order**: the sender's order (else `UnknownOrder`) before its gate (else
//!   `MarketClosed`) is deleted and its escrow returned;
//! - **claim certificates**: from the sender's own lot, or from the lot a meter of the
//!   sender's holds (a meter of someone else's: `NotMeterOwner`; no such meter:
//!   `UnknownMeter`), `wh` move from held to claimed, if the lot holds that many (else
//!   `InsufficientCertificates`; claiming 0 Wh is refused the same way);
//! - **lock power**: `amount` moves from the balance into the sender's governance lock (else
//!   `InsufficientBalance`); **unlock power**: back (else `InsufficientLocked`); **delegate**:
//!   the sender's power goes to another member, or back to itself. Each writes the sender's
//!   [`Power`] and a checkpoint of its history (one per block: a second change in the same
//!   block rewrites it), so a proposal's snapshot can tell what held before it;
//! - **propose**: the sender needs the proposal lock (`BelowProposalThreshold`), no other
//!   proposal pending or active (`AlreadyProposing`: its live-proposal marker), a title and
//!   an action inside every bound (`InvalidAction`); the proposal and the marker are written
//!   under it;
//! - **vote**: on a known proposal (`UnknownProposal`) not canceled (`ProposalCanceled`),
//!   between its start and end (`VotingNotStarted`, `VotingClosed`), with the weight the
//!   proposal's start fixed for the sender (`NoPower`): the vote, under the sender, replaces
//!   any earlier one; **cancel proposal**: the sender's own (`NotProposer`,
//!   `UnknownProposal`) before its start (`VotingStarted`).

use std::collections::HashMap;
use std::sync::Arc;

use joule_light_client::dao::{
    checkpoint_key, live_proposal_key, power_key, proposal_key, vote_key, weight_key, Action,
    ChainParams, Choice, GovParams, LiveProposal, Power, PowerCheckpoint, Proposal, ProposalState,
    Vote, Weight, MAX_TITLE_BYTES,
};
use joule_light_client::market::{
    bid_escrow, cert_lot_key, meter_key, order_key, price_on_grid, CertLot, MarketParams, Meter,
    MeterKind, Order, Side,
};
use joule_light_client::object::StateKey;
use joule_light_client::{
    Account, Address, Decode, Encode, ExecStatus, Hash, Payload, Receipt, ShardId,
    SignedTransaction, TxOutcome,
};
use smallvec::SmallVec;

/// The market's rules as a block sees them: its parameters at the block's start, and the
/// chain's clock to turn intervals into days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketContext {
    /// The parameters in state before the block.
    pub params: MarketParams,
    /// The parameters before the last schedule change (`None`: none yet): they give the
    /// heights of intervals before `params.anchor_interval`.
    pub previous: Option<MarketParams>,
    /// Target time between blocks (an interval's nominal length, for capacity).
    pub block_interval_ms: u64,
    /// Genesis time (an interval's nominal day, for certificates).
    pub genesis_time_ms: u64,
}

impl Default for MarketContext {
    fn default() -> Self {
        MarketContext {
            params: MarketParams::DEVNET,
            previous: None,
            block_interval_ms: 500,
            genesis_time_ms: 0,
        }
    }
}

impl MarketContext {
    /// The schedule `interval` follows: the previous one before the current anchor.
    pub fn schedule(&self, interval: u64) -> &MarketParams {
        match &self.previous {
            Some(p) if interval < self.params.anchor_interval => p,
            _ => &self.params,
        }
    }

    /// The interval delivering at `height`: under the previous schedule until the current one's
    /// anchor starts.
    pub fn interval_at(&self, height: u64) -> Option<u64> {
        match &self.previous {
            Some(p) if height < self.params.anchor_height => p.interval_at(height),
            _ => self.params.interval_at(height),
        }
    }

    /// Whether a schedule change may take effect at `height`: every interval of the previous
    /// schedule has settled (the node keeps one previous schedule, not a history).
    pub fn may_reschedule(&self, height: u64) -> bool {
        match &self.previous {
            None => true,
            Some(p) => self
                .params
                .anchor_interval
                .checked_sub(1)
                .and_then(|last| p.deadline(last))
                .is_none_or(|d| height > d),
        }
    }

    /// The most Wh a meter of `capacity_w` can deliver in `interval`, at nominal time.
    pub fn max_wh(&self, interval: u64, capacity_w: u64) -> u64 {
        let blocks = self.schedule(interval).interval_blocks;
        let ms = u128::from(blocks) * u128::from(self.block_interval_ms);
        let wh = u128::from(capacity_w) * ms / 3_600_000;
        u64::try_from(wh).unwrap_or(u64::MAX)
    }

    /// The UTC day (days since the Unix epoch) interval `interval` starts on, at nominal time.
    pub fn day_of(&self, interval: u64) -> u32 {
        let start = self.schedule(interval).start(interval).unwrap_or(0);
        let ms = u128::from(self.genesis_time_ms)
            + u128::from(start) * u128::from(self.block_interval_ms);
        u32::try_from(ms / 86_400_000).unwrap_or(u32::MAX)
    }
}

/// One proposal as votes and cancels see it: who made it, its window and its state before
/// the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalWindow {
    /// Its proposer.
    pub proposer: Address,
    /// Votes from here…
    pub start: u64,
    /// …until here (excluded).
    pub end: u64,
    /// Its state before the block.
    pub state: ProposalState,
}

/// Governance as a block sees it: its parameters and every proposal's window, read once per
/// block from the shards' indexes — so a vote checks its window without reading the proposal
/// (which lives under its proposer: every voter reading it would make them all conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovContext {
    /// Governance's parameters before the block.
    pub params: GovParams,
    /// Every proposal, by id.
    pub proposals: HashMap<Hash, ProposalWindow, ahash::RandomState>,
}

impl Default for GovContext {
    fn default() -> Self {
        GovContext {
            params: GovParams::DEVNET,
            proposals: HashMap::default(),
        }
    }
}

/// What a transaction executes against.
#[derive(Debug, Clone)]
pub struct TxContext {
    /// The executing shard.
    pub shard: ShardId,
    /// The block height.
    pub height: u64,
    /// Shards in the chain (to route receipts).
    pub shard_count: u16,
    /// Flat fee per transaction.
    pub fee: u64,
    /// The market's rules.
    pub market: MarketContext,
    /// Governance's (shared by every shard's executor).
    pub gov: Arc<GovContext>,
}

/// A read hit a value an earlier, unfinished transaction (this index) is expected to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked(pub usize);

/// Account and object access for one transaction.
pub trait StateView {
    /// The account's current value (as of this transaction's position in the block).
    fn read(&mut self, address: &Address) -> Result<Account, Blocked>;
    /// Sets the account's value.
    fn write(&mut self, address: Address, account: Account);
    /// The encoded object at `key` (`None`: nothing there), guarded by account `home`, which
    /// the transaction must touch as it touches an account (see the module doc).
    fn read_object(&mut self, home: &Address, key: &StateKey) -> Result<Option<Vec<u8>>, Blocked>;
    /// Sets (or, with `None`, deletes) the object at `key`, guarded by account `home`.
    fn write_object(&mut self, home: &Address, key: StateKey, value: Option<Vec<u8>>);
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

    /// Whether the transaction may touch objects (Block-STM keeps no objects: a block with
    /// such a transaction runs planned or in order).
    fn touches_objects(_prepared: &Self::Prepared) -> bool {
        false
    }

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

/// Joule's transactions on one shard.
#[derive(Debug, Clone)]
pub struct JouleVm {
    /// Where and under which rules.
    pub ctx: TxContext,
}

/// A transaction's id and keys, computed once.
#[derive(Debug, Clone)]
pub struct PreparedTx {
    id: Hash,
    /// The sender, then the other local accounts it touches (a transfer's recipient, a
    /// meter). The sender is always declared, so `keys[0]` is the sender.
    keys: DeclaredKeys,
    /// Whether it may touch objects (any kind but a transfer).
    objects: bool,
}

#[cfg(test)]
impl PreparedTx {
    /// The same transaction declaring only its sender (tests of undeclared keys).
    pub fn only_sender(mut self) -> Self {
        self.keys.truncate(1);
        self
    }
}

/// How a market rule ended a transaction: a status other than success.
type Refused = ExecStatus;

impl JouleVm {
    /// Whether `address` lives on this shard.
    fn local(&self, address: &Address) -> bool {
        address.shard(self.ctx.shard_count) == self.ctx.shard
    }

    fn read<T: Decode, V: StateView>(
        view: &mut V,
        home: &Address,
        key: &StateKey,
    ) -> Result<Option<T>, Blocked> {
        // Objects are written only by this VM, in their own encoding: one that does not decode
        // would be a corrupt state, and reads as absent rather than stopping the chain.
        Ok(view
            .read_object(home, key)?
            .and_then(|b| joule_light_client::codec::decode_exact(&b).ok()))
    }

    fn register_meter<V: StateView>(
        &self,
        owner: Address,
        meter: Address,
        kind: MeterKind,
        capacity_w: u64,
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        if !self.local(&meter) {
            return Ok(Err(ExecStatus::UnknownMeter));
        }
        let key = meter_key(&meter);
        if Self::read::<Meter, V>(view, &meter, &key)?.is_some() {
            return Ok(Err(ExecStatus::MeterExists));
        }
        let market = &self.ctx.market;
        let next_interval = market
            .interval_at(self.ctx.height)
            .unwrap_or(market.params.anchor_interval);
        let m = Meter {
            owner,
            kind,
            capacity_w,
            next_interval,
            produced_wh: 0,
            consumed_wh: 0,
            last_produced_wh: 0,
        };
        view.write_object(&meter, key, Some(m.encode()));
        Ok(Ok(()))
    }

    fn reading<V: StateView>(
        &self,
        meter: Address,
        interval: u64,
        produced_wh: u64,
        consumed_wh: u64,
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let key = meter_key(&meter);
        let Some(mut m) = Self::read::<Meter, V>(view, &meter, &key)? else {
            return Ok(Err(ExecStatus::UnknownMeter));
        };
        let market = &self.ctx.market;
        if interval < m.next_interval
            || market
                .schedule(interval)
                .reading_window(interval, self.ctx.height)
                .is_err()
        {
            return Ok(Err(ExecStatus::StaleReading));
        }
        if produced_wh > 0 && !m.kind.produces() {
            return Ok(Err(ExecStatus::NotAProducer));
        }
        let max = market.max_wh(interval, m.capacity_w);
        if produced_wh > max || consumed_wh > max {
            return Ok(Err(ExecStatus::OverCapacity));
        }
        m.next_interval = interval + 1;
        m.produced_wh = m.produced_wh.saturating_add(produced_wh);
        m.consumed_wh = m.consumed_wh.saturating_add(consumed_wh);
        m.last_produced_wh = produced_wh;
        view.write_object(&meter, key, Some(m.encode()));
        if produced_wh > 0 && m.kind.renewable() {
            let day = market.day_of(interval);
            let lot_key = cert_lot_key(&meter, &meter, day, m.kind);
            let mut lot = Self::read::<CertLot, V>(view, &meter, &lot_key)?.unwrap_or(CertLot {
                holder: meter,
                origin: meter,
                day,
                kind: m.kind,
                wh: 0,
                claimed_wh: 0,
            });
            lot.wh = lot.wh.saturating_add(produced_wh);
            view.write_object(&meter, lot_key, Some(lot.encode()));
        }
        Ok(Ok(()))
    }

    fn place_order<V: StateView>(
        &self,
        id: &Hash,
        owner: Address,
        acc: &mut Account,
        (interval, side, price, qty_wh, meter): (u64, Side, u64, u64, Option<Address>),
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let p = &self.ctx.market.params;
        if price == 0 || qty_wh < p.min_order_wh {
            return Ok(Err(ExecStatus::OrderTooSmall));
        }
        if !price_on_grid(price) {
            return Ok(Err(ExecStatus::BadPrice));
        }
        if self
            .ctx
            .market
            .schedule(interval)
            .order_window(interval, self.ctx.height)
            .is_err()
        {
            return Ok(Err(ExecStatus::MarketClosed));
        }
        let escrow = match side {
            Side::Ask => {
                let Some(meter) = meter.filter(|m| self.local(m)) else {
                    return Ok(Err(ExecStatus::UnknownMeter));
                };
                let Some(m) = Self::read::<Meter, V>(view, &meter, &meter_key(&meter))? else {
                    return Ok(Err(ExecStatus::UnknownMeter));
                };
                if m.owner != owner {
                    return Ok(Err(ExecStatus::NotMeterOwner));
                }
                if !m.kind.produces() {
                    return Ok(Err(ExecStatus::NotAProducer));
                }
                0
            }
            Side::Bid => match bid_escrow(price, qty_wh, p.fee_bps) {
                Some(e) if e <= acc.balance => e,
                _ => return Ok(Err(ExecStatus::InsufficientBalance)),
            },
        };
        acc.balance -= escrow;
        let order = Order {
            owner,
            interval,
            side,
            price,
            qty_wh,
            meter: if side == Side::Ask { meter } else { None },
            escrow,
            filled_wh: 0,
        };
        view.write_object(&owner, order_key(&owner, id), Some(order.encode()));
        Ok(Ok(()))
    }

    fn cancel_order<V: StateView>(
        &self,
        owner: Address,
        acc: &mut Account,
        order: &Hash,
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let key = order_key(&owner, order);
        let Some(o) = Self::read::<Order, V>(view, &owner, &key)? else {
            return Ok(Err(ExecStatus::UnknownOrder));
        };
        if self
            .ctx
            .market
            .schedule(o.interval)
            .order_window(o.interval, self.ctx.height)
            .is_err()
        {
            return Ok(Err(ExecStatus::MarketClosed));
        }
        // Escrow came out of this balance: putting it back cannot overflow the supply.
        acc.balance = acc.balance.saturating_add(o.escrow);
        view.write_object(&owner, key, None);
        Ok(Ok(()))
    }

    fn claim_certificates<V: StateView>(
        &self,
        sender: Address,
        (meter, origin, day, kind, wh): (Option<Address>, Address, u32, MeterKind, u64),
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let holder = match meter {
            None => sender,
            Some(m) => {
                if !self.local(&m) {
                    return Ok(Err(ExecStatus::UnknownMeter));
                }
                match Self::read::<Meter, V>(view, &m, &meter_key(&m))? {
                    None => return Ok(Err(ExecStatus::UnknownMeter)),
                    Some(found) if found.owner != sender => {
                        return Ok(Err(ExecStatus::NotMeterOwner))
                    }
                    Some(_) => m,
                }
            }
        };
        let key = cert_lot_key(&holder, &origin, day, kind);
        let Some(mut lot) = Self::read::<CertLot, V>(view, &holder, &key)? else {
            return Ok(Err(ExecStatus::InsufficientCertificates));
        };
        if wh == 0 || wh > lot.wh {
            return Ok(Err(ExecStatus::InsufficientCertificates));
        }
        lot.wh -= wh;
        lot.claimed_wh = lot.claimed_wh.saturating_add(wh);
        view.write_object(&holder, key, Some(lot.encode()));
        Ok(Ok(()))
    }
}

impl JouleVm {
    /// The sender's power, changed by `change` (which may refuse), written with a checkpoint
    /// of what holds from this block on.
    fn change_power<V: StateView>(
        &self,
        member: Address,
        view: &mut V,
        change: impl FnOnce(&mut Power) -> Result<(), Refused>,
    ) -> Result<Result<(), Refused>, Blocked> {
        let key = power_key(&member);
        let mut power = Self::read::<Power, V>(view, &member, &key)?.unwrap_or(Power {
            member,
            locked: 0,
            delegate: None,
            checkpoints: 0,
        });
        if let Err(refused) = change(&mut power) {
            return Ok(Err(refused));
        }
        let height = self.ctx.height;
        // A second change in one block rewrites that block's checkpoint.
        let last = match power.checkpoints.checked_sub(1) {
            Some(n) => {
                Self::read::<PowerCheckpoint, V>(view, &member, &checkpoint_key(&member, n))?
                    .filter(|c| c.height == height)
                    .map(|_| n)
            }
            None => None,
        };
        let n = last.unwrap_or_else(|| {
            power.checkpoints += 1;
            power.checkpoints - 1
        });
        let checkpoint = PowerCheckpoint {
            member,
            height,
            locked: power.locked,
            delegate: power.delegate,
        };
        view.write_object(
            &member,
            checkpoint_key(&member, n),
            Some(checkpoint.encode()),
        );
        view.write_object(&member, key, Some(power.encode()));
        Ok(Ok(()))
    }
}

impl JouleVm {
    /// A proposal by `proposer` (made by transaction `id`), if its lock and action qualify.
    fn propose<V: StateView>(
        &self,
        id: &Hash,
        proposer: Address,
        (action, title, body_hash): (&Action, &str, &Hash),
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let gov = &self.ctx.gov.params;
        let locked =
            Self::read::<Power, V>(view, &proposer, &power_key(&proposer))?.map_or(0, |p| p.locked);
        if locked < gov.proposal_min_power {
            return Ok(Err(ExecStatus::BelowProposalThreshold));
        }
        let live = live_proposal_key(&proposer);
        if view.read_object(&proposer, &live)?.is_some() {
            return Ok(Err(ExecStatus::AlreadyProposing));
        }
        let params = ChainParams {
            market: self.ctx.market.params,
            gov: *gov,
        };
        if title.is_empty()
            || title.len() > MAX_TITLE_BYTES
            || action.check(&params, self.ctx.height).is_err()
        {
            return Ok(Err(ExecStatus::InvalidAction));
        }
        let body = (*action, title.to_owned(), *body_hash);
        let p = Proposal::new(*id, proposer, body, self.ctx.height, gov);
        view.write_object(&proposer, proposal_key(&proposer, id), Some(p.encode()));
        view.write_object(&proposer, live, Some(LiveProposal(*id).encode()));
        Ok(Ok(()))
    }

    /// `voter`'s vote on `proposal`, with the weight fixed at its start.
    fn vote<V: StateView>(
        &self,
        voter: Address,
        proposal: &Hash,
        choice: Choice,
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let height = self.ctx.height;
        let Some(w) = self.ctx.gov.proposals.get(proposal) else {
            return Ok(Err(ExecStatus::UnknownProposal));
        };
        if w.state == ProposalState::Canceled {
            return Ok(Err(ExecStatus::ProposalCanceled));
        }
        if height < w.start {
            return Ok(Err(ExecStatus::VotingNotStarted));
        }
        if height >= w.end {
            return Ok(Err(ExecStatus::VotingClosed));
        }
        let power = Self::read::<Weight, V>(view, &voter, &weight_key(&voter, proposal))?
            .map_or(0, |w| w.power);
        if power == 0 {
            return Ok(Err(ExecStatus::NoPower));
        }
        let vote = Vote {
            proposal: *proposal,
            voter,
            choice,
            power,
            height,
        };
        view.write_object(&voter, vote_key(&voter, proposal), Some(vote.encode()));
        Ok(Ok(()))
    }

    /// Cancels `sender`'s own proposal before its start.
    fn cancel_proposal<V: StateView>(
        &self,
        sender: Address,
        proposal: &Hash,
        view: &mut V,
    ) -> Result<Result<(), Refused>, Blocked> {
        let key = proposal_key(&sender, proposal);
        let Some(mut p) = Self::read::<Proposal, V>(view, &sender, &key)? else {
            let known = self.ctx.gov.proposals.contains_key(proposal);
            return Ok(Err(if known {
                ExecStatus::NotProposer
            } else {
                ExecStatus::UnknownProposal
            }));
        };
        if p.state == ProposalState::Canceled {
            return Ok(Err(ExecStatus::ProposalCanceled));
        }
        if p.cancel(&sender, self.ctx.height).is_err() {
            return Ok(Err(ExecStatus::VotingStarted));
        }
        view.write_object(&sender, key, Some(p.encode()));
        // A pending proposal is the proposer's live one: the proposer may propose again.
        view.write_object(&sender, live_proposal_key(&sender), None);
        Ok(Ok(()))
    }
}

impl Vm for JouleVm {
    type Tx = SignedTransaction;
    type Prepared = PreparedTx;
    type Output = TxResult;

    fn prepare(&self, stx: &SignedTransaction) -> PreparedTx {
        let sender = stx.tx.sender_address();
        let mut keys = DeclaredKeys::new();
        keys.push(sender);
        let other = match &stx.tx.payload {
            Payload::Transfer { to, .. } => Some(*to),
            Payload::RegisterMeter { meter, .. } => Some(Address::from_public_key(meter)),
            Payload::PlaceOrder { meter, .. } | Payload::ClaimCertificates { meter, .. } => *meter,
            Payload::Reading { .. }
            | Payload::CancelOrder { .. }
            | Payload::LockPower { .. }
            | Payload::UnlockPower { .. }
            | Payload::Delegate { .. }
            | Payload::Propose { .. }
            | Payload::Vote { .. }
            | Payload::CancelProposal { .. } => None,
        };
        if let Some(other) = other {
            if other != sender && self.local(&other) {
                keys.push(other);
            }
        }
        PreparedTx {
            id: stx.id(),
            keys,
            objects: !matches!(stx.tx.payload, Payload::Transfer { .. }),
        }
    }

    fn declared_keys(prepared: &PreparedTx) -> &[Address] {
        &prepared.keys
    }

    fn touches_objects(prepared: &PreparedTx) -> bool {
        prepared.objects
    }

    fn execute<V: StateView>(
        &self,
        stx: &SignedTransaction,
        p: &PreparedTx,
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
            Payload::Transfer { .. } => {
                view.write(sender, acc);
                ExecStatus::InsufficientBalance
            }
            Payload::RegisterMeter {
                meter,
                kind,
                capacity_w,
                ..
            } => {
                let meter = Address::from_public_key(meter);
                let r = self.register_meter(sender, meter, *kind, *capacity_w, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::Reading {
                interval,
                produced_wh,
                consumed_wh,
            } => {
                let r = self.reading(sender, *interval, *produced_wh, *consumed_wh, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::PlaceOrder {
                interval,
                side,
                price,
                qty_wh,
                meter,
            } => {
                let order = (*interval, *side, *price, *qty_wh, *meter);
                let r = self.place_order(&p.id, sender, &mut acc, order, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::CancelOrder { order } => {
                let r = self.cancel_order(sender, &mut acc, order, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::ClaimCertificates {
                meter,
                origin,
                day,
                kind,
                wh,
            } => {
                let claim = (*meter, *origin, *day, *kind, *wh);
                let r = self.claim_certificates(sender, claim, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::LockPower { amount } => {
                let amount = *amount;
                let r = if acc.balance < amount {
                    Err(ExecStatus::InsufficientBalance)
                } else {
                    self.change_power(sender, view, |p| {
                        p.locked = p.locked.saturating_add(amount);
                        Ok(())
                    })?
                };
                if r.is_ok() {
                    acc.balance -= amount;
                }
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::UnlockPower { amount } => {
                let amount = *amount;
                let r = self.change_power(sender, view, |p| {
                    if p.locked < amount {
                        return Err(ExecStatus::InsufficientLocked);
                    }
                    p.locked -= amount;
                    Ok(())
                })?;
                if r.is_ok() {
                    // Locked tokens came out of this balance: no overflow.
                    acc.balance = acc.balance.saturating_add(amount);
                }
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::Delegate { to } => {
                // To oneself is voting oneself (admission refuses it as a request).
                let to = to.filter(|t| *t != sender);
                let r = self.change_power(sender, view, |p| {
                    p.delegate = to;
                    Ok(())
                })?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::Propose {
                action,
                title,
                body_hash,
            } => {
                let r = self.propose(&p.id, sender, (action, title, body_hash), view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::Vote { proposal, choice } => {
                let r = self.vote(sender, proposal, *choice, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
            }
            Payload::CancelProposal { proposal } => {
                let r = self.cancel_proposal(sender, proposal, view)?;
                view.write(sender, acc);
                r.err().unwrap_or(ExecStatus::Success)
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
