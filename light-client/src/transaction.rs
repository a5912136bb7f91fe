//! Transactions: what a sender signs, its canonical encoding, its id and its signature.
//!
//! Encoding (see [`crate::codec`] for the rules):
//! `version u8 = 1 | chain_id str(≤32) | sender [32] | nonce u64 | max_fee u64 | payload`,
//! where a payload is a `u8` tag and the variant's fields:
//! - `0` transfer: `to [20] | amount u64`;
//! - `1` register meter: `meter [32] | kind u8 | capacity_w u64 | pop [64]` (`pop`: the meter's
//!   signature over [`meter_pop_message`]);
//! - `2` reading (signed by the meter): `interval u64 | produced_wh u64 | consumed_wh u64`;
//! - `3` place order: `interval u64 | side u8 (0 bid, 1 ask) | price u64 | qty_wh u64 |
//!   meter (0u8, or 1u8 | address [20])`;
//! - `4` cancel order: `order [32]` (the id of the transaction that placed it);
//! - `5` claim certificates: `meter option<[20]> | origin [20] | day u32 | kind u8 | wh u64`;
//! - `6` lock power, `7` unlock power: `amount u64`; `8` delegate: `to option<[20]>`;
//! - `9` propose: `action | title str(≤96) | body_hash [32]` (see [`crate::dao::Action`]);
//! - `10` vote: `proposal [32] | choice u8`; `11` cancel proposal: `proposal [32]`.
//!
//! A signed transaction appends the 64-byte signature. The id is
//! `blake3-derive("joule 2026-11 transaction", encoding)`, and the signature is over the id's
//! 32 bytes, so the id names exactly what was signed. New payload kinds take new tags; a new
//! layout of the fields takes a new version byte.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::codec::{self, decode_exact, put_str, CodecError, Decode, Encode, Reader};
use crate::crypto::{KeyError, PublicKey, SecretKey, Signature};
use crate::dao::{Action, Choice, MAX_TITLE_BYTES};
use crate::hash::{Domain, Hash};
use crate::market::{MeterKind, Side};

/// The one transaction layout so far.
pub const TX_VERSION: u8 = 1;
/// The longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 32;
/// The largest signed transaction accepted anywhere, in bytes.
pub const MAX_TX_BYTES: usize = 1024;

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain it is meant for; other chains reject it (no cross-chain replay).
    pub chain_id: String,
    /// Who pays and signs.
    pub sender: PublicKey,
    /// The sender's sequence number; each value is used once (no replay).
    pub nonce: u64,
    /// The most the sender agrees to pay in fees, in the token's smallest unit.
    pub max_fee: u64,
    /// What it does.
    pub payload: Payload,
}

