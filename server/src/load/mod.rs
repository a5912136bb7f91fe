//! `joule load`: signs devnet transfers (same- and cross-shard) and submits them to a node at a
//! target rate, then waits for them and reports accepted, included and achieved TPS; or, with
//! `--workload market`, drives the energy market ([`market`]); with `--workload dao`, its
//! governance ([`dao`]).

pub mod dao;
pub mod market;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use joule_light_client::api::{
    AccountResponse, BatchSubmitRequest, BatchSubmitResponse, ChainInfo, Stats, TxResponse, TxState,
};
use joule_light_client::{Address, Encode, ExecStatus, Hash, Payload, SecretKey, Transaction};
use rand::{Rng, SeedableRng};
use thiserror::Error;

use crate::devnet::{self, DEVNET_ACCOUNTS};

/// What to send.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The node's base URL.
    pub url: String,
    /// Target transactions per second.
    pub tps: u32,
    /// Seconds of sending.
    pub duration_s: u64,
    /// Devnet accounts to send from.
    pub senders: u32,
}

/// Why the load run failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The node could not be reached or answered garbage.
    #[error("request to {url} failed: {message}")]
    Http {
        /// What was requested.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// Options make no sense.
    #[error("{0}")]
    Options(String),
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Transactions signed and sent.
    pub submitted: u64,
    /// Admitted to the mempool.
    pub accepted: u64,
    /// Refused, by error code.
    pub rejected: BTreeMap<String, u64>,
    /// Included in a block.
    pub included: u64,
    /// Included with a failed outcome.
    pub failed: u64,
    /// Dropped after admission (with a recorded reason).
    pub dropped: u64,
    /// Still pending when the run stopped waiting.
    pub pending: u64,
    /// Cross-shard transfers among those included.
    pub cross_shard: u64,
    /// Included transactions per shard.
    pub per_shard: Vec<u64>,
    /// Rate at which transactions were sent.
    pub send_tps: f64,
    /// Included transactions per second, from the first send to the last inclusion.
    pub achieved_tps: f64,
    /// From submission (this client's clock) to the timestamp of the block that includes
    /// it (its proposer's clock; one machine: the same clock): p50 and p99, in ms.
    pub inclusion_ms: Option<(u64, u64)>,
    /// Why sending stopped early (the node went away): the report covers what was done.
    pub stopped: Option<String>,
    /// Blocks that included them.
    pub heights: Option<(u64, u64)>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "submitted     {}", self.submitted)?;
        writeln!(f, "accepted      {}", self.accepted)?;
        for (code, n) in &self.rejected {
            writeln!(f, "rejected      {n} ({code})")?;
        }
        writeln!(
            f,
            "included      {} ({} failed at execution, {} cross-shard)",
            self.included, self.failed, self.cross_shard
        )?;
        writeln!(f, "dropped       {}", self.dropped)?;
        writeln!(f, "still pending {}", self.pending)?;
        let shards: Vec<String> = self
            .per_shard
            .iter()
            .enumerate()
            .map(|(s, n)| format!("shard {s}: {n}"))
            .collect();
        writeln!(f, "per shard     {}", shards.join(", "))?;
        if let Some((a, b)) = self.heights {
            writeln!(f, "blocks        {a}..={b}")?;
        }
        writeln!(f, "send rate     {:.0} tx/s", self.send_tps)?;
        if let Some((p50, p99)) = self.inclusion_ms {
            writeln!(
                f,
                "in a block    p50 {p50} ms, p99 {p99} ms after submission (block time)"
            )?;
        }
        write!(f, "achieved      {:.0} tx/s included", self.achieved_tps)?;
        if let Some(why) = &self.stopped {
            write!(
                f,
                "\nstopped early: {why} (so far: the figures above; inclusion not checked)"
            )?;
        }
        Ok(())
    }
}

pub(crate) struct Client {
    pub(crate) agent: ureq::Agent,
    pub(crate) base: String,
}

