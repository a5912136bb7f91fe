//! `GET /stream`: Server-Sent Events, one `block` event (a `BlockResponse`) per final block.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;

/// Streams new blocks until the client goes away. A client too slow to keep up skips blocks
/// (it can fetch them by height) rather than stalling the node.
pub async fn blocks(
    State(node): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = node.subscribe();
    let events = stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(block) => {
                    let event = Event::default()
                        .event("block")
                        .id(block.header.height.to_string());
                    let event = event
                        .json_data(&*block)
                        .unwrap_or_else(|_| Event::default().comment("encode error"));
                    return Some((Ok(event), rx));
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
