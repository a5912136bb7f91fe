//! `joule`: run a devnet node, or load-test one.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use joule_server::load::{self, LoadOptions};
use joule_server::server::RunningNode;
use joule_server::{Node, NodeConfig};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's allocator: a block's execution and the market's steps allocate
/// and free many small values from every thread (see docs/performance.md for the numbers).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "joule",
    version,
    about = "Joule: a sharded blockchain for community energy markets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a single-process devnet node with the HTTP API and the web app.
    Node {
        /// Where genesis and the database live.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Shards of a new devnet (an existing genesis keeps its own).
        #[arg(long, default_value_t = 4)]
        shards: u16,
        /// Milliseconds between blocks of a new devnet.
        #[arg(long, default_value_t = 500)]
        block_interval_ms: u64,
        /// The built web app.
        #[arg(long, default_value = "./dist")]
        dist: PathBuf,
        /// Simulate a community of N prosumers trading and voting (0: none; `make run` uses 24).
        #[arg(long, default_value_t = 0)]
        simulate: u32,
        /// The simulator's seed (a run is reproducible).
        #[arg(long, default_value_t = 1)]
        sim_seed: u64,
        /// Blocks between the simulated community's proposals.
        #[arg(long, default_value_t = 600)]
        sim_proposal_every: u64,
        /// Join a network: its peers file (with `--genesis`). With `--validator-key` this node
        /// is one of its validators; with `--node-key` a full node that follows them.
        #[arg(long, requires = "genesis")]
        peers: Option<PathBuf>,
        /// The network's genesis (with `--peers`).
        #[arg(long, requires = "peers")]
        genesis: Option<PathBuf>,
        /// This validator's key file (hex seed; `joule testnet init` writes them).
        #[arg(long, requires = "peers")]
        validator_key: Option<PathBuf>,
        /// A full node's p2p key file.
        #[arg(long, requires = "peers", conflicts_with = "validator_key")]
        node_key: Option<PathBuf>,
        /// The faucet's key file, to serve the faucet from this node.
        #[arg(long, requires = "peers")]
        faucet_key: Option<PathBuf>,
        /// Start the chain over from its genesis at height 0 where this data directory's chain
        /// database is gone (deleted or emptied); without it such a directory is refused.
        #[arg(long)]
        new_chain: bool,
    },
    /// Local networks of separate validator processes.
    Testnet {
        #[command(subcommand)]
        which: TestnetCommand,
    },
    /// Benchmarks (prints a table; `--json FILE` also writes the rows).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Sign and submit devnet transfers (same- and cross-shard) to a running node.
    Load {
        /// The node.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Target transactions per second.
        #[arg(long, default_value_t = 1000)]
        tps: u32,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Devnet accounts to send from (the market workload: its prosumers, default 24).
        #[arg(long)]
        senders: Option<u32>,
        /// `transfers` (the default); `market`: meters, offers, bids and readings, reporting
        /// each interval's clearing and settlement; or `dao`: locks, delegations, two
        /// proposals and every member's votes, followed to execution.
        #[arg(long, default_value = "transfers")]
        workload: String,
    },
}