/// What a transaction does. Not `non_exhaustive`: every match over it names every kind, so a
/// new kind cannot slip through an executor's catch-all. In JSON, an object whose `type` names
/// the kind (`transfer`, `register_meter`, `reading`, `place_order`, `cancel_order`,
/// `claim_certificates`, `lock_power`, `unlock_power`, `delegate`, `propose`, `vote`,
/// `cancel_proposal`) beside that kind's fields (a registration's meter key is `meter_key`,
/// a meter's or certificate's kind `meter_kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Moves `amount` tokens from the sender to `to` (possibly on another shard).
    Transfer {
        /// The recipient.
        to: Address,
        /// Smallest units of the token.
        amount: u64,
    },
    /// Registers the sender's meter: its own key (which signs its readings), what it measures
    /// and its rated power.
    RegisterMeter {
        /// The meter's public key (its address must be on the owner's shard).
        meter: PublicKey,
        /// What it measures.
        kind: MeterKind,
        /// Rated power, W.
        capacity_w: u64,
        /// The meter's signature over [`meter_pop_message`]: it holds its key and agrees to
        /// this owner.
        pop: Signature,
    },
    /// A meter's reading for one delivery interval (the sender is the meter).
    Reading {
        /// The interval measured.
        interval: u64,
        /// Wh exported (produced) during it.
        produced_wh: u64,
        /// Wh imported (consumed) during it.
        consumed_wh: u64,
    },
    /// An order on an interval's book.
    PlaceOrder {
        /// The delivery interval.
        interval: u64,
        /// Buy or sell.
        side: Side,
        /// Limit price, token units per Wh.
        price: u64,
        /// Wh.
        qty_wh: u64,
        /// For an offer, the seller's meter that delivers it.
        meter: Option<Address>,
    },
    /// Cancels the sender's order (before its gate), refunding its escrow.
    CancelOrder {
        /// The id of the transaction that placed it.
        order: Hash,
    },
    /// Claims (retires) certificates of origin: the Wh move from held to claimed for good, so
    /// the holder can show it used them and nobody can sell or claim them again.
    ClaimCertificates {
        /// `None`: the sender's own lot; a meter of the sender's: the lot that meter holds
        /// (what it produced and did not sell).
        meter: Option<Address>,
        /// The meter that measured the energy.
        origin: Address,
        /// The day it was produced (UTC days since the Unix epoch).
        day: u32,
        /// Solar or wind.
        kind: MeterKind,
        /// Wh to claim.
        wh: u64,
    },
    /// Locks tokens for governance: they leave the balance and count as voting power.
    LockPower {
        /// Tokens to lock.
        amount: u64,
    },
    /// Unlocks tokens: back to the balance at once (snapshots taken before keep them).
    UnlockPower {
        /// Tokens to unlock.
        amount: u64,
    },
    /// Gives the sender's voting power to another member (`None`: takes it back).
    Delegate {
        /// The delegate.
        to: Option<Address>,
    },
    /// Proposes an action to the community (the sender needs the proposal lock).
    Propose {
        /// What it does if it passes.
        action: Action,
        /// A short title (at most [`MAX_TITLE_BYTES`]).
        title: String,
        /// blake3 of the full text.
        body_hash: Hash,
    },
    /// Votes on a proposal with the power the sender had at its start (again: replaces the
    /// earlier vote).
    Vote {
        /// The proposal (the id of the transaction that made it).
        proposal: Hash,
        /// For, against or abstain.
        choice: Choice,
    },
    /// Cancels the sender's own proposal before its vote starts.
    CancelProposal {
        /// The proposal.
        proposal: Hash,
    },
}

