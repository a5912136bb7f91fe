//! Governance: its parameters and their history, proposals (by state, one with its live or
//! final tally), a proposal's votes, and a member's power and delegators — every object with
//! its proof against the head.

use axum::extract::State;
use axum::Json;
use joule_light_client::api::{
    DelegatorItem, GovernanceResponse, Page, ParamChange, PowerResponse, ProposalItem,
    ProposalResponse, ProposalTimes, ProposalsPage, VoteItem, VotesPage, MAX_GOV_PAGE,
};
use joule_light_client::codec::decode_exact;
use joule_light_client::dao::{
    gov_params_key, power_key, tally_key, vote_key, Action, GovParams, Power, Proposal,
    ProposalState, Tally, Totals, Vote,
};
use joule_light_client::{Address, Hash};

use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::market::proof_at;
use super::AppState;
use crate::chain::governance::shard_totals;
use crate::node::ChainState;

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
    let mut history: Vec<ParamChange> = proposals(&chain)
        .filter(|p| p.state == ProposalState::Executed)
        .filter_map(|p| match p.action {
            Action::SetParam { param, value } => Some(ParamChange {
                proposal: p.id,
                param,
                previous: p.previous,
                value,
                height: p.executed_at,
            }),
            _ => None,
        })
        .collect();
    history.sort_by_key(|c| std::cmp::Reverse((c.height, c.proposal)));
    let total_locked = chain.shards.iter().map(|s| s.total_locked()).sum::<u128>();
    Ok(Json(GovernanceResponse {
        params,
        proof,
        height: chain.height(),
        total_locked: u64::try_from(total_locked).unwrap_or(u64::MAX),
        history,
    }))
}

/// Every proposal on every shard.
fn proposals(chain: &ChainState) -> impl Iterator<Item = &Proposal> {
    chain
        .shards
        .iter()
        .flat_map(|s| s.indexes().proposals().map(|(_, p)| p))
}

/// `?state=&page=&limit=`.
#[derive(Debug, serde::Deserialize)]
pub struct ProposalsQuery {
    state: Option<String>,
    #[serde(default)]
    page: u32,
    #[serde(default, deserialize_with = "super::page_limit")]
    limit: Option<u32>,
}

fn limit(l: Option<u32>) -> u32 {
    const _: () = assert!(MAX_GOV_PAGE == super::MAX_PAGE_LIMIT);
    l.unwrap_or(25)
}

/// A proposal with its proof and estimated times, at the head.
fn item(node: &AppState, chain: &ChainState, p: &Proposal) -> ProposalItem {
    let n = node.genesis.shard_count;
    let key = joule_light_client::dao::proposal_key(&p.proposer, &p.id);
    let state = &chain.shards[usize::from(key.shard(n))];
    let head = chain.height();
    let now = chain
        .head
        .as_ref()
        .map_or(node.genesis.genesis_time_ms, |b| b.header.timestamp_ms);
    let ms = node.genesis.block_interval_ms;
    let at = |h: u64| {
        if h >= head {
            now.saturating_add((h - head).saturating_mul(ms))
        } else {
            now.saturating_sub((head - h).saturating_mul(ms))
        }
    };
    ProposalItem {
        proposal: p.clone(),
        proof: state.object_proof(&key),
        height: head,
        times: ProposalTimes {
            start_ms: at(p.start),
            end_ms: at(p.end),
            eta_ms: at(p.eta),
        },
    }
}

/// `GET /governance/proposals?state=&page=&limit=`: newest first.
pub async fn list(
    State(node): State<AppState>,
    ApiQuery(q): ApiQuery<ProposalsQuery>,
) -> ApiResult<ProposalsPage> {
    let wanted = match q.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some(name) => Some(
            ProposalState::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_state",
                        format!(
                            "state is one of all, {}",
                            ProposalState::ALL.map(|s| s.name()).join(", ")
                        ),
                    )
                })?,
        ),
    };
    let chain = node.chain();
    let mut all: Vec<&Proposal> = proposals(&chain)
        .filter(|p| wanted.is_none_or(|w| p.state == w))
        .collect();
    all.sort_by_key(|p| std::cmp::Reverse((p.created, p.id)));
    let limit = limit(q.limit);
    let skip = usize::try_from(u64::from(q.page) * u64::from(limit)).unwrap_or(usize::MAX);
    let items = all
        .iter()
        .skip(skip)
        .take(limit as usize)
        .map(|p| item(&node, &chain, p))
        .collect();
    Ok(Json(Page {
        items,
        page: q.page,
        limit,
        total: all.len() as u64,
    }))
}

fn parse_id(id: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(id).map_err(|e| {
        ApiError::bad_request(
            "invalid_hash",
            format!("a proposal is named by its transaction's id, 64 hex digits: {e}"),
        )
    })
}

