//! 32-byte blake3 digests and the domain-separated hashing every protocol object uses.
//!
//! Each kind of object is hashed with blake3's key-derivation mode under its own context
//! string (see [`Domain`]), so a transaction can never be mistaken for a header or a vote even
//! if their encodings were to coincide. Merkle trees use one-byte prefixes instead (see
//! [`crate::merkle`]), which is cheaper per node.

use core::cell::RefCell;
use core::fmt;
use core::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{self, Decode, Encode, Reader};

/// A blake3 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash (the parent of the first block).
    pub const ZERO: Hash = Hash([0; 32]);

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters (an optional `0x` prefix is accepted).
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        parse_hex_array(s).map(Hash)
    }
}

/// Why a hex string did not parse into a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// Not hexadecimal.
    #[error("not hexadecimal")]
    NotHex,
    /// Wrong number of bytes.
    #[error("expected {expected} bytes, got {got}")]
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
}

/// Parses hex into an `N`-byte array.
pub fn parse_hex_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 2 * N {
        return Err(HexError::WrongLength {
            expected: N,
            got: s.len() / 2,
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| HexError::NotHex)?;
    Ok(out)
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

impl Encode for Hash {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Hash {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        r.array().map(Hash)
    }
}

/// The hashing domains of the protocol. Changing a context string is a protocol change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Domain {
    /// A transaction's id and signing message.
    Transaction,
    /// A block header's hash (what validators sign, inside a vote).
    BlockHeader,
    /// A shard header's hash (a leaf of the block's shard root).
    ShardHeader,
    /// The message a validator signs to commit a block.
    Vote,
    /// A validator set's hash (named by headers).
    ValidatorSet,
    /// An address, derived from a public key.
    Address,
    /// A cross-shard receipt's id.
    Receipt,
    /// A transaction outcome (a leaf of the shard's transaction root).
    TxOutcome,
    /// An account's state (a leaf of the shard's state root).
    Account,
    /// The genesis header: what a chain's genesis hash names.
    Genesis,
    /// The list of accounts funded at genesis.
    GenesisAccounts,
    /// A trust checkpoint's fingerprint (what people compare).
    Checkpoint,
    /// What a meter signs to prove it holds its key when it is registered.
    MeterPop,
}

/// The largest encoding buffer a thread keeps between hashes (larger ones, blocks say, are
/// freed after use).
const MAX_KEPT_BUFFER: usize = 1 << 16;

/// Number of [`Domain`] variants.
const DOMAINS: usize = 13;

impl Domain {
    /// The blake3 key-derivation context of this domain.
    pub const fn context(self) -> &'static str {
        match self {
            Domain::Transaction => "joule 2026-11 transaction",
            Domain::BlockHeader => "joule 2026-11 block header",
            Domain::ShardHeader => "joule 2026-11 shard header",
            Domain::Vote => "joule 2026-11 vote",
            Domain::ValidatorSet => "joule 2026-11 validator set",
            Domain::Address => "joule 2026-11 address",
            Domain::Receipt => "joule 2026-11 receipt",
            Domain::TxOutcome => "joule 2026-11 transaction outcome",
            Domain::Account => "joule 2026-11 account",
            Domain::Genesis => "joule 2026-12 genesis",
            Domain::GenesisAccounts => "joule 2026-12 genesis accounts",
            Domain::Checkpoint => "joule 2026-12 checkpoint",
            Domain::MeterPop => "joule 2026-12 meter proof of possession",
        }
    }

    /// Hashes `bytes` in this domain.
    pub fn hash(self, bytes: &[u8]) -> Hash {
        let mut h = self.hasher();
        h.update(bytes);
        Hash(*h.finalize().as_bytes())
    }

    /// A fresh hasher for this domain, the same as `Hasher::new_derive_key(context)`. Hashing
    /// the context costs a compression, so its key is derived once per domain and kept; keeping
    /// a whole hasher instead would mean copying about 2 KB per hash to clone it.
    fn hasher(self) -> blake3::Hasher {
        use blake3::hazmat::{hash_derive_key_context, ContextKey, HasherExt};
        static KEYS: [OnceLock<ContextKey>; DOMAINS] = [const { OnceLock::new() }; DOMAINS];
        let key = KEYS[self as usize].get_or_init(|| hash_derive_key_context(self.context()));
        blake3::Hasher::new_from_context_key(key)
    }

    /// Hashes the canonical encoding of `value` in this domain.
    pub fn hash_encoded<T: Encode + ?Sized>(self, value: &T) -> Hash {
        // Encoded into a buffer kept per thread: ids are hashed on every hot path (admission,
        // execution, commit), and a fresh buffer would cost an allocation and a free each time.
        std::thread_local! {
            static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        BUF.with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                value.encode_to(&mut buf);
                let hash = self.hash(&buf);
                if buf.capacity() > MAX_KEPT_BUFFER {
                    *buf = Vec::new();
                }
                hash
            }
            // An encoding that hashes while it encodes: give it a buffer of its own.
            Err(_) => self.hash(&value.encode()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn domains_separate() {
        assert_ne!(
            Domain::Transaction.hash(b"x"),
            Domain::BlockHeader.hash(b"x")
        );
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let h = Domain::Vote.hash(b"abc");
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(Hash::from_hex(&format!("0x{h}")), Ok(h));
        assert!(matches!(
            Hash::from_hex("abcd"),
            Err(HexError::WrongLength { .. })
        ));
        assert_eq!(Hash::from_hex(&"zz".repeat(32)), Err(HexError::NotHex));
    }

    /// Encodes as its bytes.
    struct Bytes(Vec<u8>);

    impl Encode for Bytes {
        fn encode_to(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0);
        }
    }

    /// Encodes as its bytes, after hashing them (as an encoding that embeds a hash would).
    struct HashesWhileEncoding(Bytes);

    impl Encode for HashesWhileEncoding {
        fn encode_to(&self, out: &mut Vec<u8>) {
            let inner = Domain::Account.hash_encoded(&self.0);
            assert_eq!(inner, Domain::Account.hash(&self.0 .0));
            self.0.encode_to(out);
        }
    }

    #[test]
    fn hash_encoded_equals_hashing_the_encoding_whatever_the_buffer() {
        let cases = [
            Vec::new(),
            vec![7u8; 100],
            // Larger than the buffer a thread keeps: freed after, then a small one again.
            vec![1u8; MAX_KEPT_BUFFER + 1],
            vec![2u8; 3],
        ];
        for bytes in cases {
            let plain = Domain::Transaction.hash(&bytes);
            assert_eq!(
                Domain::Transaction.hash_encoded(&Bytes(bytes.clone())),
                plain
            );
            // Re-entered while the thread's buffer is in use.
            let nested = HashesWhileEncoding(Bytes(bytes));
            assert_eq!(Domain::Transaction.hash_encoded(&nested), plain);
        }
    }
}

#[cfg(test)]
mod cached_hasher_tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn cached_hasher_equals_fresh_derive_key_for_every_domain() {
        let all = [
            Domain::Transaction,
            Domain::BlockHeader,
            Domain::ShardHeader,
            Domain::Vote,
            Domain::ValidatorSet,
            Domain::Address,
            Domain::Receipt,
            Domain::TxOutcome,
            Domain::Account,
            Domain::Genesis,
            Domain::GenesisAccounts,
            Domain::Checkpoint,
            Domain::MeterPop,
        ];
        assert_eq!(all.len(), DOMAINS);
        for d in all {
            for _ in 0..2 {
                assert_eq!(
                    d.hash(b"joule").0,
                    blake3::derive_key(d.context(), b"joule"),
                    "{d:?}"
                );
            }
        }
    }
}
