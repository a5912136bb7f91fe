//! The HTTP API under `/api/v1` (JSON), the live block stream, and the web app at `/`.
//!
//! Routes are listed in [`v1`] and documented in `openapi.json`, served at
//! `/api/v1/openapi.json`; a test keeps the two in step.

mod accounts;
mod analytics;
mod blocks;
mod chain;
mod dao;
pub mod error;
mod market;
mod stream;
mod transactions;
mod views;

use std::path::Path;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::node::Node;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most transactions in one batch submission.
pub const MAX_BATCH: usize = 256;
/// Largest page size.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// The OpenAPI document of the routes below.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Shared state of the handlers.
pub type AppState = Arc<Node>;

/// A `limit` query parameter: 1 to [`MAX_PAGE_LIMIT`], as the OpenAPI document says; anything
/// else is a `400 invalid_query` (not silently clamped: a client asking for 500 learns it gets
/// at most 100).
pub fn page_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let limit = Option::<u32>::deserialize(d)?;
    match limit {
        Some(l) if !(1..=MAX_PAGE_LIMIT).contains(&l) => Err(serde::de::Error::custom(format!(
            "limit must be 1 to {MAX_PAGE_LIMIT}, got {l}"
        ))),
        l => Ok(l),
    }
}

/// `?page=&limit=`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PageQuery {
    /// Zero-based page.
    #[serde(default)]
    pub page: u32,
    /// Page size (default 25; 1 to [`MAX_PAGE_LIMIT`], else the query is refused).
    #[serde(default, deserialize_with = "page_limit")]
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page size (checked at deserialization: 1..=MAX_PAGE_LIMIT).
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(25)
    }

    /// Items to skip.
    pub fn skip(&self) -> u64 {
        u64::from(self.page) * u64::from(self.limit())
    }
}

/// The `/api/v1` routes.
pub fn v1() -> Router<AppState> {
    Router::new()
        .route("/chain", get(chain::chain_info))
        .route("/stats", get(chain::stats))
        .route("/search", get(chain::search))
        .route("/openapi.json", get(chain::openapi))
        .route("/blocks", get(blocks::list))
        .route("/blocks/{id}", get(blocks::get_block))
        .route("/blocks/{id}/shards/{shard}", get(blocks::shard_block))
        .route(
            "/transactions",
            post(transactions::submit).get(transactions::latest),
        )
        .route("/transactions/batch", post(transactions::submit_batch))
        .route("/transactions/{id}", get(transactions::get_tx))
        .route("/accounts/{address}", get(accounts::get_account))
        .route("/accounts/{address}/objects", get(market::owned))
        .route("/accounts/{address}/trades", get(market::account_trades))
        .route("/faucet", post(transactions::faucet))
        .route("/market", get(market::market))
        .route("/governance", get(dao::governance))
        .route("/governance/proposals", get(dao::list))
        .route("/governance/proposals/{id}", get(dao::proposal))
        .route("/governance/proposals/{id}/votes", get(dao::votes))
        .route("/accounts/{address}/power", get(dao::power))
        .route("/market/intervals", get(market::intervals))
        .route("/market/intervals/{interval}", get(market::interval))
        .route("/market/intervals/{interval}/book", get(market::book))
        .route(
            "/market/intervals/{interval}/trades",
            get(market::interval_trades),
        )
        .route("/market/orders/{id}", get(market::order))
        .route("/market/forecast", get(analytics::forecast))
        .route("/market/anomalies", get(analytics::anomalies))
        .route("/state/{key}", get(market::object))
        .route("/stream", get(stream::blocks))
}

/// The API alone, with its JSON 404 and body limit.
pub fn api_router(node: AppState) -> Router {
    Router::new()
        // A known route with another method is a JSON 405, never an empty body.
        .nest(
            "/api/v1",
            v1().method_not_allowed_fallback(error::method_not_allowed),
        )
        // Every other path under /api, whatever the method, is a JSON 404, never the app.
        .route("/api", axum::routing::any(error::not_found))
        .route("/api/", axum::routing::any(error::not_found))
        .route("/api/{*rest}", axum::routing::any(error::not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(node)
}

/// The whole HTTP surface: the API, and the built app from `dist` with SPA fallback.
pub fn router(node: AppState, dist: &Path) -> Router {
    let index = dist.join("index.html");
    let app = ServeDir::new(dist).fallback(ServeFile::new(index));
    api_router(node)
        .fallback_service(app)
        .layer(TraceLayer::new_for_http())
}
