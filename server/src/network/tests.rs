//! Validators and full nodes under commonware's deterministic runtime and simulated network:
//! seeded, reproducible, every fault the network must survive.

use std::sync::Arc;
use std::time::Duration;

use commonware_cryptography::ed25519;
use commonware_p2p::simulated::{Config as NetConfig, Link, Network, Oracle};
use commonware_runtime::{deterministic, Clock, Quota, Runner, Spawner, Supervisor};
use commonware_utils::Probability;
use joule_light_client::commit::verify_commit;
use joule_light_client::{Address, Hash, Payload, SecretKey, Transaction};

use super::app::Fault;
use super::{channel, consensus_key, NetworkValidators, MAX_MESSAGE_BYTES};
use crate::chain::ParallelExecutor;
use crate::devnet::{self, account_key, DevnetKeys, DevnetOptions};
use crate::genesis::Genesis;
use crate::node::Node;

const VALIDATORS: usize = 4;

fn keys() -> DevnetKeys {
    DevnetKeys {
        validators: (0..VALIDATORS)
            .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect(),
        faucet: SecretKey::from_seed(&[99; 32]),
    }
}

fn genesis(keys: &DevnetKeys) -> Genesis {
    devnet::genesis(
        &DevnetOptions {
            shard_count: 4,
            block_interval_ms: 200,
            genesis_time_ms: 0,
        },
        keys,
    )
}

fn link(latency_ms: u64, jitter_ms: u64, success: f64) -> Link {
    Link {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        success_rate: Probability::from_f64(success).expect("a probability"),
    }
}

/// One node of the test network.
struct Member {
    identity: ed25519::PublicKey,
    node: Option<Arc<Node>>,
    /// The task everything of this member runs under (aborted: the member crashed).
    task: Option<commonware_runtime::Handle<()>>,
    evidence: Option<Arc<std::sync::atomic::AtomicU64>>,
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
}

/// A network of 4 validators and one full node (index 4) on the simulated network.
struct TestNet {
    keys: DevnetKeys,
    genesis: Genesis,
    oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    members: Vec<Member>,
}

