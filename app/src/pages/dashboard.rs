//! The dashboard: the chain as this browser's light client proved it (chain id, shards,
//! validators, the checkpoint it trusts, the head), live throughput and execution metrics and
//! the latest blocks as the node lists them, and the light client's status. Blocks arrive
//! from the light client's stream (or its polling); the list is refetched only after a gap.

use joule_light_client::api::{BlockList, BlockResponse, BlockSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::live::{LightClient, Source};
use crate::model::{ago, short_hash};
use crate::now_ms;
use crate::proofs::prove_block;
use crate::trust_root::RootSource;
use crate::ui::TpsChart;

/// Blocks kept for the table and the chart (30 s of devnet blocks).
const HISTORY: usize = 60;

/// Rows of the latest-blocks table.
const ROWS: usize = 10;

/// The list entry of a streamed block.
fn summary(b: &BlockResponse) -> BlockSummary {
    BlockSummary {
        height: b.header.height,
        hash: b.hash,
        timestamp_ms: b.header.timestamp_ms,
        tx_count: b.shards.iter().map(|s| u64::from(s.tx_count)).sum(),
        shard_tx_counts: b.shards.iter().map(|s| s.tx_count).collect(),
    }
}

/// The light client's status: verified head, validator set, last verification, failures.
#[component]
fn LightClientPanel() -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let source = move || match lc.source.get() {
        Source::Starting => "starting",
        Source::Stream => "following the node's block stream",
        Source::Polling => "polling the node (its stream is quiet)",
    };
    view! {
        <section class="card" id="light-client" aria-label="Light client status">
            <h2>"Light client (in this browser)"</h2>
            {move || match lc.follower.get() {
                None => view! { <p class="muted">"Starting from the checkpoint…"</p> }.into_any(),
                Some(f) => {
                    let start = if f.resumed {
                        "resumed from this browser's storage"
                    } else {
                        "started from the checkpoint (the genesis it pins, then block 1, signed by the genesis set)"
                    };
                    let pinned = match lc.root.get().and_then(|r| match r {
                        crate::trust_root::Root::Trusted { source, .. } => Some(source),
                        _ => None,
                    }) {
                        Some(RootSource::BuiltIn) => "built into this app",
                        _ => "pinned in this browser",
                    };
                    let failures = f.failures.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view();
                    let failed = !f.failures.is_empty();
                    view! {
                        <p class="verified" id="lc-head">{format!("✓ verified head #{}", f.trusted.height())}</p>
                        <p class="muted">{format!(
                            "Shards 0–{}: each at #{} (every block commits one header per shard).",
                            f.trusted.header.shard_count.saturating_sub(1),
                            f.trusted.height(),
                        )}</p>
                        <p>{format!(
                            "{} headers verified here, latest {}; validator set {}.",
                            f.verified,
                            ago(now_ms(), f.verified_at_ms),
                            short_hash(&f.trusted.validators.hash()),
                        )}</p>
                        <p class="muted" id="lc-start">{start}</p>
                        <p class="muted">{format!("Trusted checkpoint {} ({pinned}).", f.checkpoint.fingerprint())}</p>
                        {failed.then(|| view! {
                            <p class="unverified" role="alert">"Headers that failed verification:"</p>
                            <ul id="lc-failures">{failures}</ul>
                        })}
                    }
                    .into_any()
                }
            }}
            <p class="muted" id="lc-source">{source}</p>
            {move || lc.first_verified_ms.get().map(|ms| view! {
                <p class="muted" id="lc-cold" data-ms=ms.to_string()>
                    {format!("Verified head reached {ms} ms after this page started loading.")}
                </p>
            })}
            {move || lc.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

/// The home page.
#[component]
pub fn Dashboard() -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let blocks = RwSignal::new(Vec::<BlockSummary>::new());
    let list_error = RwSignal::new(None::<String>);
    let refetch = move || {
        spawn_local(async move {
            match api::get::<BlockList>(&format!("/blocks?limit={HISTORY}")).await {
                Ok(list) => {
                    blocks.set(list.blocks);
                    list_error.set(None);
                }
                Err(e) => list_error.set(Some(e)),
            }
        })
    };
    refetch();
    // Each new block from the light client joins the list; after a gap the list is refetched.
    Effect::new(move |_| {
        let Some(block) = lc.latest.get() else {
            return;
        };
        let height = block.header.height;
        match blocks.with_untracked(|b| b.first().map(|s| s.height)) {
            Some(newest) if height == newest + 1 => blocks.update(|b| {
                b.insert(0, summary(&block));
                b.truncate(HISTORY);
            }),
            Some(newest) if height <= newest => {}
            _ => refetch(),
        }
    });
    view! {
        <ChainCards/>
        <TpsChart blocks=blocks/>
        {move || list_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <h2>"Latest blocks"</h2>
        <p class="claim-label">"As the node lists them; open one to verify it."</p>
        <BlockTable blocks=blocks/>
        <LightClientPanel/>
    }
}

/// Chain facts as the light client proved them (the genesis header its checkpoint pins, the
/// validator set it verified), the head with its verdict, and how the node says it executed
/// the head's shard blocks.
#[component]
fn ChainCards() -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let proven = move |f: fn(&crate::follow::Follower) -> String| {
        move || {
            lc.follower
                .with(|fo| fo.as_ref().map_or_else(|| "…".to_owned(), f))
        }
    };
    let head = move || {
        let block = lc.latest.get();
        let Some(b) = block else {
            return view! { <div class="value" id="head-height">"…"</div><span class="muted">"waiting for a block"</span> }.into_any();
        };
        // The light client has usually just verified this very header: no need to check its
        // commit twice. Otherwise (it refused it, or is behind) the page proves it itself.
        let verdict = lc.follower.with(|f| match f {
            Some(f) if f.trusted.header == b.header => Some(Ok(f.trusted.header.height)),
            Some(f) => Some(prove_block(&f.trust(), &b).map(|p| p.height())),
            None => lc
                .root
                .get()
                .and_then(|r| r.blocked_reason().map(str::to_owned))
                .or_else(|| lc.error.get())
                .map(Err),
        });
        match verdict {
            Some(Ok(height)) => view! {
                <div class="value" id="head-height">{format!("#{height}")}</div>
                <span class="verified" title="validator signatures checked in this browser">"✓ commit verified in your browser"</span>
            }
            .into_any(),
            Some(Err(reason)) => view! {
                <div class="value" id="head-height">"—"</div>
                <span class="unverified" role="alert">{format!("✗ not verified: {reason}")}</span>
            }
            .into_any(),
            None => view! { <div class="value" id="head-height">"…"</div><span class="muted">"verifying…"</span> }.into_any(),
        }
    };
    let execution = move || {
        lc.latest.with(|b| {
            let b = b.as_ref()?;
            let txs: u64 = b.metrics.iter().map(|m| u64::from(m.txs)).sum();
            let reexec: u64 = b
                .metrics
                .iter()
                .map(|m| m.incarnations.saturating_sub(u64::from(m.txs)))
                .sum();
            let threads = b.metrics.iter().map(|m| m.threads).max().unwrap_or(1);
            let parallel = b.metrics.iter().filter(|m| m.mode.is_parallel()).count();
            let plural =
                |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            Some(format!(
                "{}; parallel on {parallel} of {} shards, up to {}; {}",
                plural(txs, "tx", "txs"),
                b.metrics.len(),
                plural(u64::from(threads), "thread", "threads"),
                plural(reexec, "re-execution", "re-executions"),
            ))
        })
    };
    view! {
        <section class="cards" aria-label="The chain, as your light client proved it">
            <div class="card"><div class="label">"Chain"</div><div class="value" id="chain-id">{proven(|f| f.genesis.chain_id.clone())}</div></div>
            <div class="card"><div class="label">"Head"</div>{head}</div>
            <div class="card"><div class="label">"Shards"</div><div class="value" id="chain-shards">{proven(|f| f.genesis.shard_count.to_string())}</div></div>
            <div class="card"><div class="label">"Validators"</div><div class="value" id="chain-validators">{proven(|f| f.trusted.validators.validators().len().to_string())}</div>
                <div class="muted mono" id="chain-checkpoint" title="fingerprint of the checkpoint this browser trusts (chain id, genesis hash, genesis validator set)">{proven(|f| format!("checkpoint {}", f.checkpoint.fingerprint()))}</div></div>
            <div class="card"><div class="label">"Head execution (node's report)"</div>
                <div id="head-exec" title="reported by the node, not covered by the commit">{move || execution().unwrap_or_else(|| "—".into())}</div></div>
        </section>
    }
}

/// The newest [`ROWS`] blocks.
#[component]
fn BlockTable(blocks: RwSignal<Vec<BlockSummary>>) -> impl IntoView {
    let rows = move || {
        let now = now_ms();
        blocks.with(|b| {
            b.iter()
                .take(ROWS)
                .cloned()
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
                .collect_view()
        })
    };
    view! {
        <table id="latest-blocks">
            <thead><tr><th>"Height"</th><th class="hide-narrow">"Hash"</th><th>"Txs"</th><th class="hide-narrow">"Per shard"</th><th>"Age"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {move || blocks.with(Vec::is_empty).then(|| view! { <p class="muted">"No blocks yet."</p> })}
    }
}
