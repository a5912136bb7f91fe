//! The light client following the chain: from a trusted checkpoint (block 1, signed by the
//! genesis validator set the user sees the hash of), it verifies the node's head — directly
//! when the trusted validators still vouch for it (skipping verification), else header by
//! header through the hand-overs — and every block the node streams after that. The trusted
//! state is kept in browser storage, so a reload resumes instead of starting over.

use joule_light_client::api::{BlockResponse, ChainInfo};
use joule_light_client::{verify_next_header, verify_skipping, Hash, TrustedState, ValidatorSet};
use serde::{Deserialize, Serialize};

use crate::api;
use crate::model::Trust;

/// Where the follower keeps its state.
const STORAGE_KEY: &str = "joule.light-client.v2";

/// Most headers verified one by one per step, when a skip is refused (the trusted set no
/// longer vouches for the head after several hand-overs).
const MAX_STEP: u64 = 20;

/// Failures remembered.
const MAX_FAILURES: usize = 5;

/// Verified validator sets remembered (pages verify older blocks against them).
const MAX_SETS: usize = 8;

/// The follower's state (what browser storage holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Follower {
    /// The chain's genesis, so a new devnet is not confused with the stored one.
    pub genesis_hash: Hash,
    /// The verified head and the set that signed it.
    pub trusted: TrustedState,
    /// Every validator set verified so far (the checkpoint's first), at most [`MAX_SETS`].
    pub sets: Vec<ValidatorSet>,
    /// Headers verified by this browser since the checkpoint.
    pub verified: u64,
    /// When the last header was verified (ms since the epoch).
    pub verified_at_ms: u64,
    /// Latest failures, newest last.
    pub failures: Vec<String>,
    /// How this session started: `false` from the checkpoint, `true` from storage.
    #[serde(skip)]
    pub resumed: bool,
}

impl Follower {
    /// Starts from `block`, whose commit must verify under the genesis validator set (which
    /// the user can compare by its hash).
    pub fn from_checkpoint(
        chain_id: &str,
        genesis_hash: Hash,
        genesis_validators: &ValidatorSet,
        block: &BlockResponse,
        now_ms: u64,
    ) -> Result<Self, String> {
        if block.header.validator_set_hash != genesis_validators.hash() {
            return Err("checkpoint: block 1 is not signed by the genesis validator set".into());
        }
        let trusted = TrustedState::from_checkpoint(
            chain_id,
            block.header.clone(),
            &block.commit,
            genesis_validators.clone(),
        )
        .map_err(|e| format!("checkpoint: {e}"))?;
        Ok(Follower {
            genesis_hash,
            trusted,
            sets: vec![genesis_validators.clone()],
            verified: 1,
            verified_at_ms: now_ms,
            failures: Vec::new(),
            resumed: false,
        })
    }

    /// Verifies `block` above the trusted head (its successor, or further ahead by skipping);
    /// `Ok(false)` for a block at or below the head (nothing to do). On failure the state
    /// stays and the reason is kept.
    pub fn advance(&mut self, block: &BlockResponse, now_ms: u64) -> Result<bool, String> {
        if block.header.height <= self.trusted.height() {
            return Ok(false);
        }
        let verified = verify_skipping(
            &self.trusted,
            block.header.clone(),
            &block.commit,
            block.validators.clone(),
        );
        self.settle(block.header.height, verified, now_ms)
    }

    /// Verifies `block` as the successor of the trusted head (following a hand-over).
    fn advance_one(&mut self, block: &BlockResponse, now_ms: u64) -> Result<bool, String> {
        let verified = verify_next_header(
            &self.trusted,
            block.header.clone(),
            &block.commit,
            block.validators.clone(),
        );
        self.settle(block.header.height, verified, now_ms)
    }

    fn settle(
        &mut self,
        height: u64,
        verified: joule_light_client::error::Result<TrustedState>,
        now_ms: u64,
    ) -> Result<bool, String> {
        match verified {
            Ok(next) => {
                if !self.sets.contains(&next.validators) {
                    self.sets.push(next.validators.clone());
                    if self.sets.len() > MAX_SETS {
                        self.sets.remove(0);
                    }
                }
                self.trusted = next;
                self.verified += 1;
                self.verified_at_ms = now_ms;
                Ok(true)
            }
            Err(e) => {
                let why = format!("block #{height}: {e}");
                if self.failures.last() != Some(&why) {
                    self.failures.push(why.clone());
                }
                if self.failures.len() > MAX_FAILURES {
                    self.failures.remove(0);
                }
                Err(why)
            }
        }
    }

    /// What pages verify block commits against.
    pub fn trust(&self) -> Trust {
        Trust {
            chain_id: self.trusted.chain_id.clone(),
            sets: self.sets.clone(),
        }
    }
}

/// The stored follower for `chain`, if any (a stored state of another chain is ignored).
pub fn load_stored(chain: &ChainInfo) -> Option<Follower> {
    let text = crate::storage::get(STORAGE_KEY)?;
    let mut f: Follower = serde_json::from_str(&text).ok()?;
    (f.genesis_hash == chain.genesis_hash && f.trusted.chain_id == chain.chain_id).then(|| {
        f.resumed = true;
        f
    })
}

/// Saves the follower (best effort: storage may be disabled; following works without it).
pub fn store(f: &Follower) {
    if let Ok(text) = serde_json::to_string(f) {
        crate::storage::set(STORAGE_KEY, &text);
    }
}