impl TestNet {
    async fn new(context: &deterministic::Context) -> Self {
        let keys = keys();
        let genesis = genesis(&keys);
        let full = SecretKey::from_seed(&[50; 32]);
        let identities: Vec<ed25519::PublicKey> = keys
            .validators
            .iter()
            .chain([&full])
            .map(|k| consensus_key(&k.public_key()).unwrap())
            .collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            NetConfig {
                max_size: MAX_MESSAGE_BYTES,
                max_peers_per_set: commonware_utils::NZUsize!(identities.len()),
                disconnect_on_block: false,
                tracked_peer_sets: commonware_utils::NZUsize!(1),
            },
            identities.clone(),
        )
        .await;
        network.start();
        let members = identities
            .into_iter()
            .map(|identity| {
                let dir = tempfile::tempdir().unwrap();
                Member {
                    identity,
                    node: None,
                    task: None,
                    evidence: None,
                    dir: dir.path().to_owned(),
                    _dir: dir,
                }
            })
            .collect();
        let mut net = TestNet {
            keys,
            genesis,
            oracle,
            members,
        };
        net.link_all(link(10, 2, 1.0)).await;
        net
    }

    async fn link_all(&mut self, l: Link) {
        let ids: Vec<_> = self.members.iter().map(|m| m.identity.clone()).collect();
        for a in &ids {
            for b in &ids {
                if a != b {
                    let _ = self.oracle.remove_link(a.clone(), b.clone()).await;
                    self.oracle
                        .add_link(a.clone(), b.clone(), l.clone())
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// Cuts every link between `left` and the others.
    async fn partition(&mut self, left: &[usize]) {
        let ids: Vec<_> = self.members.iter().map(|m| m.identity.clone()).collect();
        for (i, a) in ids.iter().enumerate() {
            for (j, b) in ids.iter().enumerate() {
                if left.contains(&i) != left.contains(&j) {
                    let _ = self.oracle.remove_link(a.clone(), b.clone()).await;
                }
            }
        }
    }

    /// Starts member `i` (a validator below 4, the full node at 4), with `fault` if any.
    async fn start(&mut self, context: &deterministic::Context, i: usize, fault: Option<Fault>) {
        let m = &mut self.members[i];
        let node = Arc::new(
            Node::open_with(
                &m.dir,
                self.genesis.clone(),
                Box::new(NetworkValidators::new(self.genesis.validators.clone())),
                Box::new(ParallelExecutor::new(2)),
                10_000,
                None,
            )
            .unwrap(),
        );
        let control = self.oracle.control(m.identity.clone());
        let quota = Quota::per_second(commonware_utils::NZU32!(1_024));
        let mut pairs = Vec::new();
        for ch in [
            channel::VOTES,
            channel::CERTIFICATES,
            channel::RESOLVER,
            channel::JOULE,
        ] {
            pairs.push(control.register(ch, quota).await.unwrap());
        }
        let joule = pairs.pop().unwrap();
        let key = self.keys.validators.get(i).cloned();
        let simplex = key.as_ref().map(|_| {
            let mut it = pairs.into_iter();
            [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()]
        });
        // Everything of the member runs under one task, so that aborting it is a crash.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = node.clone();
        let task =
            context
                .child("member")
                .with_attribute("index", i)
                .spawn(move |ctx| async move {
                    let s = super::start_with(
                        ctx,
                        started,
                        key,
                        control,
                        simplex,
                        joule,
                        format!("simplex-{i}"),
                        fault,
                    );
                    let _ = tx.send(s.evidence);
                    let _ = s.handle.await;
                });
        m.evidence = Some(rx.await.expect("started"));
        m.task = Some(task);
        m.node = Some(node);
    }

    /// Crashes member `i`: its tasks stop where they are; its store and journal stay.
    async fn crash(&mut self, context: &deterministic::Context, i: usize) {
        let m = &mut self.members[i];
        m.task.take().expect("running").abort();
        let node = m.node.take().expect("running");
        // The aborted tasks drop their handles to the node; then its database is free.
        while Arc::strong_count(&node) > 1 {
            context.sleep(Duration::from_millis(10)).await;
        }
        drop(node);
    }

    /// Evidence of conflicting votes any member's consensus reported.
    fn evidence(&self) -> u64 {
        self.members
            .iter()
            .filter_map(|m| m.evidence.as_ref())
            .map(|e| e.load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }

    fn node(&self, i: usize) -> &Arc<Node> {
        self.members[i].node.as_ref().expect("started")
    }

    fn height(&self, i: usize) -> u64 {
        self.node(i).chain().height()
    }

    /// Waits (in simulated time) until every started member is at `height` or more.
    async fn wait_for(&self, context: &deterministic::Context, height: u64, within: Duration) {
        let deadline = context.current() + within;
        loop {
            let heights: Vec<u64> = (0..self.members.len())
                .filter(|i| self.members[*i].node.is_some())
                .map(|i| self.height(i))
                .collect();
            if heights.iter().all(|h| *h >= height) {
                return;
            }
            assert!(
                context.current() < deadline,
                "heights {heights:?} did not all reach {height}"
            );
            context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// The block hash at `height` on member `i`.
    fn hash_at(&self, i: usize, height: u64) -> Hash {
        self.node(i)
            .store
            .block(height)
            .unwrap()
            .expect("stored")
            .header
            .hash()
    }

    /// Every started member agrees on every block up to `height`, each commit verifies, and
    /// each node's state matches its head's roots.
    fn assert_same_chain(&self, height: u64) {
        let started: Vec<usize> = (0..self.members.len())
            .filter(|i| self.members[*i].node.is_some())
            .collect();
        for h in 1..=height {
            let first = self.hash_at(started[0], h);
            for &i in &started[1..] {
                assert_eq!(self.hash_at(i, h), first, "member {i} forked at {h}");
            }
            let block = self.node(started[0]).store.block(h).unwrap().unwrap();
            verify_commit(
                &self.genesis.chain_id,
                &self.genesis.validators,
                &block.header,
                &block.commit,
            )
            .expect("the stored commit verifies");
        }
        for &i in &started {
            let chain = self.node(i).chain();
            let head = chain.head.as_ref().unwrap();
            for (s, sh) in head.shards.iter().enumerate() {
                assert_eq!(
                    chain.shards[s].root(),
                    sh.state_root,
                    "member {i} shard {s}"
                );
            }
        }
    }
}

/// Transfers from devnet accounts `from..from+n`, submitted to `node`.
fn submit(node: &Node, from: u32, n: u32) -> Vec<Hash> {
    let to = Address::from_public_key(&SecretKey::from_seed(&[77; 32]).public_key());
    (from..from + n)
        .map(|i| {
            let key = account_key(i);
            let stx = Transaction {
                chain_id: node.genesis.chain_id.clone(),
                sender: key.public_key(),
                nonce: node.next_nonce(&Address::from_public_key(&key.public_key())),
                max_fee: node.genesis.min_fee,
                payload: Payload::Transfer { to, amount: 5 },
            }
            .sign(&key);
            node.admit(stx).expect("admitted")
        })
        .collect()
}

fn run(seed: u64, f: impl AsyncFnOnce(deterministic::Context) + Send + 'static) {
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    deterministic::Runner::new(cfg).start(|context| async move { f(context).await });
}

#[test]
fn four_validators_all_online_finalize_the_same_blocks_and_a_full_node_follows() {
    run(1, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in 0..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 2, Duration::from_secs(30)).await;
        // Submitted to the full node: forwarded to the validators, included once.
        let ids = submit(net.node(4), 0, 40);
        let ids2 = submit(net.node(1), 40, 40);
        net.wait_for(&context, 12, Duration::from_secs(60)).await;
        let h = (0..5).map(|i| net.height(i)).min().unwrap();
        net.assert_same_chain(h);
        for node in (0..5).map(|i| net.node(i)) {
            node.store.wait_indexed();
            for id in ids.iter().chain(&ids2) {
                assert!(node.store.tx(id).unwrap().is_some(), "{id} included");
            }
            assert_eq!(node.mempool_len(), 0);
        }
        // Every validator proposed some block: leadership rotates.
        let proposers: std::collections::HashSet<_> = (1..=h)
            .map(|x| net.node(0).store.block(x).unwrap().unwrap().header.proposer)
            .collect();
        assert_eq!(proposers.len(), VALIDATORS);
    });
}

#[test]
fn one_of_four_crashed_the_chain_goes_on_and_it_catches_up_when_it_starts() {
    run(2, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in [0, 1, 2, 4] {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 10, Duration::from_secs(120)).await;
        net.start(&context, 3, None).await;
        let target = net.height(0) + 5;
        net.wait_for(&context, target, Duration::from_secs(120))
            .await;
        net.assert_same_chain(target);
    });
}

#[test]
fn a_two_two_partition_finalizes_nothing_forks_nothing_and_resumes_when_healed() {
    run(3, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in 0..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 3, Duration::from_secs(30)).await;
        net.partition(&[0, 1]).await;
        // Let what was in flight land, then nothing may move for a while.
        context.sleep(Duration::from_secs(2)).await;
        let frozen: Vec<u64> = (0..5).map(|i| net.height(i)).collect();
        context.sleep(Duration::from_secs(20)).await;
        let after: Vec<u64> = (0..5).map(|i| net.height(i)).collect();
        assert_eq!(frozen, after, "nothing finalizes without 3 of 4");
        net.link_all(link(10, 2, 1.0)).await;
        let target = after.iter().max().unwrap() + 5;
        net.wait_for(&context, target, Duration::from_secs(120))
            .await;
        net.assert_same_chain(target);
    });
}

#[test]
fn lossy_slow_links_still_make_progress() {
    run(4, async |context| {
        let mut net = TestNet::new(&context).await;
        net.link_all(link(80, 40, 0.9)).await;
        for i in 0..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 2, Duration::from_secs(120)).await;
        let ids = submit(net.node(2), 0, 20);
        net.wait_for(&context, 10, Duration::from_secs(300)).await;
        net.assert_same_chain(10);
        let node = net.node(4);
        node.store.wait_indexed();
        for id in &ids {
            assert!(node.store.tx(id).unwrap().is_some(), "{id} included");
        }
    });
}