/// The proposal `id`, or a 404 that says whether it is still pending.
fn find<'a>(node: &AppState, chain: &'a ChainState, id: &Hash) -> Result<&'a Proposal, ApiError> {
    if let Some(p) = proposals(chain).find(|p| p.id == *id) {
        return Ok(p);
    }
    Err(ApiError::not_found(if node.pending(id).is_some() {
        "the proposal's transaction is pending: it is in state once its block is made"
    } else {
        "no proposal with that id"
    }))
}

/// `GET /governance/proposals/{id}`.
pub async fn proposal(
    State(node): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ProposalResponse> {
    let id = parse_id(&id)?;
    let chain = node.chain();
    let p = find(&node, &chain, &id)?;
    let provisional = (p.state == ProposalState::Active).then(|| {
        shard_totals(&chain.shards, &id)
            .iter()
            .fold(Totals::default(), |a, t| a.add(t))
    });
    let tallied = matches!(
        p.state,
        ProposalState::Defeated
            | ProposalState::Queued
            | ProposalState::Executed
            | ProposalState::Expired
    );
    let (mut tallies, mut tally_proofs) = (Vec::new(), Vec::new());
    if tallied {
        for (s, state) in chain.shards.iter().enumerate() {
            let key = tally_key(s as u16, &id);
            let tally: Option<Tally> = state
                .object(&key)
                .map(decode_exact)
                .transpose()
                .map_err(|e| ApiError::internal(format!("tally in state: {e}")))?;
            tallies.extend(tally);
            tally_proofs.push(state.object_proof(&key));
        }
    }
    Ok(Json(ProposalResponse {
        item: item(&node, &chain, p),
        provisional,
        tallies,
        tally_proofs,
    }))
}

/// `GET /governance/proposals/{id}/votes?page=&limit=`: by shard, then voter.
pub async fn votes(
    State(node): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<super::PageQuery>,
) -> ApiResult<VotesPage> {
    let id = parse_id(&id)?;
    let chain = node.chain();
    find(&node, &chain, &id)?;
    let limit = q.limit();
    let skip = usize::try_from(u64::from(q.page) * u64::from(limit)).unwrap_or(usize::MAX);
    let all = chain
        .shards
        .iter()
        .flat_map(|s| s.indexes().votes_on(&id).map(move |(voter, _)| (s, voter)));
    let total = chain
        .shards
        .iter()
        .map(|s| s.indexes().votes_on(&id).count() as u64)
        .sum();
    let mut items = Vec::new();
    for (state, voter) in all.skip(skip).take(limit as usize) {
        let key = vote_key(voter, &id);
        let vote: Vote = state
            .object(&key)
            .map(decode_exact)
            .transpose()
            .map_err(|e| ApiError::internal(format!("vote in state: {e}")))?
            .ok_or_else(|| ApiError::internal("an indexed vote is missing from state"))?;
        items.push(VoteItem {
            vote,
            proof: state.object_proof(&key),
            height: chain.height(),
        });
    }
    Ok(Json(Page {
        items,
        page: q.page,
        limit,
        total,
    }))
}

/// `GET /accounts/{address}/power`.
pub async fn power(
    State(node): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<PowerResponse> {
    let member = Address::parse(&address)
        .map_err(|e| ApiError::bad_request("invalid_address", e.to_string()))?;
    let n = node.genesis.shard_count;
    let chain = node.chain();
    let state_of = |a: &Address| &chain.shards[usize::from(a.shard(n))];
    let key = power_key(&member);
    let power: Option<Power> = state_of(&member)
        .object(&key)
        .map(decode_exact)
        .transpose()
        .map_err(|e| ApiError::internal(format!("power in state: {e}")))?;
    let mut delegators: Vec<DelegatorItem> = chain
        .shards
        .iter()
        .flat_map(|s| s.indexes().delegators_of(&member))
        .map(|p| DelegatorItem {
            power: *p,
            proof: state_of(&p.member).object_proof(&power_key(&p.member)),
        })
        .collect();
    delegators.sort_by_key(|d| std::cmp::Reverse(d.power.locked));
    delegators.truncate(MAX_GOV_PAGE as usize);
    let own = power
        .filter(|p| p.delegate.is_none())
        .map_or(0, |p| p.locked);
    let delegated: u64 = chain
        .shards
        .iter()
        .flat_map(|s| s.indexes().delegators_of(&member))
        .map(|p| p.locked)
        .fold(0u64, u64::saturating_add);
    Ok(Json(PowerResponse {
        member,
        power,
        proof: state_of(&member).object_proof(&key),
        height: chain.height(),
        delegators,
        voting_power: own.saturating_add(delegated),
    }))
}
