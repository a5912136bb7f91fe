//! One transaction: what it does in words, its outcome, fee, place in the chain and
//! cross-shard receipt, all proven in the browser; where the node says a transaction stands
//! when it is not in a block yet.

use std::time::Duration;

use joule_light_client::api::{BlockResponse, TxResponse, TxState};
use joule_light_client::units::format_amount;
use joule_light_client::{ExecStatus, Hash, Payload, ProvenCredit, ProvenReceipt, ProvenTx};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{describe_tx, iso_utc};
use crate::proofs::{prove_credit, prove_receipt, prove_tx, Trust};
use crate::ui::{loaded, Claimed, CopyButton, NotVerified, VerifiedMark};

/// A cross-shard receipt, as far as it is proven.
#[derive(Debug, Clone)]
enum ReceiptVerdict {
    /// Emitted (proven in the source shard) and credited (proven in the destination).
    Credited(ProvenReceipt, ProvenCredit),
    /// Emitted (proven); the node says it has not been credited yet.
    Emitted(ProvenReceipt),
    /// The node's receipt, or its credit, did not verify.
    Failed(String),
}

/// What the page shows: the transaction proven included (with its receipt, if it emits one),
/// or why not.
type Verdict = Option<Result<(ProvenTx, Option<ReceiptVerdict>), String>>;

async fn load(lc: LightClient, id: String) -> Result<(TxResponse, Verdict), String> {
    let id: Hash = id
        .parse()
        .map_err(|_| "not a transaction id: expected 64 hex digits".to_owned())?;
    let answer: TxResponse = api::get(&format!("/transactions/{id}")).await?;
    // Even a pending transaction must be the one asked for: its bytes hash to the id.
    if answer.tx.id() != id {
        return Err("the node answered with another transaction than the one asked for".into());
    }
    let Some(inc) = &answer.inclusion else {
        return Ok((answer, None));
    };
    let block: BlockResponse = api::get(&format!("/blocks/{}", inc.at.height)).await?;
    let verdict = match live::trusted(lc).await {
        Err(e) => Err(e),
        Ok(trust) => match prove_tx(&trust, &block, &id, &answer) {
            Err(e) => Err(e),
            Ok((proven_block, tx)) => {
                let receipt = receipt_verdict(&trust, &proven_block, &tx, &answer).await;
                Ok((tx, receipt))
            }
        },
    };
    Ok((answer, Some(verdict)))
}

/// Proves the receipt a proven transfer to another shard must have emitted, and its credit.
async fn receipt_verdict(
    trust: &Trust,
    block: &joule_light_client::ProvenBlock,
    tx: &ProvenTx,
    answer: &TxResponse,
) -> Option<ReceiptVerdict> {
    let shards = trust.genesis.shard_count;
    let crosses = match &tx.tx().tx.payload {
        Payload::Transfer { to, .. } => to.shard(shards) != tx.at().shard,
        _ => false,
    };
    let emits = crosses && tx.outcome().status == ExecStatus::Success;
    let view = match (emits, &answer.receipt) {
        (false, None) => return None,
        (false, Some(_)) => {
            return Some(ReceiptVerdict::Failed(
                "the node sent a receipt, but this transaction emits none".into(),
            ))
        }
        (true, None) => {
            return Some(ReceiptVerdict::Failed(
                "the node sent no receipt for this transfer to another shard".into(),
            ))
        }
        (true, Some(view)) => view,
    };
    let receipt = match prove_receipt(tx, block, view) {
        Ok(r) => r,
        Err(e) => return Some(ReceiptVerdict::Failed(format!("receipt: {e}"))),
    };
    let Some(applied) = &view.applied else {
        return Some(ReceiptVerdict::Emitted(receipt));
    };
    let dest = match api::get::<BlockResponse>(&format!("/blocks/{}", applied.at.height)).await {
        Ok(b) => b,
        Err(e) => return Some(ReceiptVerdict::Failed(format!("credit: {e}"))),
    };
    Some(match prove_credit(trust, &receipt, &dest, view) {
        Ok(credit) => ReceiptVerdict::Credited(receipt, credit),
        Err(e) => ReceiptVerdict::Failed(format!("credit: {e}")),
    })
}

