//! Crash consistency: the `joule` binary killed with SIGKILL loses no committed block.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joule_light_client::api::{
    BatchSubmitRequest, BatchSubmitResponse, ChainInfo, SubmitResponse, TxResponse, TxState,
};
use joule_light_client::Hash;
use joule_server::devnet::account_key;

use super::support::*;

fn spawn(dir: &std::path::Path, port: u16) -> Child {
    spawn_paced(dir, port, 100)
}

/// A devnet node whose blocks come `interval_ms` apart (a new devnet's; an existing one keeps
/// its genesis).
fn spawn_paced(dir: &std::path::Path, port: u16, interval_ms: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["node", "--data-dir"])
        .arg(dir)
        .args(["--port", &port.to_string()])
        .args(["--block-interval-ms", &interval_ms.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `POST /transactions`: the id on 202, else the status.
fn post_tx(base: &str, stx: &joule_light_client::SignedTransaction) -> Result<Hash, u16> {
    let body = joule_light_client::api::SubmitRequest {
        tx: hex::encode(joule_light_client::Encode::encode(stx)),
    };
    match ureq::post(&format!("{base}/api/v1/transactions")).send_json(&body) {
        Ok(r) if r.status() == 202 => Ok(r.into_json::<SubmitResponse>().unwrap().id),
        Ok(r) => Err(r.status()),
        Err(ureq::Error::Status(code, _)) => Err(code),
        // The node went away (the tests kill it): no answer, nothing promised.
        Err(_) => Err(0),
    }
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
    post_tx(&base, &stx).unwrap();
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

/// What one request to `base` answers, as JSON.
fn get_json<T: serde::de::DeserializeOwned>(base: &str, path: &str) -> T {
    ureq::get(&format!("{base}/api/v1{path}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap()
}

/// Signs `payload` from `key` at its next nonce, submits it to `base` and waits for its
/// block.
fn send_and_wait(
    base: &str,
    chain: &ChainInfo,
    key: &joule_light_client::SecretKey,
    payload: joule_light_client::Payload,
) -> TxResponse {
    let from = address(key);
    let account: joule_light_client::api::AccountResponse =
        get_json(base, &format!("/accounts/{from}"));
    let stx = joule_light_client::Transaction {
        chain_id: chain.genesis.chain_id.clone(),
        sender: key.public_key(),
        nonce: account.next_nonce,
        max_fee: chain.genesis.min_fee,
        payload,
    }
    .sign(key);
    post_tx(base, &stx).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tx: TxResponse = get_json(base, &format!("/transactions/{}", stx.id()));
        if tx.state == TxState::Included {
            return tx;
        }
        assert!(Instant::now() < deadline, "not included");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_between_a_vote_end_and_its_execution_executes_it_exactly_once() {
    use joule_light_client::api::{AccountResponse, ProposalResponse};
    use joule_light_client::dao::{Action, Choice, ProposalState};
    use joule_light_client::{Hash, Payload};
    use joule_server::devnet::account_key;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(dir.path(), port);
    let chain = wait_up(&base);
    let treasury = joule_light_client::market::treasury();
    let recipient = address(&account_key(41));
    // The treasury funded (anyone may pay into it), then a spend proposed and voted for.
    send_and_wait(
        &base,
        &chain,
        &account_key(40),
        Payload::Transfer {
            to: treasury,
            amount: 5_000,
        },
    );
    let proposed = send_and_wait(
        &base,
        &chain,
        &account_key(1),
        Payload::Propose {
            action: Action::Spend {
                to: recipient,
                amount: 1_000,
            },
            title: "Pay the installer".into(),
            body_hash: Hash([5; 32]),
        },
    );
    let id = proposed.id;
    let p: ProposalResponse = get_json(&base, &format!("/governance/proposals/{id}"));
    let p = p.item.proposal;
    let head = || get_json::<ChainInfo>(&base, "/chain").head_height;
    while head() + 1 < p.start {
        std::thread::sleep(Duration::from_millis(20));
    }
    send_and_wait(
        &base,
        &chain,
        &account_key(0),
        Payload::Vote {
            proposal: id,
            choice: Choice::For,
        },
    );
    let balance = |a: &joule_light_client::Address| {
        get_json::<AccountResponse>(&base, &format!("/accounts/{a}"))
            .account
            .balance
    };
    let before = balance(&recipient);
    // Killed after the end (the proposal queued) and before its execution.
    while head() < p.end {
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed_at = head();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        killed_at < p.eta,
        "killed at {killed_at}, before eta {}",
        p.eta
    );

    let mut child = spawn(dir.path(), port);
    wait_up(&base);
    while head() < p.eta + 5 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let done: ProposalResponse = get_json(&base, &format!("/governance/proposals/{id}"));
    assert_eq!(
        (done.item.proposal.state, done.item.proposal.executed_at),
        (ProposalState::Executed, p.eta)
    );
    assert_eq!(balance(&recipient), before + 1_000, "paid exactly once");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_stops_as_cleanly_as_ctrl_c_and_keeps_pending_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // Blocks a minute apart: a transaction sent after the first one waits in the mempool.
    let spawn_slow = || spawn_paced(dir.path(), port, 60_000);
    let mut child = spawn_slow();
    let chain = wait_up(&base);
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let stx = transfer(&chain, &key, 0, address(&key), 9);
    post_tx(&base, &stx).unwrap();
    let id = stx.id();
    let tx: TxResponse = get_json(&base, &format!("/transactions/{id}"));
    assert_eq!(tx.state, TxState::Pending);

    // SIGTERM, as systemd, Docker and Kubernetes stop a service.
    sigterm_to_a_clean_exit(&mut child);

    let mut child = spawn_slow();
    wait_up(&base);
    let tx: TxResponse = get_json(&base, &format!("/transactions/{id}"));
    assert!(
        matches!(tx.state, TxState::Pending | TxState::Included),
        "kept across the stop: {:?}",
        tx.state
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `202` is a promise: the transaction is in the journal on disk before the node answers, so
/// SIGKILL right after the answers, before any block, loses none of them.
#[test]
fn sigkill_before_the_next_block_loses_no_accepted_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_paced(dir.path(), port, 60_000);
    let chain = wait_up(&base);
    let to = address(&account_key(9));
    // Four senders one transaction per request, concurrently, and a batch from a fifth: both
    // paths wait for the journal's group commit.
    let accepted: Vec<Hash> = std::thread::scope(|s| {
        let (base, chain) = (&base, &chain);
        let singles: Vec<_> = (0..4)
            .map(|i| {
                s.spawn(move || {
                    let key = account_key(i);
                    (0..40)
                        .map(|n| post_tx(base, &transfer(chain, &key, n, to, 1)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let batch = s.spawn(move || {
            let key = account_key(4);
            let txs = (0..60)
                .map(|n| {
                    let stx = transfer(chain, &key, n, to, 1);
                    hex::encode(joule_light_client::Encode::encode(&stx))
                })
                .collect();
            let r: BatchSubmitResponse = ureq::post(&format!("{base}/api/v1/transactions/batch"))
                .send_json(&BatchSubmitRequest { txs })
                .unwrap()
                .into_json()
                .unwrap();
            r.results
                .into_iter()
                .map(|item| item.id.expect("accepted"))
                .collect::<Vec<_>>()
        });
        let mut ids: Vec<Hash> = singles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        ids.extend(batch.join().unwrap());
        ids
    });
    assert_eq!(accepted.len(), 220);
    let stats: joule_light_client::api::Stats = get_json(&base, "/stats");
    assert_eq!(
        stats.mempool_size, 220,
        "all pending at the kill: no block came between"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = spawn_paced(dir.path(), port, 60_000);
    wait_up(&base);
    for (id, state) in accepted.iter().zip(states(&base, &accepted)) {
        assert!(
            matches!(state, TxState::Pending | TxState::Included),
            "{id} was accepted before the kill: {state:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Where each transaction stands; a transaction the node does not know fails the test.
fn states(base: &str, ids: &[Hash]) -> Vec<TxState> {
    ids.iter()
        .map(
            |id| match ureq::get(&format!("{base}/api/v1/transactions/{id}")).call() {
                Ok(r) => r.into_json::<TxResponse>().unwrap().state,
                Err(e) => panic!("{id} was accepted before the kill, and now: {e}"),
            },
        )
        .collect()
}

/// The same under load, killed at a moment the test does not choose: submissions in flight
/// and blocks being produced (100 ms apart). Every transaction answered 202 before the kill is
/// afterwards pending, included or dropped with a reason.
#[test]
fn sigkill_under_load_loses_no_accepted_transaction() {
    under_load_no_accepted_transaction_is_lost(|child| child.kill().unwrap());
}

/// SIGTERM under the same load: the node stops cleanly while submissions keep arriving (those
/// it answers during the stop are refused `503`, or accepted and journaled).
#[test]
fn sigterm_under_load_loses_no_accepted_transaction() {
    under_load_no_accepted_transaction_is_lost(sigterm_to_a_clean_exit);
}

/// Sends SIGTERM and waits: the node must exit cleanly, not be killed.
fn sigterm_to_a_clean_exit(child: &mut Child) {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "a clean exit, not a kill: {status:?}");
}

/// Six senders submit continuously; after 1.5 s `stop` ends the node while they still send;
/// after a restart every `202` is pending, included or dropped with a reason.
fn under_load_no_accepted_transaction_is_lost(stop_node: impl FnOnce(&mut Child)) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(dir.path(), port);
    let chain = wait_up(&base);
    let to = address(&account_key(19));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let accepted: Vec<Hash> = std::thread::scope(|s| {
        let (base, chain, stop) = (&base, &chain, &stop);
        let senders: Vec<_> = (10..16)
            .map(|i| {
                s.spawn(move || {
                    let key = account_key(i);
                    let mut ids = Vec::new();
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let stx = transfer(chain, &key, n, to, 1);
                        match post_tx(base, &stx) {
                            Ok(id) => {
                                ids.push(id);
                                n += 1;
                            }
                            // Too far ahead of the chain (or the sender's queue is full): the
                            // same nonce again after a block.
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                    ids
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1_500));
        stop_node(&mut child);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        senders
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    child.wait().unwrap();
    assert!(accepted.len() > 50, "load ran: {}", accepted.len());

    let mut child = spawn(dir.path(), port);
    wait_up(&base);
    for state in states(&base, &accepted) {
        if let TxState::Dropped { reason } = state {
            assert!(!reason.is_empty());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn joule_load_reports_what_it_achieved_when_the_node_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut node = spawn(dir.path(), port);
    wait_up(&base);
    let load = Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["load", "--url", &base, "--tps", "200", "--duration", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    node.kill().unwrap();
    node.wait().unwrap();
    let out = load.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a cut-short run exits non-zero");
    assert!(stdout.contains("stopped early"), "{stdout}");
    let submitted: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("submitted"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(submitted > 0, "{stdout}");
}

/// Runs the node on `dir` expecting it to refuse to start: its exit and what it printed.
fn refused_start(dir: &std::path::Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["node", "--data-dir"])
        .arg(dir)
        .args(["--port", &free_port().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the node started on a damaged directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A devnet directory with a few blocks, its node stopped.
fn stopped_devnet() -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(dir.path(), port);
    wait_up(&base);
    let deadline = Instant::now() + Duration::from_secs(20);
    let head = loop {
        let c: ChainInfo = get_json(&base, "/chain");
        if c.head_height >= 5 {
            break c.head_height;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    (dir, head)
}

#[test]
fn a_truncated_chain_database_is_named_not_a_panic() {
    let (dir, _) = stopped_devnet();
    let path = dir.path().join("chain.redb");
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len / 3).unwrap();
    drop(f);
    let out = refused_start(dir.path());
    assert!(out.contains("chain.redb is damaged"), "{out}");
    assert!(out.contains("restore it from a backup"), "{out}");
}

#[test]
fn a_garbled_index_is_rebuilt_and_the_node_serves_the_same_chain() {
    let (dir, head) = stopped_devnet();
    let path = dir.path().join("chain.index.redb");
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().take(4096) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(dir.path(), port);
    let after = wait_up(&base);
    assert!(after.head_height >= head);
    // The rebuilt index answers: a block's first transaction-less shard lookups and search.
    let found: serde_json::Value = get_json(&base, &format!("/search?q={head}"));
    assert!(found.to_string().contains(&head.to_string()), "{found}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_deleted_or_emptied_chain_database_is_refused_not_restarted_at_height_0() {
    let (dir, head) = stopped_devnet();
    let path = dir.path().join("chain.redb");
    let genesis = std::fs::read(dir.path().join("genesis.json")).unwrap();
    // Emptied (truncated to nothing), then deleted.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let out = refused_start(dir.path());
    assert!(out.contains("chain.redb is missing or empty"), "{out}");
    assert!(out.contains("--new-chain"), "{out}");
    std::fs::remove_file(&path).unwrap();
    let out = refused_start(dir.path());
    assert!(out.contains("chain.redb is missing or empty"), "{out}");
    // Refusing changed nothing: the genesis is the one the chain grew from.
    assert_eq!(
        std::fs::read(dir.path().join("genesis.json")).unwrap(),
        genesis
    );

    // Asked for explicitly, the chain starts over from the same genesis.
    let (mut child, chain) = start_new_chain(dir.path());
    assert!(
        chain.head_height < head,
        "started over: {}",
        chain.head_height
    );
    assert_eq!(
        std::fs::read(dir.path().join("genesis.json")).unwrap(),
        genesis
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `joule node --new-chain` on `dir`, once it answers.
fn start_new_chain(dir: &std::path::Path) -> (Child, ChainInfo) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_joule"))
        .args(["node", "--new-chain", "--data-dir"])
        .arg(dir)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let chain = wait_up(&format!("http://127.0.0.1:{port}"));
    (child, chain)
}

#[test]
fn new_chain_keeps_a_chain_that_is_still_there() {
    let (dir, head) = stopped_devnet();
    let (mut child, chain) = start_new_chain(dir.path());
    assert!(
        chain.head_height >= head,
        "kept: {} < {head}",
        chain.head_height
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
