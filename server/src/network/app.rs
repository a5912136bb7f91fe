//! The node under simplex: it proposes blocks, verifies proposals by executing them, relays
//! their bodies, and turns finalized blocks into Joule commits that it stores.
//!
//! Consensus agrees on a block's hash; everything else happens here, in one actor per node:
//!
//! - **propose**: on the parent consensus names (the head, or a block still on its way to
//!   finality, executed on a copy of the state), select from the mempool, execute, and answer
//!   the header's hash. The body goes to every peer when consensus asks the relay to send it.
//! - **verify**: execute the proposal's transactions on its parent and vote only when the
//!   header the leader sent is the one this node computes (every root, the proposer, the
//!   validator sets), no transaction is skipped and every signature verifies.
//! - **finalize**: a validator signs a Joule vote only for a block consensus finalized; more
//!   than 2/3 of the power in Joule votes is the block's [`Commit`], which the light client
//!   verifies as before. A full node (no key) commits on the same votes.
//! - **catch up**: a node behind asks its peers for committed blocks by height, checks their
//!   commits with the light client, re-executes them and checks every root.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commonware_actor::Feedback;
use commonware_consensus::simplex::types::{Activity, Context};
use commonware_consensus::simplex::Plan;
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter};
use commonware_cryptography::ed25519;
use commonware_cryptography::sha256::Digest;
use commonware_p2p::{Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use joule_light_client::codec::{decode_exact, Encode};
use joule_light_client::commit::{verify_commit, vote_message};
use joule_light_client::{Commit, CommitSig, Hash, SecretKey, SignedTransaction};
use tokio::sync::{mpsc, oneshot};

use super::wire::{Msg, NetBlock};
use super::{joule_key, ConsensusScheme};
use crate::chain::producer::{BlockPlan, Executed};
use crate::node::{ChainState, Node};

/// How far ahead of this node's clock a proposal's timestamp may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 5_000;
/// How often a node retries what the network may have lost (votes, catch-up requests).
const TICK: Duration = Duration::from_millis(250);
/// Most uncommitted bodies kept (a peer cannot fill memory with proposals).
const MAX_BODIES: usize = 1_024;
/// Ticks between re-sends of transactions still pending here (a forward can be lost).
const REGOSSIP_TICKS: u64 = 20;
/// Most transactions re-sent at once.
const REGOSSIP_MAX: usize = 512;
/// How far above the head a proposal's body or a committed block from a peer may be (further
/// ones are not kept: a peer cannot park bodies for heights it may never reach).
const MAX_AHEAD: u64 = 64;
/// Committed blocks sent for one catch-up request: a node an hour behind (7,200 blocks at
/// 500 ms) catches up in a few hundred round trips, not one per block.
const SYNC_BATCH: u64 = 32;

/// What the actor is asked to do.
pub enum Message {
    /// Consensus asks for a proposal.
    Propose {
        /// The round and parent.
        context: Context<Digest, ed25519::PublicKey>,
        /// Where the block's hash goes.
        response: oneshot::Sender<Digest>,
    },
    /// Consensus asks whether to vote for a proposal.
    Verify {
        /// The round and parent.
        context: Context<Digest, ed25519::PublicKey>,
        /// The proposal's hash.
        payload: Digest,
        /// The verdict.
        response: oneshot::Sender<bool>,
    },
    /// Consensus asks to send a proposal's body.
    Broadcast {
        /// The block's hash.
        payload: Digest,
        /// To whom.
        to: Recipients<ed25519::PublicKey>,
    },
    /// Consensus finalized a block.
    Finalized(Digest),
    /// A peer sent a message.
    Peer(ed25519::PublicKey, Msg),
    /// This node admitted transactions from a client: forward them to the proposers.
    Submitted(Vec<SignedTransaction>),
    /// Time to retry.
    Tick,
}

/// The actor's handle: what consensus calls as automaton, relay and reporter.
#[derive(Clone)]
pub struct Mailbox {
    sender: mpsc::UnboundedSender<Message>,
    evidence: Arc<AtomicU64>,
}

impl Mailbox {
    /// A handle and the receiver its actor reads.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Message>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let evidence = Arc::default();
        (Self { sender, evidence }, receiver)
    }

    /// How many pieces of evidence of a validator signing two things in one view (two
    /// notarizes, two finalizes, or a nullify and a finalize) consensus has reported here.
    pub fn evidence(&self) -> Arc<AtomicU64> {
        self.evidence.clone()
    }

    /// Sends `message` to the actor (false: it has stopped).
    pub fn send(&self, message: Message) -> bool {
        self.sender.send(message).is_ok()
    }
}

