//! Joule across machines: each validator runs commonware's simplex consensus (ed25519 votes) over
//! authenticated p2p; full nodes follow. Consensus orders block hashes; [`app`] proposes,
//! verifies by re-executing, and turns finalizations into the Joule commits the light client
//! checks.
//!
//! Why a Joule commit signed after finalization, not the engine's certificate: the light
//! client, its golden vectors and the browser app keep one commit format that does not change
//! with commonware's calendar releases, and a commit still means what it meant: more than 2/3
//! of the power signed this header (which names the chain). Honest validators sign only blocks
//! consensus finalized, one per height, so a commit with more than 2/3 of the power implies
//! finality under the same assumption consensus makes (fewer than 1/3 faulty). It costs one
//! message round after finalization.

pub mod app;
mod faults;
pub mod peers;
pub mod run;
pub mod testnet;
#[cfg(test)]
mod tests;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use commonware_codec::{DecodeExt, Encode as _};
use commonware_consensus::simplex::config::{Config, Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::simplex::elector::RoundRobin;
use commonware_consensus::simplex::Engine;
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_cryptography::ed25519;
use commonware_p2p::{Blocker, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::ordered::Set;
use joule_light_client::{BlockHeader, Commit, PublicKey, SecretKey, ValidatorSet};

use crate::consensus::{ConsensusError, Finalizer};
use crate::node::Node;

/// The signing scheme of consensus votes: ed25519, each validator's own Joule key.
pub type ConsensusScheme = commonware_consensus::simplex::scheme::ed25519::Scheme;

/// p2p channels.
pub mod channel {
    /// Consensus votes.
    pub const VOTES: u64 = 0;
    /// Consensus certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Consensus' fetches of missing certificates.
    pub const RESOLVER: u64 = 2;
    /// Joule's messages ([`super::wire::Msg`]).
    pub const JOULE: u64 = 3;
}

/// Largest p2p message: a full block body (4 shards of 5,000 transactions is about 3 MB).
pub const MAX_MESSAGE_BYTES: u32 = 32 * 1024 * 1024;

/// Consensus' timeouts, in blocks of the genesis' interval: generous on loopback, where a
/// round takes a few milliseconds, so that only a silent leader times out.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Waiting for the leader's proposal.
    pub leader: Duration,
    /// Waiting for a notarization after the proposal.
    pub certification: Duration,
}

impl Timeouts {
    /// Timeouts for blocks every `interval_ms`.
    pub fn for_interval(interval_ms: u64) -> Self {
        Timeouts {
            leader: Duration::from_millis(interval_ms + 1_500),
            certification: Duration::from_millis(interval_ms + 2_500),
        }
    }
}

/// A Joule key as a consensus identity (the same ed25519 key); `None` if the bytes are not a
/// valid point (a validated genesis holds none such).
pub fn consensus_key(key: &PublicKey) -> Option<ed25519::PublicKey> {
    ed25519::PublicKey::decode(key.0.to_vec()).ok()
}

/// A consensus identity as a Joule key.
pub fn joule_key(key: &ed25519::PublicKey) -> PublicKey {
    let bytes = key.encode();
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    PublicKey(out)
}

/// A Joule secret key as a consensus signer.
pub fn consensus_signer(key: &SecretKey) -> ed25519::PrivateKey {
    ed25519::PrivateKey::decode(key.seed().to_vec()).expect("a 32-byte seed is a private key")
}

/// The network's validator set, fixed by genesis: consensus finalizes, [`app`] commits.
#[derive(Debug)]
pub struct NetworkValidators {
    set: ValidatorSet,
}

impl NetworkValidators {
    /// The genesis set.
    pub fn new(set: ValidatorSet) -> Self {
        Self { set }
    }
}

impl Finalizer for NetworkValidators {
    fn validators(&self, _height: u64) -> ValidatorSet {
        self.set.clone()
    }

    fn proposer(&self, height: u64) -> PublicKey {
        let vs = self.set.validators();
        vs[(height % vs.len() as u64) as usize].public_key
    }

    fn finalize(&self, _header: &BlockHeader) -> Result<Commit, ConsensusError> {
        Err(ConsensusError::Failed(
            "blocks of a network are finalized by its validators' consensus, not produced locally"
                .into(),
        ))
    }
}

/// The simplex channels of a validator.
pub type SimplexChannels<S, R> = [(S, R); 3];

/// A started node's side of the network.
pub struct Started {
    /// The actor's task (aborting it stops the node's part: its consensus and readers are
    /// its siblings under the same context).
    pub handle: Handle<()>,
    /// Evidence of conflicting votes reported by consensus here.
    pub evidence: Arc<std::sync::atomic::AtomicU64>,
}

/// Starts `node`'s side of the network (see [`start_with`]), honestly.
#[allow(clippy::too_many_arguments)]
pub fn start<E, B, S, R>(
    context: E,
    node: Arc<Node>,
    key: Option<SecretKey>,
    blocker: B,
    simplex: Option<SimplexChannels<S, R>>,
    joule: (S, R),
    partition: String,
) -> Started
where
    E: Clock + Spawner + Storage + Metrics + rand_core_010::CryptoRng,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    start_with(context, node, key, blocker, simplex, joule, partition, None)
}

