//! Transactions: what a sender signs, its canonical encoding, its id and its signature.
//!
//! Encoding (see [`crate::codec`] for the rules):
//! `version u8 = 1 | chain_id str(≤32) | sender [32] | nonce u64 | max_fee u64 | payload`,
//! where a payload is a `u8` tag and the variant's fields (`0` = transfer: `to [20] | amount u64`).
//! A signed transaction appends the 64-byte signature. The id is
//! `blake3-derive("joule 2026-11 transaction", encoding)`, and the signature is over the id's
//! 32 bytes, so the id names exactly what was signed. New payload kinds take new tags; a new
//! layout of the fields takes a new version byte.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::codec::{self, decode_exact, put_str, CodecError, Decode, Encode, Reader};
use crate::crypto::{KeyError, PublicKey, SecretKey, Signature};
use crate::hash::{Domain, Hash};

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

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Payload {
    /// Moves `amount` tokens from the sender to `to` (possibly on another shard).
    Transfer {
        /// The recipient.
        to: Address,
        /// Smallest units of the token.
        amount: u64,
    },
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

    /// The amount of tokens the payload moves out of the sender's account (fees excluded).
    pub fn amount_out(&self) -> u64 {
        match &self.payload {
            Payload::Transfer { amount, .. } => *amount,
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
        bytes[tag_at] = 9;
        assert!(matches!(
            SignedTransaction::from_bytes(&bytes),
            Err(CodecError::UnknownTag {
                kind: "payload",
                ..
            })
        ));
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
