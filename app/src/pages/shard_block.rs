//! One shard block: its header, how it was executed, its transactions (paginated) and its
//! receipts in and out, verified in the browser.

use joule_light_client::api::{BlockResponse, ShardBlockResponse};
use joule_light_client::units::format_amount;
use joule_light_client::Payload;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{short_address, short_hash, under, verify_shard_block, Verdict};
use crate::ui::{page_param, NotVerified, Pager};

/// Transactions per page.
const PAGE: u32 = 25;

async fn load(
    lc: LightClient,
    height: String,
    shard: String,
    page: u32,
) -> Result<(BlockResponse, ShardBlockResponse, Verdict), String> {
    let block: BlockResponse = api::get(&format!("/blocks/{height}")).await?;
    let sb: ShardBlockResponse = api::get(&format!(
        "/blocks/{height}/shards/{shard}?page={page}&limit={PAGE}"
    ))
    .await?;
    let trust = live::trusted(lc).await;
    let verdict = under(&trust, |t| verify_shard_block(t, &block, &sb));
    Ok((block, sb, verdict))
}

/// `/blocks/:height/shards/:shard?page=N`.
#[component]
pub fn ShardBlockPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let lc = expect_context::<LightClient>();
    let data = LocalResource::new(move || {
        let p = params.read();
        let page = page_param(query);
        load(
            lc,
            p.get("height").unwrap_or_default(),
            p.get("shard").unwrap_or_default(),
            page,
        )
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading shard block…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((b, sb, verdict)) => view! { <ShardBlockView b=b sb=sb verdict=verdict/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn ShardBlockView(b: BlockResponse, sb: ShardBlockResponse, verdict: Verdict) -> impl IntoView {
    let h = b.header.height;
    let s = sb.shard.shard;
    let mark = match verdict {
        Verdict::Verified => view! {
            <p class="verified" id="shard-verified">"✓ Verified in your browser: block commit, this shard header's place in the block, and both receipt lists."</p>
        }
        .into_any(),
        Verdict::Failed(reason) => view! { <NotVerified reason=reason/> }
        .into_any(),
    };
    let metrics = b.metrics.iter().find(|m| m.shard == s).map(|m| {
        let how = m.mode.label();
        let reexec = m.incarnations.saturating_sub(u64::from(m.txs));
        format!(
            "Executed {how} on {} thread(s) in {:.1} ms: {} transactions, {reexec} re-executions, {} validations (reported by the node).",
            m.threads,
            m.exec_us as f64 / 1e3,
            m.txs,
            m.validations
        )
    });
    let txs = sb
        .transactions
        .items
        .iter()
        .map(|t| {
            let (to, amount) = match &t.tx.tx.payload {
                Payload::Transfer { to, amount } => (short_address(to), format_amount(*amount)),
                _ => ("—".to_owned(), "—".to_owned()),
            };
            let (href, text) = (format!("/transactions/{}", t.id), short_hash(&t.id));
            view! {
                <tr>
                    <td>{t.index}</td>
                    <td class="mono"><A href=href>{text}</A></td>
                    <td class="mono hide-narrow">{short_address(&t.sender)}</td>
                    <td class="mono hide-narrow">{to}</td>
                    <td>{amount}</td>
                    <td>{format!("{:?}", t.outcome.status)}</td>
                </tr>
            }
        })
        .collect_view();
    let receipts = |list: &[joule_light_client::Receipt]| {
        list.iter()
            .map(|r| {
                view! {
                    <tr>
                        <td>{format!("{} → {}", r.source_shard, r.dest_shard)}</td>
                        <td class="mono">{short_address(&r.to)}</td>
                        <td>{format_amount(r.amount)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let (outgoing, incoming) = (
        receipts(&sb.outgoing_receipts),
        receipts(&sb.incoming_receipts),
    );
    let page = sb.transactions.page;
    let pages = sb
        .transactions
        .total
        .div_ceil(u64::from(PAGE.max(1)))
        .max(1);
    let block_href = format!("/blocks/{h}");
    view! {
        <h1>{format!("Block #{h}, shard {s}")}</h1>
        {mark}
        <p><A href=block_href>"← the whole block"</A></p>
        {metrics.map(|m| view! { <p class="muted" id="shard-metrics">{m}</p> })}
        <table><tbody>
            <tr><th>"Transactions"</th><td>{sb.shard.tx_count}</td></tr>
            <tr><th>"Fees (burned)"</th><td>{format!("{} JOULE", format_amount(sb.shard.fees))}</td></tr>
            <tr><th>"State root"</th><td class="mono">{sb.shard.state_root.to_hex()}</td></tr>
            <tr><th>"Transaction root"</th><td class="mono">{sb.shard.tx_root.to_hex()}</td></tr>
        </tbody></table>
        <h2>{format!("Transactions (page {} of {pages})", page + 1)}</h2>
        <table>
            <thead><tr><th>"#"</th><th>"Id"</th><th class="hide-narrow">"From"</th><th class="hide-narrow">"To"</th><th>"Amount"</th><th>"Outcome"</th></tr></thead>
            <tbody>{txs}</tbody>
        </table>
        <Pager base=format!("/blocks/{h}/shards/{s}") page=page pages=pages/>
        <h2>{format!("Receipts out ({})", sb.outgoing_receipts.len())}</h2>
        <table><thead><tr><th>"Shards"</th><th>"To"</th><th>"Amount"</th></tr></thead><tbody>{outgoing}</tbody></table>
        <h2>{format!("Receipts in ({})", sb.incoming_receipts.len())}</h2>
        <table><thead><tr><th>"Shards"</th><th>"To"</th><th>"Amount"</th></tr></thead><tbody>{incoming}</tbody></table>
    }
}
