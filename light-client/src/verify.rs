//! The light client's proof chain, one free function per step:
//! trusted validator set → block commit ([`verify_next_header`]) → shard header
//! ([`verify_shard_header`]) → transaction outcome, receipt or account ([`verify_transaction`],
//! [`verify_outgoing_receipt`], [`verify_incoming_receipt`], [`verify_account`]).

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::block::{BlockHeader, ShardHeader};
use crate::codec::Encode;
use crate::commit::{verify_commit, Commit};
use crate::error::{Result, VerifyError};
use crate::merkle::{leaf_hash, verify_leaf_hash, verify_proof, MerkleProof};
use crate::receipt::{Receipt, TxOutcome};
use crate::smt::StateProof;
use crate::state::Account;
use crate::validator::ValidatorSet;

/// What a light client trusts: a verified header and the set that signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedState {
    /// The chain being followed.
    pub chain_id: String,
    /// The latest verified header.
    pub header: BlockHeader,
    /// The validator set that signed it.
    pub validators: ValidatorSet,
}

impl TrustedState {
    /// Trusts `header` after checking `commit` under `validators` — the checkpoint step. The
    /// caller must get `validators` (or its hash) from a source it trusts, such as genesis.
    pub fn from_checkpoint(
        chain_id: &str,
        header: BlockHeader,
        commit: &Commit,
        validators: ValidatorSet,
    ) -> Result<Self> {
        verify_commit(chain_id, &validators, &header, commit)?;
        Ok(Self {
            chain_id: chain_id.to_owned(),
            header,
            validators,
        })
    }

    /// The trusted header's height.
    pub fn height(&self) -> u64 {
        self.header.height
    }
}

fn check_chain(trusted: &TrustedState, header: &BlockHeader) -> Result<()> {
    if header.chain_id == trusted.chain_id {
        Ok(())
    } else {
        Err(VerifyError::WrongChainId {
            expected: trusted.chain_id.clone(),
            got: header.chain_id.clone(),
        })
    }
}

/// Verifies the successor of the trusted header and returns the new trusted state.
///
/// `validators` is the set that signed `header`; it must be the set the trusted header
/// announced in `next_validator_set_hash`, which is how a hand-over is followed.
pub fn verify_next_header(
    trusted: &TrustedState,
    header: BlockHeader,
    commit: &Commit,
    validators: ValidatorSet,
) -> Result<TrustedState> {
    check_chain(trusted, &header)?;
    let expected = trusted.header.height + 1;
    if header.height != expected {
        return Err(VerifyError::WrongHeight {
            expected,
            got: header.height,
        });
    }
    let parent = trusted.header.hash();
    if header.parent_hash != parent {
        return Err(VerifyError::WrongParent {
            expected: parent,
            got: header.parent_hash,
        });
    }
    let set_hash = validators.hash();
    if set_hash != trusted.header.next_validator_set_hash {
        return Err(VerifyError::UnannouncedValidatorSet {
            expected: trusted.header.next_validator_set_hash,
            got: set_hash,
        });
    }
    verify_commit(&trusted.chain_id, &validators, &header, commit)?;
    Ok(TrustedState {
        chain_id: trusted.chain_id.clone(),
        header,
        validators,
    })
}

/// Verifies a header anywhere above the trusted one, without the headers in between
/// (skipping verification, as Tendermint's light client does). The header's own set must sign
/// it with more than 2/3 of its power, and the validators of the *trusted* set among the
/// signers must hold more than 1/3 of the trusted power: at least one of them is honest if
/// fewer than 1/3 of the trusted set lie, so the header is on the chain the trusted set built.
/// The successor of the trusted header goes through [`verify_next_header`] (parent link and
/// announced hand-over).
///
/// No trusting period is checked: the devnet has no unbonding, so a validator set never
/// stops being accountable. A chain with stake withdrawal must refuse a trusted state older
/// than its unbonding period before skipping from it.
pub fn verify_skipping(
    trusted: &TrustedState,
    header: BlockHeader,
    commit: &Commit,
    validators: ValidatorSet,
) -> Result<TrustedState> {
    check_chain(trusted, &header)?;
    if header.height <= trusted.height() {
        return Err(VerifyError::NotNewer {
            trusted: trusted.height(),
            got: header.height,
        });
    }
    if header.height == trusted.height() + 1 {
        return verify_next_header(trusted, header, commit, validators);
    }
    // Checks the signatures (distinct members of the header's own set, > 2/3 of its power).
    verify_commit(&trusted.chain_id, &validators, &header, commit)?;
    if validators.hash() != trusted.validators.hash() {
        // A signature verified above is a trusted validator's vote too when its key is in
        // the trusted set: the vote message does not depend on the set.
        let vouching: u64 = commit
            .signatures
            .iter()
            .filter_map(|s| trusted.validators.get(&s.validator))
            .map(|v| v.power)
            .sum();
        let total = trusted.validators.total_power();
        if 3 * u128::from(vouching) <= u128::from(total) {
            return Err(VerifyError::InsufficientTrust {
                signed: vouching,
                total,
            });
        }
    }
    Ok(TrustedState {
        chain_id: trusted.chain_id.clone(),
        header,
        validators,
    })
}

