//! Secondary indexes over a shard's objects, kept in step with every write: an interval's
//! orders (what the gate closes and settlement pays, without scanning every object), an
//! owner's meters (a meter lives under its own address, not its owner's), the tokens held
//! by objects (bids' escrow, governance locks: part of the supply), and governance's: every
//! member's lock (a proposal's snapshot), every proposal (its steps and every vote's window),
//! and each proposal's votes (its tally).
//!
//! Both are derived from the objects alone, so they need no storage of their own: a node
//! rebuilds them as it loads the objects at start. The order index keeps each order decoded:
//! a gate reads its book as one ordered range, not as a lookup per order (at 100,000 orders,
//! the lookups cost more than the clearing).

use std::collections::{BTreeMap, BTreeSet};

use joule_light_client::codec::decode_exact;
use joule_light_client::dao::{Choice, Power, Proposal, Vote};
use joule_light_client::market::{Meter, Order};
use joule_light_client::object::{ObjectKind, StateKey};
use joule_light_client::Address;
use joule_light_client::Hash;

/// The indexes of one shard.
#[derive(Debug, Clone, Default)]
pub struct ObjectIndexes {
    /// Every order, by (interval, key).
    orders: BTreeMap<(u64, StateKey), Order>,
    /// (owner, meter key) for every meter.
    meters: BTreeSet<(Address, StateKey)>,
    /// Tokens held by the shard's bids.
    escrow: u128,
    /// Tokens locked for governance on the shard.
    locked: u128,
    /// Every member's power, by member.
    powers: BTreeMap<Address, Power>,
    /// Every proposal of the shard's proposers, by id, with its key.
    proposals: BTreeMap<Hash, (StateKey, Proposal)>,
    /// Every vote, by (proposal, voter): its choice and weight.
    votes: BTreeMap<(Hash, Address), (Choice, u64)>,
}

impl ObjectIndexes {
    /// Records that `key` went from `before` to `after` (either `None`: absent).
    pub fn update(&mut self, key: &StateKey, before: Option<&[u8]>, after: Option<&[u8]>) {
        match key.kind() {
            Some(ObjectKind::Order) => {
                if let Some(o) = before.and_then(|b| decode_exact::<Order>(b).ok()) {
                    self.orders.remove(&(o.interval, *key));
                    self.escrow -= u128::from(o.escrow);
                }
                if let Some(o) = after.and_then(|b| decode_exact::<Order>(b).ok()) {
                    self.escrow += u128::from(o.escrow);
                    self.orders.insert((o.interval, *key), o);
                }
            }
            Some(ObjectKind::Power) => {
                if let Some(p) = before.and_then(|b| decode_exact::<Power>(b).ok()) {
                    self.locked -= u128::from(p.locked);
                    self.powers.remove(&p.member);
                }
                if let Some(p) = after.and_then(|b| decode_exact::<Power>(b).ok()) {
                    self.locked += u128::from(p.locked);
                    self.powers.insert(p.member, p);
                }
            }
            Some(ObjectKind::Proposal) => {
                if let Some(p) = before.and_then(|b| decode_exact::<Proposal>(b).ok()) {
                    self.proposals.remove(&p.id);
                }
                if let Some(p) = after.and_then(|b| decode_exact::<Proposal>(b).ok()) {
                    self.proposals.insert(p.id, (*key, p));
                }
            }
            Some(ObjectKind::Vote) => {
                if let Some(v) = before.and_then(|b| decode_exact::<Vote>(b).ok()) {
                    self.votes.remove(&(v.proposal, v.voter));
                }
                if let Some(v) = after.and_then(|b| decode_exact::<Vote>(b).ok()) {
                    self.votes
                        .insert((v.proposal, v.voter), (v.choice, v.power));
                }
            }
            Some(ObjectKind::Meter) => {
                if let Some(m) = before.and_then(|b| decode_exact::<Meter>(b).ok()) {
                    self.meters.remove(&(m.owner, *key));
                }
                if let Some(m) = after.and_then(|b| decode_exact::<Meter>(b).ok()) {
                    self.meters.insert((m.owner, *key));
                }
            }
            _ => {}
        }
    }

    /// The orders for `interval`, in key order.
    pub fn orders_of(&self, interval: u64) -> impl Iterator<Item = (&StateKey, &Order)> {
        self.orders
            .range((interval, StateKey([0; 32]))..=(interval, StateKey([0xff; 32])))
            .map(|((_, k), o)| (k, o))
    }

