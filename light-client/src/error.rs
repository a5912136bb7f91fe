//! Why a light-client verification failed: one variant per reason, so callers can show it.

use thiserror::Error;

use crate::crypto::{KeyError, PublicKey};
use crate::hash::Hash;
use crate::market::ClearingCheckError;
use crate::merkle::MerkleError;
use crate::object::ObjectProofError;
use crate::smt::StateProofError;

/// A verification failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The header is for another chain.
    #[error("wrong chain id: expected {expected:?}, got {got:?}")]
    WrongChainId {
        /// The trusted chain id.
        expected: String,
        /// The header's chain id.
        got: String,
    },
    /// The header names a different validator set than the one supplied.
    #[error("header names validator set {expected}, but the supplied set hashes to {got}")]
    ValidatorSetMismatch {
        /// The hash in the header.
        expected: Hash,
        /// The supplied set's hash.
        got: Hash,
    },
    /// The supplied set is not the one the trusted header handed over to.
    #[error("validator-set hand-over not announced: trusted header named {expected}, got {got}")]
    UnannouncedValidatorSet {
        /// `next_validator_set_hash` of the trusted header.
        expected: Hash,
        /// The hash of the set signing the new header.
        got: Hash,
    },
    /// The commit is for another height.
    #[error("commit is for height {commit}, header is at {header}")]
    CommitHeightMismatch {
        /// The commit's height.
        commit: u64,
        /// The header's height.
        header: u64,
    },
    /// The commit signs a different block.
    #[error("commit signs block {commit}, header hashes to {header}")]
    CommitBlockMismatch {
        /// The hash in the commit.
        commit: Hash,
        /// The header's hash.
        header: Hash,
    },
    /// More signatures than validators: refused before checking any.
    #[error("commit has {signatures} signatures for {validators} validators")]
    TooManySignatures {
        /// Signatures in the commit.
        signatures: usize,
        /// Members of the set.
        validators: usize,
    },
    /// A signer is not in the validator set.
    #[error("signer {0} is not a member of the validator set")]
    NonMemberSigner(PublicKey),
    /// A validator signed twice.
    #[error("validator {0} signed twice")]
    DuplicateSigner(PublicKey),
    /// A signature does not verify.
    #[error("bad signature from validator {signer}: {reason}")]
    BadSignature {
        /// Whose signature.
        signer: PublicKey,
        /// What was wrong.
        reason: KeyError,
    },
    /// The signers hold two thirds of the power or less.
    #[error("insufficient voting power: {signed} of {total} signed, more than 2/3 needed")]
    InsufficientPower {
        /// Power that signed.
        signed: u64,
        /// Total power of the set.
        total: u64,
    },
    /// The header is not the successor of the trusted one.
    #[error("expected height {expected}, got {got}")]
    WrongHeight {
        /// Trusted height + 1.
        expected: u64,
        /// The header's height.
        got: u64,
    },
    /// The header's parent is not the trusted header.
    #[error("parent hash {got} is not the trusted header {expected}")]
    WrongParent {
        /// The trusted header's hash.
        expected: Hash,
        /// The header's parent hash.
        got: Hash,
    },
    /// A header at or below the trusted height offered as a new one.
    #[error("header #{got} is not newer than the trusted header #{trusted}")]
    NotNewer {
        /// The trusted height.
        trusted: u64,
        /// The header's height.
        got: u64,
    },
    /// Skipping ahead: too few of the trusted validators vouch for the new header.
    #[error(
        "cannot skip ahead: trusted validators holding {signed} of {total} power signed, more than 1/3 needed"
    )]
    InsufficientTrust {
        /// Trusted power among the signers.
        signed: u64,
        /// The trusted set's total power.
        total: u64,
    },
    /// An item claimed for a shard header, or a shard header for a block, belongs elsewhere.
    #[error("{what} mismatch: expected {expected}, got {got}")]
    Mismatch {
        /// Which field.
        what: &'static str,
        /// The value required.
        expected: u64,
        /// The value found.
        got: u64,
    },
    /// A Merkle proof failed.
    #[error("{what} proof: {source}")]
    Proof {
        /// Which proof.
        what: &'static str,
        /// Why it failed.
        source: MerkleError,
    },
    /// An account's state proof failed.
    #[error("account proof: {0}")]
    AccountProof(#[from] StateProofError),
    /// An object's proof failed.
    #[error("object proof: {0}")]
    ObjectProof(#[from] ObjectProofError),
    /// A clearing does not recompute from its books.
    #[error("clearing: {0}")]
    Clearing(#[from] ClearingCheckError),
    /// A proposal's outcome does not recompute from its shards' tallies.
    #[error("tally: {0}")]
    Tally(#[from] crate::dao::TallyError),
    /// What the node presented is not the chain the user's checkpoint pins.
    #[error(
        "not the trusted chain: the checkpoint pins {what} {expected}, the node presented {got}"
    )]
    NotTrustedChain {
        /// Which part differs.
        what: &'static str,
        /// What the checkpoint pins.
        expected: String,
        /// What the node presented.
        got: String,
    },
    /// A value the node sent beside a proof contradicts what the proof shows.
    #[error("{what}: the node's answer says {claimed}, what was proven says {proven}")]
    Contradicts {
        /// Which value.
        what: &'static str,
        /// The node's claim.
        claimed: String,
        /// The proven value.
        proven: String,
    },
}

/// Result of a verification.
pub type Result<T, E = VerifyError> = core::result::Result<T, E>;
