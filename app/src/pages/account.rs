//! One account: balance and nonce proven against a shard state root, its history as the node
//! reports it (paginated, each row linking to its verified transaction page), and a CSV
//! export of the whole history.

use joule_light_client::api::{AccountResponse, BlockResponse};
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Payload, ProvenAccount};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{ago, history_csv, iso_utc};
use crate::now_ms;
use crate::proofs::{check_fresh, prove_account};
use crate::ui::{
    download_text, loaded, page_param, AccountLink, BlockLink, Claimed, CopyButton, NotVerified,
    Pager, TxLink, VerifiedMark,
};

/// Transactions per page.
const PAGE: u32 = 25;

/// Page size when exporting (the API's largest).
const EXPORT_PAGE: u32 = 100;

/// Rows exported at most (a devnet faucet account can have a very long history).
const EXPORT_MAX: u64 = 10_000;

/// An account's state proven in this browser, current as the light client knows it: the
/// account at `address`, proven from a block commit through its shard header to the state
/// proof, in a block no older than [`check_fresh`] allows.
pub type AccountVerdict = Result<ProvenAccount, String>;

async fn load(
    lc: LightClient,
    address: String,
    page: u32,
) -> Result<(Address, AccountResponse, AccountVerdict), String> {
    // Checked here too, so a typo gets a clear message without a round trip.
    let address = Address::parse(&address).map_err(|e| format!("not an address: {e}"))?;
    let (answer, verdict) = verified_account_page(lc, address, page).await?;
    Ok((address, answer, verdict))
}

/// An account's state from the node, proven in this browser.
pub async fn verified_account(
    lc: LightClient,
    address: Address,
) -> Result<(AccountResponse, AccountVerdict), String> {
    verified_account_page(lc, address, 0).await
}

async fn verified_account_page(
    lc: LightClient,
    address: Address,
    page: u32,
) -> Result<(AccountResponse, AccountVerdict), String> {
    let answer: AccountResponse =
        api::get(&format!("/accounts/{address}?page={page}&limit={PAGE}")).await?;
    let verdict = match &answer.proof {
        Some(p) => {
            let block: BlockResponse = api::get(&format!("/blocks/{}", p.at.height)).await?;
            live::trusted(lc).await.and_then(|trust| {
                let proven = prove_account(&trust, &block, &address, &answer)?;
                check_fresh(&trust, &proven.at(), now_ms())?;
                Ok(proven)
            })
        }
        None => Err("no block yet: nothing to verify against".into()),
    };
    Ok((answer, verdict))
}

/// Every page of `address`'s history as CSV (at most [`EXPORT_MAX`] rows); the row count.
async fn export(address: Address) -> Result<usize, String> {
    let mut items = Vec::new();
    for page in 0.. {
        let acc: AccountResponse = api::get(&format!(
            "/accounts/{address}?page={page}&limit={EXPORT_PAGE}"
        ))
        .await?;
        let done = acc.transactions.items.len() < EXPORT_PAGE as usize;
        items.extend(acc.transactions.items);
        if done || items.len() as u64 >= acc.transactions.total.min(EXPORT_MAX) {
            break;
        }
    }
    items.truncate(EXPORT_MAX as usize);
    download_text(
        &format!("joule-{address}.csv"),
        "text/csv;charset=utf-8",
        &history_csv(&address, &items),
    )?;
    Ok(items.len())
}

/// `/accounts/:address?page=N`.
#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let lc = expect_context::<LightClient>();
    let data = loaded(move || {
        let page = page_param(query);
        Box::pin(load(
            lc,
            params.read().get("address").unwrap_or_default(),
            page,
        ))
    });
    view! {
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((address, answer, verdict)) => view! { <AccountView address=address answer=answer verdict=verdict/> }.into_any(),
            }).unwrap_or_else(|| view! { <p class="muted">"Loading account…"</p> }.into_any())}
    }
}

