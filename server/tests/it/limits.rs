//! Connection limits over real TCP: slow heads and bodies are cut, idle keep-alive connections
//! closed, connections over the bound answered a JSON 503 at once, over-long targets a JSON 414
//! — and the node goes on serving everyone else through all of it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use joule_server::http::{Limits, MAX_URI_BYTES};
use joule_server::server::RunningNode;
use joule_server::Node;

use super::support::config;

struct Limited {
    rt: tokio::runtime::Runtime,
    running: Option<RunningNode>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Limited {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = self.rt.block_on(r.stop());
        }
    }
}

fn start(limits: Limits) -> Limited {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(&config(dir.path())).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let running = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        RunningNode::start_limited(node, listener, "/nonexistent-dist".into(), limits).unwrap()
    });
    Limited {
        addr: running.addr,
        running: Some(running),
        rt,
        _dir: dir,
    }
}

fn limits(max_connections: usize) -> Limits {
    Limits {
        max_connections,
        header_timeout: Duration::from_millis(600),
        body_timeout: Duration::from_millis(600),
    }
}

/// Sends `raw` and reads until the server closes (or 5 s pass); returns what came back
/// (nothing if the connection was refused or reset).
fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if s.write_all(raw).is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> String {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    )
}

/// Waits (5 s at most) until the node answers 200 again.
fn serving_again(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !get(addr, "/api/v1/chain").starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "service resumed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server closed `s` within `within` (reads return end of stream or an error).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

#[test]
fn a_slowloris_head_is_cut_and_others_are_served_meanwhile() {
    let node = start(limits(64));
    let mut slow = TcpStream::connect(node.addr).unwrap();
    slow.write_all(b"GET /api/v1/chain HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    // Served while the slow head is pending.
    assert!(get(node.addr, "/api/v1/chain").starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    assert!(closed_within(&mut slow, Duration::from_secs(5)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let node = start(limits(64));
    let mut s = TcpStream::connect(node.addr).unwrap();
    s.write_all(b"GET /api/v1/chain HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    // The answer, then nothing more from the client: closed after the header timeout.
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut s, Duration::from_secs(5)));
}

#[test]
fn a_slow_body_is_a_json_408() {
    let node = start(limits(64));
    let mut s = TcpStream::connect(node.addr).unwrap();
    s.write_all(
        b"POST /api/v1/transactions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"tx\":",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains(r#""code":"body_timeout""#), "{out}");
}

#[test]
fn an_over_long_target_is_a_json_414_and_a_huge_head_never_reaches_the_app() {
    let node = start(limits(64));
    let long = format!("/api/v1/blocks/{}", "9".repeat(MAX_URI_BYTES));
    let out = get(node.addr, &long);
    assert!(out.starts_with("HTTP/1.1 414"), "{out}");
    assert!(out.contains(r#""code":"uri_too_long""#), "{out}");
    // Past hyper's head buffer the connection is refused before any handler runs.
    let huge = format!("/{}", "a".repeat(100 * 1024));
    let out = get(node.addr, &huge);
    assert!(
        out.is_empty() || out.starts_with("HTTP/1.1 4"),
        "a huge head is refused: {out}"
    );
    assert!(get(node.addr, "/api/v1/chain").starts_with("HTTP/1.1 200"));
}

#[test]
fn connections_over_the_bound_get_a_json_503_at_once_and_service_resumes() {
    let node = start(Limits {
        header_timeout: Duration::from_secs(30),
        ..limits(8)
    });
    // Eight idle connections take every slot (and would hold them for 30 s).
    let held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(node.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let out = get(node.addr, "/api/v1/chain");
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    assert!(out.to_ascii_lowercase().contains("retry-after: 1"), "{out}");
    assert!(out.contains(r#""code":"too_many_connections""#), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once"
    );
    drop(held);
    serving_again(node.addr);
}

#[test]
fn a_flood_of_connections_past_every_bound_does_not_stall_the_node() {
    let node = start(Limits {
        header_timeout: Duration::from_secs(30),
        ..limits(16)
    });
    // Far more connections than slots and refusal answers: the excess is closed unanswered,
    // and no descriptor is held for it.
    let held: Vec<TcpStream> = (0..400)
        .filter_map(|_| TcpStream::connect(node.addr).ok())
        .collect();
    assert!(held.len() > 100);
    drop(held);
    serving_again(node.addr);
}

/// The real binary with 24 file descriptors: a flood of connections runs it out of them
/// (accept fails with EMFILE). Clients are still answered (a busy 503, through the spare
/// descriptor) instead of hanging in the kernel's queue, and service resumes as soon as the
/// flood closes.
#[test]
fn running_out_of_file_descriptors_does_not_stop_the_accept_loop() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("node.log");
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 24 && exec {} node --data-dir {} --port {port} --block-interval-ms 200 >{} 2>&1",
            env!("CARGO_BIN_EXE_joule"),
            dir.path().join("data").display(),
            log.display()
        ))
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !get(addr, "/api/v1/chain").starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "the node came up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let held: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    assert_eq!(held.len(), 300, "the queue is drained, no connect hangs");
    let during = get(addr, "/api/v1/chain");
    assert!(
        during.starts_with("HTTP/1.1 503") || during.starts_with("HTTP/1.1 200"),
        "answered during the flood: {during}"
    );
    drop(held);
    serving_again(addr);
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("accepting a connection failed"),
        "the flood ran the node out of descriptors: {log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}
