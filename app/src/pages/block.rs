//! One block: header, shard headers, the first transactions of each shard and the commit's
//! signers, proven in the browser; how the node says it executed each shard, labelled as its
//! report.

use joule_light_client::api::{BlockResponse, ExecMode, ShardBlockResponse};
use joule_light_client::units::format_amount;
use joule_light_client::{ProvenBlock, ProvenTx};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::rows::proven_tx_row;
use crate::api;
use crate::live::{self, LightClient};
use crate::model::{iso_utc, local_time, short_hash, short_hex};
use crate::proofs::{prove_block, prove_shard_rows};
use crate::ui::{loaded, CopyButton, NotVerified, VerifiedMark};

/// Transactions listed per shard on the block page (the shard block page pages through all).
const PER_SHARD: u32 = 10;

/// A proven block with the first transactions of each of its shards, each proven.
type Proven = (ProvenBlock, Vec<ProvenTx>);

async fn load(
    lc: LightClient,
    id: String,
) -> Result<(BlockResponse, Result<Proven, String>), String> {
    let block: BlockResponse = api::get(&format!("/blocks/{id}")).await?;
    let trust = match live::trusted(lc).await {
        Ok(t) => t,
        Err(e) => return Ok((block, Err(e))),
    };
    let proven = match prove_block(&trust, &block) {
        Ok(p) => p,
        Err(e) => return Ok((block, Err(e))),
    };
    let mut rows = Vec::new();
    let height = proven.height();
    for shard in proven
        .shards()
        .iter()
        .filter(|s| s.tx_count > 0)
        .map(|s| s.shard)
    {
        let sb: ShardBlockResponse = api::get(&format!(
            "/blocks/{height}/shards/{shard}?page=0&limit={PER_SHARD}"
        ))
        .await?;
        match prove_shard_rows(proven.clone(), shard, 0, PER_SHARD, &sb) {
            Ok(page) => rows.extend(page.rows),
            Err(e) => return Ok((block, Err(format!("shard {shard}: {e}")))),
        }
    }
    Ok((block, Ok((proven, rows))))
}

/// `/blocks/:height`.
#[component]
pub fn BlockPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let data = loaded(move || Box::pin(load(lc, params.read().get("height").unwrap_or_default())));
    view! {
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((b, Ok((proven, rows)))) => view! { <BlockView answer=b proven=proven rows=rows/> }.into_any(),
                Ok((b, Err(reason))) => view! {
                    <h1>{format!("Block #{}", b.header.height)}</h1>
                    <NotVerified reason=reason/>
                    <p class="muted">"The header, shards and signers are shown once your browser has verified the block's commit."</p>
                }.into_any(),
            }).unwrap_or_else(|| view! { <p class="muted">"Loading block…"</p> }.into_any())}
    }
}

