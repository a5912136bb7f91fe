//! Building API views from the store: inclusion proofs that tie items to blocks.

use joule_light_client::api::{
    ReceiptApplied, ReceiptView, ShardInclusion, TxInclusion, TxSummary,
};
use joule_light_client::block::shards_tree;
use joule_light_client::ShardId;

use super::error::ApiError;
use crate::store::{Store, StoredBlock, StoredTx};

/// Where shard `shard` of `block` sits, with its proof.
pub fn shard_inclusion(block: &StoredBlock, shard: ShardId) -> Result<ShardInclusion, ApiError> {
    let shard_header = block
        .shards
        .get(usize::from(shard))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "block {} has no shard {shard}",
                block.header.height
            ))
        })?;
    let shard_proof = shards_tree(&block.shards)
        .proof(u64::from(shard))
        .expect("shard index in range");
    Ok(ShardInclusion {
        height: block.header.height,
        block_hash: block.header.hash(),
        shard_header,
        shard_proof,
    })
}

fn load_block(store: &Store, height: u64) -> Result<StoredBlock, ApiError> {
    store
        .block(height)?
        .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))
}

/// A stored transaction's inclusion proof.
pub fn tx_inclusion(store: &Store, t: &StoredTx) -> Result<TxInclusion, ApiError> {
    let block = load_block(store, t.height)?;
    let proof = store
        .outcomes_proving(t.height, t.shard)?
        .tree
        .proof(u64::from(t.index))
        .ok_or_else(|| ApiError::not_found("transaction missing from its shard block"))?;
    Ok(TxInclusion {
        at: shard_inclusion(&block, t.shard)?,
        index: t.index,
        outcome: t.outcome,
        proof,
        timestamp_ms: t.timestamp_ms,
    })
}

/// The cross-shard receipt a transaction emitted, with proofs, if it emitted one.
pub fn receipt_view(store: &Store, t: &StoredTx) -> Result<Option<ReceiptView>, ApiError> {
    let out = store.receipts_out_proving(t.height, t.shard)?;
    let Some(index) = out.items.iter().position(|r| r.tx_id == t.outcome.tx_id) else {
        return Ok(None);
    };
    let outgoing_proof = out.tree.proof(index as u64).expect("index in range");
    let receipt = out.items[index].clone();
    let applied = match store.receipt_applied(&receipt.id())? {
        None => None,
        Some(at) => {
            let block = load_block(store, at.height)?;
            let incoming_proof = store
                .receipts_in_proving(at.height, at.shard)?
                .tree
                .proof(u64::from(at.index))
                .ok_or_else(|| ApiError::not_found("receipt missing from its shard block"))?;
            Some(ReceiptApplied {
                at: shard_inclusion(&block, at.shard)?,
                incoming_proof,
            })
        }
    };
    Ok(Some(ReceiptView {
        receipt,
        outgoing_proof,
        applied,
    }))
}

/// A stored transaction as a list item.
pub fn tx_summary(t: StoredTx) -> TxSummary {
    TxSummary {
        id: t.outcome.tx_id,
        sender: t.stx.tx.sender_address(),
        tx: t.stx,
        outcome: t.outcome,
        height: t.height,
        shard: t.shard,
        index: t.index,
        timestamp_ms: t.timestamp_ms,
        proof: None,
    }
}