/// The JSON form of every payload kind at once: one flat object, which costs the browser's
/// bundle far less code than an internally tagged enum (about one variant's worth).
#[derive(Serialize, Deserialize, Default)]
struct PayloadJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meter_key: Option<PublicKey>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "meter_kind"
    )]
    meter_kind: Option<MeterKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capacity_w: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pop: Option<Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interval: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    produced_wh: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consumed_wh: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    side: Option<Side>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_wh: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meter: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wh: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_hash: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proposal: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    choice: Option<Choice>,
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut j = PayloadJson::default();
        match self {
            Payload::Transfer { to, amount } => {
                j.kind = "transfer".into();
                (j.to, j.amount) = (Some(*to), Some(*amount));
            }
            Payload::RegisterMeter {
                meter,
                kind,
                capacity_w,
                pop,
            } => {
                j.kind = "register_meter".into();
                (j.meter_key, j.meter_kind) = (Some(*meter), Some(*kind));
                (j.capacity_w, j.pop) = (Some(*capacity_w), Some(*pop));
            }
            Payload::Reading {
                interval,
                produced_wh,
                consumed_wh,
            } => {
                j.kind = "reading".into();
                j.interval = Some(*interval);
                (j.produced_wh, j.consumed_wh) = (Some(*produced_wh), Some(*consumed_wh));
            }
            Payload::PlaceOrder {
                interval,
                side,
                price,
                qty_wh,
                meter,
            } => {
                j.kind = "place_order".into();
                (j.interval, j.side, j.price) = (Some(*interval), Some(*side), Some(*price));
                (j.qty_wh, j.meter) = (Some(*qty_wh), *meter);
            }
            Payload::CancelOrder { order } => {
                j.kind = "cancel_order".into();
                j.order = Some(*order);
            }
            Payload::ClaimCertificates {
                meter,
                origin,
                day,
                kind,
                wh,
            } => {
                j.kind = "claim_certificates".into();
                (j.meter, j.origin, j.day) = (*meter, Some(*origin), Some(*day));
                (j.meter_kind, j.wh) = (Some(*kind), Some(*wh));
            }
            Payload::LockPower { amount } => {
                j.kind = "lock_power".into();
                j.amount = Some(*amount);
            }
            Payload::UnlockPower { amount } => {
                j.kind = "unlock_power".into();
                j.amount = Some(*amount);
            }
            Payload::Delegate { to } => {
                j.kind = "delegate".into();
                j.to = *to;
            }
            Payload::Propose {
                action,
                title,
                body_hash,
            } => {
                j.kind = "propose".into();
                (j.action, j.title, j.body_hash) =
                    (Some(*action), Some(title.clone()), Some(*body_hash));
            }
            Payload::Vote { proposal, choice } => {
                j.kind = "vote".into();
                (j.proposal, j.choice) = (Some(*proposal), Some(*choice));
            }
            Payload::CancelProposal { proposal } => {
                j.kind = "cancel_proposal".into();
                j.proposal = Some(*proposal);
            }
        }
        j.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let j = PayloadJson::deserialize(d)?;
        let need = |v: Option<u64>, f: &'static str| v.ok_or_else(|| D::Error::missing_field(f));
        Ok(match j.kind.as_str() {
            "transfer" => Payload::Transfer {
                to: j.to.ok_or_else(|| D::Error::missing_field("to"))?,
                amount: need(j.amount, "amount")?,
            },
            "register_meter" => Payload::RegisterMeter {
                meter: j
                    .meter_key
                    .ok_or_else(|| D::Error::missing_field("meter_key"))?,
                kind: j
                    .meter_kind
                    .ok_or_else(|| D::Error::missing_field("meter_kind"))?,
                capacity_w: need(j.capacity_w, "capacity_w")?,
                pop: j.pop.ok_or_else(|| D::Error::missing_field("pop"))?,
            },
            "reading" => Payload::Reading {
                interval: need(j.interval, "interval")?,
                produced_wh: need(j.produced_wh, "produced_wh")?,
                consumed_wh: need(j.consumed_wh, "consumed_wh")?,
            },
            "place_order" => Payload::PlaceOrder {
                interval: need(j.interval, "interval")?,
                side: j.side.ok_or_else(|| D::Error::missing_field("side"))?,
                price: need(j.price, "price")?,
                qty_wh: need(j.qty_wh, "qty_wh")?,
                meter: j.meter,
            },
            "cancel_order" => Payload::CancelOrder {
                order: j.order.ok_or_else(|| D::Error::missing_field("order"))?,
            },
            "claim_certificates" => Payload::ClaimCertificates {
                meter: j.meter,
                origin: j.origin.ok_or_else(|| D::Error::missing_field("origin"))?,
                day: j.day.ok_or_else(|| D::Error::missing_field("day"))?,
                kind: j
                    .meter_kind
                    .ok_or_else(|| D::Error::missing_field("meter_kind"))?,
                wh: need(j.wh, "wh")?,
            },
            "lock_power" => Payload::LockPower {
                amount: need(j.amount, "amount")?,
            },
            "unlock_power" => Payload::UnlockPower {
                amount: need(j.amount, "amount")?,
            },
            "delegate" => Payload::Delegate { to: j.to },
            "propose" => Payload::Propose {
                action: j.action.ok_or_else(|| D::Error::missing_field("action"))?,
                title: j.title.ok_or_else(|| D::Error::missing_field("title"))?,
                body_hash: j
                    .body_hash
                    .ok_or_else(|| D::Error::missing_field("body_hash"))?,
            },
            "vote" => Payload::Vote {
                proposal: j
                    .proposal
                    .ok_or_else(|| D::Error::missing_field("proposal"))?,
                choice: j.choice.ok_or_else(|| D::Error::missing_field("choice"))?,
            },
            "cancel_proposal" => Payload::CancelProposal {
                proposal: j
                    .proposal
                    .ok_or_else(|| D::Error::missing_field("proposal"))?,
            },
            other => return Err(D::Error::unknown_variant(other, PAYLOAD_TYPES)),
        })
    }
}

