//! A node on a free loopback port in a temp dir, and a small blocking HTTP client.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use joule_light_client::api::{
    AccountResponse, ApiErrorBody, BlockResponse, ChainInfo, ObjectResponse, SubmitRequest,
    TxResponse, TxState,
};
use joule_light_client::object::Object;
use joule_light_client::{
    verify_header_chain, Address, Encode, ExecStatus, Hash, Payload, ProvenBlock, ProvenObject,
    SecretKey, SignedHeader, SignedTransaction, Transaction, TrustedState,
};
use joule_server::server::RunningNode;
use joule_server::{Node, NodeConfig};
use serde::de::DeserializeOwned;

pub struct TestNode {
    pub rt: tokio::runtime::Runtime,
    pub running: Option<RunningNode>,
    pub dir: tempfile::TempDir,
    pub dist: PathBuf,
    pub base: String,
    /// Block interval of the node (100 ms unless a test needs people's pace).
    pub block_interval_ms: u64,
}

pub fn config(dir: &Path) -> NodeConfig {
    NodeConfig {
        block_interval_ms: 100,
        // Every block goes through Block-STM, so these tests cover the parallel path.
        always_block_stm: true,
        ..NodeConfig::devnet(dir)
    }
}

impl TestNode {
    pub fn start() -> Self {
        Self::start_with_dist(PathBuf::from("/nonexistent-dist"))
    }

    pub fn start_with_dist(dist: PathBuf) -> Self {
        Self::start_paced(dist, 100)
    }

    /// A node whose blocks come every `block_interval_ms`: a browser test that votes within a
    /// proposal's voting period (40 blocks) needs more than 4 s.
    pub fn start_paced(dist: PathBuf, block_interval_ms: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut t = TestNode {
            rt,
            running: None,
            dir,
            dist,
            base: String::new(),
            block_interval_ms,
        };
        t.boot();
        t
    }

