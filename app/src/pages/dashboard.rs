//! The dashboard: the chain as this browser's light client proved it (chain id, shards,
//! validators, the checkpoint it trusts, the head), live throughput and execution metrics and
//! the latest blocks as the node lists them, and the light client's status. Blocks arrive
//! from the light client's stream (or its polling); the list is refetched only after a gap.

use joule_light_client::api::{BlockList, BlockResponse, BlockSummary, Stats, TxList};
use joule_light_client::units::format_amount;
use joule_light_client::Payload;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::live::{LightClient, Source};
use crate::model::{ago, iso_utc, short_hash};
use crate::now_ms;
use crate::proofs::prove_block;
use crate::trust_root::RootSource;
use crate::ui::{loaded, AccountLink, TpsChart, TxLink};

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
    // Totals and the latest transactions, asked again every few seconds while the tab shows.
    let tick = RwSignal::new(0u32);
    if let Ok(h) = set_interval_with_handle(
        move || {
            if !crate::stream::hidden() {
                tick.update(|t| *t += 1);
            }
        },
        std::time::Duration::from_secs(3),
    ) {
        on_cleanup(move || h.clear());
    }
    let stats = loaded(move || {
        tick.track();
        Box::pin(api::get::<Stats>("/stats"))
    });
    let latest_txs = loaded(move || {
        tick.track();
        Box::pin(async { api::get::<TxList>(&format!("/transactions?limit={ROWS}")).await })
    });
    view! {
        <h1 class="page-title">"Explorer"</h1>
        <ChainCards/>
        <Totals stats=stats/>
        <TpsChart blocks=blocks/>
        {move || list_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <div class="columns">
            <section>
                <h2>"Latest blocks"</h2>
                <p class="claim-label">"As the node lists them; open one to verify it. "<A href="/blocks">"All blocks →"</A></p>
                <BlockTable blocks=blocks/>
            </section>
            <section>
                <h2>"Latest transactions"</h2>
                <p class="claim-label">"As the node lists them; open one to verify it."</p>
                    {move || latest_txs.get().map(|r| match r {
                        Ok(list) => view! { <TxTable list=list/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    })}
            </section>
        </div>
        <LightClientPanel/>
    }
}

/// Totals over the whole chain, as the node reports them (not covered by any proof).
#[component]
fn Totals(stats: ReadSignal<Option<Result<Stats, String>>, LocalStorage>) -> impl IntoView {
    let card = |label: &'static str,
                id: &'static str,
                value: Box<dyn Fn(&Stats) -> String + Send + Sync>| {
        view! {
            <div class="card"><div class="label">{label}</div>
                <div class="value small" id=id>{move || stats.get().and_then(Result::ok).map_or("…".to_owned(), |s| value(&s))}</div></div>
        }
    };
    view! {
        <section class="cards" aria-label="Totals, as the node reports them">
            {card("Transactions", "total-txs", Box::new(|s| s.total_transactions.to_string()))}
            {card("Accounts", "total-accounts", Box::new(|s| s.accounts.to_string()))}
            {card("Supply (JOULE)", "total-supply", Box::new(|s| format_amount(s.supply)))}
            {card("Fees burned (JOULE)", "total-burned", Box::new(|s| format_amount(s.burned)))}
            {card("Waiting in the mempool", "total-pending", Box::new(|s| s.mempool_size.to_string()))}
        </section>
        <p class="claim-label">"Totals as the node reports them."</p>
    }
}

/// The latest transactions, as the node lists them.
#[component]
fn TxTable(list: TxList) -> impl IntoView {
    if list.transactions.is_empty() {
        return view! { <p class="muted">"No transactions yet."</p> }.into_any();
    }
    let now = now_ms();
    let rows = list
        .transactions
        .into_iter()
        .map(|t| {
            let (to, amount) = match &t.tx.tx.payload {
                Payload::Transfer { to, amount } => (*to, format_amount(*amount)),
                _ => (t.tx.tx.sender_address(), "—".to_owned()),
            };
            view! {
                <tr>
                    <td><TxLink id=t.tx.id()/></td>
                    <td class="hide-narrow"><AccountLink address=t.tx.tx.sender_address()/></td>
                    <td><AccountLink address=to/></td>
                    <td>{amount}</td>
                    <td class="muted" title=iso_utc(t.timestamp_ms)>{ago(now, t.timestamp_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table id="latest-txs">
            <thead><tr><th>"Id"</th><th class="hide-narrow">"From"</th><th>"To"</th><th>"JOULE"</th><th>"Age"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
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
        lc.latest
            .with(|b| b.as_ref().map(|b| execution_words(&b.metrics)))
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

/// How the node says it executed a block's shard blocks, in plain words.
pub fn execution_words(metrics: &[joule_light_client::api::ShardExecMetrics]) -> String {
    let txs: u64 = metrics.iter().map(|m| u64::from(m.txs)).sum();
    if txs == 0 {
        return "no transactions".to_owned();
    }
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let parallel = metrics.iter().filter(|m| m.mode.is_parallel()).count() as u64;
    let threads = metrics.iter().map(|m| m.threads).max().unwrap_or(1);
    let reexec: u64 = metrics
        .iter()
        .map(|m| m.incarnations.saturating_sub(u64::from(m.txs)))
        .sum();
    let how = match parallel {
        0 => "each shard ran them in order".to_owned(),
        p if p == metrics.len() as u64 => format!(
            "every shard ran them in parallel, on up to {}",
            plural(u64::from(threads), "thread", "threads")
        ),
        p => format!(
            "{p} of {} shards ran them in parallel (up to {}), the others in order",
            metrics.len(),
            plural(u64::from(threads), "thread", "threads")
        ),
    };
    let redo = match reexec {
        0 => String::new(),
        r => format!(
            "; {} after conflicts",
            plural(r, "re-execution", "re-executions")
        ),
    };
    format!(
        "{}: {how}{redo}",
        plural(txs, "transaction", "transactions")
    )
}

/// The first `rows` of `blocks` (newest first), as the node lists them.
#[component]
pub fn BlockTable(
    #[prop(into)] blocks: Signal<Vec<BlockSummary>>,
    #[prop(default = ROWS)] rows: usize,
) -> impl IntoView {
    let limit = rows;
    let rows = move || {
        let now = now_ms();
        blocks.with(|b| {
            b.iter()
                .take(limit)
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
                            <td class="muted" title=iso_utc(b.timestamp_ms)>{ago(now, b.timestamp_ms)}</td>
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