/// The payload kinds' names in JSON.
const PAYLOAD_TYPES: &[&str] = &[
    "transfer",
    "register_meter",
    "reading",
    "place_order",
    "cancel_order",
    "claim_certificates",
    "lock_power",
    "unlock_power",
    "delegate",
    "propose",
    "vote",
    "cancel_proposal",
];

/// What a meter signs to be registered to `owner` on chain `chain_id` with this kind and
/// capacity: `chain_id str | owner [20] | meter [32] | kind u8 | capacity_w u64`, hashed in
/// the meter-PoP domain. Binding the owner and the chain stops a registration being replayed
/// for another owner or on another chain.
pub fn meter_pop_message(
    chain_id: &str,
    owner: &Address,
    meter: &PublicKey,
    kind: MeterKind,
    capacity_w: u64,
) -> Hash {
    let mut buf = Vec::with_capacity(96);
    put_str(&mut buf, chain_id);
    owner.encode_to(&mut buf);
    meter.encode_to(&mut buf);
    kind.encode_to(&mut buf);
    capacity_w.encode_to(&mut buf);
    Domain::MeterPop.hash(&buf)
}

/// A transaction with its sender's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The signed content.
    pub tx: Transaction,
    /// The sender's ed25519 signature over [`Transaction::id`].
    pub signature: Signature,
}

impl Transaction {
    /// The transaction's id: the domain-separated hash of its canonical encoding.
    pub fn id(&self) -> Hash {
        Domain::Transaction.hash_encoded(self)
    }

    /// The sender's address.
    pub fn sender_address(&self) -> Address {
        Address::from_public_key(&self.sender)
    }

    /// Signs the transaction. The key must be the sender's for the result to verify.
    pub fn sign(self, key: &SecretKey) -> SignedTransaction {
        let signature = key.sign(self.id().as_bytes());
        SignedTransaction {
            tx: self,
            signature,
        }
    }

    /// The amount of tokens the payload moves out of the sender's account (fees excluded):
    /// a transfer's amount; for a bid, its price × quantity (the market fee is charged from
    /// the escrow at settlement, see [`crate::market::bid_escrow`]).
    pub fn amount_out(&self) -> u64 {
        match &self.payload {
            Payload::Transfer { amount, .. } | Payload::LockPower { amount } => *amount,
            Payload::PlaceOrder {
                side: Side::Bid,
                price,
                qty_wh,
                ..
            } => price.saturating_mul(*qty_wh),
            Payload::RegisterMeter { .. }
            | Payload::Reading { .. }
            | Payload::PlaceOrder { .. }
            | Payload::CancelOrder { .. }
            | Payload::ClaimCertificates { .. }
            | Payload::UnlockPower { .. }
            | Payload::Delegate { .. }
            | Payload::Propose { .. }
            | Payload::Vote { .. }
            | Payload::CancelProposal { .. } => 0,
        }
    }
}

impl SignedTransaction {
    /// The transaction's id.
    pub fn id(&self) -> Hash {
        self.tx.id()
    }

    /// Checks the signature strictly against the sender's key.
    pub fn verify_signature(&self) -> Result<(), KeyError> {
        self.tx.sender.verify(self.id().as_bytes(), &self.signature)
    }

    /// Decodes untrusted bytes, refusing anything over [`MAX_TX_BYTES`] before parsing.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(CodecError::TooLong {
                field: "transaction",
                len: bytes.len() as u64,
                max: MAX_TX_BYTES as u64,
            });
        }
        decode_exact(bytes)
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(TX_VERSION);
        put_str(out, &self.chain_id);
        self.sender.encode_to(out);
        self.nonce.encode_to(out);
        self.max_fee.encode_to(out);
        self.payload.encode_to(out);
    }
}

impl Decode for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let version = r.u8()?;
        if version != TX_VERSION {
            return Err(CodecError::UnknownTag {
                kind: "transaction version",
                tag: version,
            });
        }
        Ok(Transaction {
            chain_id: r.string("chain_id", MAX_CHAIN_ID_LEN)?,
            sender: PublicKey::decode_from(r)?,
            nonce: r.u64()?,
            max_fee: r.u64()?,
            payload: Payload::decode_from(r)?,
        })
    }
}

