//! The market's objects in state: meters, orders, certificate lots and the parameters, each
//! with its key ([`crate::object::StateKey`]) and canonical encoding.
//!
//! Keys:
//! - a meter lives under its own address (`home` = the meter), identity = that address: its
//!   readings are signed by the meter's key, so the meter's account and object share a shard;
//!   registration requires the owner to be on that shard too (keys are found off-chain);
//! - an order under its owner, identity = the id of the transaction that placed it;
//! - a certificate lot under its holder, identity = origin meter ‖ day ‖ kind (one lot per
//!   holder, origin, day and kind: certificates bought from one meter on one day merge);
//! - the parameters under shard 0's system home, identity empty.

use serde::{Deserialize, Serialize};

use super::clearing::Side;
use super::schedule::MarketParams;
use crate::address::Address;
use crate::codec::{self, CodecError, Decode, Encode, Reader};
use crate::hash::Hash;
use crate::object::{Object, ObjectKind, StateKey};

/// What a meter measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum MeterKind {
    /// Photovoltaic production (and the site's consumption).
    Solar = 1,
    /// Wind production (and the site's consumption).
    Wind = 2,
    /// A battery: what it exports is not renewable by itself.
    Storage = 3,
    /// Consumption only.
    Consumption = 4,
}

impl MeterKind {
    /// Whether production measured by this kind of meter is minted as certificates.
    pub fn renewable(self) -> bool {
        matches!(self, MeterKind::Solar | MeterKind::Wind)
    }

    /// Whether this kind of meter may report production at all.
    pub fn produces(self) -> bool {
        !matches!(self, MeterKind::Consumption)
    }
}

/// A registered meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    /// The prosumer it belongs to (who may sell what it measures).
    pub owner: Address,
    /// What it measures.
    pub kind: MeterKind,
    /// Its rated power, W: no interval's reading may exceed what it could deliver at it.
    pub capacity_w: u64,
    /// The lowest interval its next reading may be for (readings come in order, one each).
    pub next_interval: u64,
    /// Wh produced over all its readings.
    pub produced_wh: u64,
    /// Wh consumed over all its readings.
    pub consumed_wh: u64,
    /// Wh produced in its last reading (for interval `next_interval − 1`; 0 before any):
    /// what settlement pays its offers for.
    pub last_produced_wh: u64,
}

/// An order on an interval's book (deleted once settled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Who placed it.
    pub owner: Address,
    /// The delivery interval.
    pub interval: u64,
    /// Buy or sell.
    pub side: Side,
    /// Limit price, token units per Wh (a bid pays at most this, an offer takes at least it).
    pub price: u64,
    /// Wh.
    pub qty_wh: u64,
    /// For an offer, the seller's meter that must deliver it; for a bid, `None`.
    pub meter: Option<Address>,
    /// Tokens held for a bid: its worst-case cost with the fee; 0 for an offer.
    pub escrow: u64,
    /// Wh filled at clearing (0 until then).
    pub filled_wh: u64,
}

/// Certificates of origin: renewable Wh measured by one meter on one day, held by one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertLot {
    /// Who holds them.
    pub holder: Address,
    /// The meter that measured the energy.
    pub origin: Address,
    /// The day (UTC days since the Unix epoch) the energy was produced.
    pub day: u32,
    /// Solar or wind.
    pub kind: MeterKind,
    /// Wh held and not yet claimed.
    pub wh: u64,
    /// Wh claimed (retired) by the holder.
    pub claimed_wh: u64,
}

/// The market fee on a fill worth `value` token units: `fee_bps` basis points of it, rounded
/// up (so a fee is never zero on a paid fill while the rate is not).
pub fn market_fee(value: u64, fee_bps: u16) -> u64 {
    let fee = (u128::from(value) * u128::from(fee_bps)).div_ceil(10_000);
    // At most 10 % of a u64 (bounded rate): fits.
    u64::try_from(fee).unwrap_or(u64::MAX)
}

/// What a bid holds in escrow when placed: its worst case, every Wh at its limit price plus
/// the market fee on that. `None` if it does not fit in 64 bits.
pub fn bid_escrow(price: u64, qty_wh: u64, fee_bps: u16) -> Option<u64> {
    let value = price.checked_mul(qty_wh)?;
    value.checked_add(market_fee(value, fee_bps))
}

/// The community treasury's account: where market fees go (and, with governance, what the
/// community spends). No key is known for it: only the chain's own steps move its tokens.
pub fn treasury() -> Address {
    let key = blake3::derive_key("joule 2026-12 community treasury", b"");
    let mut a = [0u8; 20];
    a.copy_from_slice(&key[..20]);
    Address(a)
}

