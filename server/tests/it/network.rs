//! A network of real `joule` processes on loopback: 4 validators and a full node from
//! `joule testnet init`. A transaction submitted to the full node is included; one validator
//! killed with SIGKILL does not stop the chain; restarted, it catches up to the same blocks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joule_light_client::api::{BlockResponse, ChainInfo, TxResponse, TxState};

use super::support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

fn spawn(dir: &Path, name: &str, port: u16) -> Child {
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
        cmd.arg("--node-key").arg(dir.join("full/node.key"));
    } else {
        cmd.arg("--validator-key")
            .arg(dir.join(name).join("validator.key"));
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
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
    let (p2p, api) = (free_port(), free_port());
    let init = Command::new(env!("CARGO_BIN_EXE_joule"))
        .args([
            "testnet",
            "init",
            "--validators",
            "4",
            "--block-interval-ms",
            "300",
        ])
        .arg("--dir")
        .arg(&dir)
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let names = ["v0", "v1", "v2", "v3", "full"];
    let base = |i: usize| format!("http://127.0.0.1:{}", api + i as u16);
    let mut procs = Procs(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| Some(spawn(&dir, n, api + i as u16)))
            .collect(),
    );
    let full = base(4);
    let info = wait_height(&full, 3, Duration::from_secs(90));

    // Submitted to the full node, forwarded to the validators, included.
    let (_, key) = devnet_key_where(info.genesis.shard_count, |_| true);
    let stx = transfer(&info, &key, 0, address(&key), 9);
    let body = joule_light_client::api::SubmitRequest {
        tx: hex::encode(joule_light_client::Encode::encode(&stx)),
    };
    ureq::post(&format!("{full}/api/v1/transactions"))
        .send_json(&body)
        .unwrap();
    let id = stx.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let included = loop {
        let tx: TxResponse = ureq::get(&format!("{}/api/v1/transactions/{id}", base(0)))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        if tx.state == TxState::Included {
            break tx.inclusion.unwrap().at.height;
        }
        assert!(Instant::now() < deadline, "not included: {:?}", tx.state);
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
