//! Serving HTTP/1.1 with limits, so that slow or many clients cannot take the node's API away
//! from everyone else:
//!
//! - a request's head (line and headers) must arrive within [`Limits::header_timeout`], and a
//!   keep-alive connection with no next request is closed after the same time;
//! - a request's body must arrive within [`Limits::body_timeout`] (else `408`);
//! - at most [`Limits::max_connections`] connections are served at once: one more is answered
//!   a JSON `503` with `Retry-After` and closed (those answers are bounded too; past them the
//!   answer is written only if the socket takes it at once, and the connection closed);
//! - the accept loop rides out errors — running out of file descriptors included — with a short
//!   pause, not axum's one-second sleep, logging at most once a second.
//!
//! The connection bound defaults to half the file descriptors the process may open, after
//! raising its soft limit to the hard one (a node's own files need the rest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::api::error::ApiError;
use crate::api::MAX_BODY_BYTES;

/// The longest request target (path and query) answered; longer is a JSON `414`.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most bytes of a request head hyper buffers; a longer head is refused by hyper itself
/// (a bare `431`, before any of the node's code runs).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// `errno` for "too many open files" (process, system), as on Linux.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;
/// File descriptors kept for the node's own files (databases, journal, logs).
const RESERVED_FDS: u64 = 256;

/// The limits (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// To receive a request head; also how long an idle keep-alive connection is kept.
    pub header_timeout: Duration,
    /// To receive a request body.
    pub body_timeout: Duration,
}

impl Limits {
    /// The defaults for this process: 10 s for a head, 30 s for a body, and connections up to
    /// half the file descriptors it may open (the soft limit raised to the hard one first),
    /// at most 10,000.
    pub fn for_process() -> Self {
        let fds = raise_fd_limit();
        Self {
            max_connections: (fds.saturating_sub(RESERVED_FDS) / 2).clamp(16, 10_000) as usize,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Raises the soft limit on open files to the hard limit; returns the limit in force.
fn raise_fd_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

/// The whole-app middleware: a JSON `414` for an over-long target, and the body read within
/// `body_timeout` (a JSON `408` otherwise) before any handler sees it.
pub async fn request_limits(
    axum::extract::State(body_timeout): axum::extract::State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {target} bytes; at most {MAX_URI_BYTES} are accepted"),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(body_timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            let too_long = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_long {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("a request body is at most {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::bad_request("invalid_body", format!("reading the body failed: {e}"))
            }
            .into_response();
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    body_timeout.as_secs_f64()
                ),
            )
            .into_response()
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Wraps `app` in [`request_limits`].
pub fn with_limits(app: Router, limits: &Limits) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        limits.body_timeout,
        request_limits,
    ))
}

/// The answer to a connection over the bound, written raw: no request is parsed for it.
fn busy_response() -> Vec<u8> {
    let body = serde_json::json!({
        "code": "too_many_connections",
        "message": "the node is serving as many connections as it allows; try again shortly",
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers `busy` on `stream` and closes it, reading what the client sent meanwhile (closing
/// with unread data would reset the connection before the client reads the answer).
async fn turn_away(mut stream: TcpStream) {
    let answer = async {
        stream.write_all(&busy_response()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

/// Serves `app` on `listener` under `limits` until `stop` turns true, then lets open
/// connections finish (the caller bounds how long it waits).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Connections being turned away hold a descriptor for up to a second: bounded too.
    let refusals = Arc::new(Semaphore::new((limits.max_connections / 8).max(4)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let builder = Arc::new(builder);
    let mut last_error_log: Option<Instant> = None;
    // One descriptor held back for answering while the process has none left.
    let mut spare = std::fs::File::open("/dev/null").ok();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                if last_error_log.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    last_error_log = Some(Instant::now());
                }
                // Out of descriptors, the waiting connections would fill the kernel's queue
                // and new clients hang: the spare descriptor is given up to take one and
                // answer it busy, then taken back.
                if matches!(e.raw_os_error(), Some(EMFILE | ENFILE)) {
                    drop(spare.take());
                    if let Ok(Ok((stream, _))) =
                        tokio::time::timeout(Duration::from_millis(1), listener.accept()).await
                    {
                        let _ = stream.try_write(&busy_response());
                    }
                    spare = std::fs::File::open("/dev/null").ok();
                }
                // A pause lets a closing connection free a descriptor.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            match refusals.clone().try_acquire_owned() {
                Ok(refusal) => {
                    tokio::spawn(async move {
                        turn_away(stream).await;
                        drop(refusal);
                    });
                }
                // Past every bound: the answer if the socket takes it now, then close.
                Err(_) => {
                    let _ = stream.try_write(&busy_response());
                }
            }
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are a client's (reset, timed out, malformed): nothing to do.
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_a_complete_json_response() {
        let raw = String::from_utf8(busy_response()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "too_many_connections");
    }

    #[test]
    fn the_process_limits_leave_room_for_the_nodes_own_files() {
        let l = Limits::for_process();
        assert!(l.max_connections >= 16);
        assert!((l.max_connections as u64) < raise_fd_limit());
    }
}
