//! ed25519 keys and signatures.
//!
//! Verification follows ZIP-215: `s` must be canonical, `A` and `R` must decode as curve
//! points, and the *cofactored* equation `[8](s·B − k·A − R) = 0` must hold, with
//! `k = SHA-512(R ‖ A ‖ M)`. Unlike the cofactorless check (`verify_strict`), that equation has
//! a batch form that agrees with it on every signature ([`verify_batch`]): a crafted signature
//! whose `R` carries a small-order component passes or fails the same way alone and in any
//! batch, so a verdict never depends on how it was checked — a consensus split otherwise waits
//! to happen. On top of ZIP-215, keys of small order (for which anyone can forge) are refused.
//! Honest signatures verify under both rules alike; signing is plain RFC 8032.

use core::fmt;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512};
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
    /// Decodes the key as a curve point, refusing bytes that are not one and keys of small
    /// order.
    pub fn point(&self) -> Result<EdwardsPoint, KeyError> {
        let a = CompressedEdwardsY(self.0)
            .decompress()
            .ok_or(KeyError::InvalidPublicKey)?;
        if a.is_small_order() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(a)
    }

    /// Decodes everything needed to check `sig` over `msg`: a key that is refused or a
    /// signature that cannot be valid (`R` not a point, `s` not canonical) fails here.
    pub fn check(&self, msg: &[u8], sig: &Signature) -> Result<SigCheck, KeyError> {
        let a = self.point()?;
        let (r_bytes, s_bytes) = sig.0.split_at(32);
        let r_bytes: [u8; 32] = r_bytes.try_into().map_err(|_| KeyError::BadSignature)?;
        let s_bytes: [u8; 32] = s_bytes.try_into().map_err(|_| KeyError::BadSignature)?;
        let r = CompressedEdwardsY(r_bytes)
            .decompress()
            .ok_or(KeyError::BadSignature)?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
            .ok_or(KeyError::BadSignature)?;
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(self.0);
        h.update(msg);
        let k = Scalar::from_hash(h);
        Ok(SigCheck { a, r, s, k })
    }

    /// Verifies `sig` over `msg` (ZIP-215, weak keys refused; see the module doc).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), KeyError> {
        if self.check(msg, sig)?.holds() {
            Ok(())
        } else {
            Err(KeyError::BadSignature)
        }
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

/// A decoded signature check, ready to be verified alone or in a batch.
#[derive(Debug, Clone, Copy)]
pub struct SigCheck {
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

impl SigCheck {
    /// Whether `[8](s·B − k·A − R)` is the identity.
    pub fn holds(&self) -> bool {
        let sb_minus_ka =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &-self.a, &self.s);
        (sb_minus_ka - self.r).mul_by_cofactor().is_identity()
    }
}

