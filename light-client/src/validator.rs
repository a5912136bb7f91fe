//! Validator sets: who signs blocks, with how much voting power.
//!
//! Encoding: `count u32 (≤ MAX_VALIDATORS) | (public_key [32] | power u64)*`. A set is valid when
//! it is non-empty, every power is positive, keys are distinct and the total fits in a `u64`;
//! [`ValidatorSet::new`] and decoding both enforce it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec::{self, put_vec, CodecError, Decode, Encode, Reader};
use crate::crypto::PublicKey;
use crate::hash::{Domain, Hash};

/// The largest validator set accepted.
pub const MAX_VALIDATORS: usize = 1024;

/// Why a validator set is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidatorSetError {
    /// No validators.
    #[error("validator set is empty")]
    Empty,
    /// More than [`MAX_VALIDATORS`].
    #[error("validator set has {0} members, more than {MAX_VALIDATORS}")]
    TooLarge(usize),
    /// A member has no power.
    #[error("validator {0} has zero power")]
    ZeroPower(PublicKey),
    /// A key appears twice.
    #[error("validator {0} appears twice")]
    Duplicate(PublicKey),
    /// Powers overflow a `u64`.
    #[error("total voting power overflows")]
    PowerOverflow,
}

/// One validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// Its signing key.
    pub public_key: PublicKey,
    /// Its voting power.
    pub power: u64,
}

/// An ordered, validated set of validators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    #[serde(skip)]
    total_power: u64,
}

impl ValidatorSet {
    /// Validates and builds a set.
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooLarge(validators.len()));
        }
        let mut total: u64 = 0;
        let mut keys: Vec<&PublicKey> = Vec::with_capacity(validators.len());
        for v in &validators {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.public_key));
            }
            total = total
                .checked_add(v.power)
                .ok_or(ValidatorSetError::PowerOverflow)?;
            keys.push(&v.public_key);
        }
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(ValidatorSetError::Duplicate(*w[0]));
        }
        Ok(Self {
            validators,
            total_power: total,
        })
    }

    /// The members, in order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    /// The member with this key, if any.
    pub fn get(&self, key: &PublicKey) -> Option<&Validator> {
        self.validators.iter().find(|v| v.public_key == *key)
    }

    /// The set's hash, as named by block headers.
    pub fn hash(&self) -> Hash {
        Domain::ValidatorSet.hash_encoded(self)
    }
}

impl<'de> Deserialize<'de> for ValidatorSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            validators: Vec<Validator>,
        }
        let raw = Raw::deserialize(d)?;
        ValidatorSet::new(raw.validators).map_err(serde::de::Error::custom)
    }
}

impl Encode for Validator {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.public_key.encode_to(out);
        self.power.encode_to(out);
    }
}

impl Decode for Validator {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Validator {
            public_key: PublicKey::decode_from(r)?,
            power: r.u64()?,
        })
    }
}

impl Encode for ValidatorSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_vec(out, &self.validators);
    }
}

impl Decode for ValidatorSet {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let validators = r.vec("validators", MAX_VALIDATORS, 40)?;
        ValidatorSet::new(validators).map_err(|_| CodecError::Invalid {
            field: "validators",
            reason: "invalid validator set",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn v(seed: u8, power: u64) -> Validator {
        Validator {
            public_key: SecretKey::from_seed(&[seed; 32]).public_key(),
            power,
        }
    }

    #[test]
    fn rejects_invalid_sets() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        assert!(matches!(
            ValidatorSet::new(vec![v(1, 0)]),
            Err(ValidatorSetError::ZeroPower(_))
        ));
        assert!(matches!(
            ValidatorSet::new(vec![v(1, 1), v(2, 1), v(1, 3)]),
            Err(ValidatorSetError::Duplicate(_))
        ));
        assert_eq!(
            ValidatorSet::new(vec![v(1, u64::MAX), v(2, 1)]),
            Err(ValidatorSetError::PowerOverflow)
        );
    }

    #[test]
    fn json_rejects_invalid_set() {
        let bad = serde_json::json!({ "validators": [] });
        assert!(serde_json::from_value::<ValidatorSet>(bad).is_err());
        let good = ValidatorSet::new(vec![v(1, 5), v(2, 7)]).unwrap();
        let back: ValidatorSet =
            serde_json::from_value(serde_json::to_value(&good).unwrap()).unwrap();
        assert_eq!(back, good);
        assert_eq!(back.total_power(), 12);
    }
}
