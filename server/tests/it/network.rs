//! A network of real `joule` processes on loopback: 4 validators and a full node from
//! `joule testnet init`. A transaction submitted to the full node is included; one validator
//! killed with SIGKILL does not stop the chain; restarted, it catches up to the same blocks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joule_light_client::api::{BlockResponse, ChainInfo, TxResponse, TxState};

use super::support::*;

/// The first of `n` consecutive free ports, below the kernel's ephemeral range (where
/// `bind(0)` hands out neighbours, so two calls could overlap a testnet's port ranges).
fn free_ports(n: u16) -> u16 {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    loop {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let base = 20_000 + (seed >> 8) as u16 % 10_000;
        let held: Vec<_> = (base..base + n)
            .map_while(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return base;
        }
    }
}

/// Kills its processes however the test ends.
struct Procs(Vec<Option<Child>>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in self.0.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

const NAMES: [&str; 5] = ["v0", "v1", "v2", "v3", "full"];

/// `joule testnet init` for 4 validators and a full node into `dir`; the first API port.
fn init(dir: &Path, block_interval_ms: u64) -> u16 {
    let p2p = free_ports(10);
    let api = p2p + 5;
    let out = Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["testnet", "init", "--validators", "4"])
        .args(["--block-interval-ms", &block_interval_ms.to_string()])
        .arg("--dir")
        .arg(dir)
        .args(["--p2p-port", &p2p.to_string()])
        .args(["--api-port", &api.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    api
}

/// Every node of the testnet in `dir`, running (logged into `dir` when `logged`).
fn start_all(dir: &Path, api: u16, logged: bool) -> Procs {
    Procs(
        NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let log = logged.then(|| log_file(dir, n)).flatten();
                Some(spawn_logged(dir, n, api + i as u16, log))
            })
            .collect(),
    )
}

/// Submits `stx` to the node at `base`; whether it was accepted.
fn submit(base: &str, stx: &joule_light_client::SignedTransaction) -> bool {
    let body = joule_light_client::api::SubmitRequest {
        tx: hex::encode(joule_light_client::Encode::encode(stx)),
    };
    ureq::post(&format!("{base}/api/v1/transactions"))
        .send_json(&body)
        .is_ok()
}

fn spawn(dir: &Path, name: &str, port: u16) -> Child {
    spawn_logged(dir, name, port, None)
}

fn spawn_logged(dir: &Path, name: &str, port: u16, log: Option<std::fs::File>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_joule"));
    cmd.arg("node")
        .arg("--data-dir")
        .arg(dir.join(name).join("data"))
        .arg("--genesis")
        .arg(dir.join("genesis.json"))
        .arg("--peers")
        .arg(dir.join("peers.json"))
        .args(["--port", &port.to_string()]);
    if name == "full" {
        // The app, when built (the browser test needs it; the others do not look).
        let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
        cmd.arg("--node-key")
            .arg(dir.join("full/node.key"))
            .arg("--dist")
            .arg(dist);
    } else {
        cmd.arg("--validator-key")
            .arg(dir.join(name).join("validator.key"));
    }
    let out = |f: &Option<std::fs::File>| match f {
        Some(f) => Stdio::from(f.try_clone().unwrap()),
        None => Stdio::null(),
    };
    cmd.stdout(out(&log)).stderr(out(&log)).spawn().unwrap()
}

fn chain(base: &str) -> Option<ChainInfo> {
    ureq::get(&format!("{base}/api/v1/chain"))
        .call()
        .ok()?
        .into_json()
        .ok()
}

