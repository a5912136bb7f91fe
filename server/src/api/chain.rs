//! Chain-wide views: chain info, stats, search, and the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use joule_light_client::api::{ChainInfo, SearchResult, Stats, TokenInfo};
use joule_light_client::units::{TOKEN_DECIMALS, TOKEN_SYMBOL};
use joule_light_client::{Address, Hash};
use serde::Deserialize;

use super::error::{ApiError, ApiQuery, ApiResult};
use super::{AppState, OPENAPI_JSON};

/// `GET /chain`.
pub async fn chain_info(State(node): State<AppState>) -> ApiResult<ChainInfo> {
    let g = &node.genesis;
    let chain = node.chain();
    let height = chain.height();
    Ok(Json(ChainInfo {
        genesis: g.header(),
        genesis_hash: node.genesis_hash,
        genesis_validators: g.validators.clone(),
        validators: node.finalizer().validators(height + 1),
        head_height: height,
        head_hash: chain
            .head
            .as_ref()
            .map_or(node.genesis_hash, |b| b.header.hash()),
        token: TokenInfo {
            symbol: TOKEN_SYMBOL.into(),
            decimals: TOKEN_DECIMALS,
        },
    }))
}

/// `GET /stats`: throughput over the recent window.
pub async fn stats(State(node): State<AppState>) -> ApiResult<Stats> {
    let chain = node.chain();
    let recent: Vec<_> = chain.recent.iter().cloned().collect();
    let tps = match (recent.first(), recent.last()) {
        (Some(first), Some(last)) if last.timestamp_ms > first.timestamp_ms => {
            // Transactions after the first block, over the time since it.
            let txs: u64 = recent.iter().skip(1).map(|p| p.tx_count).sum();
            txs as f64 * 1000.0 / (last.timestamp_ms - first.timestamp_ms) as f64
        }
        _ => 0.0,
    };
    let burned =
        u64::try_from(*node.burned.lock().unwrap_or_else(|p| p.into_inner())).unwrap_or(u64::MAX);
    Ok(Json(Stats {
        head_height: chain.height(),
        total_transactions: chain.total_txs,
        tps,
        window_blocks: recent.len() as u64,
        recent,
        mempool_size: node.mempool_len() as u64,
        accounts: chain.shards.iter().map(|s| s.len() as u64).sum(),
        supply: node.genesis.total_supply().saturating_sub(burned),
        burned,
    }))
}

/// `?q=`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: String,
}

/// `GET /search?q=`: a height, a block or transaction hash, or an address.
pub async fn search(
    State(node): State<AppState>,
    ApiQuery(SearchQuery { q }): ApiQuery<SearchQuery>,
) -> ApiResult<SearchResult> {
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "type a block height, a hash or a joule1… address",
        ));
    }
    if q.bytes().all(|b| b.is_ascii_digit()) {
        let height: u64 = q
            .parse()
            .map_err(|_| ApiError::bad_request("invalid_query", "height is too large"))?;
        let head = node.chain().height();
        if height == 0 || height > head {
            return Err(ApiError::not_found(format!(
                "no block at height {height} (head is {head})"
            )));
        }
        let block = node
            .store
            .block(height)?
            .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
        return Ok(Json(SearchResult::Block {
            height,
            hash: block.header.hash(),
        }));
    }
    let hexlike = q.strip_prefix("0x").unwrap_or(q);
    if hexlike.len() == 64 && hexlike.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hash = Hash::from_hex(hexlike)
            .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
        if let Some(height) = node.store.height_of(&hash)? {
            return Ok(Json(SearchResult::Block { height, hash }));
        }
        // Mempool before store: see `get_tx`.
        if node.pending(&hash).is_some()
            || node.store.tx(&hash)?.is_some()
            || node.store.dropped(&hash)?.is_some()
        {
            return Ok(Json(SearchResult::Transaction { id: hash }));
        }
        return Err(ApiError::not_found(format!(
            "no block or transaction with hash {hash}"
        )));
    }
    // Only what looks like an address is read as one: bech32 reads anything with a "1" in
    // it as prefix and data, so a hex string would otherwise be told its checksum is wrong.
    if q.to_ascii_lowercase().starts_with("joule1") {
        return match Address::parse(q) {
            Ok(address) => Ok(Json(SearchResult::Account { address })),
            Err(e) => Err(ApiError::bad_request("invalid_address", e.to_string())),
        };
    }
    if !hexlike.is_empty() && hexlike.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "a block or transaction hash has 64 hex digits; this has {}",
                hexlike.len()
            ),
        ));
    }
    Err(ApiError::bad_request(
        "invalid_query",
        format!("{q:?} is not a block height, a 64-digit hex hash or a joule1… address"),
    ))
}

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
