//! Running a node: the block producer and the HTTP server, until shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::chain::producer::run_producer;
use crate::http::Limits;
use crate::node::Node;

/// A node serving HTTP in this process; dropping the handle does not stop it, [`Self::stop`] does.
#[derive(Debug)]
pub struct RunningNode {
    /// The node.
    pub node: Arc<Node>,
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    producer: Option<tokio::task::JoinHandle<()>>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningNode {
    /// Starts producing blocks and serving `listener` (the app from `dist`) under the
    /// process's connection limits ([`Limits::for_process`]).
    pub fn start(node: Node, listener: TcpListener, dist: PathBuf) -> std::io::Result<Self> {
        Self::start_limited(node, listener, dist, Limits::for_process())
    }

    /// [`Self::start`] under other limits (tests use small ones).
    pub fn start_limited(
        node: Node,
        listener: TcpListener,
        dist: PathBuf,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Self::run(Arc::new(node), listener, dist, true, limits)
    }

    /// Serves `listener` for a node whose blocks come from elsewhere (a network's consensus).
    pub fn serve(node: Arc<Node>, listener: TcpListener, dist: PathBuf) -> std::io::Result<Self> {
        Self::run(node, listener, dist, false, Limits::for_process())
    }

    fn run(
        node: Arc<Node>,
        listener: TcpListener,
        dist: PathBuf,
        produce: bool,
        limits: Limits,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let producer = produce.then(|| tokio::spawn(run_producer(node.clone(), rx.clone())));
        let app = crate::http::with_limits(crate::api::router(node.clone(), &dist), &limits);
        tracing::info!(
            max_connections = limits.max_connections,
            header_timeout_s = limits.header_timeout.as_secs_f64(),
            body_timeout_s = limits.body_timeout.as_secs_f64(),
            "HTTP limits"
        );
        let http = tokio::spawn(crate::http::serve(listener, app, limits, rx));
        Ok(Self {
            node,
            addr,
            shutdown,
            producer,
            http,
        })
    }

    /// Stops producing and serving, waits for both, and saves the mempool.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(p) = self.producer {
            p.await?;
        }
        // Open streams (SSE) would hold graceful shutdown forever; give it a moment, then go.
        match tokio::time::timeout(std::time::Duration::from_secs(2), self.http).await {
            Ok(res) => res??,
            Err(_) => tracing::warn!("HTTP connections still open at shutdown; closing them"),
        }
        self.node.shutdown()?;
        Ok(())
    }
}