impl Automaton for Mailbox {
    type Context = Context<Digest, ed25519::PublicKey>;
    type Digest = Digest;

    async fn propose(&mut self, context: Self::Context) -> oneshot::Receiver<Digest> {
        let (response, receiver) = oneshot::channel();
        self.send(Message::Propose { context, response });
        receiver
    }

    async fn verify(&mut self, context: Self::Context, payload: Digest) -> oneshot::Receiver<bool> {
        let (response, receiver) = oneshot::channel();
        self.send(Message::Verify {
            context,
            payload,
            response,
        });
        receiver
    }
}

// Certification is consensus' default (a notarized block may be built on): verification
// already executed it.
impl CertifiableAutomaton for Mailbox {}

impl Relay for Mailbox {
    type Digest = Digest;
    type PublicKey = ed25519::PublicKey;
    type Plan = Plan<ed25519::PublicKey>;

    fn broadcast(&mut self, payload: Digest, plan: Self::Plan) -> Feedback {
        let to = match plan {
            Plan::Prepare { .. } | Plan::Propose { .. } => Recipients::All,
            Plan::Forward { recipients, .. } => recipients,
        };
        if self.send(Message::Broadcast { payload, to }) {
            Feedback::Ok
        } else {
            Feedback::Closed
        }
    }
}

impl Reporter for Mailbox {
    type Activity = Activity<ConsensusScheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Activity::Finalization(f) if !self.send(Message::Finalized(f.proposal.payload)) => {
                return Feedback::Closed;
            }
            Activity::ConflictingNotarize(_)
            | Activity::ConflictingFinalize(_)
            | Activity::NullifyFinalize(_) => {
                self.evidence.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "consensus evidence: a validator signed conflicting votes in one view"
                );
            }
            _ => {}
        }
        Feedback::Ok
    }
}

/// The hash consensus carries for a block.
pub fn digest_of(hash: &Hash) -> Digest {
    Digest(hash.0)
}

fn hash_of(digest: &Digest) -> Hash {
    Hash(digest.0)
}

/// A Byzantine proposer, for tests: what it does instead of proposing honestly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Its header claims a state it did not compute.
    WrongStateRoot,
    /// Its block carries a transaction with a broken signature.
    InvalidSignature,
    /// It sends a different body to half of its peers.
    Equivocate,
}

/// A proposal parked until what it needs arrives (its body, or its parent's execution).
struct Parked {
    context: Context<Digest, ed25519::PublicKey>,
    hash: Hash,
    response: oneshot::Sender<bool>,
}

/// One node's side of the network.
pub struct Actor<E, S> {
    context: E,
    node: Arc<Node>,
    /// This validator's key (`None`: a full node).
    key: Option<SecretKey>,
    net: S,
    mailbox: Mailbox,
    inbox: mpsc::UnboundedReceiver<Message>,
    /// Bodies received or proposed, not yet committed.
    bodies: HashMap<Hash, Arc<NetBlock>>,
    /// Blocks executed (verified or proposed here), not yet committed.
    executed: HashMap<Hash, Executed>,
    /// Final blocks above the head, by height (from consensus or from a quorum of votes).
    final_at: BTreeMap<u64, Hash>,
    /// Joule votes by block: height and distinct signatures.
    votes: HashMap<Hash, (u64, Vec<CommitSig>)>,
    /// Blocks this validator signed a Joule vote for (never two at one height: only final
    /// blocks are signed, and there is one per height).
    signed: HashSet<Hash>,
    /// Finalizations whose ancestry is not all here yet.
    unresolved: Vec<Hash>,
    parked: Vec<Parked>,
    /// The highest height any peer showed us.
    seen_height: u64,
    /// When the head last moved (this node's clock, ms).
    last_progress_ms: u64,
    /// The first height of the last catch-up request.
    want_from: u64,
    ticks: u64,
    /// Bodies asked for, with the tick of the last ask.
    asked: HashMap<Hash, u64>,
    /// The mempool's mark at the last re-send: what is older has waited a whole period.
    regossip_mark: u64,
    fault: Option<Fault>,
}

