//! One block: header, shard headers and the commit's signers, proven in the browser; how the
//! node says it executed each shard, labelled as its report.

use joule_light_client::api::{BlockResponse, ExecMode};
use joule_light_client::units::format_amount;
use joule_light_client::ProvenBlock;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{iso_utc, short_hash};
use crate::proofs::prove_block;
use crate::ui::{NotVerified, VerifiedMark};

async fn load(
    lc: LightClient,
    id: String,
) -> Result<(BlockResponse, Result<ProvenBlock, String>), String> {
    let block: BlockResponse = api::get(&format!("/blocks/{id}")).await?;
    let verdict = live::trusted(lc)
        .await
        .and_then(|trust| prove_block(&trust, &block));
    Ok((block, verdict))
}

/// `/blocks/:height`.
#[component]
pub fn BlockPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let data =
        LocalResource::new(move || load(lc, params.read().get("height").unwrap_or_default()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading block…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((b, Ok(proven))) => view! { <BlockView answer=b proven=proven/> }.into_any(),
                Ok((b, Err(reason))) => view! {
                    <h1>{format!("Block #{}", b.header.height)}</h1>
                    <NotVerified reason=reason/>
                    <p class="muted">"The header, shards and signers are shown once your browser has verified the block's commit."</p>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// A proven block. Everything but the "Executed" column comes from [`ProvenBlock`]; that
/// column is the node's report (`answer.metrics`), not covered by the commit.
#[component]
fn BlockView(answer: BlockResponse, proven: ProvenBlock) -> impl IntoView {
    let h = proven.header().clone();
    let covers = format!(
        "Commit verified in your browser: validators holding {} of {} power (more than 2/3) signed this header, and the shard rows below are the ones it commits to.",
        proven.signed_power(),
        proven.total_power()
    );
    let fields = vec![
        ("Hash", proven.hash().to_hex()),
        ("Parent", h.parent_hash.to_hex()),
        ("Time", iso_utc(h.timestamp_ms)),
        ("Proposer", h.proposer.to_hex()),
        ("Shards root", h.shards_root.to_hex()),
        ("Validator set", h.validator_set_hash.to_hex()),
        ("Next validator set", h.next_validator_set_hash.to_hex()),
    ];
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
    let signers = proven
        .signers()
        .iter()
        .map(|v| view! { <tr><td class="mono">{v.public_key.to_hex()}</td><td>{v.power}</td></tr> })
        .collect_view();
    view! {
        <h1>{format!("Block #{}", h.height)}</h1>
        <VerifiedMark id="block-verified" covers=covers/>
        <table><tbody>
            {fields.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono">{v}</td></tr> }).collect_view()}
        </tbody></table>
        <h2>"Shards"</h2>
        <table>
            <thead><tr><th>"Shard"</th><th>"Txs"</th><th>"Fees (JOULE)"</th><th class="hide-narrow" title="reported by the node, not covered by the commit">"Executed (node's report)"</th><th class="hide-narrow">"State root"</th><th class="hide-narrow">"Tx root"</th></tr></thead>
            <tbody>{shards}</tbody>
        </table>
        <h2>"Commit signers"</h2>
        <table><thead><tr><th>"Validator"</th><th>"Power (your trusted set)"</th></tr></thead><tbody>{signers}</tbody></table>
    }
}