/// The key of `meter`'s object.
pub fn meter_key(meter: &Address) -> StateKey {
    StateKey::new(meter, ObjectKind::Meter, &meter.0)
}

/// The key of the order placed by transaction `tx_id` of `owner`.
pub fn order_key(owner: &Address, tx_id: &Hash) -> StateKey {
    StateKey::new(owner, ObjectKind::Order, &tx_id.0)
}

/// The key of `holder`'s lot of certificates from `origin` on `day` of `kind`.
pub fn cert_lot_key(holder: &Address, origin: &Address, day: u32, kind: MeterKind) -> StateKey {
    let mut identity = [0u8; 25];
    identity[..20].copy_from_slice(&origin.0);
    identity[20..24].copy_from_slice(&day.to_le_bytes());
    identity[24] = kind as u8;
    StateKey::new(holder, ObjectKind::CertLot, &identity)
}

/// The key of the market's parameters.
pub fn params_key() -> StateKey {
    StateKey::system(0, ObjectKind::Params, b"")
}

/// The key of the market's parameters before its last schedule change: intervals before the
/// new schedule's anchor keep the heights these give them until they settle.
pub fn previous_params_key() -> StateKey {
    StateKey::system(0, ObjectKind::Params, b"previous")
}

impl Object for Meter {
    const KIND: ObjectKind = ObjectKind::Meter;
}

impl Object for Order {
    const KIND: ObjectKind = ObjectKind::Order;
}

impl Object for CertLot {
    const KIND: ObjectKind = ObjectKind::CertLot;
}

impl Object for MarketParams {
    const KIND: ObjectKind = ObjectKind::Params;
}

impl Encode for MeterKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (*self as u8).encode_to(out);
    }
}

impl Decode for MeterKind {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(match r.u8()? {
            1 => MeterKind::Solar,
            2 => MeterKind::Wind,
            3 => MeterKind::Storage,
            4 => MeterKind::Consumption,
            tag => {
                return Err(CodecError::UnknownTag {
                    kind: "meter kind",
                    tag,
                })
            }
        })
    }
}

impl Encode for Side {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Side::Bid => 0u8,
            Side::Ask => 1u8,
        }
        .encode_to(out);
    }
}

impl Decode for Side {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        match r.u8()? {
            0 => Ok(Side::Bid),
            1 => Ok(Side::Ask),
            tag => Err(CodecError::UnknownTag { kind: "side", tag }),
        }
    }
}

impl Encode for Meter {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.owner.encode_to(out);
        self.kind.encode_to(out);
        self.capacity_w.encode_to(out);
        self.next_interval.encode_to(out);
        self.produced_wh.encode_to(out);
        self.consumed_wh.encode_to(out);
        self.last_produced_wh.encode_to(out);
    }
}

impl Decode for Meter {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Meter {
            owner: Address::decode_from(r)?,
            kind: MeterKind::decode_from(r)?,
            capacity_w: r.u64()?,
            next_interval: r.u64()?,
            produced_wh: r.u64()?,
            consumed_wh: r.u64()?,
            last_produced_wh: r.u64()?,
        })
    }
}

impl Encode for Order {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.owner.encode_to(out);
        self.interval.encode_to(out);
        self.side.encode_to(out);
        self.price.encode_to(out);
        self.qty_wh.encode_to(out);
        self.meter.encode_to(out);
        self.escrow.encode_to(out);
        self.filled_wh.encode_to(out);
    }
}

impl Decode for Order {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Order {
            owner: Address::decode_from(r)?,
            interval: r.u64()?,
            side: Side::decode_from(r)?,
            price: r.u64()?,
            qty_wh: r.u64()?,
            meter: Option::decode_from(r)?,
            escrow: r.u64()?,
            filled_wh: r.u64()?,
        })
    }
}

impl Encode for CertLot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.holder.encode_to(out);
        self.origin.encode_to(out);
        self.day.encode_to(out);
        self.kind.encode_to(out);
        self.wh.encode_to(out);
        self.claimed_wh.encode_to(out);
    }
}

