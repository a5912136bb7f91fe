//! `/dao`: the community's proposals by state, each proven in this browser, and governance's
//! parameters with the history of every change governance made (which proposal, when).

use joule_light_client::api::{BlockResponse, GovernanceResponse, ProposalsPage};
use joule_light_client::dao::{GovParams, Proposal, ProposalState};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{describe_action, format_bps, local_time, param_name, param_value};
use crate::proofs::{prove_gov_params, prove_proposal, Trust};
use crate::ui::{loaded, BlockLink, Claimed, NotVerified, VerifiedMark};

/// What the page shows: the parameters (proven, or why not), the proposals (each proven, or
/// why not) and the history as the node lists it.
#[derive(Clone)]
struct Dao {
    gov: GovernanceResponse,
    params: Result<GovParams, String>,
    proposals: Vec<(Proposal, Result<(), String>)>,
    total: u64,
    /// The chain's clock from the trusted genesis: its start and block interval, ms.
    clock: Option<(u64, u64)>,
}

async fn load(lc: LightClient, state: Option<String>) -> Result<Dao, String> {
    let gov: GovernanceResponse = api::get("/governance").await?;
    let filter = state.map_or(String::new(), |s| format!("&state={s}"));
    let page: ProposalsPage = api::get(&format!("/governance/proposals?limit=50{filter}")).await?;
    let trust = live::trusted(lc).await;
    let params = match (&trust, &gov.proof) {
        (Err(e), _) => Err(e.clone()),
        (_, None) => Err("no block yet".into()),
        (Ok(trust), Some(at)) => live::proven_block_at(trust, at.at.height)
            .await
            .and_then(|b| prove_gov_params(&b, &gov)),
    };
    // Every item is proven against the same block (the head when the node answered).
    let block: Option<BlockResponse> = match page.items.first() {
        Some(i) => Some(api::get(&format!("/blocks/{}", i.height)).await?),
        None => None,
    };
    let proposals = page
        .items
        .iter()
        .map(|i| {
            let verdict = match (&trust, &block) {
                (Ok(trust), Some(b)) => prove_proposal(trust, b, &i.proposal.id, i).map(|_| ()),
                (Err(e), _) => Err(e.clone()),
                _ => Err("no block".into()),
            };
            (i.proposal.clone(), verdict)
        })
        .collect();
    let clock = trust.as_ref().ok().map(Trust::clock);
    Ok(Dao {
        clock,
        gov,
        params,
        proposals,
        total: page.total,
    })
}

/// `/dao?state=`.
#[component]
pub fn DaoPage() -> impl IntoView {
    let query = use_query_map();
    let lc = expect_context::<LightClient>();
    let data = loaded(move || Box::pin(load(lc, query.read().get("state"))));
    let filters = [
        "all", "active", "pending", "queued", "executed", "defeated", "expired", "canceled",
    ];
    view! {
        <h1>"DAO"</h1>
        <p class="muted">"Members lock JOULE to vote on the market's rules and the community treasury. Vote from your wallet on a proposal's page."</p>
        <crate::pages::power::PowerBox/>
        <crate::pages::propose::ProposeBox/>
        <nav class="pager" aria-label="Proposals by state">
            {filters.map(|f| view! { <A href=format!("/dao?state={f}")>{f}</A>" " })}
        </nav>
        {move || data.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Ok(d) => view! { <DaoView d=d/> }.into_any(),
        }).unwrap_or_else(|| view! { <p class="muted">"Loading proposals…"</p> }.into_any())}
    }
}

#[component]
fn DaoView(d: Dao) -> impl IntoView {
    let failed = d.proposals.iter().find_map(|(_, v)| v.clone().err());
    let mark = match (&failed, d.proposals.is_empty()) {
        (None, false) => view! { <VerifiedMark id="proposals-verified" covers="every proposal below proven in your browser against a verified block".into()/> }.into_any(),
        (Some(e), _) => view! { <NotVerified reason=e.clone()/> }.into_any(),
        (None, true) => view! { <p class="muted">"No proposal in this state."</p> }.into_any(),
    };
    let rows = d
        .proposals
        .into_iter()
        .map(|(p, verdict)| {
            // The close's time on the chain's nominal clock (the trusted genesis').
            let closes = d
                .clock
                .map_or(String::new(), |(t0, ms)| local_time(t0 + p.end * ms));
            let t = p.totals;
            let tally = if matches!(
                p.state,
                ProposalState::Pending | ProposalState::Active | ProposalState::Canceled
            ) {
                "—".to_owned()
            } else {
                format!("{} voters", t.voters)
            };
            view! {
                <tr class=if verdict.is_ok() { "" } else { "unverified" }>
                    <td><A href=format!("/dao/proposals/{}", p.id)>{p.title.clone()}</A></td>
                    <td><span class=format!("state {}", p.state.name())>{p.state.name()}</span></td>
                    <td>{describe_action(&p.action, (p.executed_at > 0).then_some(p.previous))}</td>
                    <td>{tally}</td>
                    <td title=format!("vote closes at block #{}", p.end)>{closes}</td>
                </tr>
            }
        })
        .collect_view();
    let params = match d.params {
        Ok(g) => view! {
            <VerifiedMark id="gov-params-verified" covers="governance's parameters proven in your browser".into()/>
            <dl class="kv">
                <dt>"Voting delay"</dt><dd>{format!("{} blocks", g.voting_delay)}</dd>
                <dt>"Voting period"</dt><dd>{format!("{} blocks", g.voting_period)}</dd>
                <dt>"Timelock"</dt><dd>{format!("{} blocks", g.timelock)}</dd>
                <dt>"Quorum"</dt><dd>{format_bps(g.quorum_bps.into())}" of the power locked at a proposal's start"</dd>
                <dt>"Threshold"</dt><dd>"more than "{format_bps(g.threshold_bps.into())}" of for and against"</dd>
                <dt>"Lock to propose"</dt><dd>{param_value(joule_light_client::dao::Param::ProposalMinPower, g.proposal_min_power)}</dd>
            </dl>
        }
        .into_any(),
        Err(e) => view! { <NotVerified reason=e/> }.into_any(),
    };
    let history = d
        .gov
        .history
        .iter()
        .map(|c| {
            view! {
                <li>
                    {format!("{}: {} → {} ", param_name(c.param), param_value(c.param, c.previous), param_value(c.param, c.value))}
                    "after block "<BlockLink height=c.height/>" by "
                    <A href=format!("/dao/proposals/{}", c.proposal)>"its proposal"</A>
                </li>
            }
        })
        .collect_view();
    view! {
        <section>
            <h2>{format!("Proposals ({})", d.total)}</h2>
            {mark}
            <table class="rows">
                <thead><tr><th>"Title"</th><th>"State"</th><th>"Action"</th><th>"Tally"</th><th>"Vote closes"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <section>
            <h2>"Parameters"</h2>
            {params}
            <Claimed what="the history of parameter changes" note="each change is its proposal's: open it to verify.">
                <ul id="param-history">{history}</ul>
            </Claimed>
        </section>
    }
}
