//! Transactions: submit (one or a batch), look up with status and proofs, and the faucet.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use joule_light_client::api::{
    BatchItem, BatchSubmitRequest, BatchSubmitResponse, FaucetRequest, FaucetResponse,
    SubmitRequest, SubmitResponse, TxList, TxResponse, TxState,
};
use joule_light_client::{Address, Hash, SignedTransaction};

use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use super::views::{receipt_view, tx_inclusion, tx_summary};
use super::{AppState, MAX_BATCH};
use crate::node::Node;
use crate::store::TxPos;

fn decode_hex(hex_tx: &str) -> Result<SignedTransaction, ApiError> {
    let bytes = hex::decode(hex_tx.trim().trim_start_matches("0x"))
        .map_err(|_| ApiError::bad_request("malformed_transaction", "transaction must be hex"))?;
    SignedTransaction::from_bytes(&bytes)
        .map_err(|e| ApiError::from(crate::mempool::RejectReason::from(e)))
}

/// `POST /transactions`: 202 with the id once admitted to the mempool and in its journal on
/// disk (the handler waits for the journal's group commit without holding a thread).
pub async fn submit(
    State(node): State<AppState>,
    ApiJson(req): ApiJson<SubmitRequest>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    let admitted = node.admit_queued(decode_hex(&req.tx)?)?;
    let id = node.durable(admitted).await?;
    Ok((StatusCode::ACCEPTED, Json(SubmitResponse { id })))
}

/// `POST /transactions/batch`: each transaction accepted or refused on its own.
pub async fn submit_batch(
    State(node): State<AppState>,
    ApiJson(req): ApiJson<BatchSubmitRequest>,
) -> ApiResult<BatchSubmitResponse> {
    if req.txs.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "a batch holds at most {MAX_BATCH} transactions, got {}",
                req.txs.len()
            ),
        ));
    }
    // Decode each; the decodable ones are admitted together, signatures checked in batches.
    let decoded: Vec<Result<SignedTransaction, ApiError>> =
        req.txs.iter().map(|t| decode_hex(t)).collect();
    let txs: Vec<SignedTransaction> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok().cloned())
        .collect();
    // Checking a batch's signatures takes milliseconds of CPU, and the journal's sync a
    // moment more: not on the async runtime.
    let mut verdicts = blocking(&node, move |n| n.admit_many(txs))
        .await?
        .into_iter();
    let results = decoded
        .into_iter()
        .map(|d| {
            match d.and_then(|_| {
                verdicts
                    .next()
                    .expect("one verdict per decoded transaction")
                    .map_err(ApiError::from)
            }) {
                Ok(id) => BatchItem {
                    id: Some(id),
                    error: None,
                },
                Err(e) => BatchItem {
                    id: None,
                    error: Some(e.body()),
                },
            }
        })
        .collect();
    Ok(Json(BatchSubmitResponse { results }))
}

/// `GET /transactions/{id}`: pending, included (with proofs) or dropped (with the reason).
pub async fn get_tx(
    State(node): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<TxResponse> {
    let id = Hash::from_hex(&id).map_err(|e| {
        ApiError::bad_request(
            "invalid_hash",
            format!("transaction id must be 64 hex characters: {e}"),
        )
    })?;
    // The mempool first: the producer commits a block to the store before it removes the
    // block's transactions from the mempool, so in this order no transaction is missed.
    if let Some(stx) = node.pending(&id) {
        let sender = stx.tx.sender_address();
        return Ok(Json(TxResponse {
            id,
            tx: stx,
            sender,
            state: TxState::Pending,
            inclusion: None,
            receipt: None,
        }));
    }
    if let Some(t) = node.store.tx(&id)? {
        let inclusion = tx_inclusion(&node.store, &t)?;
        let receipt = receipt_view(&node.store, &t)?;
        return Ok(Json(TxResponse {
            id,
            sender: t.stx.tx.sender_address(),
            tx: t.stx,
            state: TxState::Included,
            inclusion: Some(inclusion),
            receipt,
        }));
    }
    if let Some((stx, reason)) = node.store.dropped(&id)? {
        let sender = stx.tx.sender_address();
        let state = TxState::Dropped { reason };
        return Ok(Json(TxResponse {
            id,
            tx: stx,
            sender,
            state,
            inclusion: None,
            receipt: None,
        }));
    }
    Err(ApiError::not_found(format!("no transaction {id}")))
}

/// `POST /faucet`: devnet tokens for an address.
pub async fn faucet(
    State(node): State<AppState>,
    ApiJson(req): ApiJson<FaucetRequest>,
) -> Result<(StatusCode, Json<FaucetResponse>), ApiError> {
    let to = Address::parse(&req.address)
        .map_err(|e| ApiError::bad_request("invalid_address", e.to_string()))?;
    let (id, amount) = blocking(&node, move |n| n.faucet(to)).await??;
    Ok((StatusCode::ACCEPTED, Json(FaucetResponse { id, amount })))
}

/// Runs `f` on a thread that may block (admission that waits for the journal).
async fn blocking<R: Send + 'static>(
    node: &AppState,
    f: impl FnOnce(&Node) -> R + Send + 'static,
) -> Result<R, ApiError> {
    let node = node.clone();
    tokio::task::spawn_blocking(move || f(&node))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("admission failed: {e}"),
            )
        })
}

/// Blocks looked through for the latest transactions, at most.
const LATEST_SCAN: u64 = 200;

/// `?limit=`.
#[derive(Debug, serde::Deserialize)]
pub struct LatestQuery {
    #[serde(default, deserialize_with = "super::page_limit")]
    limit: Option<u32>,
}

/// `GET /transactions?limit=`: the latest included transactions, newest first (from the
/// latest [`LATEST_SCAN`] blocks; in a block, the last shard's last transaction first).
pub async fn latest(
    State(node): State<AppState>,
    super::error::ApiQuery(q): super::error::ApiQuery<LatestQuery>,
) -> ApiResult<TxList> {
    let limit = q.limit.unwrap_or(10) as usize;
    let head = node.chain().height();
    let shards = node.genesis.shard_count;
    let mut positions = Vec::with_capacity(limit);
    'scan: for height in (head.saturating_sub(LATEST_SCAN - 1).max(1)..=head).rev() {
        let Some(block) = node.store.block(height)? else {
            continue;
        };
        for shard in (0..shards).rev() {
            let count = block
                .shards
                .get(usize::from(shard))
                .map_or(0, |s| s.tx_count);
            for index in (0..count).rev() {
                positions.push(TxPos {
                    height,
                    shard,
                    index,
                });
                if positions.len() == limit {
                    break 'scan;
                }
            }
        }
    }
    let transactions = node
        .store
        .txs_at(&positions)?
        .into_iter()
        .map(tx_summary)
        .collect();
    Ok(Json(TxList { transactions }))
}
