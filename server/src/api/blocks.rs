//! Blocks: the latest list, one block with its commit, and one shard's part of a block.

use axum::extract::State;
use axum::Json;
use joule_light_client::api::{
    BlockList, BlockResponse, BlockSummary, Page, ShardBlockResponse, TxSummary,
};
use joule_light_client::{Hash, ShardId};
use serde::Deserialize;

use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::views::{shard_inclusion, tx_summary};
use super::{AppState, PageQuery};
use crate::node::Node;
use crate::store::{StoredBlock, TxPos};

/// `?before=&limit=`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    before: Option<u64>,
    #[serde(default, deserialize_with = "super::page_limit")]
    limit: Option<u32>,
}

fn summary(b: &StoredBlock) -> BlockSummary {
    let shard_tx_counts: Vec<u32> = b.shards.iter().map(|s| s.tx_count).collect();
    BlockSummary {
        height: b.header.height,
        hash: b.header.hash(),
        timestamp_ms: b.header.timestamp_ms,
        tx_count: shard_tx_counts.iter().map(|&c| u64::from(c)).sum(),
        shard_tx_counts,
    }
}

/// `GET /blocks`: newest first.
pub async fn list(
    State(node): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<BlockList> {
    let head = node.chain().height();
    let limit = u64::from(q.limit.unwrap_or(20));
    let top = q.before.map_or(head, |b| b.saturating_sub(1).min(head));
    let bottom = top.saturating_sub(limit) + 1;
    let mut blocks = Vec::new();
    for h in (bottom..=top).rev() {
        if let Some(b) = node.store.block(h)? {
            blocks.push(summary(&b));
        }
    }
    let next_before = (bottom > 1).then_some(bottom);
    Ok(Json(BlockList {
        blocks,
        next_before,
    }))
}

/// Resolves a height or a block hash.
fn find_block(node: &Node, id: &str) -> Result<StoredBlock, ApiError> {
    // 64 hex digits are a hash even when they are all decimal digits (no height has 64).
    let height = if id.len() != 64 && id.bytes().all(|b| b.is_ascii_digit()) {
        id.parse::<u64>()
            .map_err(|_| ApiError::bad_request("invalid_block_id", "height is too large"))?
    } else {
        let hash = Hash::from_hex(id).map_err(|e| {
            ApiError::bad_request(
                "invalid_block_id",
                format!("block id must be a height or a 64-hex hash: {e}"),
            )
        })?;
        node.store
            .height_of(&hash)?
            .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?
    };
    node.store
        .block(height)?
        .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))
}

/// `GET /blocks/{id}`.
pub async fn get_block(
    State(node): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<BlockResponse> {
    let b = find_block(&node, &id)?;
    let validators = node
        .store
        .validator_set(&b.header.validator_set_hash)?
        .ok_or_else(|| ApiError::not_found("validator set of this block is unknown"))?;
    let metrics = node.store.exec_metrics(b.header.height)?;
    Ok(Json(BlockResponse {
        hash: b.header.hash(),
        header: b.header,
        shards: b.shards,
        commit: b.commit,
        validators,
        metrics,
    }))
}

/// `GET /blocks/{id}/shards/{shard}?page=&limit=`.
pub async fn shard_block(
    State(node): State<AppState>,
    ApiPath((id, shard)): ApiPath<(String, ShardId)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<ShardBlockResponse> {
    let b = find_block(&node, &id)?;
    let at = shard_inclusion(&b, shard)?;
    let height = b.header.height;
    // Each row carries its outcome's proof, so a client can check every row it shows.
    let outcomes = node.store.outcomes_proving(height, shard)?;
    let positions: Vec<TxPos> = (0..outcomes.items.len() as u32)
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(|index| TxPos {
            height,
            shard,
            index,
        })
        .collect();
    let items = node
        .store
        .txs_at(&positions)?
        .into_iter()
        .map(|t| {
            let proof = outcomes.tree.proof(u64::from(t.index));
            TxSummary {
                proof,
                ..tx_summary(t)
            }
        })
        .collect();
    Ok(Json(ShardBlockResponse {
        block_hash: at.block_hash,
        header: b.header,
        shard: at.shard_header,
        shard_proof: at.shard_proof,
        transactions: Page {
            items,
            page: page.page,
            limit: page.limit(),
            total: outcomes.items.len() as u64,
        },
        outgoing_receipts: node
            .store
            .receipts_out_proving(height, shard)?
            .items
            .clone(),
        incoming_receipts: node.store.receipts_in_proving(height, shard)?.items.clone(),
    }))
}