/// Whether every check holds, in one multiscalar multiplication:
/// `[8](−(Σ zᵢsᵢ)·B + Σ zᵢ·Rᵢ + Σ (zᵢkᵢ)·Aᵢ) = 0`. `z` holds one coefficient per check and must
/// be random and secret to the signers (128 bits each); with them, the answer equals every
/// [`SigCheck::holds`] being true, except with probability about 2⁻¹²⁸ — whatever the
/// signatures, since the cofactor clears every small-order component.
///
/// # Panics
/// If `z` and `checks` differ in length (a caller bug).
pub fn verify_batch(checks: &[SigCheck], z: &[u128]) -> bool {
    assert_eq!(checks.len(), z.len(), "one coefficient per check");
    let z: Vec<Scalar> = z.iter().map(|&z| Scalar::from(z)).collect();
    let s_sum: Scalar = checks.iter().zip(&z).map(|(c, z)| z * c.s).sum();
    let scalars = core::iter::once(-s_sum)
        .chain(z.iter().copied())
        .chain(checks.iter().zip(&z).map(|(c, z)| z * c.k));
    let points = core::iter::once(curve25519_dalek::constants::ED25519_BASEPOINT_POINT)
        .chain(checks.iter().map(|c| c.r))
        .chain(checks.iter().map(|c| c.a));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
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
            PublicKey(bytes).point().err(),
            Some(KeyError::InvalidPublicKey)
        );
    }

    /// A signature by `seed`'s key over `msg` whose `R` carries the small-order point `t`
    /// (`s` made to fit it), or, if `forged`, one whose `s` is off by one as well.
    fn with_torsion(seed: &[u8; 32], msg: &[u8], t: EdwardsPoint, forged: bool) -> Signature {
        let h = Sha512::digest(seed);
        let mut a_bytes = [0u8; 32];
        a_bytes.copy_from_slice(&h[..32]);
        a_bytes[0] &= 248;
        a_bytes[31] &= 127;
        a_bytes[31] |= 64;
        let a = Scalar::from_bytes_mod_order(a_bytes);
        let public = SecretKey::from_seed(seed).public_key();
        assert_eq!(EdwardsPoint::mul_base(&a).compress().0, public.0);
        let r = Scalar::from(0x1234_5678_u64);
        let big_r = (EdwardsPoint::mul_base(&r) + t).compress().0;
        let mut hk = Sha512::new();
        hk.update(big_r);
        hk.update(public.0);
        hk.update(msg);
        let mut s = r + Scalar::from_hash(hk) * a;
        if forged {
            s += Scalar::ONE;
        }
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        Signature(sig)
    }

    #[test]
    fn a_torsion_component_in_r_gets_one_verdict_alone_and_in_every_batch() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let seed = [3; 32];
        let public = SecretKey::from_seed(&seed).public_key();
        let honest: Vec<SigCheck> = (0..3u8)
            .map(|i| {
                let sk = SecretKey::from_seed(&[i + 10; 32]);
                sk.public_key().check(&[i], &sk.sign(&[i])).unwrap()
            })
            .collect();
        for (order_index, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
            for forged in [false, true] {
                let sig = with_torsion(&seed, b"m", *t, forged);
                let alone = public.verify(b"m", &sig);
                // Cofactored: the torsion component cancels; a wrong `s` does not.
                assert_eq!(
                    alone.is_ok(),
                    !forged,
                    "torsion {order_index}, forged {forged}"
                );
                let mut checks = honest.clone();
                checks.push(public.check(b"m", &sig).unwrap());
                // The crafted signature's coefficient odd, and a multiple of 8: under the
                // cofactorless batch equation the small-order part vanishes only in the
                // second case, so that batch's verdict would depend on the draw.
                for last in [1u128, 3, 8, 16, 0x8000_0000_0000_0000] {
                    let z = [0x9e37_79b9_7f4a_7c15u128, 7, 0x1_0000_0001, last];
                    assert_eq!(verify_batch(&checks, &z), alone.is_ok(), "z {last}");
                }
            }
        }
    }

    #[test]
    fn a_non_canonical_s_is_refused() {
        let sk = SecretKey::from_seed(&[4; 32]);
        let mut sig = sk.sign(b"m");
        // s + l encodes the same scalar non-canonically (s < 2^253, so it fits).
        // The group order l = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let s: [u8; 32] = sig.0[32..].try_into().unwrap();
        let mut sum = [0u8; 32];
        let mut carry = 0u16;
        for (i, out) in sum.iter_mut().enumerate() {
            let v = u16::from(s[i]) + u16::from(l[i]) + carry;
            *out = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        sig.0[32..].copy_from_slice(&sum);
        assert_eq!(
            sk.public_key().verify(b"m", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn batches_of_honest_signatures_hold_and_one_bad_one_fails_them() {
        let checks: Vec<SigCheck> = (0..16u8)
            .map(|i| {
                let sk = SecretKey::from_seed(&[i; 32]);
                sk.public_key().check(b"msg", &sk.sign(b"msg")).unwrap()
            })
            .collect();
        let z: Vec<u128> = (1..=16).map(|i| i * 0x1_0000_0001).collect();
        assert!(verify_batch(&checks, &z));
        let sk = SecretKey::from_seed(&[99; 32]);
        let wrong = sk.public_key().check(b"other", &sk.sign(b"msg")).unwrap();
        assert!(!wrong.holds());
        let mut bad = checks;
        bad[3] = wrong;
        assert!(!verify_batch(&bad, &z));
    }

    #[test]
    fn secret_key_debug_hides_secret() {
        let sk = SecretKey::from_seed(&[9; 32]);
        let shown = format!("{sk:?}");
        assert!(!shown.contains(&hex::encode([9u8; 32])));
    }
}
