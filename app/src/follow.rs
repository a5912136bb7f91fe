//! The light client following the chain: from the user's checkpoint (see
//! [`crate::trust_root`]) it proves the genesis header (and with it the chain's parameters)
//! and block 1, then verifies the node's head — directly when the trusted validators still
//! vouch for it (skipping verification), else header by header through the hand-overs — and
//! every block the node streams after that. The trusted state is kept in browser storage with
//! the checkpoint it grew from, so a reload resumes instead of starting over.

use joule_light_client::api::{BlockResponse, ChainInfo};
use joule_light_client::{
    verify_next_header, verify_skipping, Checkpoint, GenesisHeader, TrustedState, ValidatorSet,
};
use serde::{Deserialize, Serialize};

use crate::api;
use crate::proofs::Trust;
use crate::trust_root::{self, Root};

/// Where the follower keeps its state.
const STORAGE_KEY: &str = "joule.light-client.v3";

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
    /// The checkpoint everything here was verified from.
    pub checkpoint: Checkpoint,
    /// The genesis header, proven to hash to the checkpoint's genesis hash.
    pub genesis: GenesisHeader,
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
    /// Starts from `checkpoint`: the node's genesis header and genesis validator set (in
    /// `chain`) must be the ones it pins, and `first` must be block 1 on that genesis, signed
    /// by more than 2/3 of that set.
    pub fn from_checkpoint(
        checkpoint: &Checkpoint,
        chain: &ChainInfo,
        first: &BlockResponse,
        now_ms: u64,
    ) -> Result<Self, String> {
        checkpoint
            .verify_genesis(&chain.genesis, &chain.genesis_validators)
            .map_err(|e| format!("checkpoint: {e}"))?;
        let trusted = checkpoint
            .verify_first_block(
                first.header.clone(),
                &first.commit,
                chain.genesis_validators.clone(),
            )
            .map_err(|e| format!("checkpoint: block 1: {e}"))?;
        Ok(Follower {
            checkpoint: checkpoint.clone(),
            genesis: chain.genesis.clone(),
            sets: vec![trusted.validators.clone()],
            trusted,
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

    /// What pages verify against.
    pub fn trust(&self) -> Trust {
        Trust {
            genesis: self.genesis.clone(),
            sets: self.sets.clone(),
            head_height: self.trusted.height(),
        }
    }
}

/// The stored follower grown from `checkpoint`, if any (one from another checkpoint is
/// ignored).
pub fn load_stored(checkpoint: &Checkpoint) -> Option<Follower> {
    let text = crate::storage::get(STORAGE_KEY)?;
    let mut f: Follower = serde_json::from_str(&text).ok()?;
    (f.checkpoint == *checkpoint).then(|| {
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

/// Forgets the stored follower (the user switched chains).
pub fn forget() {
    crate::storage::remove(STORAGE_KEY);
}

/// What one step found.
#[derive(Debug)]
pub struct Step {
    /// What the app may verify against now.
    pub root: Root,
    /// The follower, when the root is trusted and its checkpoint verified.
    pub follower: Option<Follower>,
    /// The newest block fetched.
    pub newest: Option<BlockResponse>,
}

/// One step without the stream: settle the trust root against what the node presents; when
/// it is trusted, start (from storage or the checkpoint) if needed, then verify the node's
/// head — by skipping, or when that is refused, up to [`MAX_STEP`] headers one by one.
/// `link` is the URL's checkpoint, unless the user dismissed it.
pub async fn step(
    current: Option<Follower>,
    link: Option<Checkpoint>,
    now_ms: u64,
) -> Result<Step, String> {
    let chain: ChainInfo = api::get("/chain").await?;
    let (root, to_pin) = trust_root::decide(
        trust_root::pinned(),
        trust_root::built_in(),
        link,
        trust_root::presented(&chain),
    );
    if let Some(c) = to_pin {
        trust_root::pin(&c);
    }
    let Some(checkpoint) = root.trusted().cloned() else {
        return Ok(Step {
            root,
            follower: None,
            newest: None,
        });
    };
    let mut f = match current {
        Some(f) if f.checkpoint == checkpoint => f,
        _ => match load_stored(&checkpoint) {
            Some(f) => f,
            None => {
                let first: BlockResponse = api::get("/blocks/1").await?;
                let f = Follower::from_checkpoint(&checkpoint, &chain, &first, now_ms)?;
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
    Ok(Step {
        root,
        follower: Some(f),
        newest,
    })
}

#[cfg(test)]
mod tests {
    use joule_light_client::api::TokenInfo;
    use joule_light_client::commit::sign_commit;
    use joule_light_client::genesis::accounts_hash;
    use joule_light_client::{BlockHeader, Hash, SecretKey, Validator};
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

    /// `/chain` of a chain whose genesis set is `keys`'.
    pub(crate) fn chain(keys: &[SecretKey]) -> ChainInfo {
        let vs = set(keys);
        let genesis = GenesisHeader {
            chain_id: "t".into(),
            genesis_time_ms: 0,
            shard_count: 1,
            block_interval_ms: 500,
            min_fee: 1000,
            max_txs_per_shard_block: 100,
            validator_set_hash: vs.hash(),
            accounts_hash: accounts_hash(std::iter::empty()),
            faucet: None,
            market: joule_light_client::market::MarketParams::DEVNET,
            objects_root: joule_light_client::Hash::ZERO,
        };
        ChainInfo {
            genesis_hash: genesis.hash(),
            genesis,
            genesis_validators: vs.clone(),
            validators: vs,
            head_height: 0,
            head_hash: Hash::ZERO,
            token: TokenInfo {
                symbol: "JOULE".into(),
                decimals: 9,
            },
            simulation: None,
        }
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

    fn start(k: &[SecretKey]) -> (Follower, BlockResponse) {
        let c = chain(k);
        let cp = trust_root::presented(&c);
        let b1 = block(1, c.genesis_hash, k, 4);
        (Follower::from_checkpoint(&cp, &c, &b1, 5).unwrap(), b1)
    }

    #[test]
    fn follows_good_headers_and_records_a_forged_one() {
        let k = keys();
        let (mut f, b1) = start(&k);
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
        assert_eq!(back.checkpoint, f.checkpoint);
        assert_eq!(back.verified, 2);
    }

    #[test]
    fn skips_to_a_far_head_and_ignores_older_blocks() {
        let k = keys();
        let (mut f, b1) = start(&k);
        let far = block(40, Hash([3; 32]), &k, 3);
        assert_eq!(f.advance(&far, 6), Ok(true));
        assert_eq!(f.trusted.height(), 40);
        assert_eq!(
            f.advance(&b1, 7),
            Ok(false),
            "an older block changes nothing"
        );
        assert_eq!(f.trust().sets, vec![set(&k)]);
        assert_eq!(f.trust().head_height, 40);
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
    fn checkpoint_must_pin_the_genesis_and_its_set() {
        let k = keys();
        let c = chain(&k);
        let cp = trust_root::presented(&c);
        // Block 1 signed by others than the pinned set.
        let other: Vec<SecretKey> = (5..=8u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let b1 = block(1, c.genesis_hash, &other, 4);
        assert!(Follower::from_checkpoint(&cp, &c, &b1, 0).is_err());
        // A node presenting a forged fee: its genesis no longer hashes to the checkpoint.
        let mut forged = c.clone();
        forged.genesis.min_fee = 1;
        let b1 = block(1, c.genesis_hash, &k, 4);
        let why = Follower::from_checkpoint(&cp, &forged, &b1, 0).unwrap_err();
        assert!(why.contains("not the trusted chain"), "{why}");
        // Block 1 not built on the pinned genesis.
        let b1 = block(1, Hash([8; 32]), &k, 4);
        assert!(Follower::from_checkpoint(&cp, &c, &b1, 0).is_err());
    }
}
