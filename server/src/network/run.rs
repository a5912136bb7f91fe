//! One process of a network: a validator (`--validator-key`) or a full node, with its p2p,
//! consensus (validators), the HTTP API and the app, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commonware_cryptography::{ed25519, ChaCha20Poly1305};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_runtime::{Quota, Runner as _, Supervisor as _};
use commonware_stream::{cups, sake};
use commonware_utils::ordered::Map;

use super::peers::{load_key, PeersError, PeersFile};
use super::{channel, consensus_key, consensus_signer, MAX_MESSAGE_BYTES};
use crate::genesis::{Genesis, GenesisError};
use crate::node::{Node, NodeError};
use crate::server::RunningNode;

/// How to run one node of a network.
#[derive(Debug, Clone)]
pub struct NetworkNodeOptions {
    /// Its database and consensus journal.
    pub data_dir: PathBuf,
    /// The network's genesis.
    pub genesis: PathBuf,
    /// The network's peers.
    pub peers: PathBuf,
    /// A validator's key (its p2p identity too); absent for a full node.
    pub validator_key: Option<PathBuf>,
    /// A full node's p2p identity.
    pub node_key: Option<PathBuf>,
    /// The faucet's key, to serve `POST /faucet` (a testnet's full node holds it).
    pub faucet_key: Option<PathBuf>,
    /// HTTP port on 127.0.0.1.
    pub port: u16,
    /// The built web app.
    pub dist: PathBuf,
    /// Start over where the chain database is gone (see [`crate::NodeConfig::new_chain`]).
    pub new_chain: bool,
}

/// Why a network node could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A key or the peers file.
    #[error(transparent)]
    Peers(#[from] PeersError),
    /// The genesis.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The node.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// Something about this node's place in the network.
    #[error("{0}")]
    Config(String),
    /// Serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs the node until Ctrl-C or SIGTERM (blocking: it owns its runtime).
pub fn run(opts: NetworkNodeOptions) -> Result<(), RunError> {
    let validator = opts.validator_key.as_deref().map(load_key).transpose()?;
    let identity = match (&validator, &opts.node_key) {
        (Some(k), _) => k.clone(),
        (None, Some(path)) => load_key(path)?,
        (None, None) => {
            return Err(RunError::Config(
                "a full node needs --node-key (its p2p identity, listed in the peers file); a validator --validator-key".into(),
            ))
        }
    };
    let peers = PeersFile::load(&opts.peers)?;
    let me = peers.find(&identity.public_key()).cloned().ok_or_else(|| {
        RunError::Config(format!(
            "this node's key {} is not in {}",
            identity.public_key(),
            opts.peers.display()
        ))
    })?;
    let genesis = Genesis::load(&opts.genesis)?;
    genesis.validate()?;
    if let Some(k) = &validator {
        if genesis.validators.get(&k.public_key()).is_none() {
            return Err(RunError::Config(format!(
                "validator key {} is not in the genesis validator set",
                k.public_key()
            )));
        }
    }
    let faucet = opts.faucet_key.as_deref().map(load_key).transpose()?;
    let node = Arc::new(Node::open_network(
        &opts.data_dir,
        genesis,
        faucet,
        opts.new_chain,
    )?);
    let role = if validator.is_some() {
        "validator"
    } else {
        "full node"
    };
    tracing::info!(
        name = %me.name,
        role,
        height = node.chain().height(),
        p2p = %me.p2p,
        data_dir = %opts.data_dir.display(),
        "network node opened"
    );
    let cfg = commonware_runtime::tokio::Config::new()
        .with_storage_directory(opts.data_dir.join("consensus"));
    let runner = commonware_runtime::tokio::Runner::new(cfg);
    runner.start(|context| async move {
        let signer = consensus_signer(&identity);
        let namespace = format!("joule-p2p/{}", node.genesis.chain_id).into_bytes();
        let handshake = cups::Cups::<_, ChaCha20Poly1305>::new(
            sake::Sake {
                signer,
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let p2p_cfg = lookup::Config::local(
            handshake,
            &namespace,
            me.p2p,
            commonware_utils::NZUsize!(peers.peers.len().max(1)),
            MAX_MESSAGE_BYTES,
            commonware_utils::NZUsize!(256),
        );
        let (mut network, mut oracle) = lookup::Network::new(context.child("p2p"), p2p_cfg);
        let entries: Vec<(ed25519::PublicKey, Address)> = peers
            .peers
            .iter()
            .filter_map(|p| Some((consensus_key(&p.public_key)?, Address::from(p.p2p))))
            .collect();
        let map: Map<ed25519::PublicKey, Address> = Map::from_iter_dedup(entries);
        let _ = oracle.track(0, map);
        // Messages per second from each peer on each channel. The channels' mailboxes are
        // preallocated at peers × this burst, so a generous quota costs memory and start time
        // (100,000 took seconds of page-zeroing to start).
        let quota = Quota::per_second(commonware_utils::NZU32!(1_024));
        let votes = network.register(channel::VOTES, quota);
        let certificates = network.register(channel::CERTIFICATES, quota);
        let resolver = network.register(channel::RESOLVER, quota);
        let joule = network.register(channel::JOULE, quota);
        network.start();
        let simplex = validator
            .is_some()
            .then_some([votes, certificates, resolver]);
        super::start(
            context.child("node"),
            node.clone(),
            validator,
            oracle,
            simplex,
            joule,
            "simplex".into(),
        );
        serve(node, opts.port, opts.dist, &me.name, role).await
    })
}

async fn serve(
    node: Arc<Node>,
    port: u16,
    dist: PathBuf,
    name: &str,
    role: &str,
) -> Result<(), RunError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let running = RunningNode::serve(node, listener, dist)?;
    tracing::info!("{name} ({role}) at http://{}", running.addr);
    wait_for_stop().await;
    tracing::info!("shutting down");
    running
        .stop()
        .await
        .map_err(|e| RunError::Config(format!("stopping: {e}")))
}

/// Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send).
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
