//! The light client following the chain: from a trusted checkpoint (block 1, signed by the
//! genesis validator set the user sees the hash of), every next header is verified — parent
//! link, announced validator set, more than 2/3 of its power signing — and the trusted state is
//! kept in browser storage, so a reload resumes where it was instead of starting over.

use joule_light_client::api::{BlockResponse, ChainInfo};
use joule_light_client::{verify_next_header, Hash, TrustedState, ValidatorSet};
use serde::{Deserialize, Serialize};

use crate::api;

/// Where the follower keeps its state.
const STORAGE_KEY: &str = "joule.light-client.v1";

/// Most headers verified per step (a long absence catches up over several steps).
const MAX_STEP: u64 = 20;

/// Failures remembered.
const MAX_FAILURES: usize = 5;

/// The follower's state (what browser storage holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Follower {
    /// The chain's genesis, so a new devnet is not confused with the stored one.
    pub genesis_hash: Hash,
    /// The verified head and the set that signed it.
    pub trusted: TrustedState,
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
            return Err("the checkpoint block is not signed by the genesis validator set".into());
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
            verified: 1,
            verified_at_ms: now_ms,
            failures: Vec::new(),
            resumed: false,
        })
    }

    /// Verifies `block` as the next header; on failure the state stays and the reason is kept.
    pub fn advance(&mut self, block: &BlockResponse, now_ms: u64) -> Result<(), String> {
        match verify_next_header(
            &self.trusted,
            block.header.clone(),
            &block.commit,
            block.validators.clone(),
        ) {
            Ok(next) => {
                self.trusted = next;
                self.verified += 1;
                self.verified_at_ms = now_ms;
                Ok(())
            }
            Err(e) => {
                let why = format!("block #{}: {e}", block.header.height);
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

/// One step: start (from storage or the checkpoint) if needed, then verify up to
/// [`MAX_STEP`] next headers towards the node's head.
pub async fn step(current: Option<Follower>, now_ms: u64) -> Result<Follower, String> {
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
    let head = chain.head_height;
    let target = head.min(f.trusted.height() + MAX_STEP);
    for h in f.trusted.height() + 1..=target {
        let block: BlockResponse = api::get(&format!("/blocks/{h}")).await?;
        if f.advance(&block, now_ms).is_err() {
            break;
        }
    }
    store(&f);
    Ok(f)
}

/// What the app shares about the light client: its state, and the last step's error.
#[derive(Debug, Clone, Copy)]
pub struct LightClient {
    /// The follower, once started.
    pub follower: leptos::prelude::RwSignal<Option<Follower>>,
    /// Why the last step could not run (node unreachable, checkpoint refused…).
    pub error: leptos::prelude::RwSignal<Option<String>>,
}

#[cfg(test)]
mod tests {
    use joule_light_client::commit::sign_commit;
    use joule_light_client::{BlockHeader, SecretKey, Validator};
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
        f.advance(&b2, 6).unwrap();
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
    fn checkpoint_must_be_signed_by_the_genesis_set() {
        let k = keys();
        let other: Vec<SecretKey> = (5..=8u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let b1 = block(1, Hash::ZERO, &other, 4);
        assert!(Follower::from_checkpoint("t", Hash::ZERO, &set(&k), &b1, 0).is_err());
    }
}
