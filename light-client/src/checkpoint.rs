//! The trust root: a checkpoint the user pins — chain id, genesis hash and the genesis
//! validator set's hash — and the two checks that start a light client from it.
//!
//! Everything a light client verifies descends from the checkpoint: the genesis header must
//! hash to its genesis hash (so the chain's parameters are proven), the genesis validator set
//! must hash to its set hash, and block 1 must name the genesis hash as its parent and carry a
//! commit of that set. A node cannot substitute another chain without the user noticing,
//! because the checkpoint comes from the user (built into the app, a link they follow, or a
//! fingerprint they compared once), never from the node being checked.
//!
//! Text form: `chain_id:genesis_hash:validator_set_hash`, the hashes in hex (a chain id may
//! itself hold `:`; the two hashes are the last two fields). The **fingerprint** people compare
//! is the first 16 bytes of the `checkpoint`-domain hash of
//! `chain_id str | genesis_hash [32] | validator_set_hash [32]`, in upper-case hex groups of
//! four: `3F2A-91BC-…` (128 bits).

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::block::BlockHeader;
use crate::codec::{put_str, Encode};
use crate::commit::Commit;
use crate::error::{Result, VerifyError};
use crate::genesis::GenesisHeader;
use crate::hash::{Domain, Hash};
use crate::transaction::MAX_CHAIN_ID_LEN;
use crate::validator::ValidatorSet;
use crate::verify::TrustedState;

/// What a user trusts about a chain before verifying anything from its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain id.
    pub chain_id: String,
    /// Hash of the chain's genesis header.
    pub genesis_hash: Hash,
    /// Hash of the validator set that signs block 1.
    pub validator_set_hash: Hash,
}

/// Why a checkpoint's text did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CheckpointParseError {
    /// Not `chain_id:genesis_hash:validator_set_hash`.
    #[error("a checkpoint is chain_id:genesis_hash:validator_set_hash")]
    Shape,
    /// The chain id is empty or too long.
    #[error("chain id must have 1 to {MAX_CHAIN_ID_LEN} bytes")]
    ChainId,
    /// A hash is not 64 hex digits.
    #[error("checkpoint {0} is not 64 hex digits")]
    Hash(&'static str),
}

impl Checkpoint {
    /// The checkpoint a chain's own genesis defines (what a node prints for its users).
    pub fn of_genesis(genesis: &GenesisHeader) -> Self {
        Checkpoint {
            chain_id: genesis.chain_id.clone(),
            genesis_hash: genesis.hash(),
            validator_set_hash: genesis.validator_set_hash,
        }
    }

    /// The short form people compare: 128 bits as eight groups of four hex digits.
    pub fn fingerprint(&self) -> String {
        let mut buf = Vec::with_capacity(100);
        put_str(&mut buf, &self.chain_id);
        self.genesis_hash.encode_to(&mut buf);
        self.validator_set_hash.encode_to(&mut buf);
        let digest = Domain::Checkpoint.hash(&buf);
        digest.0[..16]
            .chunks(2)
            .map(|pair| format!("{:02X}{:02X}", pair[0], pair[1]))
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Checks that `genesis` and `validators` are the ones this checkpoint pins: the genesis
    /// header hashes to the pinned genesis hash (so its chain id, shard count and fee are
    /// proven), and the set hashes to the pinned set hash, which genesis names too.
    pub fn verify_genesis(&self, genesis: &GenesisHeader, validators: &ValidatorSet) -> Result<()> {
        let presented = genesis.hash();
        if presented != self.genesis_hash {
            return Err(not_trusted(
                "genesis",
                &self.genesis_hash,
                &presented.to_string(),
            ));
        }
        if genesis.chain_id != self.chain_id {
            return Err(not_trusted("chain id", &self.chain_id, &genesis.chain_id));
        }
        let set = validators.hash();
        if set != self.validator_set_hash || genesis.validator_set_hash != self.validator_set_hash {
            return Err(not_trusted(
                "validator set",
                &self.validator_set_hash,
                &set.to_string(),
            ));
        }
        Ok(())
    }

    /// Verifies block 1 from the checkpoint: it follows the pinned genesis and carries a
    /// commit of more than 2/3 of the pinned set (`validators`, which must hash to it).
    pub fn verify_first_block(
        &self,
        header: BlockHeader,
        commit: &Commit,
        validators: ValidatorSet,
    ) -> Result<TrustedState> {
        if header.height != 1 {
            return Err(VerifyError::WrongHeight {
                expected: 1,
                got: header.height,
            });
        }
        if header.parent_hash != self.genesis_hash {
            return Err(VerifyError::WrongParent {
                expected: self.genesis_hash,
                got: header.parent_hash,
            });
        }
        let set = validators.hash();
        if set != self.validator_set_hash {
            return Err(not_trusted(
                "validator set",
                &self.validator_set_hash,
                &set.to_string(),
            ));
        }
        TrustedState::from_checkpoint(&self.chain_id, header, commit, validators)
    }
}

fn not_trusted(what: &'static str, expected: &impl fmt::Display, got: &str) -> VerifyError {
    VerifyError::NotTrustedChain {
        what,
        expected: expected.to_string(),
        got: got.to_owned(),
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.chain_id, self.genesis_hash, self.validator_set_hash
        )
    }
}

impl FromStr for Checkpoint {
    type Err = CheckpointParseError;

    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let mut parts = s.trim().rsplitn(3, ':');
        let (Some(set), Some(genesis), Some(chain_id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CheckpointParseError::Shape);
        };
        if chain_id.is_empty() || chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(CheckpointParseError::ChainId);
        }
        Ok(Checkpoint {
            chain_id: chain_id.to_owned(),
            genesis_hash: genesis
                .parse()
                .map_err(|_| CheckpointParseError::Hash("genesis hash"))?,
            validator_set_hash: set
                .parse()
                .map_err(|_| CheckpointParseError::Hash("validator set hash"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn cp() -> Checkpoint {
        Checkpoint {
            chain_id: "a:b".into(),
            genesis_hash: Hash([1; 32]),
            validator_set_hash: Hash([2; 32]),
        }
    }

    #[test]
    fn text_round_trips_even_with_a_colon_in_the_chain_id() {
        let c = cp();
        assert_eq!(c.to_string().parse::<Checkpoint>(), Ok(c));
    }

    #[test]
    fn malformed_text_is_refused() {
        assert_eq!("x".parse::<Checkpoint>(), Err(CheckpointParseError::Shape));
        let h = Hash::ZERO.to_hex();
        assert_eq!(
            format!(":{h}:{h}").parse::<Checkpoint>(),
            Err(CheckpointParseError::ChainId)
        );
        assert_eq!(
            format!("c:12:{h}").parse::<Checkpoint>(),
            Err(CheckpointParseError::Hash("genesis hash"))
        );
        assert_eq!(
            format!("c:{h}:zz").parse::<Checkpoint>(),
            Err(CheckpointParseError::Hash("validator set hash"))
        );
    }

    #[test]
    fn fingerprint_is_eight_groups_and_names_every_field() {
        let c = cp();
        let f = c.fingerprint();
        assert_eq!(f.len(), 8 * 4 + 7);
        assert!(f.split('-').all(|g| g.len() == 4));
        let mut other = c.clone();
        other.chain_id = "a:c".into();
        assert_ne!(other.fingerprint(), f);
        let mut other = c.clone();
        other.genesis_hash = Hash::ZERO;
        assert_ne!(other.fingerprint(), f);
        let mut other = c;
        other.validator_set_hash = Hash::ZERO;
        assert_ne!(other.fingerprint(), f);
    }
}