/// `/transactions/:id`.
#[component]
pub fn TransactionPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let tick = RwSignal::new(0u32);
    let data = loaded(move || {
        tick.track();
        Box::pin(load(lc, params.read().get("id").unwrap_or_default()))
    });
    // While it waits for a block, or its receipt for its credit, the page asks again: the
    // credit appears (proven) without reopening the page.
    let moving = move || {
        data.with_untracked(|r| match r {
            Some(Ok((answer, None))) => answer.state == TxState::Pending,
            Some(Ok((_, Some(Ok((_, receipt)))))) => {
                matches!(receipt, Some(ReceiptVerdict::Emitted(_)))
            }
            _ => false,
        })
    };
    if let Ok(h) = set_interval_with_handle(
        move || {
            if moving() {
                tick.update(|t| *t += 1);
            }
        },
        Duration::from_secs(2),
    ) {
        on_cleanup(move || h.clear());
    }
    view! {
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((answer, verdict)) => view! { <TxView answer=answer verdict=verdict/> }.into_any(),
            }).unwrap_or_else(|| view! { <p class="muted">"Loading transaction…"</p> }.into_any())}
    }
}

/// How a row's value is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// As text.
    Plain,
    /// With a copy button.
    Copy,
    /// An address: a link to its account page, with a copy button.
    Account,
}

