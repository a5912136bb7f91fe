//! One block: header, shard headers, and the commit's signers, verified in the browser.

use joule_light_client::api::{BlockResponse, ExecMode};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{short_hash, under, verify_block, Verdict};
use crate::ui::NotVerified;

async fn load(lc: LightClient, id: String) -> Result<(BlockResponse, Verdict), String> {
    let block: BlockResponse = api::get(&format!("/blocks/{id}")).await?;
    let trust = live::trusted(lc).await;
    let verdict = under(&trust, |t| verify_block(t, &block));
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
                Ok((b, verdict)) => view! { <BlockView b=b verdict=verdict/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn BlockView(b: BlockResponse, verdict: Verdict) -> impl IntoView {
    let h = &b.header;
    let mark = match verdict {
        Verdict::Verified => view! { <p class="verified">"✓ Commit verified in your browser: more than 2/3 of the validators' power signed this header."</p> }.into_any(),
        Verdict::Failed(reason) => view! { <NotVerified reason=reason/> }.into_any(),
    };
    let fields = vec![
        ("Hash", b.hash.to_hex()),
        ("Parent", h.parent_hash.to_hex()),
        ("Timestamp (ms)", h.timestamp_ms.to_string()),
        ("Proposer", h.proposer.to_hex()),
        ("Shards root", h.shards_root.to_hex()),
        ("Validator set", h.validator_set_hash.to_hex()),
        ("Next validator set", h.next_validator_set_hash.to_hex()),
    ];
    let shards = b
        .shards
        .iter()
        .map(|s| {
            let href = format!("/blocks/{}/shards/{}", h.height, s.shard);
            let how = b.metrics.iter().find(|m| m.shard == s.shard).map_or(String::new(), |m| {
                let reexec = m.incarnations.saturating_sub(u64::from(m.txs));
                match m.mode {
                    ExecMode::BlockStm => format!("Block-STM ×{}, {reexec} re-exec", m.threads),
                    ExecMode::DeclaredKeys => format!("parallel ×{}", m.threads),
                    ExecMode::InOrder => "in order".to_owned(),
                }
            });
            view! {
                <tr><td><A href=href>{format!("Shard {}", s.shard)}</A></td><td>{s.tx_count}</td><td>{s.fees}</td>
                <td class="hide-narrow">{how}</td>
                <td class="mono hide-narrow">{short_hash(&s.state_root)}</td>
                <td class="mono hide-narrow">{short_hash(&s.tx_root)}</td></tr>
            }
        })
        .collect_view();
    let signers = b
        .commit
        .signatures
        .iter()
        .map(|sig| {
            let power = b.validators.get(&sig.validator).map_or(0, |v| v.power);
            view! { <tr><td class="mono">{sig.validator.to_hex()}</td><td>{power}</td></tr> }
        })
        .collect_view();
    view! {
        <h1>{format!("Block #{}", h.height)}</h1>
        {mark}
        <table><tbody>
            {fields.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono">{v}</td></tr> }).collect_view()}
        </tbody></table>
        <h2>"Shards"</h2>
        <table>
            <thead><tr><th>"Shard"</th><th>"Txs"</th><th>"Fees"</th><th class="hide-narrow">"Executed"</th><th class="hide-narrow">"State root"</th><th class="hide-narrow">"Tx root"</th></tr></thead>
            <tbody>{shards}</tbody>
        </table>
        <h2>"Commit signers"</h2>
        <table><thead><tr><th>"Validator"</th><th>"Power"</th></tr></thead><tbody>{signers}</tbody></table>
    }
}
