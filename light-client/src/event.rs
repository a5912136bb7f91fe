//! Events: what a block's system steps did that state alone no longer shows — an order's fill
//! at its interval's gate, its settlement at the readings' deadline (after which the order is
//! deleted). Each shard header commits to its block's events, in order, with `events_root`, a
//! Merkle tree whose leaves are the events' encodings ([`events_tree`]); a light client proves
//! one with its index and a [`crate::MerkleProof`] ([`crate::ProvenEvent`]).
//!
//! Encoding: `tag u8 | body`; tag 1 is a [`Trade`]:
//! `stage u8 (1 filled, 2 settled) | interval u64 | order [32] | owner [20] | side u8 |
//! price u64 | wh u64 | tokens u64 | fee u64 | refund u64`.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::market::Side;
use crate::merkle::MerkleTree;
use crate::object::StateKey;

/// Where an order's trade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The gate cleared its interval: `wh` is the fill, `refund` the escrow a bid got back.
    Filled,
    /// The readings' deadline settled it: for an offer, `wh` delivered and `tokens` paid to the
    /// seller (after the fee); for a bid, `wh` received and `tokens` paid by the buyer (the fee
    /// included), `refund` the rest of its escrow.
    Settled,
}

/// One order's fill or settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// Filled or settled.
    pub stage: Stage,
    /// The delivery interval.
    pub interval: u64,
    /// The order's state key.
    pub order: StateKey,
    /// Who placed it.
    pub owner: Address,
    /// Buy or sell.
    pub side: Side,
    /// The interval's clearing price, token units per Wh (0 if nothing crossed).
    pub price: u64,
    /// Wh: filled (at the gate), delivered or received (at settlement).
    pub wh: u64,
    /// Tokens: at settlement, paid to the seller or by the buyer; 0 at the gate.
    pub tokens: u64,
    /// The market fee in `tokens` (a seller's is taken from its pay, a buyer's added to it).
    pub fee: u64,
    /// Escrow returned to a bid (at the gate: beyond its fill; at settlement: beyond what it
    /// received).
    pub refund: u64,
}

/// Something a block did, committed in its shard header's `events_root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An order's fill or settlement.
    Trade(Trade),
}

impl Event {
    /// The account the event concerns (an order's owner).
    pub fn account(&self) -> Address {
        match self {
            Event::Trade(t) => t.owner,
        }
    }
}

/// The tree whose root is a shard header's `events_root`: one leaf per event, its encoding.
pub fn events_tree(events: &[Event]) -> MerkleTree {
    let leaves: Vec<Vec<u8>> = events.iter().map(Encode::encode).collect();
    MerkleTree::from_leaves(leaves.iter().map(Vec::as_slice))
}

impl Encode for Event {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Event::Trade(t) => {
                out.push(1);
                out.push(match t.stage {
                    Stage::Filled => 1,
                    Stage::Settled => 2,
                });
                t.interval.encode_to(out);
                out.extend_from_slice(&t.order.0);
                t.owner.encode_to(out);
                t.side.encode_to(out);
                for v in [t.price, t.wh, t.tokens, t.fee, t.refund] {
                    v.encode_to(out);
                }
            }
        }
    }
}

impl Decode for Event {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        match r.u8()? {
            1 => {
                let stage = match r.u8()? {
                    1 => Stage::Filled,
                    2 => Stage::Settled,
                    tag => return Err(CodecError::UnknownTag { kind: "stage", tag }),
                };
                Ok(Event::Trade(Trade {
                    stage,
                    interval: r.u64()?,
                    order: StateKey(crate::hash::Hash::decode_from(r)?.0),
                    owner: Address::decode_from(r)?,
                    side: Side::decode_from(r)?,
                    price: r.u64()?,
                    wh: r.u64()?,
                    tokens: r.u64()?,
                    fee: r.u64()?,
                    refund: r.u64()?,
                }))
            }
            tag => Err(CodecError::UnknownTag { kind: "event", tag }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;
    use crate::merkle::verify_proof;

    fn trade() -> Event {
        Event::Trade(Trade {
            stage: Stage::Settled,
            interval: 9,
            order: StateKey([4; 32]),
            owner: Address([5; 20]),
            side: Side::Bid,
            price: 115,
            wh: 150,
            tokens: 17_337,
            fee: 87,
            refund: 5_888,
        })
    }

    #[test]
    fn trade_round_trips_with_a_golden_vector() {
        let e = trade();
        assert_eq!(decode_exact::<Event>(&e.encode()), Ok(e));
        assert_eq!(
            hex::encode(e.encode()),
            "0102\
             0900000000000000\
             0404040404040404040404040404040404040404040404040404040404040404\
             0505050505050505050505050505050505050505\
             00\
             7300000000000000\
             9600000000000000\
             b943000000000000\
             5700000000000000\
             0017000000000000"
        );
        let mut bad = e.encode();
        bad[1] = 3;
        assert!(decode_exact::<Event>(&bad).is_err());
        bad[0] = 9;
        assert!(decode_exact::<Event>(&bad).is_err());
    }

    #[test]
    fn an_event_is_proven_in_its_tree_and_a_changed_one_is_not() {
        let mut other = trade();
        let Event::Trade(t) = &mut other;
        t.stage = Stage::Filled;
        let events = [trade(), other];
        let tree = events_tree(&events);
        let proof = tree.proof(1).unwrap();
        assert!(verify_proof(&tree.root(), &other.encode(), &proof).is_ok());
        let Event::Trade(t) = &mut other;
        t.wh += 1;
        assert!(verify_proof(&tree.root(), &other.encode(), &proof).is_err());
    }
}