impl Client {
    /// A client of the node at `base` (30 s per request).
    pub(crate) fn new(base: &str) -> Self {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            base: base.to_owned(),
        }
    }

    /// Submits `txs` in batches; returns the ids admitted and counts each refusal by code in
    /// `rejected`.
    pub(crate) fn submit_all(
        &self,
        txs: &[joule_light_client::SignedTransaction],
        rejected: &mut BTreeMap<String, u64>,
    ) -> Result<Vec<Hash>, LoadError> {
        let mut ids = Vec::new();
        for chunk in txs.chunks(crate::api::MAX_BATCH) {
            let res: BatchSubmitResponse = self.post(
                "/transactions/batch",
                &BatchSubmitRequest {
                    txs: chunk.iter().map(|t| hex::encode(t.encode())).collect(),
                },
            )?;
            for item in res.results {
                match (item.id, item.error) {
                    (Some(id), _) => ids.push(id),
                    (None, Some(e)) => *rejected.entry(e.code).or_default() += 1,
                    (None, None) => *rejected.entry("unknown".into()).or_default() += 1,
                }
            }
        }
        Ok(ids)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base.trim_end_matches('/'))
    }

    pub(crate) fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, LoadError> {
        let url = self.url(path);
        let err = |message: String| LoadError::Http {
            url: url.clone(),
            message,
        };
        self.agent
            .get(&url)
            .call()
            .map_err(|e| err(e.to_string()))?
            .into_json()
            .map_err(|e| err(e.to_string()))
    }

    pub(crate) fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, LoadError> {
        let url = self.url(path);
        let err = |message: String| LoadError::Http {
            url: url.clone(),
            message,
        };
        self.agent
            .post(&url)
            .send_json(body)
            .map_err(|e| err(e.to_string()))?
            .into_json()
            .map_err(|e| err(e.to_string()))
    }
}

struct Sender {
    key: SecretKey,
    address: Address,
    nonce: u64,
    resync: bool,
}

