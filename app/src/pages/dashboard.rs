//! The dashboard: chain facts, the verified head, and the latest blocks, refreshed every second.

use std::time::Duration;

use joule_light_client::api::{BlockList, BlockResponse, ChainInfo};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::model::{ago, short_hash, verify_block, Verdict};

/// One refresh of what the dashboard shows.
#[derive(Debug, Clone)]
struct Snapshot {
    chain: ChainInfo,
    blocks: BlockList,
    head: Option<(BlockResponse, Verdict)>,
}

async fn load() -> Result<Snapshot, String> {
    let chain: ChainInfo = api::get("/chain").await?;
    let blocks: BlockList = api::get("/blocks?limit=10").await?;
    let head = match blocks.blocks.first() {
        Some(b) => {
            let block: BlockResponse = api::get(&format!("/blocks/{}", b.height)).await?;
            let verdict = verify_block(&chain, &block);
            Some((block, verdict))
        }
        None => None,
    };
    Ok(Snapshot {
        chain,
        blocks,
        head,
    })
}

use crate::now_ms;

/// The light client's status: verified head, validator set, last verification, failures.
#[component]
fn LightClientPanel() -> impl IntoView {
    let lc = expect_context::<crate::follow::LightClient>();
    view! {
        <section class="card" id="light-client" aria-label="Light client status">
            <h2>"Light client (in this browser)"</h2>
            {move || match lc.follower.get() {
                None => view! { <p class="muted">"Starting from the checkpoint…"</p> }.into_any(),
                Some(f) => {
                    let start = if f.resumed {
                        "resumed from this browser's storage"
                    } else {
                        "started from the checkpoint (block 1, signed by the genesis set)"
                    };
                    let failures = f.failures.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view();
                    let failed = !f.failures.is_empty();
                    view! {
                        <p class="verified" id="lc-head">{format!("✓ verified head #{}", f.trusted.height())}</p>
                        <p>{format!(
                            "{} headers verified here, latest {}; validator set {}.",
                            f.verified,
                            ago(now_ms(), f.verified_at_ms),
                            short_hash(&f.trusted.validators.hash()),
                        )}</p>
                        <p class="muted" id="lc-start">{start}</p>
                        {failed.then(|| view! {
                            <p class="unverified" role="alert">"Headers that failed verification:"</p>
                            <ul id="lc-failures">{failures}</ul>
                        })}
                    }
                    .into_any()
                }
            }}
            {move || lc.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

/// The home page.
#[component]
pub fn Dashboard() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    if let Ok(handle) = set_interval_with_handle(
        move || tick.update(|t| *t = t.wrapping_add(1)),
        Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    let snapshot = LocalResource::new(move || {
        tick.track();
        load()
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the chain…"</p> }>
            {move || snapshot.get().map(|r| match r {
                Ok(s) => view! { <SnapshotView s=s/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </Transition>
        <LightClientPanel/>
    }
}

#[component]
fn SnapshotView(s: Snapshot) -> impl IntoView {
    let now = now_ms();
    let checkpoint = short_hash(&s.chain.genesis_validators.hash());
    let (head_text, verdict_view) = match &s.head {
        Some((b, Verdict::Verified)) => (
            format!("#{}", b.header.height),
            view! { <span class="verified" title="validator signatures checked in this browser">"✓ commit verified in your browser"</span> }.into_any(),
        ),
        Some((b, Verdict::Failed(reason))) => (
            format!("#{}", b.header.height),
            view! { <span class="unverified" role="alert">{format!("✗ not verified: {reason}")}</span> }.into_any(),
        ),
        None => ("genesis".to_owned(), view! { <span class="muted">"no blocks yet"</span> }.into_any()),
    };
    let rows = s
        .blocks
        .blocks
        .into_iter()
        .map(|b| {
            let counts = b
                .shard_tx_counts
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" / ");
            view! {
                <tr>
                    <td><A href=format!("/blocks/{}", b.height)>{b.height}</A></td>
                    <td class="mono hide-narrow">{short_hash(&b.hash)}</td>
                    <td>{b.tx_count}</td>
                    <td class="hide-narrow">{counts}</td>
                    <td class="muted">{ago(now, b.timestamp_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="cards">
            <div class="card"><div class="label">"Chain"</div><div class="value" id="chain-id">{s.chain.chain_id.clone()}</div></div>
            <div class="card"><div class="label">"Head"</div><div class="value" id="head-height">{head_text}</div>{verdict_view}</div>
            <div class="card"><div class="label">"Shards"</div><div class="value">{s.chain.shard_count}</div></div>
            <div class="card"><div class="label">"Validators"</div><div class="value">{s.chain.validators.validators().len()}</div>
                <div class="muted mono" title="hash of the trusted validator set">{format!("checkpoint {checkpoint}")}</div></div>
        </section>
        <h2>"Latest blocks"</h2>
        <table>
            <thead><tr><th>"Height"</th><th class="hide-narrow">"Hash"</th><th>"Txs"</th><th class="hide-narrow">"Per shard"</th><th>"Age"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
