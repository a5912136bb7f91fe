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
        simulation: node.simulation.get().copied(),
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

/// The fewest hex digits searched as the start of a hash: 24 bits, about one chance in 16
/// million that a given transaction shares it.
const MIN_PREFIX: usize = 6;

/// The most matches a prefix search lists.
const MAX_MATCHES: usize = 10;

/// Blocks and transactions — included, or pending in the mempool — whose hash starts with
/// `hex` (6 to 63 lowercase hex digits): one goes straight to its page, several are listed,
/// none is a 404.
fn by_prefix(node: &AppState, hex: &str) -> ApiResult<SearchResult> {
    // Whole bytes are looked up in the store; an odd last digit is checked on the results.
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex"))
        .collect();
    // An odd digit filters: fetch enough that the filter still leaves a full list.
    let fetch = if hex.len() % 2 == 1 {
        16 * MAX_MATCHES
    } else {
        MAX_MATCHES
    };
    let starts = |h: &Hash| h.to_hex().starts_with(hex);
    let mut blocks: Vec<(Hash, u64)> = node.store.blocks_with_prefix(&bytes, fetch)?;
    blocks.retain(|(hash, _)| starts(hash));
    blocks.truncate(MAX_MATCHES);
    // The mempool first (see `get_tx`): a transaction leaves it only once its block is stored.
    let mut ids: Vec<Hash> = node.pending_with_prefix(&bytes, fetch);
    ids.extend(node.store.tx_ids_with_prefix(&bytes, fetch)?);
    ids.retain(|id| starts(id));
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(MAX_MATCHES - blocks.len());
    match (blocks.as_slice(), ids.as_slice()) {
        ([], []) => Err(ApiError::not_found(format!(
            "no block or transaction has a hash starting with {hex}"
        ))),
        ([(hash, height)], []) => Ok(Json(SearchResult::Block {
            height: *height,
            hash: *hash,
        })),
        ([], [id]) => Ok(Json(SearchResult::Transaction { id: *id })),
        _ => Ok(Json(SearchResult::Several {
            blocks: blocks.into_iter().map(|(_, height)| height).collect(),
            transactions: ids,
        })),
    }
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
    let hexlike = q.strip_prefix("0x").unwrap_or(q);
    let is_hex = !hexlike.is_empty() && hexlike.bytes().all(|b| b.is_ascii_hexdigit());
    if q.bytes().all(|b| b.is_ascii_digit()) {
        let head = node.chain().height();
        match q.parse::<u64>() {
            Ok(height) if (1..=head).contains(&height) => {
                let block = node
                    .store
                    .block(height)?
                    .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
                return Ok(Json(SearchResult::Block {
                    height,
                    hash: block.header.hash(),
                }));
            }
            // Digits can also begin a hash.
            _ if q.len() >= MIN_PREFIX => {}
            Ok(height) => {
                return Err(ApiError::not_found(format!(
                    "no block at height {height} (head is {head})"
                )))
            }
            Err(_) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "height is too large",
                ))
            }
        }
    }
    if is_hex && hexlike.len() == 64 {
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
    if is_hex && (MIN_PREFIX..64).contains(&hexlike.len()) {
        return by_prefix(&node, &hexlike.to_ascii_lowercase());
    }
    // Only what looks like an address is read as one: bech32 reads anything with a "1" in
    // it as prefix and data, so a hex string would otherwise be told its checksum is wrong.
    if q.to_ascii_lowercase().starts_with("joule1") {
        return match Address::parse(q) {
            Ok(address) => Ok(Json(SearchResult::Account { address })),
            Err(e) => Err(ApiError::bad_request("invalid_address", e.to_string())),
        };
    }
    if is_hex {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "a block or transaction hash has 64 hex digits (or type at least its first \
                 {MIN_PREFIX}); this has {}",
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