    /// The keys of `owner`'s meters, in key order.
    pub fn meters_of(&self, owner: &Address) -> impl Iterator<Item = &StateKey> {
        self.meters
            .range((*owner, StateKey([0; 32]))..=(*owner, StateKey([0xff; 32])))
            .map(|(_, k)| k)
    }

    /// Tokens held in escrow by the shard's orders.
    pub fn escrow(&self) -> u128 {
        self.escrow
    }

    /// Tokens locked for governance on the shard.
    pub fn locked(&self) -> u128 {
        self.locked
    }

    /// Every member's power on the shard, by member.
    pub fn powers(&self) -> impl Iterator<Item = &Power> {
        self.powers.values()
    }

    /// The members on the shard whose power goes to `delegate`.
    pub fn delegators_of<'a>(&'a self, delegate: &'a Address) -> impl Iterator<Item = &'a Power> {
        self.powers
            .values()
            .filter(move |p| p.delegate.as_ref() == Some(delegate))
    }

    /// The shard's proposals, by id, with their keys.
    pub fn proposals(&self) -> impl DoubleEndedIterator<Item = (&StateKey, &Proposal)> {
        self.proposals.values().map(|(k, p)| (k, p))
    }

    /// The proposal `id` if its proposer is on the shard.
    pub fn proposal(&self, id: &Hash) -> Option<(&StateKey, &Proposal)> {
        self.proposals.get(id).map(|(k, p)| (k, p))
    }

    /// The votes on `proposal` cast on the shard, by voter.
    pub fn votes_on(
        &self,
        proposal: &Hash,
    ) -> impl DoubleEndedIterator<Item = (&Address, &(Choice, u64))> {
        self.votes
            .range((*proposal, Address([0; 20]))..=(*proposal, Address([0xff; 20])))
            .map(|((_, voter), v)| (voter, v))
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::market::{meter_key, order_key, MeterKind, Side};
    use joule_light_client::{Encode, Hash};

    use super::*;

    fn order(owner: Address, interval: u64, escrow: u64) -> Order {
        Order {
            owner,
            interval,
            side: Side::Bid,
            price: 1,
            qty_wh: 1,
            meter: None,
            escrow,
            filled_wh: 0,
        }
    }

    #[test]
    fn orders_move_between_intervals_and_leave_when_deleted() {
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let (ka, kb) = (order_key(&a, &Hash([1; 32])), order_key(&b, &Hash([2; 32])));
        let mut ix = ObjectIndexes::default();
        ix.update(&ka, None, Some(&order(a, 5, 10).encode()));
        ix.update(&kb, None, Some(&order(b, 5, 7).encode()));
        assert_eq!(ix.orders_of(5).count(), 2);
        assert_eq!(ix.escrow(), 17);
        // Filled: the same interval, a smaller escrow.
        ix.update(
            &ka,
            Some(&order(a, 5, 10).encode()),
            Some(&order(a, 5, 4).encode()),
        );
        assert_eq!((ix.orders_of(5).count(), ix.escrow()), (2, 11));
        ix.update(&kb, Some(&order(b, 5, 7).encode()), None);
        assert_eq!(
            ix.orders_of(5).collect::<Vec<_>>(),
            vec![(&ka, &order(a, 5, 4))]
        );
        assert_eq!((ix.orders_of(4).count(), ix.orders_of(6).count()), (0, 0));
        assert_eq!(ix.escrow(), 4);
    }

    #[test]
    fn meters_are_found_by_owner() {
        let (owner, other) = (Address([1; 20]), Address([2; 20]));
        let meter = |owner| Meter {
            owner,
            kind: MeterKind::Solar,
            capacity_w: 1,
            next_interval: 0,
            produced_wh: 0,
            consumed_wh: 0,
            last_produced_wh: 0,
        };
        let mut ix = ObjectIndexes::default();
        let (k1, k2) = (meter_key(&Address([7; 20])), meter_key(&Address([8; 20])));
        ix.update(&k1, None, Some(&meter(owner).encode()));
        ix.update(&k2, None, Some(&meter(other).encode()));
        assert_eq!(ix.meters_of(&owner).collect::<Vec<_>>(), vec![&k1]);
        ix.update(&k1, Some(&meter(owner).encode()), None);
        assert_eq!(ix.meters_of(&owner).count(), 0);
    }
}
