//! One shard block: its header, its transactions (paginated, each row proven) and its
//! receipts in and out, verified in the browser; how the node says it executed it, labelled
//! as its report.

use joule_light_client::api::{BlockResponse, ShardBlockResponse};
use joule_light_client::units::format_amount;
use joule_light_client::{Receipt, ShardId};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::rows::proven_tx_row;
use crate::api;
use crate::live::{self, LightClient};
use crate::proofs::{prove_shard_page, ProvenShardPage};
use crate::ui::{loaded, page_param, AccountLink, Claimed, NotVerified, Pager, VerifiedMark};

/// Transactions per page.
const PAGE: u32 = 25;

type Loaded = (BlockResponse, Result<ProvenShardPage, String>);

async fn load(lc: LightClient, height: String, shard: String, page: u32) -> Result<Loaded, String> {
    let shard: ShardId = shard
        .parse()
        .map_err(|_| format!("not a shard number: \"{shard}\""))?;
    let block: BlockResponse = api::get(&format!("/blocks/{height}")).await?;
    let sb: ShardBlockResponse = api::get(&format!(
        "/blocks/{height}/shards/{shard}?page={page}&limit={PAGE}"
    ))
    .await?;
    let verdict = live::trusted(lc)
        .await
        .and_then(|trust| prove_shard_page(&trust, &block, shard, page, PAGE, &sb));
    Ok((block, verdict))
}

/// `/blocks/:height/shards/:shard?page=N`.
#[component]
pub fn ShardBlockPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let lc = expect_context::<LightClient>();
    let data = loaded(move || {
        let p = params.read();
        let page = page_param(query);
        Box::pin(load(
            lc,
            p.get("height").unwrap_or_default(),
            p.get("shard").unwrap_or_default(),
            page,
        ))
    });
    view! {
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((b, Ok(proven))) => view! { <ShardBlockView answer=b proven=proven/> }.into_any(),
                Ok((b, Err(reason))) => view! {
                    <h1>{format!("Block #{}", b.header.height)}</h1>
                    <NotVerified reason=reason/>
                    <p class="muted">"The shard's header, transactions and receipts are shown once your browser has verified them."</p>
                }.into_any(),
            }).unwrap_or_else(|| view! { <p class="muted">"Loading shard block…"</p> }.into_any())}
    }
}

fn receipts_view(list: &[Receipt]) -> impl IntoView {
    list.iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{format!("{} → {}", r.source_shard, r.dest_shard)}</td>
                    <td><AccountLink address=r.to/></td>
                    <td>{format_amount(r.amount)}</td>
                </tr>
            }
        })
        .collect_view()
}

/// A proven shard block: everything but the execution report comes from [`ProvenShardPage`].
#[component]
fn ShardBlockView(answer: BlockResponse, proven: ProvenShardPage) -> impl IntoView {
    let h = proven.block.height();
    let header = proven.shard.header().clone();
    let s = header.shard;
    let covers = format!(
        "Verified in your browser: block #{h}'s commit, this shard header's place in it, each transaction row on this page (its outcome's Merkle proof at its position), and both receipt lists."
    );
    let metrics = answer.metrics.iter().find(|m| m.shard == s).map(|m| {
        let reexec = m.incarnations.saturating_sub(u64::from(m.txs));
        format!(
            "Executed {} on {} thread(s) in {}.{} ms: {} transactions, {reexec} re-executions, {} validations.",
            m.mode.label(),
            m.threads,
            m.exec_us / 1000,
            m.exec_us % 1000 / 100,
            m.txs,
            m.validations
        )
    });
    let txs = proven
        .rows
        .iter()
        .map(|t| proven_tx_row(t, t.index().to_string()))
        .collect_view();
    let (outgoing, incoming) = (
        receipts_view(proven.shard.outgoing()),
        receipts_view(proven.shard.incoming()),
    );
    let (n_out, n_in) = (proven.shard.outgoing().len(), proven.shard.incoming().len());
    let count = u64::from(header.tx_count);
    let pages = count.div_ceil(u64::from(PAGE)).max(1);
    let page = proven.page;
    view! {
        <h1>{format!("Block #{h}, shard {s}")}</h1>
        <VerifiedMark id="shard-verified" covers=covers/>
        <p><A href=format!("/blocks/{h}")>"← the whole block"</A></p>
        <table><tbody>
            <tr><th>"Transactions"</th><td>{header.tx_count}</td></tr>
            <tr><th>"Fees (burned)"</th><td>{format!("{} JOULE", format_amount(header.fees))}</td></tr>
            <tr><th>"State root"</th><td class="mono">{header.state_root.to_hex()}</td></tr>
            <tr><th>"Transaction root"</th><td class="mono">{header.tx_root.to_hex()}</td></tr>
        </tbody></table>
        <h2>{format!("Transactions (page {} of {pages})", page + 1)}</h2>
        <table>
            <thead><tr><th>"#"</th><th>"Id"</th><th class="hide-narrow">"From"</th><th>"To"</th><th>"Amount (JOULE)"</th><th>"Outcome"</th></tr></thead>
            <tbody>{txs}</tbody>
        </table>
        <Pager base=format!("/blocks/{h}/shards/{s}") page=page pages=pages/>
        <h2>{format!("Receipts out ({n_out})")}</h2>
        <table><thead><tr><th>"Shards"</th><th>"To"</th><th>"Amount (JOULE)"</th></tr></thead><tbody>{outgoing}</tbody></table>
        <h2>{format!("Receipts in ({n_in})")}</h2>
        <table><thead><tr><th>"Shards"</th><th>"To"</th><th>"Amount (JOULE)"</th></tr></thead><tbody>{incoming}</tbody></table>
        {metrics.map(|m| view! {
            <Claimed what="how this shard block was executed" note="Execution details are not part of the commit.">
                <p class="muted" id="shard-metrics">{m}</p>
            </Claimed>
        })}
    }
}
