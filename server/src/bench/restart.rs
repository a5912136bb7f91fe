//! `joule bench restart`: how long a devnet node takes to open — the time its API is down on
//! a restart — with a large pending pool (the journal read, every transaction re-admitted,
//! the journal compacted) against the same data directory opened with an empty pool, side by
//! side in one run.

use std::path::Path;
use std::time::Instant;

use joule_light_client::{Address, Payload, SignedTransaction, Transaction};
use serde::Serialize;

use super::{bench_key, median};
use crate::devnet;
use crate::genesis::GenesisAccount;
use crate::node::{Node, NodeConfig};

/// Pending transactions per sender (below the pool's per-sender bound).
const PER_SENDER: usize = 60;

/// What to run.
#[derive(Debug, Clone)]
pub struct RestartBenchOptions {
    /// Pending transactions at the restart.
    pub pending: usize,
    /// Opens of each kind (median reported).
    pub reps: usize,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct RestartRow {
    /// Pending transactions restored.
    pub pending: usize,
    /// Opening the node with them, median ms.
    pub open_ms: f64,
    /// Opening the same directory without them (journal moved away), median ms.
    pub open_empty_ms: f64,
    /// The difference: restoring the pool.
    pub restore_ms: f64,
    /// Per restored transaction, µs.
    pub restore_us_per_tx: f64,
    /// The journal's size on disk, bytes.
    pub journal_bytes: u64,
}

fn config(dir: &Path, pending: usize) -> NodeConfig {
    NodeConfig {
        mempool_capacity: pending.max(1) * 2,
        ..NodeConfig::devnet(dir)
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Runs the benchmark in a temporary directory.
pub fn run_restart(opts: &RestartBenchOptions) -> Result<RestartRow, String> {
    let dir = std::env::temp_dir().join(format!("joule-bench-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&dir, opts);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, opts: &RestartBenchOptions) -> Result<RestartRow, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let pending = opts.pending.max(1);
    let senders = pending.div_ceil(PER_SENDER);
    let keys: Vec<_> = (0..senders as u32).map(bench_key).collect();
    // A devnet of these senders, written where `Node::open` finds it: the real open path.
    let devnet_keys = devnet::DevnetKeys::generate();
    let mut genesis = devnet::genesis(
        &devnet::DevnetOptions {
            shard_count: 4,
            block_interval_ms: 1_000,
            genesis_time_ms: crate::node::now_ms(),
        },
        &devnet_keys,
    );
    genesis.accounts.extend(keys.iter().map(|k| GenesisAccount {
        address: Address::from_public_key(&k.public_key()),
        balance: 1_000_000_000,
    }));
    genesis.validate().map_err(|e| err(&e))?;
    devnet_keys.save(dir).map_err(|e| err(&e))?;
    genesis
        .save(&dir.join("genesis.json"))
        .map_err(|e| err(&e))?;

    let node = Node::open(&config(dir, pending)).map_err(|e| err(&e))?;
    let txs: Vec<SignedTransaction> = (0..pending)
        .map(|i| {
            let key = &keys[i / PER_SENDER];
            Transaction {
                chain_id: genesis.chain_id.clone(),
                sender: key.public_key(),
                nonce: (i % PER_SENDER) as u64,
                max_fee: genesis.min_fee,
                payload: Payload::Transfer {
                    to: Address([7; 20]),
                    amount: 1,
                },
            }
            .sign(key)
        })
        .collect();
    for batch in txs.chunks(10_000) {
        if let Some(e) = node
            .admit_many(batch.to_vec())
            .into_iter()
            .find_map(Result::err)
        {
            return Err(format!("admission refused a transaction: {e}"));
        }
    }
    // No block was produced: all of them are pending, and in the journal.
    drop(node);
    let journal_bytes = dir_bytes(&dir.join("mempool"));

    let open = |expect: usize| -> Result<f64, String> {
        let t = Instant::now();
        let node = Node::open(&config(dir, pending)).map_err(|e| err(&e))?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if node.mempool_len() != expect {
            return Err(format!(
                "{} pending after the open, expected {expect}",
                node.mempool_len()
            ));
        }
        Ok(ms)
    };
    let reps = opts.reps.max(1);
    let with: Vec<f64> = (0..reps).map(|_| open(pending)).collect::<Result<_, _>>()?;
    let (journal, away) = (dir.join("mempool"), dir.join("mempool.away"));
    std::fs::rename(&journal, &away).map_err(|e| err(&e))?;
    let without: Vec<f64> = (0..reps)
        .map(|_| {
            let ms = open(0);
            let _ = std::fs::remove_dir_all(&journal);
            ms
        })
        .collect::<Result<_, _>>()?;
    let (open_ms, open_empty_ms) = (median(with), median(without));
    let restore_ms = (open_ms - open_empty_ms).max(0.0);
    Ok(RestartRow {
        pending,
        open_ms,
        open_empty_ms,
        restore_ms,
        restore_us_per_tx: restore_ms * 1e3 / pending as f64,
        journal_bytes,
    })
}

/// The rows as a table.
pub fn table(rows: &[RestartRow]) -> String {
    let mut out = String::from(
        "  pending   open (ms)   open, empty pool (ms)   restore (ms)   µs/tx   journal (MB)\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:>9}   {:>9.0}   {:>21.0}   {:>12.0}   {:>5.2}   {:>12.1}\n",
            r.pending,
            r.open_ms,
            r.open_empty_ms,
            r.restore_ms,
            r.restore_us_per_tx,
            r.journal_bytes as f64 / 1e6
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_restart_restores_every_pending_transaction() {
        let row = run_restart(&RestartBenchOptions {
            pending: 500,
            reps: 1,
        })
        .unwrap();
        assert_eq!(row.pending, 500);
        assert!(row.journal_bytes > 500 * 100, "{row:?}");
        assert!(table(&[row]).contains("500"));
    }
}