/// Rows of a table: (label, value, how it is shown).
fn rows_view(rows: Vec<(&'static str, String, Kind)>) -> impl IntoView {
    view! {
        <table><tbody>
            {rows.into_iter().map(|(k, v, kind)| {
                let button = (kind != Kind::Plain).then(|| view! { " "<CopyButton text=v.clone() what=k.to_ascii_lowercase()/> });
                let value = if kind == Kind::Account {
                    view! { <A href=format!("/accounts/{v}")>{v}</A> }.into_any()
                } else {
                    v.into_any()
                };
                view! { <tr><th>{k}</th><td class="mono">{value}{button}</td></tr> }
            }).collect_view()}
        </tbody></table>
    }
}

/// What the signed bytes say (they hash to the id asked for, so these are its fields).
fn signed_fields(tx: &joule_light_client::SignedTransaction) -> Vec<(&'static str, String, Kind)> {
    let mut rows = vec![
        ("Id", tx.id().to_hex(), Kind::Copy),
        ("From", tx.tx.sender_address().to_string(), Kind::Account),
    ];
    if let Payload::Transfer { to, amount } = &tx.tx.payload {
        rows.push(("To", to.to_string(), Kind::Account));
        rows.push((
            "Amount",
            format!("{} JOULE", format_amount(*amount)),
            Kind::Plain,
        ));
    }
    rows.push(("Nonce", tx.tx.nonce.to_string(), Kind::Plain));
    rows.push((
        "Max fee",
        format!("{} JOULE", format_amount(tx.tx.max_fee)),
        Kind::Plain,
    ));
    rows
}

/// An included transaction: every value from the light client's [`ProvenTx`].
/// Where a market or governance transaction leads: its proposal's page, its interval's.
fn related(
    tx: &joule_light_client::SignedTransaction,
    id: joule_light_client::Hash,
) -> Option<impl IntoView> {
    use joule_light_client::Payload;
    let (href, words) = match tx.tx.payload {
        Payload::Propose { .. } => (
            format!("/dao/proposals/{id}"),
            "Open the proposal".to_owned(),
        ),
        Payload::Vote { proposal, .. } | Payload::CancelProposal { proposal } => (
            format!("/dao/proposals/{proposal}"),
            "Open the proposal".to_owned(),
        ),
        Payload::PlaceOrder { interval, .. } | Payload::Reading { interval, .. } => (
            format!("/market/intervals/{interval}"),
            format!("Open interval {interval}"),
        ),
        _ => return None,
    };
    Some(view! { <p><A href=href attr:id="tx-related">{words}</A></p> })
}

#[component]
fn ProvenView(tx: ProvenTx, receipt: Option<ReceiptVerdict>) -> impl IntoView {
    let at = tx.at();
    let status = match tx.outcome().status {
        ExecStatus::Success => "Included: succeeded".to_owned(),
        other => format!("Included: failed ({}); the fee was charged", other.label()),
    };
    let mut rows = signed_fields(tx.tx());
    rows.push((
        "Fee paid",
        format!("{} JOULE", format_amount(tx.outcome().fee)),
        Kind::Plain,
    ));
    rows.push(("Time (UTC)", iso_utc(at.timestamp_ms), Kind::Plain));
    rows.push(("Shard", at.shard.to_string(), Kind::Plain));
    rows.push(("Position", tx.index().to_string(), Kind::Plain));
    let covers = format!(
        "Inclusion verified in your browser: the id recomputed from the signed bytes, block #{}'s commit, shard {}'s header and the outcome's Merkle proof. What follows, down to the receipt, is what was proven.",
        at.height, at.shard
    );
    let h = at.height;
    view! {
        <VerifiedMark id="tx-verified" covers=covers/>
        <p class="lead" id="tx-summary">{describe_tx(tx.tx())}</p>
        {related(tx.tx(), tx.id())}
        <p id="tx-status">{status}</p>
        <p>"In block "<A href=format!("/blocks/{h}")>{format!("#{h}")}</A></p>
        {rows_view(rows)}
        {receipt.map(|r| view! { <ReceiptView verdict=r/> })}
    }
}

#[component]
fn ReceiptView(verdict: ReceiptVerdict) -> impl IntoView {
    let described = |r: &ProvenReceipt| {
        let r = r.receipt();
        format!(
            "{} JOULE from shard {} to shard {}, emitted in block #{}",
            format_amount(r.amount),
            r.source_shard,
            r.dest_shard,
            r.source_height
        )
    };
    match verdict {
        ReceiptVerdict::Credited(r, c) => view! {
            <p class="verified" id="tx-receipt">{format!(
                "✓ Cross-shard receipt verified: {}, and credited by shard {} in block #{} (both proven in your browser).",
                described(&r), c.at().shard, c.at().height
            )}</p>
        }
        .into_any(),
        ReceiptVerdict::Emitted(r) => view! {
            <p class="verified" id="tx-receipt">{format!("✓ Cross-shard receipt verified: {}.", described(&r))}</p>
            <Claimed what="that it has not been credited yet" note="A credit is proven here once the node reports the block that applied it.">
                <p id="tx-receipt-pending">{format!("On its way to shard {}.", r.receipt().dest_shard)}</p>
            </Claimed>
        }
        .into_any(),
        ReceiptVerdict::Failed(why) => view! {
            <div id="tx-receipt"><NotVerified reason=why/></div>
        }
        .into_any(),
    }
}

#[component]
fn TxView(answer: TxResponse, verdict: Verdict) -> impl IntoView {
    match verdict {
        Some(Ok((tx, receipt))) => view! {
            <h1>"Transaction"</h1>
            <ProvenView tx=tx receipt=receipt/>
        }
        .into_any(),
        Some(Err(reason)) => view! {
            <h1>"Transaction"</h1>
            <NotVerified reason=reason/>
            <Claimed what="this transaction and where it stands" note="The fields are decoded from signed bytes that hash to this id.">
                <p class="lead" id="tx-summary">{describe_tx(&answer.tx)}</p>
                <p id="tx-status">{answer.inclusion.as_ref().map_or("Included".to_owned(), |inc| format!("Included in block #{}", inc.at.height))}</p>
                {rows_view(signed_fields(&answer.tx))}
            </Claimed>
        }
        .into_any(),
        None => {
            let status = match &answer.state {
                TxState::Pending => "Pending: in the mempool, not in a block yet".to_owned(),
                TxState::Dropped { reason } => format!("Dropped: {reason}"),
                TxState::Included => "Included".to_owned(),
            };
            view! {
                <h1>"Transaction"</h1>
                <p class="muted">"Not in a block yet: nothing to verify."</p>
                <Claimed what="where this transaction stands" note="Its fields are decoded from signed bytes that hash to this id.">
                    <p class="lead" id="tx-summary">{describe_tx(&answer.tx)}</p>
                    <p id="tx-status">{status}</p>
                    {rows_view(signed_fields(&answer.tx))}
                </Claimed>
            }
            .into_any()
        }
    }
}
