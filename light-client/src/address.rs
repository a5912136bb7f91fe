//! Account addresses: 20 bytes derived from a public key, written as bech32m text (`joule1…`).
//!
//! The text form carries a checksum, so a mistyped address fails to parse instead of sending
//! funds nowhere. Only bech32m with the human-readable prefix `joule` is accepted; the older
//! bech32 checksum is rejected. An account lives on the shard [`Address::shard`] names.

use core::fmt;
use core::str::FromStr;

use bech32::primitives::decode::{CheckedHrpstring, CheckedHrpstringError};
use bech32::{Bech32m, Hrp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::codec::{self, Decode, Encode, Reader};
use crate::crypto::PublicKey;
use crate::hash::Domain;

/// The human-readable prefix of every address.
pub const ADDRESS_PREFIX: &str = "joule";

/// Index of a shard, `0..shard_count`.
pub type ShardId = u16;

/// Why a text address was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The checksum does not match: a character is mistyped.
    #[error("address checksum is wrong (mistyped?)")]
    BadChecksum,
    /// The prefix is not `joule`.
    #[error("address prefix must be \"joule\", got {0:?}")]
    WrongPrefix(String),
    /// The payload is not 20 bytes.
    #[error("address must hold 20 bytes, got {0}")]
    WrongLength(usize),
    /// Not bech32 text at all.
    #[error("not a bech32m address: {0}")]
    Malformed(String),
}

/// An account address. Ordered by its bytes, lexicographically.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address(pub [u8; 20]);

impl Ord for Address {
    /// The bytes' lexicographic order, compared as big-endian words: blocks sort tens of
    /// thousands of addresses, and this is several times cheaper than a `memcmp` call each.
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        let word = |a: &Address, at: usize| {
            let mut w = [0u8; 8];
            let end = (at + 8).min(20);
            w[..end - at].copy_from_slice(&a.0[at..end]);
            u64::from_be_bytes(w)
        };
        word(self, 0)
            .cmp(&word(other, 0))
            .then_with(|| word(self, 8).cmp(&word(other, 8)))
            .then_with(|| word(self, 16).cmp(&word(other, 16)))
    }
}

impl PartialOrd for Address {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Address {
    /// The address of the account controlled by `key`.
    pub fn from_public_key(key: &PublicKey) -> Self {
        let h = Domain::Address.hash(&key.0);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h.0[..20]);
        Address(a)
    }

    /// The shard this account lives on, for a chain of `shard_count` shards.
    pub fn shard(&self, shard_count: u16) -> ShardId {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        (u64::from_le_bytes(first) % u64::from(shard_count.max(1))) as ShardId
    }

    /// The bech32m text form.
    pub fn to_bech32(&self) -> String {
        let hrp = Hrp::parse_unchecked(ADDRESS_PREFIX);
        bech32::encode::<Bech32m>(hrp, &self.0).expect("20 bytes always encode")
    }

    /// Parses the bech32m text form.
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let checked = CheckedHrpstring::new::<Bech32m>(s.trim()).map_err(|e| match e {
            CheckedHrpstringError::Checksum(_) => AddressError::BadChecksum,
            other => AddressError::Malformed(other.to_string()),
        })?;
        let hrp = checked.hrp();
        if hrp.to_lowercase() != ADDRESS_PREFIX {
            return Err(AddressError::WrongPrefix(hrp.to_lowercase()));
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let arr: [u8; 20] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| AddressError::WrongLength(bytes.len()))?;
        Ok(Address(arr))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_bech32())
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_bech32())
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Encode for Address {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Address {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        r.array().map(Address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn order_is_the_bytes_lexicographic_order() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for _ in 0..10_000 {
            let mut a = [0u8; 20];
            let mut b = [0u8; 20];
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                *x = (next() % 4) as u8;
                *y = if next() % 3 == 0 {
                    *x
                } else {
                    (next() % 4) as u8
                };
            }
            assert_eq!(Address(a).cmp(&Address(b)), a.cmp(&b), "{a:?} {b:?}");
        }
    }

    fn sample() -> Address {
        Address::from_public_key(&SecretKey::from_seed(&[1; 32]).public_key())
    }

    #[test]
    fn round_trip() {
        let a = sample();
        let text = a.to_bech32();
        assert!(text.starts_with("joule1"));
        assert_eq!(Address::parse(&text), Ok(a));
        assert_eq!(Address::parse(&text.to_uppercase()), Ok(a));
    }

    #[test]
    fn bad_checksum() {
        let mut text = sample().to_bech32();
        let last = text.pop().unwrap();
        text.push(if last == 'q' { 'p' } else { 'q' });
        assert_eq!(Address::parse(&text), Err(AddressError::BadChecksum));
    }

    #[test]
    fn wrong_prefix() {
        let other = bech32::encode::<Bech32m>(Hrp::parse("watt").unwrap(), &sample().0).unwrap();
        assert_eq!(
            Address::parse(&other),
            Err(AddressError::WrongPrefix("watt".into()))
        );
    }

    #[test]
    fn wrong_length() {
        let long = bech32::encode::<Bech32m>(Hrp::parse("joule").unwrap(), &[3u8; 32]).unwrap();
        assert_eq!(Address::parse(&long), Err(AddressError::WrongLength(32)));
    }

    #[test]
    fn bech32_checksum_variant_rejected() {
        let legacy =
            bech32::encode::<bech32::Bech32>(Hrp::parse("joule").unwrap(), &sample().0).unwrap();
        assert_eq!(Address::parse(&legacy), Err(AddressError::BadChecksum));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            Address::parse("hello world"),
            Err(AddressError::Malformed(_))
        ));
    }

    #[test]
    fn shard_is_stable_and_in_range() {
        let a = sample();
        assert!(a.shard(4) < 4);
        assert_eq!(a.shard(4), a.shard(4));
        assert_eq!(a.shard(1), 0);
    }
}