impl Encode for Payload {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Transfer { to, amount } => {
                out.push(0);
                to.encode_to(out);
                amount.encode_to(out);
            }
            Payload::RegisterMeter {
                meter,
                kind,
                capacity_w,
                pop,
            } => {
                out.push(1);
                meter.encode_to(out);
                kind.encode_to(out);
                capacity_w.encode_to(out);
                pop.encode_to(out);
            }
            Payload::Reading {
                interval,
                produced_wh,
                consumed_wh,
            } => {
                out.push(2);
                interval.encode_to(out);
                produced_wh.encode_to(out);
                consumed_wh.encode_to(out);
            }
            Payload::PlaceOrder {
                interval,
                side,
                price,
                qty_wh,
                meter,
            } => {
                out.push(3);
                interval.encode_to(out);
                side.encode_to(out);
                price.encode_to(out);
                qty_wh.encode_to(out);
                meter.encode_to(out);
            }
            Payload::CancelOrder { order } => {
                out.push(4);
                order.encode_to(out);
            }
            Payload::ClaimCertificates {
                meter,
                origin,
                day,
                kind,
                wh,
            } => {
                out.push(5);
                meter.encode_to(out);
                origin.encode_to(out);
                day.encode_to(out);
                kind.encode_to(out);
                wh.encode_to(out);
            }
            Payload::LockPower { amount } => {
                out.push(6);
                amount.encode_to(out);
            }
            Payload::UnlockPower { amount } => {
                out.push(7);
                amount.encode_to(out);
            }
            Payload::Delegate { to } => {
                out.push(8);
                to.encode_to(out);
            }
            Payload::Propose {
                action,
                title,
                body_hash,
            } => {
                out.push(9);
                action.encode_to(out);
                put_str(out, title);
                body_hash.encode_to(out);
            }
            Payload::Vote { proposal, choice } => {
                out.push(10);
                proposal.encode_to(out);
                choice.encode_to(out);
            }
            Payload::CancelProposal { proposal } => {
                out.push(11);
                proposal.encode_to(out);
            }
        }
    }
}

impl Decode for Payload {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        match r.u8()? {
            0 => Ok(Payload::Transfer {
                to: Address::decode_from(r)?,
                amount: r.u64()?,
            }),
            1 => Ok(Payload::RegisterMeter {
                meter: PublicKey::decode_from(r)?,
                kind: MeterKind::decode_from(r)?,
                capacity_w: r.u64()?,
                pop: Signature::decode_from(r)?,
            }),
            2 => Ok(Payload::Reading {
                interval: r.u64()?,
                produced_wh: r.u64()?,
                consumed_wh: r.u64()?,
            }),
            3 => Ok(Payload::PlaceOrder {
                interval: r.u64()?,
                side: Side::decode_from(r)?,
                price: r.u64()?,
                qty_wh: r.u64()?,
                meter: Option::decode_from(r)?,
            }),
            4 => Ok(Payload::CancelOrder {
                order: Hash::decode_from(r)?,
            }),
            5 => Ok(Payload::ClaimCertificates {
                meter: Option::decode_from(r)?,
                origin: Address::decode_from(r)?,
                day: r.u32()?,
                kind: MeterKind::decode_from(r)?,
                wh: r.u64()?,
            }),
            6 => Ok(Payload::LockPower { amount: r.u64()? }),
            7 => Ok(Payload::UnlockPower { amount: r.u64()? }),
            8 => Ok(Payload::Delegate {
                to: Option::decode_from(r)?,
            }),
            9 => Ok(Payload::Propose {
                action: Action::decode_from(r)?,
                title: r.string("title", MAX_TITLE_BYTES)?,
                body_hash: Hash::decode_from(r)?,
            }),
            10 => Ok(Payload::Vote {
                proposal: Hash::decode_from(r)?,
                choice: Choice::decode_from(r)?,
            }),
            11 => Ok(Payload::CancelProposal {
                proposal: Hash::decode_from(r)?,
            }),
            tag => Err(CodecError::UnknownTag {
                kind: "payload",
                tag,
            }),
        }
    }
}

