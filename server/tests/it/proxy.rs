//! A reverse proxy in front of a real node, for browser tests: it records every request the
//! app sends (to check that no secret leaves the browser) and can rewrite chosen API answers,
//! as a malicious or broken node would (the app must notice and say so).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// How the proxy lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Forward faithfully.
    None,
    /// Every account gains one JOULE (the proof no longer matches).
    InflateBalances,
    /// An address with no account is said to hold 999 JOULE (its proof shows it absent).
    FakeAbsentBalance,
    /// Every account's next nonce is 5 higher (a wallet trusting it would sign a
    /// transaction that parks forever).
    SkipNonces,
    /// A transaction's sender is said to be someone else.
    ForgeSender,
    /// A cross-shard receipt carries 1,000 JOULE more.
    InflateReceipts,
    /// A shard block's first transaction row is said to have failed.
    ForgeShardRow,
    /// Every block keeps only its first commit signature (too little voting power).
    StripSignatures,
    /// Like `StripSignatures`, but only for blocks on the stream (`GET /stream`).
    StripStreamedSignatures,
    /// A cleared interval's record says its price was 1,000 units per Wh higher.
    AlterClearingPrice,
    /// A proposal's first shard tally counts one more unit of power for it.
    AlterTally,
    /// A proposal's vote list leaves its first vote out (and counts one fewer).
    DropVote,
    /// Every certificate lot an account is shown holds one Wh more (its proof's leaf too).
    InflateCertificates,
}

/// What a lie adds to an account: one JOULE, in the smallest unit.
const JOULE: u64 = 1_000_000_000;