fn wait_height(base: &str, height: u64, within: Duration) -> ChainInfo {
    let deadline = Instant::now() + within;
    loop {
        if let Some(c) = chain(base) {
            if c.head_height >= height {
                return c;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{base} did not reach height {height}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn block_hash(base: &str, height: u64) -> String {
    let b: BlockResponse = ureq::get(&format!("{base}/api/v1/blocks/{height}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    b.hash.to_string()
}

#[test]
#[ignore = "real processes: run by `make test-e2e`"]
fn a_network_of_processes_includes_survives_a_sigkilled_validator_and_it_catches_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let api = init(&dir, 300);
    let base = |i: usize| format!("http://127.0.0.1:{}", api + i as u16);
    let mut procs = start_all(&dir, api, false);
    let full = base(4);
    let info = wait_height(&full, 3, Duration::from_secs(90));

    // Submitted to the full node, forwarded to the validators, included.
    let (_, key) = devnet_key_where(info.genesis.shard_count, |_| true);
    let stx = transfer(&info, &key, 0, address(&key), 9);
    assert!(submit(&full, &stx));
    let id = stx.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let included = loop {
        // 404 until the forward reaches v0.
        let tx: Option<TxResponse> = ureq::get(&format!("{}/api/v1/transactions/{id}", base(0)))
            .call()
            .ok()
            .and_then(|r| r.into_json().ok());
        if let Some(TxResponse {
            state: TxState::Included,
            inclusion: Some(inc),
            ..
        }) = tx
        {
            break inc.at.height;
        }
        assert!(Instant::now() < deadline, "not included at v0");
        std::thread::sleep(Duration::from_millis(100));
    };

    // One validator down (SIGKILL: nothing of its shutdown runs): the other three go on.
    let mut v3 = procs.0[3].take().unwrap();
    v3.kill().unwrap();
    v3.wait().unwrap();
    let before = chain(&full).unwrap().head_height;
    wait_height(&full, before + 5, Duration::from_secs(60));

    // Restarted, it catches up from its store and its peers to the same blocks.
    procs.0[3] = Some(spawn(&dir, "v3", api + 3));
    let target = chain(&full).unwrap().head_height + 3;
    wait_height(&base(3), target, Duration::from_secs(90));
    for h in [1, included, target] {
        let expected = block_hash(&full, h);
        for i in 0..4 {
            assert_eq!(block_hash(&base(i), h), expected, "node {i} at height {h}");
        }
    }
}

/// A log file for a node's output (appended across restarts).
fn log_file(dir: &Path, name: &str) -> Option<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    Some(f)
}

#[test]
#[ignore = "real processes: run by `make test-e2e`"]
fn twenty_sigkills_of_validators_under_load_lose_no_final_block_and_sign_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();
    // JOULE_KEEP_NET=DIR keeps the network's files and logs for a look after a failure.
    let dir = std::env::var_os("JOULE_KEEP_NET").map_or(tmp.path().join("net"), Into::into);
    let api = init(&dir, 200);
    let base = |i: usize| format!("http://127.0.0.1:{}", api + i as u16);
    let mut procs = start_all(&dir, api, true);
    let full = base(4);
    let info = wait_height(&full, 2, Duration::from_secs(90));

    // Load: transfers from many accounts into the full node while validators die.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loader = {
        let (stop, full) = (stop.clone(), full.clone());
        std::thread::spawn(move || {
            let mut sent = 0u64;
            let mut nonce = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for i in 0..20u32 {
                    let key = joule_server::devnet::account_key(i);
                    let stx = transfer(&info, &key, nonce, address(&key), 1);
                    if submit(&full, &stx) {
                        sent += 1;
                    }
                }
                nonce += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            sent
        })
    };

    let mut rng = 0x9e37_79b9_u64;
    for round in 0..20 {
        let i = 1 + round % 3;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(150 + rng % 600));
        let before = chain(&base(i)).map_or(0, |c| c.head_height);
        let mut child = procs.0[i].take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        procs.0[i] = Some(spawn_logged(
            &dir,
            NAMES[i],
            api + i as u16,
            log_file(&dir, NAMES[i]),
        ));
        // What it had committed, it still has: its store is its own.
        let after = wait_height(&base(i), before, Duration::from_secs(60));
        assert!(after.head_height >= before, "v{i} lost blocks");
        // An operator's restart: it catches up before the next one goes down (two validators
        // of four behind at once is no quorum, by design).
        let network = chain(&full).map_or(0, |c| c.head_height);
        wait_height(&base(i), network, Duration::from_secs(90));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = loader.join().unwrap();
    assert!(sent > 0);

    let target = chain(&full).unwrap().head_height + 3;
    for i in 0..5 {
        wait_height(&base(i), target, Duration::from_secs(180));
    }
    for h in (1..=target).step_by(7).chain([target]) {
        let expected = block_hash(&full, h);
        for i in 0..4 {
            assert_eq!(block_hash(&base(i), h), expected, "node {i} at height {h}");
        }
    }
    drop(procs);
    for n in NAMES {
        let log = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap();
        assert!(
            !log.contains("consensus evidence"),
            "{n} saw conflicting votes"
        );
    }
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn the_app_served_by_a_full_node_verifies_the_networks_blocks_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let api = init(&dir, 500);
    super::e2e::dist(); // the app is built (or say how to build it)
    let mut procs = start_all(&dir, api, false);
    let full = format!("http://127.0.0.1:{}", api + 4);
    let info = wait_height(&full, 2, Duration::from_secs(90));
    let checkpoint = joule_light_client::Checkpoint::of_genesis(&info.genesis);

    // The user's trust root is the network's genesis; the light client in the page follows
    // the validators' commits from there.
    let driver = super::e2e::Driver::start();
    driver.goto(&format!("{full}/?checkpoint={checkpoint}"));
    let verified = |driver: &super::e2e::Driver, at_least: u64| {
        driver.wait_text("#lc-head", |t| {
            t.trim_start_matches("✓ verified head #")
                .parse::<u64>()
                .is_ok_and(|h| h >= at_least)
        })
    };
    verified(&driver, 3);
    driver.wait_text(".card .verified", |t| {
        t.contains("verified in your browser")
    });

    // One validator killed: the page goes on verifying new heads.
    let mut v2 = procs.0[2].take().unwrap();
    v2.kill().unwrap();
    v2.wait().unwrap();
    let now = chain(&full).unwrap().head_height;
    verified(&driver, now + 4);
}