/// The export button and what became of the last export.
#[component]
fn ExportButton(address: Address, total: u64) -> impl IntoView {
    let note = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let run = move |_| {
        busy.set(true);
        spawn_local(async move {
            note.set(Some(export(address).await.map(|n| {
                let capped = if total > EXPORT_MAX {
                    format!(" (the newest {EXPORT_MAX})")
                } else {
                    String::new()
                };
                let noun = if n == 1 {
                    "transaction"
                } else {
                    "transactions"
                };
                format!("Saved {n} {noun}{capped} as CSV.")
            })));
            busy.set(false);
        });
    };
    view! {
        <button type="button" id="export-csv" on:click=run disabled=move || busy.get() || total == 0>
            {move || if busy.get() { "Exporting…" } else { "Export history (CSV)" }}
        </button>
        {move || note.get().map(|r| match r {
            Ok(m) => view! { <span class="muted" id="export-note" role="status">" "{m}</span> }.into_any(),
            Err(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
        })}
    }
}

/// The proven state: every value here comes from the light client's [`ProvenAccount`].
#[component]
fn ProvenState(proven: ProvenAccount) -> impl IntoView {
    let at = proven.at();
    let covers = if proven.exists() {
        format!(
            "Balance and nonce verified in your browser: proven against the state root of shard {} in block #{} ({}), whose commit you verified.",
            at.shard,
            at.height,
            iso_utc(at.timestamp_ms)
        )
    } else {
        format!(
            "That no account exists here verified in your browser: proven absent from the state root of shard {} in block #{} ({}), whose commit you verified.",
            at.shard,
            at.height,
            iso_utc(at.timestamp_ms)
        )
    };
    let nonce = if proven.exists() {
        proven.nonce().to_string()
    } else {
        "— (no account yet)".to_owned()
    };
    view! {
        <VerifiedMark id="account-verified" covers=covers/>
        <table><tbody>
            <tr><th>"Shard"</th><td class="mono" id="acc-shard">{at.shard}</td></tr>
            <tr><th>"Balance"</th><td class="mono" id="acc-balance">{format!("{} JOULE", format_amount(proven.balance()))}</td></tr>
            <tr><th>"Nonce"</th><td class="mono" id="acc-nonce">{nonce}</td></tr>
        </tbody></table>
    }
}

/// The node's maintenance flag on a meter, if it raised one (its opinion: not proven).
#[component]
fn MeterFlag(address: Address) -> impl IntoView {
    let flags = crate::ui::loaded(|| {
        Box::pin(crate::api::get::<joule_light_client::api::AnomaliesResponse>("/market/anomalies"))
    });
    move || {
        flags.get().and_then(Result::ok).map(|r| {
            let note = r.flags.iter().find(|f| f.meter == address).map_or_else(
                || "A meter: the node raises no flag on its readings.".to_owned(),
                |f| format!("⚠ A meter the node flags: {} (from interval {}).", f.anomaly, f.interval),
            );
            view! { <p class="claim-label" id="meter-flag">{note}" (the node's anomaly rules; not proven)"</p> }
        })
    }
}

#[component]
fn AccountView(
    address: Address,
    answer: AccountResponse,
    verdict: AccountVerdict,
) -> impl IntoView {
    let state = match verdict {
        Ok(proven) => view! { <ProvenState proven=proven/> }.into_any(),
        Err(reason) => view! {
            <NotVerified reason=reason/>
            <p class="muted">"Balance and nonce are shown only once your browser has proven them."</p>
        }
        .into_any(),
    };
    // A meter's account signs its readings: its page also says whether the node flags it.
    let is_meter = answer
        .transactions
        .items
        .iter()
        .any(|t| matches!(t.tx.tx.payload, Payload::Reading { .. }) && t.sender == address);
    let meter = is_meter.then(|| view! { <MeterFlag address=address/> });
    let now = crate::now_ms();
    let history = answer
        .transactions
        .items
        .iter()
        .map(|t| {
            let sender = t.tx.tx.sender_address();
            let (to, amount) = match &t.tx.tx.payload {
                Payload::Transfer { to, amount } => (*to, *amount),
                _ => (sender, 0),
            };
            let (direction, other, sign) = match (sender == address, to == address) {
                (true, true) => ("Self", address, ""),
                (true, false) => ("Out", to, "−"),
                _ => ("In", sender, "+"),
            };
            view! {
                <tr>
                    <td class="hide-narrow" title=iso_utc(t.timestamp_ms)>{ago(now, t.timestamp_ms)}</td>
                    <td><TxLink id=t.tx.id()/></td>
                    <td class="hide-narrow"><BlockLink height=t.height/></td>
                    <td><span class=format!("dir dir-{}", direction.to_ascii_lowercase())>{direction}</span></td>
                    <td><AccountLink address=other/></td>
                    <td class="num">{format!("{sign}{} JOULE", format_amount(amount))}</td>
                    <td>{t.outcome.status.label()}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = answer.transactions.items.is_empty();
    let total = answer.transactions.total;
    let pages = total.div_ceil(u64::from(PAGE)).max(1);
    let page = answer.transactions.page;
    view! {
        <h1>"Account"</h1>
        <table><tbody>
            <tr><th>"Address"</th><td class="mono" id="acc-address">{address.to_string()}" "<CopyButton text=address.to_string() what="address"/></td></tr>
        </tbody></table>
        {state}
        {meter}
        <h2>{format!("Transactions ({total})")}</h2>
        <Claimed what="this account's history" note="Each row links to its transaction page, where its inclusion is verified; a node could leave rows out.">
            <p><ExportButton address=address total=total/></p>
            {if empty {
                view! { <p class="muted">"No transactions yet."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Newest first."</p>
                    <table id="history">
                        <thead><tr><th class="hide-narrow">"Age"</th><th>"Id"</th><th class="hide-narrow">"Block"</th><th>"Direction"</th><th>"Counterparty"</th><th>"Amount"</th><th>"Status"</th></tr></thead>
                        <tbody>{history}</tbody>
                    </table>
                    <Pager base=format!("/accounts/{address}") page=page pages=pages/>
                }.into_any()
            }}
        </Claimed>
    }
}