impl<E, S> Actor<E, S>
where
    E: Clock + Spawner,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
    /// An actor for `node`; `key` makes it a validator. Returns it with the mailbox consensus
    /// and the network loops use.
    pub fn new(context: E, node: Arc<Node>, key: Option<SecretKey>, net: S) -> (Self, Mailbox) {
        let (mailbox, inbox) = Mailbox::new();
        let actor = Actor {
            context,
            node,
            key,
            net,
            mailbox: mailbox.clone(),
            inbox,
            bodies: HashMap::new(),
            executed: HashMap::new(),
            final_at: BTreeMap::new(),
            votes: HashMap::new(),
            signed: HashSet::new(),
            unresolved: Vec::new(),
            parked: Vec::new(),
            seen_height: 0,
            last_progress_ms: 0,
            want_from: 0,
            ticks: 0,
            asked: HashMap::new(),
            regossip_mark: 0,
            fault: None,
        };
        (actor, mailbox)
    }

    /// Makes this node Byzantine (tests of what honest nodes refuse).
    pub fn with_fault(mut self, fault: Option<Fault>) -> Self {
        self.fault = fault;
        self
    }

    /// Runs until its task is aborted (its own timers hold a handle, so the inbox never
    /// closes on its own).
    pub async fn run(mut self) {
        let ticker = self.mailbox.clone();
        self.context.child("tick").spawn(move |ctx| async move {
            loop {
                ctx.sleep(TICK).await;
                if !ticker.send(Message::Tick) {
                    return;
                }
            }
        });
        while let Some(message) = self.inbox.recv().await {
            self.handle(message);
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Propose { context, response } => self.propose(context, response),
            Message::Verify {
                context,
                payload,
                response,
            } => {
                let parked = Parked {
                    context,
                    hash: hash_of(&payload),
                    response,
                };
                if let Some(p) = self.verify(parked) {
                    self.parked.push(p);
                }
            }
            Message::Broadcast { payload, to } => {
                let Some(body) = self.bodies.get(&hash_of(&payload)) else {
                    return;
                };
                let bytes = Msg::Block((**body).clone()).encode();
                if self.fault == Some(Fault::Equivocate) {
                    // Half the validators get another body than the one consensus carries.
                    let mut other = (**body).clone();
                    other.header.timestamp_ms += 1;
                    let ids: Vec<_> = self
                        .node
                        .genesis
                        .validators
                        .validators()
                        .iter()
                        .filter_map(|v| super::consensus_key(&v.public_key))
                        .collect();
                    let (a, b) = ids.split_at(ids.len() / 2);
                    self.net.send(Recipients::Some(a.to_vec()), bytes, false);
                    self.net.send(
                        Recipients::Some(b.to_vec()),
                        Msg::Block(other).encode(),
                        false,
                    );
                    return;
                }
                self.net.send(to, bytes, false);
            }
            Message::Finalized(payload) => {
                self.unresolved.push(hash_of(&payload));
                self.advance();
            }
            Message::Peer(from, msg) => self.on_peer(from, msg),
            Message::Submitted(txs) => {
                self.net
                    .send(Recipients::All, Msg::Txs(txs).encode(), false);
            }
            Message::Tick => self.tick(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.context
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// The committed head's hash (the genesis hash before block 1).
    fn head_hash(chain: &ChainState, genesis: Hash) -> Hash {
        chain.head.as_ref().map_or(genesis, |b| b.header.hash())
    }

    /// Runs `f` on the state after `parent`: the head itself, or a copy with the executed,
    /// uncommitted blocks from the head to `parent` applied. `None`: `parent` is neither.
    fn on_state<R>(&self, parent: Hash, f: impl FnOnce(&ChainState) -> R) -> Option<R> {
        let chain = self.node.chain();
        let head = Self::head_hash(&chain, self.node.genesis_hash);
        if parent == head {
            return Some(f(&chain));
        }
        let mut path = Vec::new();
        let mut at = parent;
        while at != head {
            let ex = self.executed.get(&at)?;
            if ex.header.height <= chain.height() {
                return None;
            }
            path.push(ex);
            at = ex.header.parent_hash;
        }
        let mut copy = ChainState {
            head: chain.head.clone(),
            shards: chain.shards.clone(),
            pending_receipts: chain.pending_receipts.clone(),
            recent: Default::default(),
            total_txs: 0,
        };
        drop(chain);
        for ex in path.into_iter().rev() {
            ex.apply_to(&mut copy);
        }
        Some(f(&copy))
    }

    /// The parent's header time (genesis time for the genesis).
    fn parent_time(&self, parent: Hash) -> Option<u64> {
        let chain = self.node.chain();
        if parent == Self::head_hash(&chain, self.node.genesis_hash) {
            return Some(
                chain
                    .head
                    .as_ref()
                    .map_or(self.node.genesis.genesis_time_ms, |b| b.header.timestamp_ms),
            );
        }
        self.bodies.get(&parent).map(|b| b.header.timestamp_ms)
    }

    fn propose(
        &mut self,
        context: Context<Digest, ed25519::PublicKey>,
        response: oneshot::Sender<Digest>,
    ) {
        let Some(key) = self.key.clone() else { return };
        let parent = hash_of(&context.parent.1);
        let Some(parent_time) = self.parent_time(parent) else {
            tracing::debug!(%parent, "cannot propose: parent not executed here");
            return;
        };
        // Blocks keep the genesis' pace: wait out the interval since the parent (the actor
        // goes on meanwhile; the proposal comes back as a new message).
        let due = parent_time + self.node.genesis.block_interval_ms;
        let now = self.now_ms();
        if now < due {
            let mailbox = self.mailbox.clone();
            self.context.child("pace").spawn(move |ctx| async move {
                ctx.sleep(Duration::from_millis(due - now)).await;
                mailbox.send(Message::Propose { context, response });
            });
            return;
        }
        let g = &self.node.genesis;
        let plan = BlockPlan {
            timestamp_ms: now.max(parent_time + 1),
            proposer: key.public_key(),
        };
        let node = self.node.clone();
        let fault = self.fault;
        let built = self.on_state(parent, |chain| {
            let selected = {
                let pool = node.mempool();
                pool.select(g.shard_count, g.max_txs_per_shard_block as usize, |a| {
                    chain.account(a)
                })
            };
            let ex = node.execute_on(chain, selected, &plan, Instant::now());
            let ex = if ex.skipped.is_empty() {
                ex
            } else {
                // What execution skips is left out, and the rest executed again: a proposal
                // carries only what it includes.
                node.execute_on(chain, ex.txs(), &plan, Instant::now())
            };
            if fault == Some(Fault::InvalidSignature) {
                let mut txs = ex.txs();
                let forged = super::faults::forged_transfer(&node, chain);
                let shard = usize::from(forged.tx.sender_address().shard(g.shard_count));
                txs[shard].push(forged);
                return node.execute_on(chain, txs, &plan, Instant::now());
            }
            ex
        });
        let Some(mut ex) = built else { return };
        if self.fault == Some(Fault::WrongStateRoot) {
            ex.header.shards_root = Hash([0xee; 32]);
        }
        let hash = ex.hash();
        let body = NetBlock {
            header: ex.header.clone(),
            txs: ex.txs(),
        };
        tracing::debug!(height = ex.header.height, %hash, "proposing");
        self.bodies.insert(hash, Arc::new(body));
        self.executed.insert(hash, ex);
        let _ = response.send(digest_of(&hash));
    }

    /// Answers `p` if it can, or gives it back to wait for what it needs.
    fn verify(&mut self, p: Parked) -> Option<Parked> {
        let parent = hash_of(&p.context.parent.1);
        if let Some(ex) = self.executed.get(&p.hash) {
            // Proposed or verified here already.
            let ok = ex.header.parent_hash == parent
                && ex.header.proposer == joule_key(&p.context.leader);
            let _ = p.response.send(ok);
            return None;
        }
        let Some(body) = self.bodies.get(&p.hash).cloned() else {
            self.ask_body(p.hash);
            return Some(p);
        };
        if !self.ensure_executed(parent) {
            return Some(p);
        }
        match self.check(&p.context, &body) {
            Ok(ex) => {
                self.executed.insert(p.hash, ex);
                let _ = p.response.send(true);
            }
            Err(why) => {
                tracing::warn!(height = body.header.height, hash = %p.hash, why, "proposal refused");
                let _ = p.response.send(false);
            }
        }
        None
    }

    /// Whether `hash` (the head, or a block above it) is executed here; executes it and its
    /// ancestors from their bodies if it can (consensus certified them; each must still
    /// execute to its own header), and asks peers for a missing body.
    fn ensure_executed(&mut self, hash: Hash) -> bool {
        let head = {
            let chain = self.node.chain();
            Self::head_hash(&chain, self.node.genesis_hash)
        };
        if hash == head || self.executed.contains_key(&hash) {
            return true;
        }
        let Some(body) = self.bodies.get(&hash).cloned() else {
            self.ask_body(hash);
            return false;
        };
        if body.header.height <= self.node.chain().height()
            || !self.ensure_executed(body.header.parent_hash)
        {
            return false;
        }
        let plan = BlockPlan {
            timestamp_ms: body.header.timestamp_ms,
            proposer: body.header.proposer,
        };
        let node = self.node.clone();
        let Some(ex) = self.on_state(body.header.parent_hash, |chain| {
            node.execute_on(chain, body.txs.clone(), &plan, Instant::now())
        }) else {
            return false;
        };
        if ex.header != body.header || !ex.skipped.is_empty() {
            return false;
        }
        self.executed.insert(hash, ex);
        true
    }

    /// Asks every peer for the body of `hash` (once a second at most).
    fn ask_body(&mut self, hash: Hash) {
        let now = self.ticks;
        if self.asked.get(&hash).is_some_and(|at| now < at + 4) {
            return;
        }
        self.asked.insert(hash, now);
        self.net
            .send(Recipients::All, Msg::WantBody { hash }.encode(), false);
    }

    /// Executes `body` on its parent and checks it is exactly what its header claims.
    fn check(
        &self,
        context: &Context<Digest, ed25519::PublicKey>,
        body: &NetBlock,
    ) -> Result<Executed, &'static str> {
        let g = &self.node.genesis;
        let h = &body.header;
        let parent = hash_of(&context.parent.1);
        if h.parent_hash != parent {
            return Err("parent is not the one consensus names");
        }
        if h.proposer != joule_key(&context.leader) {
            return Err("proposer is not the round's leader");
        }
        if h.chain_id != g.chain_id || h.shard_count != g.shard_count {
            return Err("wrong chain id or shard count");
        }
        if body.txs.len() != usize::from(g.shard_count) {
            return Err("transactions not given for every shard");
        }
        let parent_time = self.parent_time(parent).ok_or("parent unknown")?;
        if h.timestamp_ms <= parent_time || h.timestamp_ms > self.now_ms() + MAX_CLOCK_DRIFT_MS {
            return Err("timestamp not after the parent's, or too far ahead");
        }
        for (s, txs) in body.txs.iter().enumerate() {
            if txs.len() > g.max_txs_per_shard_block as usize {
                return Err("too many transactions in a shard block");
            }
            if txs
                .iter()
                .any(|t| usize::from(t.tx.sender_address().shard(g.shard_count)) != s)
            {
                return Err("a transaction is in another shard's block");
            }
        }
        let all: Vec<SignedTransaction> = body.txs.iter().flatten().cloned().collect();
        let sigs_ok = self.node.on_admission_pool(|| {
            use rayon::prelude::*;
            let sigs = crate::sigverify::verify_signatures(&all);
            sigs.par_iter().zip(&all).all(|(sig, stx)| {
                sig.is_ok()
                    && crate::mempool::check_fields(&g.chain_id, g.min_fee, g.shard_count, stx)
                        .is_ok()
            })
        });
        if !sigs_ok {
            return Err("a transaction's signature or fields are invalid");
        }
        let plan = BlockPlan {
            timestamp_ms: h.timestamp_ms,
            proposer: h.proposer,
        };
        let node = self.node.clone();
        let ex = self
            .on_state(parent, |chain| {
                node.execute_on(chain, body.txs.clone(), &plan, Instant::now())
            })
            .ok_or("parent not executed here")?;
        if !ex.skipped.is_empty() {
            return Err("a transaction cannot execute (nonce, funds or fee)");
        }
        if ex.header != *h {
            return Err(
                "header differs from execution (state, receipts, events or validator roots)",
            );
        }
        Ok(ex)
    }

    fn on_peer(&mut self, from: ed25519::PublicKey, msg: Msg) {
        let head = self.node.chain().height();
        match msg {
            Msg::Block(body) => {
                let h = body.header.height;
                if h <= head || h > head + MAX_AHEAD || self.bodies.len() >= MAX_BODIES {
                    return;
                }
                self.seen_height = self.seen_height.max(body.header.height);
                let hash = body.hash();
                self.bodies.entry(hash).or_insert_with(|| Arc::new(body));
                self.retry_parked();
                self.advance();
            }
            Msg::Vote { height, hash, sig } => {
                if height <= head || !self.valid_vote(height, &hash, &sig) {
                    return;
                }
                self.seen_height = self.seen_height.max(height);
                self.add_vote(height, hash, sig);
                self.advance();
            }
            Msg::Want { height } => {
                for h in height..height.saturating_add(SYNC_BATCH) {
                    let Some(reply) = self.committed(h) else {
                        break;
                    };
                    self.net
                        .send(Recipients::One(from.clone()), reply.encode(), false);
                }
            }
            Msg::Final { block, commit } => {
                let height = block.header.height;
                if height <= head || height > head + MAX_AHEAD {
                    return;
                }
                let set = self.node.finalizer().validators(height);
                let hash = block.hash();
                if verify_commit(&self.node.genesis.chain_id, &set, &block.header, &commit).is_err()
                {
                    tracing::warn!(height, "a peer's commit does not verify; ignored");
                    return;
                }
                self.seen_height = self.seen_height.max(height);
                if self.bodies.len() < MAX_BODIES {
                    self.bodies.entry(hash).or_insert_with(|| Arc::new(block));
                }
                for sig in commit.signatures {
                    self.add_vote(height, hash, sig);
                }
                self.advance();
                // A batch consumed and still behind: the next batch from the same peer.
                let head = self.node.chain().height();
                if head + 1 >= self.want_from + SYNC_BATCH && self.seen_height > head {
                    self.want_from = head + 1;
                    let want = Msg::Want { height: head + 1 };
                    self.net.send(Recipients::One(from), want.encode(), false);
                }
            }
            Msg::Txs(txs) => {
                // Relayed, not forwarded again: the submitting node sent them to everyone.
                let _ = self.node.admit_relayed(txs);
            }
            Msg::WantBody { hash } => {
                if let Some(body) = self.bodies.get(&hash) {
                    let reply = Msg::Block((**body).clone()).encode();
                    self.net.send(Recipients::One(from), reply, false);
                }
            }
        }
    }

    fn valid_vote(&self, height: u64, hash: &Hash, sig: &CommitSig) -> bool {
        let set = self.node.finalizer().validators(height);
        set.get(&sig.validator).is_some()
            && sig
                .validator
                .verify(
                    vote_message(&self.node.genesis.chain_id, height, hash).as_bytes(),
                    &sig.signature,
                )
                .is_ok()
    }

    fn add_vote(&mut self, height: u64, hash: Hash, sig: CommitSig) {
        let (_, sigs) = self.votes.entry(hash).or_insert((height, Vec::new()));
        if !sigs.iter().any(|s| s.validator == sig.validator) {
            sigs.push(sig);
        }
        if self.has_quorum(height, &hash) {
            self.final_at.entry(height).or_insert(hash);
        }
    }

    fn has_quorum(&self, height: u64, hash: &Hash) -> bool {
        let Some((_, sigs)) = self.votes.get(hash) else {
            return false;
        };
        let set = self.node.finalizer().validators(height);
        let signed: u64 = sigs
            .iter()
            .filter_map(|s| set.get(&s.validator))
            .map(|v| v.power)
            .sum();
        3 * u128::from(signed) > 2 * u128::from(set.total_power())
    }

    /// The committed block at `height` with its commit, as a reply.
    fn committed(&self, height: u64) -> Option<Msg> {
        let store = &self.node.store;
        let block = store.block(height).ok()??;
        let mut txs = Vec::with_capacity(block.shards.len());
        for (s, sh) in block.shards.iter().enumerate() {
            let positions: Vec<_> = (0..sh.tx_count)
                .map(|index| crate::store::TxPos {
                    height,
                    shard: s as u16,
                    index,
                })
                .collect();
            let stored = store.txs_at(&positions).ok()?;
            if stored.len() != positions.len() {
                return None;
            }
            txs.push(stored.into_iter().map(|t| t.stx).collect());
        }
        Some(Msg::Final {
            block: NetBlock {
                header: block.header,
                txs,
            },
            commit: block.commit,
        })
    }

    /// Marks the ancestry of every finalization as final, as far as the bodies reach.
    fn resolve_finalizations(&mut self) {
        let head = self.node.chain().height();
        let unresolved = std::mem::take(&mut self.unresolved);
        for hash in unresolved {
            let mut at = hash;
            let mut resolved = false;
            while let Some(body) = self.bodies.get(&at) {
                let height = body.header.height;
                if height <= head {
                    resolved = true;
                    break;
                }
                self.final_at.entry(height).or_insert(at);
                self.seen_height = self.seen_height.max(height);
                at = body.header.parent_hash;
                if height == head + 1 {
                    resolved = true;
                    break;
                }
            }
            if !resolved {
                self.unresolved.push(hash);
            }
        }
    }

    /// Commits every final block it can, in height order, signing Joule votes on the way.
    fn advance(&mut self) {
        self.resolve_finalizations();
        loop {
            let (height, head_hash) = {
                let chain = self.node.chain();
                (
                    chain.height() + 1,
                    Self::head_hash(&chain, self.node.genesis_hash),
                )
            };
            let Some(&hash) = self.final_at.get(&height) else {
                return;
            };
            if !self.executed.contains_key(&hash) {
                let Some(body) = self.bodies.get(&hash).cloned() else {
                    return;
                };
                if body.header.parent_hash != head_hash {
                    tracing::error!(height, "a final block does not extend this node's head");
                    return;
                }
                let plan = BlockPlan {
                    timestamp_ms: body.header.timestamp_ms,
                    proposer: body.header.proposer,
                };
                let node = self.node.clone();
                let chain = node.chain();
                let ex = node.execute_on(&chain, body.txs.clone(), &plan, Instant::now());
                drop(chain);
                if ex.header != body.header || !ex.skipped.is_empty() {
                    tracing::error!(
                        height,
                        "a final block executes differently here: this node's state or version differs"
                    );
                    return;
                }
                self.executed.insert(hash, ex);
            }
            if let Some(key) = &self.key {
                if self.signed.insert(hash) {
                    let msg = vote_message(&self.node.genesis.chain_id, height, &hash);
                    let sig = CommitSig {
                        validator: key.public_key(),
                        signature: key.sign(msg.as_bytes()),
                    };
                    self.add_vote(height, hash, sig);
                    let vote = Msg::Vote { height, hash, sig };
                    self.net.send(Recipients::All, vote.encode(), true);
                }
            }
            if !self.has_quorum(height, &hash) {
                return;
            }
            let (_, mut signatures) = self.votes.remove(&hash).unwrap_or_default();
            signatures.sort_by_key(|s| s.validator.0);
            let commit = Commit {
                height,
                block_hash: hash,
                signatures,
            };
            let ex = self.executed.remove(&hash).expect("executed above");
            let proposed_ms = ex.header.timestamp_ms;
            match self.node.commit_executed(ex, commit) {
                Ok(_) => {
                    self.last_progress_ms = self.now_ms();
                    // From the proposer's clock to this node's commit (one machine's
                    // loopback: the clocks agree).
                    tracing::debug!(
                        height,
                        finality_ms = self.last_progress_ms.saturating_sub(proposed_ms),
                        "committed"
                    );
                    self.prune(height);
                }
                Err(e) => {
                    tracing::error!(height, error = %e, "committing a final block failed");
                    return;
                }
            }
        }
    }

    /// Forgets what the head has passed.
    fn prune(&mut self, head: u64) {
        self.bodies.retain(|_, b| b.header.height > head);
        self.executed.retain(|_, e| e.header.height > head);
        self.votes.retain(|_, (h, _)| *h > head);
        self.final_at.retain(|h, _| *h > head);
        let bodies = &self.bodies;
        self.asked.retain(|h, _| !bodies.contains_key(h));
        // A signed hash is kept while its height could still be asked about.
        let bodies = &self.bodies;
        self.signed.retain(|h| bodies.contains_key(h));
    }

    fn retry_parked(&mut self) {
        let parked = std::mem::take(&mut self.parked);
        for p in parked {
            if p.response.is_closed() {
                continue;
            }
            if let Some(p) = self.verify(p) {
                self.parked.push(p);
            }
        }
    }

    fn tick(&mut self) {
        self.retry_parked();
        self.advance();
        self.ticks += 1;
        if self.ticks.is_multiple_of(REGOSSIP_TICKS) {
            // Transactions pending here for a whole period go to the peers again: the first
            // forward may have been lost, and a full node never proposes them itself.
            let (old, mark) = {
                let pool = self.node.mempool();
                (
                    pool.oldest_before(self.regossip_mark, REGOSSIP_MAX),
                    pool.next_seq(),
                )
            };
            self.regossip_mark = mark;
            if !old.is_empty() {
                self.net
                    .send(Recipients::All, Msg::Txs(old).encode(), false);
            }
        }
        let head = self.node.chain().height();
        // Our vote for the next block again, in case it was lost.
        if let Some(&hash) = self.final_at.get(&(head + 1)) {
            if let (Some(key), Some((_, sigs))) = (&self.key, self.votes.get(&hash)) {
                if let Some(sig) = sigs.iter().find(|s| s.validator == key.public_key()) {
                    let vote = Msg::Vote {
                        height: head + 1,
                        hash,
                        sig: *sig,
                    };
                    self.net.send(Recipients::All, vote.encode(), true);
                }
            }
        }
        // Behind the network, or stuck on a final block whose body never came: ask for the
        // next committed block.
        let missing_body = self
            .final_at
            .get(&(head + 1))
            .is_some_and(|h| !self.bodies.contains_key(h));
        let stalled = self.now_ms() > self.last_progress_ms + 2_000;
        if self.seen_height > head + 1 || missing_body || (stalled && !self.unresolved.is_empty()) {
            self.want_from = head + 1;
            let want = Msg::Want { height: head + 1 };
            self.net.send(Recipients::All, want.encode(), false);
        }
    }
}

/// Reads a peer's bytes as a message (a peer's garbage is dropped, never trusted).
pub fn decode_peer(bytes: &[u8]) -> Option<Msg> {
    decode_exact::<Msg>(bytes).ok()
}