impl Forgery {
    fn apply(self, path: &str, json: &mut Value) {
        let is = |prefix: &str| path.starts_with(prefix);
        match self {
            Forgery::InflateBalances if is("/api/v1/accounts/") => {
                let b = json["account"]["balance"].as_u64().unwrap_or(0);
                json["account"]["balance"] = Value::from(b + JOULE);
            }
            Forgery::FakeAbsentBalance
                if is("/api/v1/accounts/") && json["exists"] == Value::Bool(false) =>
            {
                json["account"]["balance"] = Value::from(999 * JOULE);
            }
            Forgery::SkipNonces if is("/api/v1/accounts/") => {
                let n = json["next_nonce"].as_u64().unwrap_or(0);
                json["next_nonce"] = Value::from(n + 5);
            }
            Forgery::ForgeSender if is("/api/v1/transactions/") => {
                json["sender"] = Value::from(joule_light_client::Address([7; 20]).to_string());
            }
            Forgery::InflateReceipts if is("/api/v1/transactions/") => {
                if let Some(amount) = json["receipt"]["receipt"]["amount"].as_u64() {
                    json["receipt"]["receipt"]["amount"] = Value::from(amount + 1_000 * JOULE);
                }
            }
            Forgery::ForgeShardRow if is("/api/v1/blocks/") && path.contains("/shards/") => {
                if let Some(row) = json["transactions"]["items"].get_mut(0) {
                    row["outcome"]["status"] = Value::from("insufficient_balance");
                }
            }
            Forgery::StripSignatures if is("/api/v1/blocks") || is("/api/v1/stream") => {
                strip_signatures(json)
            }
            Forgery::StripStreamedSignatures if is("/api/v1/stream") => strip_signatures(json),
            Forgery::AlterClearingPrice
                if is("/api/v1/market/intervals/") && path.matches('/').count() == 5 =>
            {
                if let Some(p) = json["record"]["clearing"]["price"].as_u64() {
                    json["record"]["clearing"]["price"] = Value::from(p + 1_000);
                }
            }
            Forgery::AlterTally if is("/api/v1/governance/proposals/") => {
                if let Some(f) = json["tallies"][0]["totals"]["for_power"].as_u64() {
                    json["tallies"][0]["totals"]["for_power"] = Value::from(f + 1);
                }
            }
            Forgery::DropVote if is("/api/v1/governance/proposals/") && path.contains("/votes") => {
                if let Some(items) = json["items"].as_array_mut().filter(|i| !i.is_empty()) {
                    items.remove(0);
                    let total = json["total"].as_u64().unwrap_or(1);
                    json["total"] = Value::from(total - 1);
                }
            }
            Forgery::InflateCertificates
                if is("/api/v1/accounts/") && path.contains("kind=cert_lot") =>
            {
                for object in json["objects"].as_array_mut().into_iter().flatten() {
                    // The lot's `wh` starts after holder, origin (20 bytes each), day (4) and
                    // kind (1): its low byte, little-endian.
                    let inflate = |hex_value: &Value| {
                        let mut bytes = hex::decode(hex_value.as_str()?).ok()?;
                        *bytes.get_mut(45)? = bytes[45].wrapping_add(1);
                        Some(Value::from(hex::encode(bytes)))
                    };
                    if let Some(v) = inflate(&object["value"]) {
                        object["value"] = v;
                    }
                    if let Some(v) = inflate(&object["proof"]["leaf"][1]) {
                        object["proof"]["leaf"][1] = v;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Keeps only the first commit signature of a block, or of each block in a list.
fn strip_signatures(json: &mut Value) {
    let strip = |block: &mut Value| {
        if let Some(sigs) = block["commit"]["signatures"].as_array_mut() {
            sigs.truncate(1);
        }
    };
    match json.get_mut("items").and_then(Value::as_array_mut) {
        Some(items) => items.iter_mut().for_each(strip),
        None => strip(json),
    }
}

/// What the proxy forwards to and how it lies; tests change both while it runs (a browser
/// keeps its storage per origin, so the same proxy is the same site to it).
struct Config {
    upstream: String,
    forgery: Forgery,
}

/// A running proxy.
pub struct Proxy {
    /// Its base URL.
    pub base: String,
    /// Every request seen: request line, then the body.
    pub log: Arc<Mutex<Vec<String>>>,
    config: Arc<Mutex<Config>>,
}

impl Proxy {
    /// Lies this way from the next request on.
    pub fn set_forgery(&self, forgery: Forgery) {
        self.config.lock().unwrap().forgery = forgery;
    }

    /// Forwards to another node from the next request on.
    pub fn set_upstream(&self, upstream: String) {
        self.config.lock().unwrap().upstream = upstream;
    }
}

/// Starts the proxy in front of `upstream`. It runs until the process ends (each test binary
/// is short-lived).
pub fn start(upstream: String, forgery: Forgery) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let config = Arc::new(Mutex::new(Config { upstream, forgery }));
    let (shared_log, shared_config) = (log.clone(), config.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (log, config) = (shared_log.clone(), shared_config.clone());
            std::thread::spawn(move || {
                let (upstream, forgery) = {
                    let c = config.lock().unwrap();
                    (c.upstream.clone(), c.forgery)
                };
                let _ = serve(conn, &upstream, forgery, &log);
            });
        }
    });
    Proxy { base, log, config }
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    forgery: Forgery,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    let mut content_type_in = String::from("application/json");
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type_in = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body_in = vec![0u8; length];
    reader.read_exact(&mut body_in)?;
    log.lock().unwrap().push(format!(
        "{}\n{}",
        request_line.trim(),
        String::from_utf8_lossy(&body_in)
    ));
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_owned();
    let path = parts.next().unwrap_or("/").to_owned();
    if path.starts_with("/api/v1/stream") {
        return stream(conn, upstream, &path, forgery);
    }
    let req = ureq::request(&method, &format!("{upstream}{path}"));
    let sent = if method == "GET" {
        req.call()
    } else {
        req.set("Content-Type", &content_type_in)
            .send_bytes(&body_in)
    };
    let (status, content_type, mut body) = match sent {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let status = r.status();
            let ct = r.content_type().to_owned();
            let mut body = Vec::new();
            r.into_reader().read_to_end(&mut body)?;
            (status, ct, body)
        }
        Err(e) => (502, "text/plain".to_owned(), e.to_string().into_bytes()),
    };
    if content_type.starts_with("application/json") {
        if let Ok(mut json) = serde_json::from_slice::<Value>(&body) {
            forgery.apply(&path, &mut json);
            body = serde_json::to_vec(&json).unwrap();
        }
    }
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(&body)?;
    conn.flush()
}

/// Relays the block stream event by event, forging each block as `GET /blocks/{id}` would be.
fn stream(
    mut conn: TcpStream,
    upstream: &str,
    path: &str,
    forgery: Forgery,
) -> std::io::Result<()> {
    let resp = ureq::get(&format!("{upstream}{path}"))
        .call()
        .map_err(std::io::Error::other)?;
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )?;
    for line in BufReader::new(resp.into_reader()).lines() {
        let line = line?;
        match line.strip_prefix("data:") {
            Some(data) => {
                let mut json: Value =
                    serde_json::from_str(data.trim_start()).unwrap_or(Value::Null);
                forgery.apply(path, &mut json);
                writeln!(conn, "data: {json}")?;
            }
            None => writeln!(conn, "{line}")?,
        }
        if line.is_empty() {
            conn.flush()?;
        }
    }
    Ok(())
}
