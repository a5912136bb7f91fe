//! A forging reverse proxy: forwards the browser's GETs to a real node and rewrites chosen API
//! answers, as a malicious or broken node would. The app must notice and say so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::Value;

/// How the proxy lies.
#[derive(Debug, Clone, Copy)]
pub enum Forgery {
    /// Every account gains one JOULE (the proof no longer matches).
    InflateBalances,
    /// Every block keeps only its first commit signature (too little voting power).
    StripSignatures,
}

impl Forgery {
    fn apply(self, path: &str, json: &mut Value) {
        match self {
            Forgery::InflateBalances if path.starts_with("/api/v1/accounts/") => {
                let b = json["account"]["balance"].as_u64().unwrap_or(0);
                json["account"]["balance"] = Value::from(b + 1_000_000_000);
            }
            Forgery::StripSignatures if path.starts_with("/api/v1/blocks") => {
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
            _ => {}
        }
    }
}

/// Starts the proxy in front of `upstream`; returns its base URL. It runs until the process
/// ends (each test binary is short-lived).
pub fn start(upstream: String, forgery: Forgery) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = serve(conn, &upstream, forgery);
            });
        }
    });
    base
}

fn serve(mut conn: TcpStream, upstream: &str, forgery: Forgery) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers: the proxy only forwards GETs, which have no body.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (status, content_type, mut body) = match ureq::get(&format!("{upstream}{path}")).call() {
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