/// A leader that lies: honest validators refuse its blocks, none of them is final, and the
/// chain goes on under the honest leaders.
fn byzantine_leader_is_refused(seed: u64, fault: Fault) {
    run(seed, async move |context| {
        let mut net = TestNet::new(&context).await;
        net.start(&context, 0, Some(fault)).await;
        for i in 1..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 2, Duration::from_secs(60)).await;
        submit(net.node(4), 0, 20);
        net.wait_for(&context, 12, Duration::from_secs(300)).await;
        let liar = net.keys.validators[0].public_key();
        let h = (1..5).map(|i| net.height(i)).min().unwrap();
        net.assert_same_chain(h);
        if fault == Fault::Equivocate {
            // The body consensus carries is valid, and a validator handed the other one asks
            // for it by hash: that block may become final; the other never does, and no two
            // nodes differ (checked above).
            return;
        }
        for x in 1..=h {
            let block = net.node(1).store.block(x).unwrap().unwrap();
            assert_ne!(
                block.header.proposer, liar,
                "the liar's block {x} became final"
            );
        }
    });
}

#[test]
fn a_leader_lying_about_the_state_root_gets_no_vote() {
    byzantine_leader_is_refused(5, Fault::WrongStateRoot);
}

#[test]
fn a_leader_including_an_invalid_signature_gets_no_vote() {
    byzantine_leader_is_refused(6, Fault::InvalidSignature);
}

