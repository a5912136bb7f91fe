//! ed25519 keys and signatures, with strict verification.
//!
//! Verification uses `verify_strict` and additionally rejects weak (small-order) public keys,
//! so a signature's validity never depends on how it is checked (alone or in a batch) — a
//! consensus split otherwise waits to happen.

use core::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::codec::{self, Decode, Encode, Reader};
use crate::hash::{parse_hex_array, HexError};

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not a valid curve point.
    #[error("public key is not a valid ed25519 point")]
    InvalidPublicKey,
    /// The key has small order: anyone can forge signatures for it.
    #[error("public key is weak (small order)")]
    WeakPublicKey,
    /// The signature does not verify under the key.
    #[error("bad signature")]
    BadSignature,
}

/// An ed25519 public key, as its 32 compressed bytes. Validity is checked on use.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl PublicKey {
    /// Decompresses the key, rejecting invalid and weak keys.
    pub fn to_verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let vk = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::InvalidPublicKey)?;
        if vk.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(vk)
    }

    /// Verifies `sig` over `msg` strictly.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), KeyError> {
        let vk = self.to_verifying_key()?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig)
            .map_err(|_| KeyError::BadSignature)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        parse_hex_array(s).map(PublicKey)
    }
}

/// An ed25519 signing key. Its bytes are wiped on drop and never printed.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key whose 32-byte seed is `seed`. The caller supplies the randomness.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The seed, for the wallet's encrypted vault.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public_key().to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

macro_rules! hex_bytes_codec {
    ($t:ident, $n:expr) => {
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }
        impl Decode for $t {
            fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
                r.array::<$n>().map($t)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                parse_hex_array::<$n>(&s)
                    .map($t)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
hex_bytes_codec!(PublicKey, 32);
hex_bytes_codec!(Signature, 64);

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn sign_and_verify() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let sig = sk.sign(b"hello");
        assert_eq!(sk.public_key().verify(b"hello", &sig), Ok(()));
        assert_eq!(
            sk.public_key().verify(b"hellO", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn weak_key_rejected() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let pk = PublicKey(identity);
        assert_eq!(
            pk.verify(b"m", &Signature([0; 64])),
            Err(KeyError::WeakPublicKey)
        );
    }

    #[test]
    fn invalid_point_rejected() {
        // y = 2 is not on the curve.
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        assert_eq!(
            PublicKey(bytes).to_verifying_key().err(),
            Some(KeyError::InvalidPublicKey)
        );
    }

    #[test]
    fn secret_key_debug_hides_secret() {
        let sk = SecretKey::from_seed(&[9; 32]);
        let shown = format!("{sk:?}");
        assert!(!shown.contains(&hex::encode([9u8; 32])));
    }
}
