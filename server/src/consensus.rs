//! The consensus seam: who proposes each block and how a header becomes final.
//!
//! Block production calls [`Finalizer`] with a complete header and gets back a [`Commit`]; it
//! knows nothing else about consensus. The devnet implementation signs with every validator
//! key held in-process. A multi-validator engine (commonware's simplex) implements the same
//! trait by proposing the header to its peers and returning the certificate they form.

use joule_light_client::commit::sign_commit;
use joule_light_client::{BlockHeader, Commit, PublicKey, SecretKey, Validator, ValidatorSet};
use thiserror::Error;

/// Why a header could not be finalised.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConsensusError {
    /// Not enough validators agreed.
    #[error("consensus failed: {0}")]
    Failed(String),
}

/// Finalises blocks.
pub trait Finalizer: Send + Sync {
    /// The set that signs the block at `height`.
    fn validators(&self, height: u64) -> ValidatorSet;
    /// The set that signs the block after `height` (announced in the header at `height`).
    fn next_validators(&self, height: u64) -> ValidatorSet {
        self.validators(height + 1)
    }
    /// Who proposes the block at `height`.
    fn proposer(&self, height: u64) -> PublicKey;
    /// Makes `header` final.
    fn finalize(&self, header: &BlockHeader) -> Result<Commit, ConsensusError>;
}

/// Every validator of a fixed set, in this process (the single-node devnet).
#[derive(Debug)]
pub struct LocalValidators {
    keys: Vec<SecretKey>,
    set: ValidatorSet,
}

impl LocalValidators {
    /// Validators with equal power, one per key.
    pub fn new(keys: Vec<SecretKey>, set: ValidatorSet) -> Result<Self, ConsensusError> {
        for k in &keys {
            if set.get(&k.public_key()).is_none() {
                return Err(ConsensusError::Failed(format!(
                    "key {} is not in the validator set",
                    k.public_key()
                )));
            }
        }
        let held: u64 = keys
            .iter()
            .filter_map(|k| set.get(&k.public_key()))
            .map(|v: &Validator| v.power)
            .sum();
        if 3 * u128::from(held) <= 2 * u128::from(set.total_power()) {
            return Err(ConsensusError::Failed(
                "local keys hold 2/3 of the power or less".into(),
            ));
        }
        Ok(Self { keys, set })
    }
}

impl Finalizer for LocalValidators {
    fn validators(&self, _height: u64) -> ValidatorSet {
        self.set.clone()
    }

    fn proposer(&self, height: u64) -> PublicKey {
        let vs = self.set.validators();
        vs[(height % vs.len() as u64) as usize].public_key
    }

    fn finalize(&self, header: &BlockHeader) -> Result<Commit, ConsensusError> {
        Ok(sign_commit(header, &self.keys))
    }
}