#[test]
fn an_equivocating_leader_forks_nothing() {
    byzantine_leader_is_refused(7, Fault::Equivocate);
}

#[test]
fn a_full_node_started_late_syncs_the_whole_chain_in_batches() {
    run(8, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in 0..4 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 150, Duration::from_secs(300)).await;
        let started = context.current();
        net.start(&context, 4, None).await;
        let target = net.height(0);
        net.wait_for(&context, target, Duration::from_secs(60))
            .await;
        // 150 blocks in batches of 32: seconds, not one tick (250 ms) per block.
        let took = context.current().duration_since(started).unwrap();
        assert!(took < Duration::from_secs(15), "synced in {took:?}");
        net.assert_same_chain(target);
    });
}

#[test]
fn a_validator_crashed_five_times_rejoins_each_time_and_never_signs_twice() {
    run(9, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in 0..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 3, Duration::from_secs(60)).await;
        submit(net.node(4), 0, 30);
        for round in 0..5u64 {
            // Crash at a different moment of the block each time.
            context
                .sleep(Duration::from_millis(700 + 137 * round))
                .await;
            net.crash(&context, 3).await;
            let others = net.height(0) + 3;
            net.wait_for(&context, others, Duration::from_secs(60))
                .await;
            net.start(&context, 3, None).await;
            let target = net.height(0) + 2;
            net.wait_for(&context, target, Duration::from_secs(120))
                .await;
        }
        let h = (0..5).map(|i| net.height(i)).min().unwrap();
        net.assert_same_chain(h);
        assert_eq!(net.evidence(), 0, "a validator signed conflicting votes");
    });
}

#[test]
fn transactions_a_full_node_could_not_forward_reach_a_block_once_it_is_reconnected() {
    run(10, async |context| {
        let mut net = TestNet::new(&context).await;
        for i in 0..5 {
            net.start(&context, i, None).await;
        }
        net.wait_for(&context, 3, Duration::from_secs(60)).await;
        // The full node is cut off when it forwards them: the forward is lost.
        net.partition(&[4]).await;
        let ids = submit(net.node(4), 0, 10);
        context.sleep(Duration::from_secs(2)).await;
        net.link_all(link(10, 2, 1.0)).await;
        let deadline = context.current() + Duration::from_secs(60);
        let node = net.node(4).clone();
        loop {
            node.store.wait_indexed();
            if ids.iter().all(|id| node.store.tx(id).unwrap().is_some()) {
                break;
            }
            assert!(context.current() < deadline, "never included");
            context.sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(node.mempool_len(), 0);
    });
}