/// One step without the stream: start (from storage or the checkpoint) if needed, then
/// verify the node's head — by skipping, or when that is refused, up to [`MAX_STEP`]
/// headers one by one. Returns the follower and the newest block fetched.
pub async fn step(
    current: Option<Follower>,
    now_ms: u64,
) -> Result<(Follower, Option<BlockResponse>), String> {
    let chain: ChainInfo = api::get("/chain").await?;
    let mut f = match current {
        Some(f) if f.genesis_hash == chain.genesis_hash => f,
        _ => match load_stored(&chain) {
            Some(f) => f,
            None => {
                let first: BlockResponse = api::get("/blocks/1").await?;
                let f = Follower::from_checkpoint(
                    &chain.chain_id,
                    chain.genesis_hash,
                    &chain.genesis_validators,
                    &first,
                    now_ms,
                )?;
                store(&f);
                f
            }
        },
    };
    let mut newest = None;
    if chain.head_height > f.trusted.height() {
        let head: BlockResponse = api::get(&format!("/blocks/{}", chain.head_height)).await?;
        let failures = f.failures.len();
        if f.advance(&head, now_ms).is_err() {
            // Walk through the hand-overs instead; the skip's reason stays in the failures
            // only if the walk fails too.
            let target = chain.head_height.min(f.trusted.height() + MAX_STEP);
            let mut walked = true;
            for h in f.trusted.height() + 1..=target {
                let block: BlockResponse = api::get(&format!("/blocks/{h}")).await?;
                if f.advance_one(&block, now_ms).is_err() {
                    walked = false;
                    break;
                }
            }
            if walked {
                f.failures.truncate(failures);
            }
        }
        newest = Some(head);
    }
    store(&f);
    Ok((f, newest))
}

#[cfg(test)]
mod tests {
    use joule_light_client::commit::sign_commit;
    use joule_light_client::{BlockHeader, SecretKey, Validator};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn keys() -> Vec<SecretKey> {
        (1..=4u8).map(|i| SecretKey::from_seed(&[i; 32])).collect()
    }

    fn set(keys: &[SecretKey]) -> ValidatorSet {
        ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    power: 10,
                })
                .collect(),
        )
        .unwrap()
    }

    fn block(height: u64, parent: Hash, keys: &[SecretKey], signers: usize) -> BlockResponse {
        let vs = set(keys);
        let header = BlockHeader {
            chain_id: "t".into(),
            height,
            parent_hash: parent,
            timestamp_ms: height,
            proposer: keys[0].public_key(),
            shards_root: Hash::ZERO,
            shard_count: 1,
            validator_set_hash: vs.hash(),
            next_validator_set_hash: vs.hash(),
        };
        let commit = sign_commit(&header, &keys[..signers]);
        BlockResponse {
            hash: header.hash(),
            header,
            shards: Vec::new(),
            commit,
            validators: vs,
            metrics: Vec::new(),
        }
    }

    #[test]
    fn follows_good_headers_and_records_a_forged_one() {
        let k = keys();
        let b1 = block(1, Hash::ZERO, &k, 4);
        let mut f = Follower::from_checkpoint("t", Hash([9; 32]), &set(&k), &b1, 5).unwrap();
        let b2 = block(2, b1.hash, &k, 3);
        assert_eq!(f.advance(&b2, 6), Ok(true));
        assert_eq!(
            (f.trusted.height(), f.verified, f.verified_at_ms),
            (2, 2, 6)
        );
        // Two of four signers: not more than 2/3 of the power.
        let weak = block(3, b2.hash, &k, 2);
        let why = f.advance(&weak, 7).unwrap_err();
        assert!(why.contains("insufficient voting power"), "{why}");
        assert_eq!(f.trusted.height(), 2, "a failed header is not trusted");
        assert_eq!(f.failures, vec![why]);
        // A header that skips its parent.
        let orphan = block(3, Hash([1; 32]), &k, 4);
        assert!(f.advance(&orphan, 8).is_err());
        assert_eq!(f.failures.len(), 2);
        // The state survives a round trip through storage's JSON.
        let back: Follower = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.trusted, f.trusted);
        assert_eq!(back.verified, 2);
    }

    #[test]
    fn skips_to_a_far_head_and_ignores_older_blocks() {
        let k = keys();
        let b1 = block(1, Hash::ZERO, &k, 4);
        let mut f = Follower::from_checkpoint("t", Hash([9; 32]), &set(&k), &b1, 5).unwrap();
        let far = block(40, Hash([3; 32]), &k, 3);
        assert_eq!(f.advance(&far, 6), Ok(true));
        assert_eq!(f.trusted.height(), 40);
        assert_eq!(
            f.advance(&b1, 7),
            Ok(false),
            "an older block changes nothing"
        );
        assert_eq!(f.trust().sets, vec![set(&k)]);
        assert!(f.trust().set(&set(&k).hash()).is_some());
        // A far header signed by strangers is refused: none of the trusted set vouches.
        let strangers: Vec<SecretKey> = (5..=8u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let why = f
            .advance(&block(90, Hash::ZERO, &strangers, 4), 8)
            .unwrap_err();
        assert!(why.contains("cannot skip ahead"), "{why}");
        assert_eq!(f.trusted.height(), 40);
    }

    #[test]
    fn checkpoint_must_be_signed_by_the_genesis_set() {
        let k = keys();
        let other: Vec<SecretKey> = (5..=8u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let b1 = block(1, Hash::ZERO, &other, 4);
        assert!(Follower::from_checkpoint("t", Hash::ZERO, &set(&k), &b1, 0).is_err());
    }
}