/// Milliseconds since the Unix epoch, this machine's clock.
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs the load and waits (up to 30 s) for the accepted transactions to be decided.
pub fn run(opts: &LoadOptions) -> Result<LoadReport, LoadError> {
    if opts.senders == 0 || opts.senders > DEVNET_ACCOUNTS {
        return Err(LoadError::Options(format!(
            "--senders must be 1..={DEVNET_ACCOUNTS}"
        )));
    }
    if opts.tps == 0 {
        return Err(LoadError::Options("--tps must be positive".into()));
    }
    let client = Client::new(&opts.url);
    let chain: ChainInfo = client.get("/chain")?;
    let mut senders: Vec<Sender> = (0..opts.senders)
        .map(|i| {
            let key = devnet::account_key(i);
            let address = Address::from_public_key(&key.public_key());
            Sender {
                key,
                address,
                nonce: 0,
                resync: true,
            }
        })
        .collect();
    let all_devnet: Vec<Address> = (0..DEVNET_ACCOUNTS)
        .map(|i| Address::from_public_key(&devnet::account_key(i).public_key()))
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(opts.tps) ^ opts.duration_s);

    let mut report = LoadReport {
        per_shard: vec![0; usize::from(chain.genesis.shard_count)],
        ..Default::default()
    };
    let mut accepted: Vec<Hash> = Vec::new();
    let mut sent_ms: std::collections::HashMap<Hash, u64> = std::collections::HashMap::new();
    let started = Instant::now();
    let tick = Duration::from_millis(100);
    let ticks = opts.duration_s * 10;
    let mut next_sender = 0usize;
    let mut owed = 0.0f64;
    for t in 0..ticks {
        let mut failed = None;
        for s in senders.iter_mut().filter(|s| s.resync) {
            match client.get::<AccountResponse>(&format!("/accounts/{}?limit=1", s.address)) {
                Ok(acc) => {
                    s.nonce = acc.next_nonce;
                    s.resync = false;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            report.stopped = Some(e.to_string());
            break;
        }
        owed += f64::from(opts.tps) / 10.0;
        let count = owed.floor() as usize;
        owed -= count as f64;
        let mut batch = Vec::with_capacity(count);
        let mut batch_senders = Vec::with_capacity(count);
        for _ in 0..count {
            let idx = next_sender % senders.len();
            next_sender += 1;
            let s = &mut senders[idx];
            // Half to other devnet accounts (mostly on other shards), half to fresh addresses.
            let to = if rng.gen_bool(0.5) {
                all_devnet[rng.gen_range(0..all_devnet.len())]
            } else {
                Address(rng.gen())
            };
            let stx = Transaction {
                chain_id: chain.genesis.chain_id.clone(),
                sender: s.key.public_key(),
                nonce: s.nonce,
                max_fee: chain.genesis.min_fee,
                payload: Payload::Transfer {
                    to,
                    amount: rng.gen_range(1..1_000_000),
                },
            }
            .sign(&s.key);
            s.nonce += 1;
            batch.push(hex::encode(stx.encode()));
            batch_senders.push(idx);
        }
        for (chunk, owners) in batch
            .chunks(crate::api::MAX_BATCH)
            .zip(batch_senders.chunks(crate::api::MAX_BATCH))
        {
            let res: BatchSubmitResponse = match client.post(
                "/transactions/batch",
                &BatchSubmitRequest {
                    txs: chunk.to_vec(),
                },
            ) {
                Ok(r) => r,
                Err(e) => {
                    report.stopped = Some(e.to_string());
                    break;
                }
            };
            report.submitted += chunk.len() as u64;
            let now = wall_ms();
            for (item, &owner) in res.results.iter().zip(owners) {
                match (&item.id, &item.error) {
                    (Some(id), _) => {
                        accepted.push(*id);
                        sent_ms.insert(*id, now);
                    }
                    (None, Some(e)) => {
                        *report.rejected.entry(e.code.clone()).or_default() += 1;
                        // A refused nonce leaves a gap: learn the right one before sending again.
                        senders[owner].resync = true;
                    }
                    (None, None) => *report.rejected.entry("unknown".into()).or_default() += 1,
                }
            }
        }
        if report.stopped.is_some() {
            break;
        }
        let due = started + tick * (t as u32 + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let send_secs = started.elapsed().as_secs_f64();
    report.accepted = accepted.len() as u64;
    report.send_tps = report.submitted as f64 / send_secs;
    if report.stopped.is_some() {
        // The node is gone: what was sent and accepted is the report.
        return Ok(report);
    }

    // Wait for the mempool to drain (bounded), then ask about each accepted transaction.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let stats: Stats = match client.get("/stats") {
            Ok(s) => s,
            Err(e) => {
                report.stopped = Some(e.to_string());
                return Ok(report);
            }
        };
        if stats.mempool_size == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let start_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        .saturating_sub((started.elapsed().as_secs_f64() * 1000.0) as u64);
    let mut last_ms = start_ms;
    let shards = chain.genesis.shard_count;
    let results: Vec<Result<TxResponse, LoadError>> = std::thread::scope(|scope| {
        let chunks: Vec<&[Hash]> = accepted.chunks(accepted.len().div_ceil(4).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|ids| {
                let client = &client;
                scope.spawn(move || {
                    ids.iter()
                        .map(|id| client.get::<TxResponse>(&format!("/transactions/{id}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut latencies = Vec::new();
    for r in results {
        let tx = match r {
            Ok(tx) => tx,
            Err(e) => {
                // Counted so far; the rest unknown.
                report.stopped = Some(e.to_string());
                break;
            }
        };
        match (&tx.state, &tx.inclusion) {
            (TxState::Included, Some(inc)) => {
                report.included += 1;
                if let Some(sent) = sent_ms.get(&tx.id) {
                    latencies.push(inc.timestamp_ms.saturating_sub(*sent));
                }
                if inc.outcome.status != ExecStatus::Success {
                    report.failed += 1;
                }
                let shard = inc.at.shard_header.shard;
                report.per_shard[usize::from(shard)] += 1;
                if let Payload::Transfer { to, .. } = &tx.tx.tx.payload {
                    if to.shard(shards) != shard {
                        report.cross_shard += 1;
                    }
                }
                last_ms = last_ms.max(inc.timestamp_ms);
                let h = inc.at.height;
                report.heights = Some(report.heights.map_or((h, h), |(a, b)| (a.min(h), b.max(h))));
            }
            (TxState::Dropped { .. }, _) => report.dropped += 1,
            _ => report.pending += 1,
        }
    }
    latencies.sort_unstable();
    if !latencies.is_empty() {
        let q =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        report.inclusion_ms = Some((q(0.5), q(0.99)));
    }
    let span_s = (last_ms.saturating_sub(start_ms)) as f64 / 1000.0;
    report.achieved_tps = if span_s > 0.0 {
        report.included as f64 / span_s
    } else {
        0.0
    };
    Ok(report)
}
