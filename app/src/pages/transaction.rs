//! One transaction: what it does in words, its status, fee and receipt, and its inclusion
//! verified in the browser.

use joule_light_client::api::{BlockResponse, TxResponse, TxState};
use joule_light_client::units::format_amount;
use joule_light_client::{ExecStatus, Hash, Payload};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{describe_tx, under, verify_tx_inclusion, Verdict};
use crate::ui::{CopyButton, NotVerified};

async fn load(lc: LightClient, id: String) -> Result<(TxResponse, Option<Verdict>), String> {
    let id: Hash = id
        .parse()
        .map_err(|_| "not a transaction id: expected 64 hex digits".to_owned())?;
    let tx: TxResponse = api::get(&format!("/transactions/{id}")).await?;
    let verdict = match &tx.inclusion {
        Some(inc) => {
            let block: BlockResponse = api::get(&format!("/blocks/{}", inc.at.height)).await?;
            let trust = live::trusted(lc).await;
            Some(under(&trust, |t| verify_tx_inclusion(t, &block, &tx)))
        }
        None => None,
    };
    Ok((tx, verdict))
}

/// `/transactions/:id`.
#[component]
pub fn TransactionPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let data = LocalResource::new(move || load(lc, params.read().get("id").unwrap_or_default()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading transaction…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((tx, verdict)) => view! { <TxView tx=tx verdict=verdict/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TxView(tx: TxResponse, verdict: Option<Verdict>) -> impl IntoView {
    let status = match (&tx.state, &tx.inclusion) {
        (TxState::Pending, _) => "Pending: in the mempool, not in a block yet".to_owned(),
        (TxState::Dropped { reason }, _) => format!("Dropped: {reason}"),
        (TxState::Included, Some(inc)) => match inc.outcome.status {
            ExecStatus::Success => "Included: succeeded".to_owned(),
            other => format!("Included: failed ({other:?}); the fee was charged"),
        },
        (TxState::Included, None) => "Included".to_owned(),
    };
    let mark = match verdict {
        Some(Verdict::Verified) => view! {
            <p class="verified" id="tx-verified">"✓ Inclusion verified in your browser: block commit, shard header and the outcome's Merkle proof."</p>
        }
        .into_any(),
        Some(Verdict::Failed(reason)) => view! { <NotVerified reason=reason/> }
        .into_any(),
        None => view! { <p class="muted">"Not in a block yet: nothing to verify."</p> }.into_any(),
    };
    // (label, value, whether it gets a copy button)
    let mut fields = vec![
        ("Id", tx.id.to_hex(), true),
        ("From", tx.sender.to_string(), true),
    ];
    if let Payload::Transfer { to, amount } = &tx.tx.tx.payload {
        fields.push(("To", to.to_string(), true));
        fields.push(("Amount", format!("{} JOULE", format_amount(*amount)), false));
    }
    fields.push(("Nonce", tx.tx.tx.nonce.to_string(), false));
    fields.push((
        "Max fee",
        format!("{} JOULE", format_amount(tx.tx.tx.max_fee)),
        false,
    ));
    if let Some(inc) = &tx.inclusion {
        fields.push((
            "Fee paid",
            format!("{} JOULE", format_amount(inc.outcome.fee)),
            false,
        ));
        fields.push(("Shard", inc.at.shard_header.shard.to_string(), false));
        fields.push(("Position", inc.index.to_string(), false));
    }
    let block_link = tx.inclusion.as_ref().map(|inc| {
        let h = inc.at.height;
        view! { <p>"In block "<A href=format!("/blocks/{h}")>{format!("#{h}")}</A></p> }
    });
    let receipt = tx.receipt.as_ref().map(|r| {
        let where_ = match &r.applied {
            Some(a) => format!("credited by shard {} in block #{}", r.receipt.dest_shard, a.at.height),
            None => format!("on its way to shard {}", r.receipt.dest_shard),
        };
        view! { <p id="tx-receipt">{format!("Cross-shard receipt: {} JOULE {where_}.", format_amount(r.receipt.amount))}</p> }
    });
    view! {
        <h1>"Transaction"</h1>
        <p class="lead" id="tx-summary">{describe_tx(&tx)}</p>
        <p id="tx-status">{status}</p>
        {mark}
        {block_link}
        {receipt}
        <table><tbody>
            {fields.into_iter().map(|(k, v, copy)| {
                let button = copy.then(|| view! { " "<CopyButton text=v.clone() what=k.to_lowercase()/> });
                view! { <tr><th>{k}</th><td class="mono">{v}{button}</td></tr> }
            }).collect_view()}
        </tbody></table>
    }
}