/// A proven block. Everything but the "Executed" column comes from [`ProvenBlock`] and the
/// proven rows; that column is the node's report (`answer.metrics`), not covered by the commit.
#[component]
fn BlockView(answer: BlockResponse, proven: ProvenBlock, rows: Vec<ProvenTx>) -> impl IntoView {
    let h = proven.header().clone();
    let covers = format!(
        "Commit verified in your browser: validators holding {} of {} power (more than 2/3) signed this header; the shard rows and the transactions below are the ones it commits to, each proven.",
        proven.signed_power(),
        proven.total_power()
    );
    let signers = proven.signers().to_vec();
    let position = signers
        .iter()
        .position(|v| v.public_key == h.proposer)
        .map_or("not a signer".to_owned(), |i| {
            format!("validator {} of {}", i + 1, signers.len())
        });
    let shards = proven
        .shards()
        .iter()
        .map(|s| {
            let href = format!("/blocks/{}/shards/{}", h.height, s.shard);
            let how = answer.metrics.iter().find(|m| m.shard == s.shard).map_or(String::new(), |m| {
                let reexec = m.incarnations.saturating_sub(u64::from(m.txs));
                match m.mode {
                    ExecMode::BlockStm => format!("Block-STM ×{}, {reexec} re-exec", m.threads),
                    ExecMode::DeclaredKeys => format!("parallel ×{}", m.threads),
                    ExecMode::InOrder => "in order".to_owned(),
                }
            });
            view! {
                <tr><td><A href=href>{format!("Shard {}", s.shard)}</A></td><td>{s.tx_count}</td><td>{format_amount(s.fees)}</td>
                <td class="hide-narrow muted">{how}</td>
                <td class="mono hide-narrow">{short_hash(&s.state_root)}</td>
                <td class="mono hide-narrow">{short_hash(&s.tx_root)}</td></tr>
            }
        })
        .collect_view();
    let more = proven
        .shards()
        .iter()
        .filter(|s| s.tx_count > PER_SHARD)
        .map(|s| {
            let href = format!("/blocks/{}/shards/{}", h.height, s.shard);
            view! { <A href=href>{format!("all {} of shard {} →", s.tx_count, s.shard)}</A>" " }
        })
        .collect_view();
    let txs = rows
        .iter()
        .map(|t| proven_tx_row(t, format!("{}·{}", t.at().shard, t.index())))
        .collect_view();
    let signer_rows = signers
        .iter()
        .enumerate()
        .map(|(i, v)| view! { <tr><td>{i + 1}</td><td class="mono">{v.public_key.to_hex()}</td><td>{v.power}</td></tr> })
        .collect_view();
    let parent = h.height.checked_sub(1).filter(|p| *p > 0);
    view! {
        <h1>{format!("Block #{}", h.height)}</h1>
        <VerifiedMark id="block-verified" covers=covers/>
        <table><tbody>
            <tr><th>"Hash"</th><td class="mono">{proven.hash().to_hex()}" "<CopyButton text=proven.hash().to_hex() what="hash"/></td></tr>
            <tr><th>"Parent"</th><td class="mono">{match parent {
                Some(p) => view! { <A href=format!("/blocks/{p}")>{h.parent_hash.to_hex()}</A> }.into_any(),
                None => view! { <span title="block 1 names the genesis hash as its parent">{h.parent_hash.to_hex()}" (genesis)"</span> }.into_any(),
            }}</td></tr>
            <tr><th>"Time"</th><td title=format!("{} UTC", iso_utc(h.timestamp_ms))>{local_time(h.timestamp_ms)}</td></tr>
            <tr><th>"Proposer"</th><td><a href="#signers">{position}</a>" "<span class="mono muted">{short_hex(&h.proposer.to_hex())}</span></td></tr>
            <tr><th>"Shards root"</th><td class="mono">{h.shards_root.to_hex()}</td></tr>
            <tr><th>"Validator set"</th><td class="mono">{h.validator_set_hash.to_hex()}</td></tr>
            <tr><th>"Next validator set"</th><td class="mono">{h.next_validator_set_hash.to_hex()}</td></tr>
        </tbody></table>
        <h2>"Shards"</h2>
        <table>
            <thead><tr><th>"Shard"</th><th>"Txs"</th><th>"Fees (JOULE)"</th><th class="hide-narrow" title="reported by the node, not covered by the commit">"Executed (node's report)"</th><th class="hide-narrow">"State root"</th><th class="hide-narrow">"Tx root"</th></tr></thead>
            <tbody>{shards}</tbody>
        </table>
        <h2>"Transactions"</h2>
        {if rows.is_empty() {
            view! { <p class="muted">"No transactions in this block."</p> }.into_any()
        } else {
            view! {
                <table id="block-txs">
                    <thead><tr><th title="shard · position">"#"</th><th>"Id"</th><th class="hide-narrow">"From"</th><th>"To"</th><th>"Amount (JOULE)"</th><th>"Outcome"</th></tr></thead>
                    <tbody>{txs}</tbody>
                </table>
                <p>{more}</p>
            }.into_any()
        }}
        <h2 id="signers">"Commit signers"</h2>
        <table><thead><tr><th>"#"</th><th>"Validator"</th><th>"Power (your trusted set)"</th></tr></thead><tbody>{signer_rows}</tbody></table>
    }
}