    fn boot(&mut self) {
        let node = Node::open(&NodeConfig {
            block_interval_ms: self.block_interval_ms,
            ..config(self.dir.path())
        })
        .unwrap();
        let dist = self.dist.clone();
        let running = self.rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            RunningNode::start(node, listener, dist).unwrap()
        });
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub fn node(&self) -> &Node {
        &self.running.as_ref().unwrap().node
    }

    /// Stops the node cleanly; returns it so tests can read its final state.
    pub fn stop(&mut self) -> Option<std::sync::Arc<Node>> {
        let r = self.running.take()?;
        let node = r.node.clone();
        self.rt.block_on(r.stop()).unwrap();
        Some(node)
    }

    pub fn restart(&mut self) {
        let _ = self.stop();
        self.boot();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        ureq::get(&self.url(path))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .into_json()
            .unwrap()
    }

    /// GET expecting an error: (status, body).
    pub fn get_err(&self, path: &str) -> (u16, ApiErrorBody) {
        match ureq::get(&self.url(path)).call() {
            Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap()),
            other => panic!(
                "expected an error from {path}, got {:?}",
                other.map(|r| r.status())
            ),
        }
    }

    /// POST JSON: Ok((status, body)) or Err((status, error body)).
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<(u16, T), (u16, ApiErrorBody)> {
        match ureq::post(&self.url(path)).send_json(body) {
            Ok(r) => Ok((r.status(), r.into_json().unwrap())),
            Err(ureq::Error::Status(code, resp)) => Err((code, resp.into_json().unwrap())),
            Err(e) => panic!("POST {path}: {e}"),
        }
    }

    pub fn submit(&self, stx: &SignedTransaction) -> Result<Hash, (u16, ApiErrorBody)> {
        let req = SubmitRequest {
            tx: hex::encode(stx.encode()),
        };
        self.post::<joule_light_client::api::SubmitResponse>("/transactions", &req)
            .map(|(s, r)| {
                assert_eq!(s, 202);
                r.id
            })
    }

    pub fn chain(&self) -> ChainInfo {
        self.get("/chain")
    }

    pub fn block(&self, height: u64) -> BlockResponse {
        self.get(&format!("/blocks/{height}"))
    }

    /// Polls until the transaction is included (or fails the test after 20 s).
    pub fn wait_included(&self, id: &Hash) -> TxResponse {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let tx: TxResponse = self.get(&format!("/transactions/{id}"));
            match tx.state {
                TxState::Included => return tx,
                TxState::Dropped { reason } => panic!("transaction {id} dropped: {reason}"),
                TxState::Pending => {}
            }
            assert!(
                Instant::now() < deadline,
                "transaction {id} not included in time"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls until `f` holds.
    pub fn wait_until(&self, what: &str, mut f: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !f(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = self.stop();
        }
    }
}

pub fn address(key: &SecretKey) -> Address {
    Address::from_public_key(&key.public_key())
}

pub fn transfer(
    chain: &ChainInfo,
    key: &SecretKey,
    nonce: u64,
    to: Address,
    amount: u64,
) -> SignedTransaction {
    Transaction {
        chain_id: chain.genesis.chain_id.clone(),
        sender: key.public_key(),
        nonce,
        max_fee: chain.genesis.min_fee,
        payload: Payload::Transfer { to, amount },
    }
    .sign(key)
}

/// The first devnet account key whose shard satisfies `pred`.
pub fn devnet_key_where(shards: u16, pred: impl Fn(u16) -> bool) -> (u32, SecretKey) {
    (0..joule_server::devnet::DEVNET_ACCOUNTS)
        .map(|i| (i, joule_server::devnet::account_key(i)))
        .find(|(_, k)| pred(address(k).shard(shards)))
        .expect("some devnet account matches")
}

/// Trusts block 1 under the genesis validators, then follows every header up to `height`.
pub fn verified_chain_to(node: &TestNode, height: u64) -> TrustedState {
    let chain = node.chain();
    let first: BlockResponse = node.block(1);
    assert_eq!(
        first.header.parent_hash, chain.genesis_hash,
        "block 1 builds on genesis"
    );
    // The checkpoint a user would pin: the genesis header proves the chain's parameters,
    // and block 1 must follow it under the genesis validators.
    let checkpoint = joule_light_client::Checkpoint::of_genesis(&chain.genesis);
    checkpoint
        .verify_genesis(&chain.genesis, &chain.genesis_validators)
        .expect("the node's genesis is the one it names");
    let trusted = checkpoint
        .verify_first_block(first.header, &first.commit, chain.genesis_validators)
        .expect("block 1 verifies under the genesis validators");
    let headers = (2..=height).map(|h| {
        let b = node.block(h);
        SignedHeader {
            header: b.header,
            commit: b.commit,
            validators: b.validators,
        }
    });
    verify_header_chain(&trusted, headers).expect("header chain verifies")
}

/// The block at `height`, its commit verified under the validators the header chain from
/// genesis leads to.
pub fn proven_block(node: &TestNode, height: u64) -> ProvenBlock {
    // The header chain is verified from genesis once per node, then only forward from the
    // last block verified (each test asks for rising heights).
    thread_local! {
        static TRUSTED: std::cell::RefCell<Option<(String, joule_light_client::TrustedState)>> =
            const { std::cell::RefCell::new(None) };
    }
    let trusted = TRUSTED.with(|t| {
        let mut t = t.borrow_mut();
        let next = match t.take() {
            Some((base, known)) if base == node.base && known.header.height <= height => {
                let headers = (known.header.height + 1..=height).map(|h| {
                    let b = node.block(h);
                    joule_light_client::SignedHeader {
                        header: b.header,
                        commit: b.commit,
                        validators: b.validators,
                    }
                });
                joule_light_client::verify_header_chain(&known, headers).unwrap()
            }
            _ => verified_chain_to(node, height),
        };
        *t = Some((node.base.clone(), next.clone()));
        next
    });
    let b = node.block(height);
    assert_eq!(b.header, trusted.header);
    ProvenBlock::verify(
        &trusted.chain_id,
        &trusted.validators,
        &b.header,
        &b.commit,
        &b.shards,
    )
    .unwrap()
}

/// A transaction of `key` with `payload`, signed, at the next nonce the node reports.
pub fn signed(node: &TestNode, key: &SecretKey, payload: Payload) -> SignedTransaction {
    let chain = node.chain();
    let from = address(key);
    let next: AccountResponse = node.get(&format!("/accounts/{from}"));
    Transaction {
        chain_id: chain.genesis.chain_id.clone(),
        sender: key.public_key(),
        nonce: next.next_nonce,
        max_fee: chain.genesis.min_fee,
        payload,
    }
    .sign(key)
}

/// Submits and waits for its block; returns the status it ended with.
pub fn outcome(node: &TestNode, stx: &SignedTransaction) -> ExecStatus {
    let id = node
        .submit(stx)
        .unwrap_or_else(|e| panic!("refused: {e:?}"));
    let tx = node.wait_included(&id);
    tx.inclusion.expect("included").outcome.status
}

/// The code a refused submission gets.
pub fn refused(node: &TestNode, stx: &SignedTransaction) -> String {
    let (status, e) = node
        .submit(stx)
        .expect_err(&format!("must be refused: {:?}", stx.tx.payload));
    assert_eq!(status, 422, "{e:?}");
    e.code
}

/// Reads `key` from the node and proves it against a block verified from genesis.
pub fn proven<T: Object + Clone + std::fmt::Debug>(
    node: &TestNode,
    key: &joule_light_client::object::StateKey,
) -> Option<T> {
    let o: ObjectResponse = node.get(&format!("/state/{key}"));
    let at = o.proof.expect("a proof");
    let block = proven_block(node, at.at.height);
    ProvenObject::<T>::verify(&block, key, &at.proof)
        .unwrap()
        .value()
        .cloned()
}