/// Starts `node`'s side of the network: the actor that follows (and, with `key`, validates)
/// the chain, the loop that reads Joule messages, and, with `key` and `simplex`, consensus.
/// `storage` names where consensus keeps its journal.
#[allow(clippy::too_many_arguments)]
pub fn start_with<E, B, S, R>(
    context: E,
    node: Arc<Node>,
    key: Option<SecretKey>,
    blocker: B,
    simplex: Option<SimplexChannels<S, R>>,
    joule: (S, R),
    partition: String,
    fault: Option<app::Fault>,
) -> Started
where
    E: Clock + Spawner + Storage + Metrics + rand_core_010::CryptoRng,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    let (joule_sender, mut joule_receiver) = joule;
    let (actor, mailbox) = app::Actor::new(
        context.child("joule"),
        node.clone(),
        key.clone(),
        joule_sender,
    );
    let actor = actor.with_fault(fault);
    let forward = mailbox.clone();
    node.set_forwarder(Box::new(move |txs| {
        forward.send(app::Message::Submitted(txs));
    }));
    let reader = mailbox.clone();
    let evidence = mailbox.evidence();
    context.child("joule_reader").spawn(move |_| async move {
        while let Ok((from, bytes)) = joule_receiver.recv().await {
            let Some(msg) = app::decode_peer(bytes.as_ref()) else {
                tracing::debug!(peer = %from, "undecodable message dropped");
                continue;
            };
            if !reader.send(app::Message::Peer(from, msg)) {
                return;
            }
        }
    });
    if let (Some(key), Some([votes, certificates, resolver])) = (key, simplex) {
        let g = &node.genesis;
        let participants = Set::from_iter_dedup(
            g.validators
                .validators()
                .iter()
                .filter_map(|v| consensus_key(&v.public_key)),
        );
        let namespace = format!("joule/{}", g.chain_id).into_bytes();
        let scheme = ConsensusScheme::signer(&namespace, participants, consensus_signer(&key))
            .expect("the validator key is in the genesis set (checked at start)");
        let timeouts = Timeouts::for_interval(g.block_interval_ms);
        let cfg = Config {
            scheme,
            elector: RoundRobin::<commonware_cryptography::Sha256>::default(),
            blocker,
            automaton: mailbox.clone(),
            relay: mailbox.clone(),
            reporter: mailbox,
            track_historical_votes: false,
            strategy: Sequential,
            partition,
            mailbox_size: commonware_utils::NZUsize!(1024),
            epoch: Epoch::new(0),
            floor: Floor::Genesis(app::digest_of(&node.genesis_hash)),
            replay_buffer: commonware_utils::NZUsize!(1024 * 1024),
            write_buffer: commonware_utils::NZUsize!(1024 * 1024),
            page_cache: CacheRef::new(
                commonware_utils::NZU16!(1024),
                commonware_utils::NZUsize!(16),
            ),
            leader_timeout: timeouts.leader,
            certification_timeout: timeouts.certification,
            timeout_retry: Duration::from_secs(5),
            view_retention: ViewDelta::new(64),
            skip: SkipPolicy::Enabled {
                timeout: timeouts.certification + Duration::from_secs(5),
                budget: SkipBudget::Participants,
            },
            fetch_timeout: commonware_utils::NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::SilentVoters,
        };
        let engine = Engine::new(context.child("simplex"), cfg);
        engine.start(votes, certificates, resolver);
    }
    let handle = context
        .child("joule_actor")
        .spawn(move |_| async move { actor.run().await });
    Started { handle, evidence }
}