impl Decode for CertLot {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(CertLot {
            holder: Address::decode_from(r)?,
            origin: Address::decode_from(r)?,
            day: r.u32()?,
            kind: MeterKind::decode_from(r)?,
            wh: r.u64()?,
            claimed_wh: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::codec::decode_exact;
    use crate::object::{objects_root, prove_object};

    fn meter() -> Meter {
        Meter {
            owner: Address([1; 20]),
            kind: MeterKind::Solar,
            capacity_w: 5_000,
            next_interval: 7,
            produced_wh: 1_200,
            consumed_wh: 300,
            last_produced_wh: 200,
        }
    }

    fn order() -> Order {
        Order {
            owner: Address([2; 20]),
            interval: 9,
            side: Side::Ask,
            price: 110_000,
            qty_wh: 3_200,
            meter: Some(Address([3; 20])),
            escrow: 0,
            filled_wh: 0,
        }
    }

    fn lot() -> CertLot {
        CertLot {
            holder: Address([4; 20]),
            origin: Address([3; 20]),
            day: 20_424,
            kind: MeterKind::Wind,
            wh: 800,
            claimed_wh: 100,
        }
    }

    #[test]
    fn objects_round_trip_and_golden_vectors() {
        let m = meter().encode();
        assert_eq!(decode_exact::<Meter>(&m), Ok(meter()));
        assert_eq!(
            hex::encode(&m),
            "0101010101010101010101010101010101010101\
             01\
             8813000000000000\
             0700000000000000\
             b004000000000000\
             2c01000000000000\
             c800000000000000"
        );
        let o = order().encode();
        assert_eq!(decode_exact::<Order>(&o), Ok(order()));
        assert_eq!(
            hex::encode(&o),
            "0202020202020202020202020202020202020202\
             0900000000000000\
             01\
             b0ad010000000000\
             800c000000000000\
             01\
             0303030303030303030303030303030303030303\
             0000000000000000\
             0000000000000000"
        );
        let c = lot().encode();
        assert_eq!(decode_exact::<CertLot>(&c), Ok(lot()));
        assert_eq!(c.len(), 20 + 20 + 4 + 1 + 8 + 8);
    }

    #[test]
    fn fees_round_up_and_escrow_covers_the_worst_case() {
        assert_eq!(market_fee(10_000, 50), 50);
        assert_eq!(market_fee(1, 50), 1);
        assert_eq!(market_fee(0, 50), 0);
        assert_eq!(market_fee(12_345, 0), 0);
        assert_eq!(
            bid_escrow(110_000, 3_200, 50),
            Some(352_000_000 + 1_760_000)
        );
        assert_eq!(bid_escrow(u64::MAX, 2, 0), None);
        assert_eq!(bid_escrow(u64::MAX - 5, 1, 1_000), None);
    }

    #[test]
    fn bad_tags_are_refused() {
        let mut m = meter().encode();
        m[20] = 9;
        assert!(decode_exact::<Meter>(&m).is_err());
        let mut o = order().encode();
        o[28] = 2; // side
        assert!(decode_exact::<Order>(&o).is_err());
        let mut o = order().encode();
        o[45] = 7; // meter presence
        assert!(decode_exact::<Order>(&o).is_err());
    }

    #[test]
    fn keys_live_with_their_owner_and_name_their_kind() {
        let (a, b) = (Address([5; 20]), Address([6; 20]));
        assert_eq!(meter_key(&a).kind(), Some(ObjectKind::Meter));
        assert_eq!(order_key(&a, &Hash([1; 32])).shard(4), a.shard(4));
        assert_ne!(order_key(&a, &Hash([1; 32])), order_key(&b, &Hash([1; 32])));
        assert_ne!(
            cert_lot_key(&a, &b, 1, MeterKind::Solar),
            cert_lot_key(&a, &b, 1, MeterKind::Wind)
        );
        assert_eq!(params_key().shard(4), 0);
        assert!(MeterKind::Solar.renewable() && !MeterKind::Storage.renewable());
        assert!(!MeterKind::Consumption.produces());
    }

    #[test]
    fn inflated_certificate() {
        // A node proves a real lot, then serves it with more Wh than state holds: the leaf no
        // longer hashes to the proven root.
        let key = cert_lot_key(&lot().holder, &lot().origin, lot().day, lot().kind);
        let all = vec![(key, lot().encode())];
        let root = objects_root(&all);
        let mut proof = prove_object(&all, &key);
        assert_eq!(proof.proven::<CertLot>(&root, &key), Ok(Some(lot())));
        let mut more = lot();
        more.wh += 1_000;
        proof.leaf = Some((key, more.encode()));
        assert!(proof.proven::<CertLot>(&root, &key).is_err());
    }

    #[test]
    fn a_proven_order_reads_back_typed_and_a_meter_key_cannot_pass_for_it() {
        let (mk, ok) = (
            meter_key(&Address([3; 20])),
            order_key(&Address([2; 20]), &Hash([8; 32])),
        );
        let mut all = vec![(mk, meter().encode()), (ok, order().encode())];
        all.sort_unstable_by_key(|(k, _)| *k);
        let root = objects_root(&all);
        assert_eq!(
            prove_object(&all, &ok).proven::<Order>(&root, &ok),
            Ok(Some(order()))
        );
        assert!(prove_object(&all, &mk).proven::<Order>(&root, &mk).is_err());
        assert_eq!(
            prove_object(&all, &mk).proven::<Meter>(&root, &mk),
            Ok(Some(meter()))
        );
    }
}
