//! Commits: validators' signatures over a block, and their verification.
//!
//! A validator votes for a block by signing
//! `blake3-derive("joule 2026-11 vote", chain_id str | height u64 | block_hash [32])`.
//! A commit is valid for a header when the signers are **distinct members** of the header's
//! validator set whose power is **more than 2/3** of the set's total, every signature verifies
//! strictly, and the commit names the header's height and hash. Naming the chain id in the
//! vote keeps a signature from one chain from counting on another.

use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::codec::{self, put_str, put_vec, Decode, Encode, Reader};
use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::error::{Result, VerifyError};
use crate::hash::{Domain, Hash};
use crate::validator::{ValidatorSet, MAX_VALIDATORS};

/// One validator's vote in a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSig {
    /// The signer.
    pub validator: PublicKey,
    /// Its signature over the vote message.
    pub signature: Signature,
}

/// The signatures that make a block final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The block's height.
    pub height: u64,
    /// The block's hash.
    pub block_hash: Hash,
    /// The votes.
    pub signatures: Vec<CommitSig>,
}

/// The message a validator signs to vote for a block.
pub fn vote_message(chain_id: &str, height: u64, block_hash: &Hash) -> Hash {
    let mut buf = Vec::with_capacity(80);
    put_str(&mut buf, chain_id);
    height.encode_to(&mut buf);
    block_hash.encode_to(&mut buf);
    Domain::Vote.hash(&buf)
}

/// Signs a vote for `header` with each key (the devnet's in-process validators and tests).
pub fn sign_commit<'a>(
    header: &BlockHeader,
    keys: impl IntoIterator<Item = &'a SecretKey>,
) -> Commit {
    let block_hash = header.hash();
    let msg = vote_message(&header.chain_id, header.height, &block_hash);
    let signatures = keys
        .into_iter()
        .map(|k| CommitSig {
            validator: k.public_key(),
            signature: k.sign(msg.as_bytes()),
        })
        .collect();
    Commit {
        height: header.height,
        block_hash,
        signatures,
    }
}

/// Verifies that `commit` makes `header` final under `validators`, for the chain `chain_id`.
/// Returns the voting power that signed.
pub fn verify_commit(
    chain_id: &str,
    validators: &ValidatorSet,
    header: &BlockHeader,
    commit: &Commit,
) -> Result<u64> {
    if header.chain_id != chain_id {
        return Err(VerifyError::WrongChainId {
            expected: chain_id.to_owned(),
            got: header.chain_id.clone(),
        });
    }
    let set_hash = validators.hash();
    if header.validator_set_hash != set_hash {
        return Err(VerifyError::ValidatorSetMismatch {
            expected: header.validator_set_hash,
            got: set_hash,
        });
    }
    if commit.height != header.height {
        return Err(VerifyError::CommitHeightMismatch {
            commit: commit.height,
            header: header.height,
        });
    }
    let block_hash = header.hash();
    if commit.block_hash != block_hash {
        return Err(VerifyError::CommitBlockMismatch {
            commit: commit.block_hash,
            header: block_hash,
        });
    }
    // Bound the work before touching any signature.
    if commit.signatures.len() > validators.validators().len() {
        return Err(VerifyError::TooManySignatures {
            signatures: commit.signatures.len(),
            validators: validators.validators().len(),
        });
    }
    let msg = vote_message(chain_id, header.height, &block_hash);
    let mut seen: Vec<PublicKey> = Vec::with_capacity(commit.signatures.len());
    let mut signed: u64 = 0;
    for sig in &commit.signatures {
        let member = validators
            .get(&sig.validator)
            .ok_or(VerifyError::NonMemberSigner(sig.validator))?;
        if seen.contains(&sig.validator) {
            return Err(VerifyError::DuplicateSigner(sig.validator));
        }
        seen.push(sig.validator);
        sig.validator
            .verify(msg.as_bytes(), &sig.signature)
            .map_err(|reason| VerifyError::BadSignature {
                signer: sig.validator,
                reason,
            })?;
        // Cannot overflow: the set's total fits in a u64 and signers are distinct members.
        signed += member.power;
    }
    let total = validators.total_power();
    if 3 * u128::from(signed) <= 2 * u128::from(total) {
        return Err(VerifyError::InsufficientPower { signed, total });
    }
    Ok(signed)
}

impl Encode for CommitSig {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.validator.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for CommitSig {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(CommitSig {
            validator: PublicKey::decode_from(r)?,
            signature: Signature::decode_from(r)?,
        })
    }
}

impl Encode for Commit {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.block_hash.encode_to(out);
        put_vec(out, &self.signatures);
    }
}

impl Decode for Commit {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(Commit {
            height: r.u64()?,
            block_hash: Hash::decode_from(r)?,
            signatures: r.vec("signatures", MAX_VALIDATORS, 96)?,
        })
    }
}
