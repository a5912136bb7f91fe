//! Governance: its parameters, proven against the head.

use axum::extract::State;
use axum::Json;
use joule_light_client::api::GovernanceResponse;
use joule_light_client::codec::decode_exact;
use joule_light_client::dao::{gov_params_key, GovParams};

use super::error::{ApiError, ApiResult};
use super::market::proof_at;
use super::AppState;

/// `GET /governance`.
pub async fn governance(State(node): State<AppState>) -> ApiResult<GovernanceResponse> {
    let key = gov_params_key();
    let shard = key.shard(node.genesis.shard_count);
    let chain = node.chain();
    let state = &chain.shards[usize::from(shard)];
    let proof = proof_at(&chain, shard, &key)?;
    // Genesis writes the parameters and nothing deletes them.
    let params: GovParams = state
        .object(&key)
        .map(decode_exact)
        .transpose()
        .map_err(|e| ApiError::internal(format!("governance parameters in state: {e}")))?
        .ok_or_else(|| ApiError::internal("governance parameters missing from state"))?;
    Ok(Json(GovernanceResponse {
        params,
        proof,
        height: chain.height(),
    }))
}