impl Encode for SignedTransaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedTransaction {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(SignedTransaction {
            tx: Transaction::decode_from(r)?,
            signature: Signature::decode_from(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sample() -> SignedTransaction {
        let key = SecretKey::from_seed(&[1; 32]);
        Transaction {
            chain_id: "joule-test".into(),
            sender: key.public_key(),
            nonce: 3,
            max_fee: 1_000,
            payload: Payload::Transfer {
                to: Address([2; 20]),
                amount: 5,
            },
        }
        .sign(&key)
    }

    #[test]
    fn signed_round_trip() {
        let stx = sample();
        let bytes = stx.encode();
        assert_eq!(SignedTransaction::from_bytes(&bytes), Ok(stx.clone()));
        assert_eq!(stx.verify_signature(), Ok(()));
    }

    #[test]
    fn tampered_amount_fails_signature() {
        let mut stx = sample();
        stx.tx.payload = Payload::Transfer {
            to: Address([2; 20]),
            amount: 6,
        };
        assert_eq!(stx.verify_signature(), Err(KeyError::BadSignature));
    }

    #[test]
    fn oversized_rejected_before_parsing() {
        let bytes = vec![0u8; MAX_TX_BYTES + 1];
        assert!(matches!(
            SignedTransaction::from_bytes(&bytes),
            Err(CodecError::TooLong { .. })
        ));
    }

    #[test]
    fn unknown_version_and_payload_rejected() {
        let mut bytes = sample().encode();
        bytes[0] = 2;
        assert!(matches!(
            SignedTransaction::from_bytes(&bytes),
            Err(CodecError::UnknownTag {
                kind: "transaction version",
                ..
            })
        ));
        let mut bytes = sample().encode();
        let tag_at = 1 + 4 + "joule-test".len() + 32 + 8 + 8;
        bytes[tag_at] = 12;
        assert!(matches!(
            SignedTransaction::from_bytes(&bytes),
            Err(CodecError::UnknownTag {
                kind: "payload",
                ..
            })
        ));
    }

    #[test]
    fn governance_payloads_golden_vectors_and_json() {
        use crate::dao::Param;
        let cases = [
            (
                Payload::Propose {
                    action: Action::SetParam {
                        param: Param::FeeBps,
                        value: 100,
                    },
                    title: "Fee".into(),
                    body_hash: Hash([7; 32]),
                },
                "0901016400000000000000030000004665650707070707070707070707070707070707070707070707070707070707070707",
                r#"{"type":"propose","action":{"kind":"set_param","param":"fee_bps","value":100},"title":"Fee","body_hash":"0707070707070707070707070707070707070707070707070707070707070707"}"#,
            ),
            (
                Payload::Vote {
                    proposal: Hash([1; 32]),
                    choice: Choice::Abstain,
                },
                "0a010101010101010101010101010101010101010101010101010101010101010102",
                r#"{"type":"vote","proposal":"0101010101010101010101010101010101010101010101010101010101010101","choice":"abstain"}"#,
            ),
            (
                Payload::CancelProposal {
                    proposal: Hash([1; 32]),
                },
                "0b0101010101010101010101010101010101010101010101010101010101010101",
                r#"{"type":"cancel_proposal","proposal":"0101010101010101010101010101010101010101010101010101010101010101"}"#,
            ),
        ];
        for (payload, hex_, json) in cases {
            assert_eq!(hex::encode(payload.encode()), hex_);
            assert_eq!(
                decode_exact::<Payload>(&payload.encode()),
                Ok(payload.clone())
            );
            assert_eq!(serde_json::to_string(&payload).unwrap(), json);
            assert_eq!(serde_json::from_str::<Payload>(json).unwrap(), payload);
        }
        // A title over the limit does not decode.
        let mut long = Payload::Propose {
            action: Action::Text,
            title: "x".repeat(MAX_TITLE_BYTES + 1),
            body_hash: Hash([0; 32]),
        }
        .encode();
        assert!(decode_exact::<Payload>(&long).is_err());
        long.truncate(1);
        assert!(decode_exact::<Payload>(&long).is_err());
    }

    #[test]
    fn json_round_trip() {
        let stx = sample();
        let json = serde_json::to_string(&stx).unwrap();
        assert!(json.contains("\"type\":\"transfer\""));
        assert_eq!(
            serde_json::from_str::<SignedTransaction>(&json).unwrap(),
            stx
        );
    }
}