#[derive(Debug, Subcommand)]
enum TestnetCommand {
    /// Write keys, a genesis and a peers file for validators and one full node on loopback.
    Init {
        /// Validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Where (one directory per node inside).
        #[arg(long, default_value = "./testnet")]
        dir: PathBuf,
        /// First p2p port (node i listens on this + i).
        #[arg(long, default_value_t = 9100)]
        p2p_port: u16,
        /// First API port (node i serves this + i; the full node is last).
        #[arg(long, default_value_t = 8081)]
        api_port: u16,
        /// Milliseconds between blocks.
        #[arg(long, default_value_t = 500)]
        block_interval_ms: u64,
        /// Shards.
        #[arg(long, default_value_t = 4)]
        shards: u16,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Execution only: a block of transfers (or market transactions) among N accounts,
    /// sequential vs parallel.
    Exec {
        /// Transactions per block.
        #[arg(long, default_value_t = 10_000)]
        txs: usize,
        /// What the blocks hold: transfers; orders and readings (60/40); or transfers, orders
        /// and readings (50/30/20).
        #[arg(long, value_enum, default_value = "transfer")]
        workload: joule_server::bench::workload::WorkloadKind,
        /// Runs per measurement (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Most threads (default: the machine's cores).
        #[arg(long)]
        max_threads: Option<usize>,
        /// Account counts to draw from (default: 2,10,100,1000,10000).
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<usize>,
        /// Also print where each parallel contender's time went, phase by phase.
        #[arg(long)]
        phases: bool,
        /// Write the rows as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// End to end: batch signature checks, admission, parallel execution, state tree, redb
    /// commit; against the raw batch-verification rate of the same machine.
    E2e {
        /// Transactions per block.
        #[arg(long, default_value_t = 10_000)]
        txs: usize,
        /// Blocks measured (median reported).
        #[arg(long, default_value_t = 7)]
        blocks: usize,
        /// Threads (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Funded accounts at genesis (default: one per transaction of a block, the senders);
        /// recipients are drawn from all of them.
        #[arg(long)]
        accounts: Option<usize>,
        /// Shards: each block runs one shard block per shard, side by side, and transfers
        /// between shards are credited by receipts in the next block.
        #[arg(long, default_value_t = 1)]
        shards: u16,
        /// What the blocks hold: transfers; orders and readings (80/20); or transfers, orders
        /// and readings (50/30/20), on a chain whose meters are registered at genesis.
        #[arg(long, value_enum, default_value = "transfer")]
        workload: joule_server::bench::workload::WorkloadKind,
        /// Write the row as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Storage engines on the state's write patterns: the node's store against fjall
    /// (built with `--features fjall-bench`).
    #[cfg(feature = "fjall-bench")]
    Engines {
        /// Entries in state before the measured blocks.
        #[arg(long, default_value_t = 1_000_000)]
        entries: usize,
        /// Writes per block.
        #[arg(long, default_value_t = 20_000)]
        writes: usize,
        /// Blocks measured (median reported).
        #[arg(long, default_value_t = 21)]
        blocks: usize,
        /// Where to put the databases (default: a directory under the system's temp dir,
        /// removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Write the rows as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// State tree: build, per-block update, proof cost and memory as accounts grow.
    State {
        /// Account counts (default: 10000,100000,1000000).
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<usize>,
        /// Accounts written per update (a 10,000-transfer block writes about 20,000).
        #[arg(long, default_value_t = 20_000)]
        writes: usize,
        /// Updates measured per account count (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Also open a whole node with this many funded accounts and report its memory.
        #[arg(long)]
        node_accounts: Option<usize>,
        /// Write the rows as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The market's work for one interval: the gate (books, clearing, fills) and settlement,
    /// for N orders over the shards.
    Clear {
        /// Orders in the interval (half offers, half bids).
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// Shards.
        #[arg(long, default_value_t = 4)]
        shards: u16,
        /// Runs (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Threads (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Write the row as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The analytics' error on held-back simulated days: the forecast against the naive one,
    /// the anomaly flags against the simulator's faults.
    Forecast {
        /// Simulated prosumers.
        #[arg(long, default_value_t = 48)]
        agents: u64,
        /// Simulated days.
        #[arg(long, default_value_t = 8)]
        days: u64,
        /// Of which the last ones are scored.
        #[arg(long, default_value_t = 2)]
        held_back: u64,
        /// Seeds the anomaly flags are scored over.
        #[arg(long, default_value_t = 10)]
        seeds: u64,
        /// Write the rows as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// A node's restart with a large pending pool (restored from its journal) against the same
    /// directory with an empty one: how long the API is down.
    Restart {
        /// Pending transactions at the restart.
        #[arg(long, default_value_t = 120_000)]
        pending: usize,
        /// Opens of each kind (median reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Write the row as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// A proposal's tally at its end: every shard's votes summed and the outcome decided.
    Tally {
        /// Votes on the proposal, over all shards.
        #[arg(long, default_value_t = 100_000)]
        votes: usize,
        /// Shards.
        #[arg(long, default_value_t = 4)]
        shards: u16,
        /// Runs (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Threads (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Write the row as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// Percent-encodes a query value (keeping unreserved characters and `:`).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn write_json(path: Option<PathBuf>, rows: &impl serde::Serialize) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(&path, serde_json::to_vec_pretty(rows)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")),
        )
        .init();
    let cli = Cli::parse();
    // A network node runs on commonware's runtime (tokio underneath), which it owns.
    if let Command::Node {
        peers: Some(peers),
        genesis: Some(genesis),
        validator_key,
        node_key,
        faucet_key,
        data_dir,
        port,
        dist,
        new_chain,
        ..
    } = cli.command
    {
        let opts = joule_server::network::run::NetworkNodeOptions {
            data_dir,
            genesis,
            peers,
            validator_key,
            node_key,
            faucet_key,
            port,
            dist,
            new_chain,
        };
        return joule_server::network::run::run(opts).context("running the network node");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Testnet {
            which:
                TestnetCommand::Init {
                    validators,
                    dir,
                    p2p_port,
                    api_port,
                    block_interval_ms,
                    shards,
                },
        } => {
            let opts = joule_server::network::testnet::TestnetOptions {
                dir: dir.clone(),
                validators,
                p2p_port,
                api_port,
                block_interval_ms,
                shard_count: shards,
                genesis_time_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_millis() as u64,
            };
            let peers = joule_server::network::testnet::init(&opts)?;
            println!("testnet in {}:", dir.display());
            for p in &peers.peers {
                println!("  {:<5} p2p {:<16} api {}", p.name, p.p2p, p.api);
            }
            Ok(())
        }
        Command::Node {
            data_dir,
            port,
            shards,
            block_interval_ms,
            dist,
            simulate,
            sim_seed,
            sim_proposal_every,
            new_chain,
            ..
        } => {
            let config = NodeConfig {
                shard_count: shards,
                block_interval_ms,
                new_chain,
                ..NodeConfig::devnet(&data_dir)
            };
            let node = tokio::task::spawn_blocking(move || Node::open(&config))
                .await?
                .context("opening node")?;
            tracing::info!(
                chain_id = %node.genesis.chain_id,
                shards = node.genesis.shard_count,
                height = node.chain().height(),
                data_dir = %data_dir.display(),
                "node opened"
            );
            if !dist.join("index.html").exists() {
                tracing::warn!(dist = %dist.display(), "web app not built: `make run` builds it (the API works without it)");
            }
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .with_context(|| format!("binding 127.0.0.1:{port}"))?;
            let checkpoint = node.genesis.checkpoint();
            let running = RunningNode::start(node, listener, dist)?;
            tracing::info!(
                "Joule devnet at http://{} (API under /api/v1); Ctrl-C or SIGTERM stops",
                running.addr
            );
            // What a user compares before trusting this chain in the app (or the link that
            // carries it). Public: a checkpoint names the chain, it grants nothing.
            println!(
                "\nTrust checkpoint of this chain (the app asks you to accept it once):\n  fingerprint  {}\n  checkpoint   {checkpoint}\n  open         http://{}/?checkpoint={}\n",
                checkpoint.fingerprint(),
                running.addr,
                url_encode(&checkpoint.to_string()),
            );
            let simulation = (simulate > 0).then(|| {
                let opts = joule_server::sim::SimOptions {
                    seed: sim_seed,
                    proposal_every: sim_proposal_every.max(1),
                    ..joule_server::sim::SimOptions::new(simulate)
                };
                tracing::info!(
                    prosumers = opts.agents,
                    seed = opts.seed,
                    "simulating a community (off: --simulate 0)"
                );
                joule_server::sim::Simulation::start(running.node.clone(), opts)
            });
            // Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send): the same clean stop.
            joule_server::network::run::wait_for_stop().await;
            tracing::info!("shutting down");
            if let Some(s) = simulation {
                s.stop();
            }
            running.stop().await
        }
        Command::Bench {
            which:
                BenchCommand::Exec {
                    txs,
                    workload,
                    reps,
                    max_threads,
                    accounts,
                    phases,
                    json,
                },
        } => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let opts = joule_server::bench::exec::ExecBenchOptions {
                txs,
                reps,
                max_threads: max_threads.unwrap_or(cores),
                accounts: if accounts.is_empty() {
                    joule_server::bench::exec::ACCOUNT_COUNTS.to_vec()
                } else {
                    accounts
                },
                workload,
            };
            let what = match workload {
                joule_server::bench::workload::WorkloadKind::Transfer => "transfers",
                joule_server::bench::workload::WorkloadKind::Market => "orders and readings",
                joule_server::bench::workload::WorkloadKind::Mixed => {
                    "transfers, orders and readings"
                }
                joule_server::bench::workload::WorkloadKind::Votes => "votes on one proposal",
            };
            println!("exec: {txs} {what} per block, median of {reps}, {cores} cores");
            let rows =
                tokio::task::spawn_blocking(move || joule_server::bench::exec::run_exec(&opts))
                    .await?
                    .map_err(anyhow::Error::msg)?;
            print!("{}", joule_server::bench::exec::table(&rows));
            if phases {
                println!("\nphases: medians, µs (total: the median block)");
                print!("{}", joule_server::bench::exec::phases_table(&rows, txs));
            }
            write_json(json, &rows)
        }
        Command::Bench {
            which:
                BenchCommand::E2e {
                    txs,
                    blocks,
                    threads,
                    accounts,
                    shards,
                    workload,
                    json,
                },
        } => {
            use joule_server::bench::e2e;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let opts = e2e::E2eBenchOptions {
                txs,
                blocks,
                threads: threads.unwrap_or(cores),
                shards,
                accounts: accounts.unwrap_or(txs),
                workload,
            };
            println!(
                "e2e: {txs}-transaction blocks ({workload:?}), {} funded accounts, {shards} shard(s), median of {blocks}, {cores} cores",
                opts.accounts.max(txs)
            );
            let row = tokio::task::spawn_blocking(move || e2e::run_e2e(&opts))
                .await?
                .map_err(anyhow::Error::msg)?;
            print!("{}", e2e::table(&row));
            write_json(json, &vec![row])
        }
        #[cfg(feature = "fjall-bench")]
        Command::Bench {
            which:
                BenchCommand::Engines {
                    entries,
                    writes,
                    blocks,
                    dir,
                    json,
                },
        } => {
            use joule_server::bench::engines;
            let opts = engines::EnginesOptions {
                entries,
                writes,
                blocks,
            };
            let temp = dir.is_none();
            let dir = dir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("joule-engines-{}", std::process::id()))
            });
            println!(
                "engines: {writes} writes per block into {entries} entries, one durable commit per block, median of {blocks}"
            );
            let rows = {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || engines::run_engines(&dir, &opts)).await?
            };
            if temp {
                let _ = std::fs::remove_dir_all(&dir);
            }
            let rows = rows.map_err(anyhow::Error::msg)?;
            print!("{}", engines::table(&rows));
            write_json(json, &rows)
        }
        Command::Bench {
            which:
                BenchCommand::Clear {
                    orders,
                    shards,
                    reps,
                    threads,
                    json,
                },
        } => {
            use joule_server::bench::clear;
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let opts = clear::ClearBenchOptions {
                orders,
                shards,
                reps,
                threads,
            };
            println!("clear: one interval's gate and settlement, median of {reps}");
            let row = tokio::task::spawn_blocking(move || clear::run_clear(&opts)).await?;
            print!("{}", clear::table(std::slice::from_ref(&row)));
            write_json(json, &vec![row])
        }
        Command::Bench {
            which:
                BenchCommand::Forecast {
                    agents,
                    days,
                    held_back,
                    seeds,
                    json,
                },
        } => {
            use joule_server::bench::forecast;
            let opts = forecast::ForecastBenchOptions {
                agents,
                days,
                held_back,
                seeds,
            };
            println!("forecast: {agents} simulated prosumers, {days} days, the last {held_back} held back; anomaly flags over {seeds} seeds");
            let (rows, anomaly) =
                tokio::task::spawn_blocking(move || forecast::run_forecast(&opts)).await?;
            print!("{}", forecast::table(&rows, &anomaly));
            write_json(
                json,
                &serde_json::json!({ "forecast": rows, "anomaly": anomaly }),
            )
        }
        Command::Bench {
            which:
                BenchCommand::Restart {
                    pending,
                    reps,
                    json,
                },
        } => {
            use joule_server::bench::restart;
            let opts = restart::RestartBenchOptions { pending, reps };
            println!("restart: a devnet node opened with {pending} pending transactions in its journal, and without; median of {reps}");
            let row = tokio::task::spawn_blocking(move || restart::run_restart(&opts))
                .await?
                .map_err(anyhow::Error::msg)?;
            print!("{}", restart::table(std::slice::from_ref(&row)));
            write_json(json, &vec![row])
        }
        Command::Bench {
            which:
                BenchCommand::Tally {
                    votes,
                    shards,
                    reps,
                    threads,
                    json,
                },
        } => {
            use joule_server::bench::tally;
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let opts = tally::TallyBenchOptions {
                votes,
                shards,
                reps,
                threads,
            };
            println!("tally: one proposal's end, median of {reps}");
            let row = tokio::task::spawn_blocking(move || tally::run_tally(&opts)).await?;
            print!("{}", tally::table(std::slice::from_ref(&row)));
            write_json(json, &vec![row])
        }
        Command::Bench {
            which:
                BenchCommand::State {
                    accounts,
                    writes,
                    reps,
                    node_accounts,
                    json,
                },
        } => {
            use joule_server::bench::state;
            let opts = state::StateBenchOptions {
                accounts: if accounts.is_empty() {
                    state::ACCOUNT_COUNTS.to_vec()
                } else {
                    accounts
                },
                writes,
                reps,
            };
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            println!("state: {writes} writes per update, median of {reps}, {cores} cores");
            let rows = tokio::task::spawn_blocking(move || state::run_state(&opts)).await?;
            print!("{}", state::table(&rows));
            if let Some(n) = node_accounts {
                let m = tokio::task::spawn_blocking(move || state::node_memory(n))
                    .await?
                    .map_err(anyhow::Error::msg)?;
                println!(
                    "node with {} funded accounts: {:.0} MiB resident, opened in {:.0} ms (reopened, trees rebuilt and checked: {:.0} ms)",
                    m.accounts, m.rss_mib, m.open_ms, m.reopen_ms
                );
            }
            write_json(json, &rows)
        }
        Command::Load {
            url,
            tps,
            duration,
            senders,
            workload,
        } => match workload.as_str() {
            "transfers" => {
                let report = tokio::task::spawn_blocking(move || {
                    load::run(&LoadOptions {
                        url,
                        tps,
                        duration_s: duration,
                        senders: senders.unwrap_or(256),
                    })
                })
                .await??;
                println!("{report}");
                match report.stopped {
                    // Reported above; the exit status still says the run was cut short.
                    Some(why) => anyhow::bail!("load stopped early: {why}"),
                    None => Ok(()),
                }
            }
            "market" => {
                let report = tokio::task::spawn_blocking(move || {
                    load::market::run(&url, senders.unwrap_or(24), duration)
                })
                .await??;
                println!("{report}");
                Ok(())
            }
            "dao" => {
                let report = tokio::task::spawn_blocking(move || {
                    load::dao::run(&url, senders.unwrap_or(24), duration)
                })
                .await??;
                println!("{report}");
                Ok(())
            }
            other => anyhow::bail!("unknown workload {other:?}: use transfers, market or dao"),
        },
    }
}