/// A header with what makes it final, as a light client receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHeader {
    /// The header.
    pub header: BlockHeader,
    /// Its commit.
    pub commit: Commit,
    /// The set that signed it.
    pub validators: ValidatorSet,
}

/// Verifies consecutive headers from the trusted state onwards.
pub fn verify_header_chain(
    trusted: &TrustedState,
    headers: impl IntoIterator<Item = SignedHeader>,
) -> Result<TrustedState> {
    let mut state = trusted.clone();
    for h in headers {
        state = verify_next_header(&state, h.header, &h.commit, h.validators)?;
    }
    Ok(state)
}

/// Fails with [`VerifyError::Mismatch`] unless `expected == got`.
pub(crate) fn check(what: &'static str, expected: u64, got: u64) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(VerifyError::Mismatch {
            what,
            expected,
            got,
        })
    }
}

fn proof_err(what: &'static str) -> impl Fn(crate::merkle::MerkleError) -> VerifyError {
    move |source| VerifyError::Proof { what, source }
}

/// Verifies that `shard` is the shard header of the (already verified) block `block`.
pub fn verify_shard_header(
    block: &BlockHeader,
    shard: &ShardHeader,
    proof: &MerkleProof,
) -> Result<()> {
    check("shard height", block.height, shard.height)?;
    check(
        "shard count",
        u64::from(block.shard_count),
        proof.leaf_count,
    )?;
    check("shard index", u64::from(shard.shard), proof.index)?;
    verify_leaf_hash(
        &block.shards_root,
        leaf_hash(shard.hash().as_bytes()),
        proof,
    )
    .map_err(proof_err("shard header"))
}

/// Verifies a transaction's outcome (id, status, fee) against a verified shard header.
pub fn verify_transaction(
    shard: &ShardHeader,
    outcome: &TxOutcome,
    proof: &MerkleProof,
) -> Result<()> {
    check(
        "transaction count",
        u64::from(shard.tx_count),
        proof.leaf_count,
    )?;
    verify_proof(&shard.tx_root, &outcome.encode(), proof).map_err(proof_err("transaction"))
}

/// Verifies that the source shard emitted `receipt` in this (verified) shard header.
pub fn verify_outgoing_receipt(
    shard: &ShardHeader,
    receipt: &Receipt,
    proof: &MerkleProof,
) -> Result<()> {
    check(
        "receipt source shard",
        u64::from(shard.shard),
        u64::from(receipt.source_shard),
    )?;
    check("receipt source height", shard.height, receipt.source_height)?;
    verify_proof(
        &shard.outgoing_receipts_root,
        receipt.id().as_bytes(),
        proof,
    )
    .map_err(proof_err("outgoing receipt"))
}

/// Verifies that the destination shard applied `receipt` in this (verified) shard header.
pub fn verify_incoming_receipt(
    shard: &ShardHeader,
    receipt: &Receipt,
    proof: &MerkleProof,
) -> Result<()> {
    check(
        "receipt destination shard",
        u64::from(shard.shard),
        u64::from(receipt.dest_shard),
    )?;
    verify_proof(
        &shard.incoming_receipts_root,
        receipt.id().as_bytes(),
        proof,
    )
    .map_err(proof_err("incoming receipt"))
}

/// Verifies an account's state against a verified shard header's state root: `Some` claims
/// the account exists with that state, `None` that no account exists at the address.
pub fn verify_account(
    shard: &ShardHeader,
    address: &Address,
    account: Option<&Account>,
    proof: &StateProof,
) -> Result<()> {
    Ok(proof.verify(&shard.state_root, address, account)?)
}
