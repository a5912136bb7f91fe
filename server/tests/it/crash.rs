//! Crash consistency: the `joule` binary killed with SIGKILL loses no committed block.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joule_light_client::api::{ChainInfo, TxResponse, TxState};

use super::support::*;

fn spawn(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["node", "--data-dir"])
        .arg(dir)
        .args(["--port", &port.to_string(), "--block-interval-ms", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_up(base: &str) -> ChainInfo {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = ureq::get(&format!("{base}/api/v1/chain")).call() {
            return r.into_json().unwrap();
        }
        assert!(Instant::now() < deadline, "node did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_loses_no_committed_block() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(dir.path(), port);
    let chain = wait_up(&base);
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let stx = transfer(&chain, &key, 0, address(&key), 9);
    let body = joule_light_client::api::SubmitRequest {
        tx: hex::encode(joule_light_client::Encode::encode(&stx)),
    };
    ureq::post(&format!("{base}/api/v1/transactions"))
        .send_json(&body)
        .unwrap();
    let id = stx.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    let included_at = loop {
        let tx: TxResponse = ureq::get(&format!("{base}/api/v1/transactions/{id}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        if tx.state == TxState::Included {
            break tx.inclusion.unwrap().at.height;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    };
    let head_before: ChainInfo = ureq::get(&format!("{base}/api/v1/chain"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    child.kill().unwrap(); // SIGKILL: no shutdown path runs.
    child.wait().unwrap();

    let mut child = spawn(dir.path(), port);
    let after = wait_up(&base);
    assert!(
        after.head_height >= head_before.head_height,
        "no committed block lost"
    );
    let tx: TxResponse = ureq::get(&format!("{base}/api/v1/transactions/{id}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(
        (tx.state, tx.inclusion.unwrap().at.height),
        (TxState::Included, included_at)
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
