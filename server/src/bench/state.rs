//! `joule bench state`: what the state tree costs as accounts grow — building it, updating it
//! with a 10,000-transfer block's writes, and serving an account proof — and the memory each
//! account takes (accounts map and tree together, from the process's resident set).

use std::time::Instant;

use joule_light_client::{Account, Address, Encode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::{filler_address, median};
use crate::chain::ShardState;

/// Account counts of the standard run.
pub const ACCOUNT_COUNTS: [usize; 3] = [10_000, 100_000, 1_000_000];

/// Options of the benchmark.
#[derive(Debug, Clone)]
pub struct StateBenchOptions {
    /// Account counts to try.
    pub accounts: Vec<usize>,
    /// Accounts written per update (a 10,000-transfer block writes about 20,000).
    pub writes: usize,
    /// Updates measured per account count (the median is reported).
    pub reps: usize,
}

/// One row of the result.
#[derive(Debug, Clone, Serialize)]
pub struct StateRow {
    /// Accounts in the shard.
    pub accounts: usize,
    /// Milliseconds to build the tree from scratch.
    pub build_ms: f64,
    /// Accounts written by each update.
    pub writes: usize,
    /// Median milliseconds to compute the updated tree and its root.
    pub update_ms: f64,
    /// Median microseconds to produce one account proof.
    pub proof_us: f64,
    /// Median microseconds to verify one (as the light client does).
    pub verify_us: f64,
    /// Mean proof size in bytes (canonical encoding).
    pub proof_bytes: f64,
    /// Resident memory per account, bytes (map + tree), from the resident-set growth.
    pub bytes_per_account: f64,
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Runs the benchmark.
pub fn run_state(opts: &StateBenchOptions) -> Vec<StateRow> {
    let mut rows = Vec::new();
    for &n in &opts.accounts {
        let mut accounts: Vec<(Address, Account)> = (0..n as u64)
            .map(|i| {
                (
                    filler_address(i),
                    Account {
                        balance: 1_000 + i,
                        nonce: 0,
                    },
                )
            })
            .collect();
        accounts.sort_unstable_by_key(|(a, _)| *a);
        let before = resident_bytes();
        let t = Instant::now();
        let mut state = ShardState::from_accounts(&accounts);
        let build_ms = t.elapsed().as_secs_f64() * 1e3;
        let after = resident_bytes();
        // The input list is not part of the state: it was allocated before `before`.
        let bytes_per_account = match (before, after) {
            (Some(b), Some(a)) => a.saturating_sub(b) as f64 / n as f64,
            _ => f64::NAN,
        };

        let mut rng = StdRng::seed_from_u64(n as u64);
        let mut updates = Vec::new();
        for rep in 0..opts.reps.max(1) {
            // Mostly existing accounts (senders and recipients), a few new ones.
            let mut w: Vec<(Address, Account)> = (0..opts.writes)
                .map(|j| {
                    let a = if j % 10 == 0 {
                        filler_address((n + rep * opts.writes + j) as u64)
                    } else {
                        accounts[rng.gen_range(0..n)].0
                    };
                    (
                        a,
                        Account {
                            balance: rng.gen(),
                            nonce: 1,
                        },
                    )
                })
                .collect();
            w.sort_unstable_by_key(|(a, _)| *a);
            w.dedup_by_key(|(a, _)| *a);
            let t = Instant::now();
            let tree = state.next_trees(&w, &[]);
            std::hint::black_box(tree.accounts.root());
            updates.push(t.elapsed().as_secs_f64() * 1e3);
            drop(state.apply_with_tree(&w, &[], tree));
        }

        let root = state.root();
        let (mut proofs, mut verifies, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..1_000 {
            let a = if i % 4 == 0 {
                filler_address(u64::MAX - i)
            } else {
                accounts[rng.gen_range(0..n)].0
            };
            let t = Instant::now();
            let p = state.proof(&a);
            proofs.push(t.elapsed().as_secs_f64() * 1e6);
            let claimed = state.contains(&a).then(|| state.get(&a));
            let t = Instant::now();
            let ok = p.verify(&root, &a, claimed.as_ref()).is_ok();
            verifies.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(ok, "a served proof must verify");
            sizes.push(p.encode().len() as f64);
        }
        rows.push(StateRow {
            accounts: n,
            build_ms,
            writes: opts.writes,
            update_ms: median(updates),
            proof_us: median(proofs),
            verify_us: median(verifies),
            proof_bytes: sizes.iter().sum::<f64>() / sizes.len() as f64,
            bytes_per_account,
        });
    }
    rows
}

/// What a whole node holds in memory with `accounts` funded accounts (devnet genesis, four
/// shards): the growth of this process's resident set across opening it (an upper bound: it
/// includes building the genesis), and how long opening took — first with the genesis written
/// to redb, then again with the trees rebuilt from redb and checked against the head.
#[derive(Debug, Clone, Serialize)]
pub struct NodeMemory {
    /// Funded accounts besides the devnet's.
    pub accounts: usize,
    /// Resident-set growth, MiB.
    pub rss_mib: f64,
    /// Milliseconds to open the node the first time.
    pub open_ms: f64,
    /// Milliseconds to open it again (trees rebuilt from redb and checked).
    pub reopen_ms: f64,
}

/// Measures [`NodeMemory`] in a temporary directory (removed afterwards).
pub fn node_memory(accounts: usize) -> Result<NodeMemory, String> {
    use crate::devnet;
    use crate::genesis::GenesisAccount;
    use crate::node::Node;
    let dir = std::env::temp_dir().join(format!("joule-bench-mem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let open = || -> Result<(Node, f64), String> {
        let keys = devnet::DevnetKeys::generate();
        let mut genesis = devnet::genesis(
            &devnet::DevnetOptions {
                shard_count: 4,
                block_interval_ms: 500,
                genesis_time_ms: 1,
            },
            &keys,
        );
        genesis
            .accounts
            .extend((0..accounts as u64).map(|i| GenesisAccount {
                address: filler_address(i),
                balance: 1_000,
            }));
        let finalizer =
            crate::consensus::LocalValidators::new(keys.validators, genesis.validators.clone())
                .map_err(|e| e.to_string())?;
        let t = Instant::now();
        let node = Node::open_with(
            &dir,
            genesis,
            Box::new(finalizer),
            Box::new(crate::chain::ParallelExecutor::per_core()),
            200_000,
            None,
        )
        .map_err(|e| e.to_string())?;
        Ok((node, t.elapsed().as_secs_f64() * 1e3))
    };
    let result = (|| {
        // Growth across the first open, node alive: includes the genesis being built and
        // written, so it is an upper bound on what the node keeps.
        let before = resident_bytes().unwrap_or(0);
        let (node, open_ms) = open()?;
        let after = resident_bytes().unwrap_or(0);
        drop(node);
        let (node, reopen_ms) = open()?;
        drop(node);
        Ok(NodeMemory {
            accounts,
            rss_mib: after.saturating_sub(before) as f64 / (1024.0 * 1024.0),
            open_ms,
            reopen_ms,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The rows as a plain-text table.
pub fn table(rows: &[StateRow]) -> String {
    let mut s = format!(
        "{:>9} {:>9} {:>7} {:>10} {:>9} {:>10} {:>12} {:>10}\n",
        "accounts",
        "build ms",
        "writes",
        "update ms",
        "proof µs",
        "verify µs",
        "proof bytes",
        "B/account"
    );
    for r in rows {
        s.push_str(&format!(
            "{:>9} {:>9.1} {:>7} {:>10.2} {:>9.2} {:>10.2} {:>12.0} {:>10.0}\n",
            r.accounts,
            r.build_ms,
            r.writes,
            r.update_ms,
            r.proof_us,
            r.verify_us,
            r.proof_bytes,
            r.bytes_per_account
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_produces_verifying_proofs() {
        let rows = run_state(&StateBenchOptions {
            accounts: vec![500],
            writes: 200,
            reps: 2,
        });
        assert_eq!(rows.len(), 1);
        assert!(rows[0].update_ms > 0.0);
        assert!(rows[0].proof_bytes > 32.0);
        assert!(table(&rows).contains("update ms"));
    }
}
