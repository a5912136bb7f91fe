//! Accounts: state with its proof, next nonce, and transaction history.

use axum::extract::State;
use axum::Json;
use joule_light_client::api::{AccountProof, AccountResponse, Page};
use joule_light_client::Address;

use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::views::{shard_inclusion, tx_summary};
use super::{AppState, PageQuery};

/// `GET /accounts/{address}?page=&limit=`.
pub async fn get_account(
    State(node): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<AccountResponse> {
    let address = Address::parse(&address)
        .map_err(|e| ApiError::bad_request("invalid_address", e.to_string()))?;
    let shard = address.shard(node.genesis.shard_count);
    // State, proof and head come from one read of the chain, so they agree.
    let (account, exists, proof) = {
        let chain = node.chain();
        let state = &chain.shards[usize::from(shard)];
        let proof = match &chain.head {
            Some(head) => Some(AccountProof {
                at: shard_inclusion(head, shard)?,
                proof: state.proof(&address),
            }),
            None => None,
        };
        (state.get(&address), state.contains(&address), proof)
    };
    let next_nonce = node.next_nonce(&address);
    let total = node.store.account_tx_count(&address)?;
    let positions =
        node.store
            .account_tx_positions(&address, page.skip(), u64::from(page.limit()))?;
    let items = node
        .store
        .txs_at(&positions)?
        .into_iter()
        .map(tx_summary)
        .collect();
    Ok(Json(AccountResponse {
        address,
        shard,
        account,
        exists,
        proof,
        next_nonce,
        transactions: Page {
            items,
            page: page.page,
            limit: page.limit(),
            total,
        },
    }))
}
