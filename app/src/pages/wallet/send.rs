//! Sending: recipient and amount checked where they are typed, then — from proven values only
//! — a focused preview of exactly what will be signed (Escape cancels), signing in the page,
//! and following the transaction until it is in a block.

use std::sync::Arc;

use joule_light_client::api::{SubmitRequest, SubmitResponse, TxResponse, TxState};
use joule_light_client::units::{format_amount, parse_amount};
use joule_light_client::{Address, Encode, Hash, Payload, ProvenAccount, ProvenAt, Transaction};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::Balances;
use crate::live::{self, LightClient};
use crate::model::{iso_utc, short_address};
use crate::pages::account::verified_account;
use crate::proofs::Trust;
use crate::wallet::draft::{self, DraftError};
use crate::wallet::pending::{self, Sent};
use crate::wallet::session::{Unlocked, WalletSession};
use crate::{api, now_ms};

/// A transfer ready to sign, and what the preview shows.
#[derive(Clone)]
struct Draft {
    from: u32,
    tx: Transaction,
    /// Where the balance and nonce it was checked against were proven.
    at: ProvenAt,
    /// The proven balance.
    balance: u64,
    /// The chain's genesis hash (where the wallet keeps what it sent).
    genesis: Hash,
}

/// The sending account's proven state and what this wallet sent, after noting those of its
/// pending transactions the node reports dropped or does not know (which can only lower the
/// nonce, never raise it).
pub(crate) async fn proven_sender(
    lc: LightClient,
    sender: Address,
) -> Result<(Trust, ProvenAccount, Vec<Sent>), String> {
    let trust = live::trusted(lc).await.map_err(|why| {
        format!("Nothing will be signed: this browser cannot verify the chain ({why}).")
    })?;
    let (_, verdict) = verified_account(lc, sender).await?;
    let account = verdict.map_err(|why| {
        format!("Nothing will be signed: your account's state could not be proven ({why}).")
    })?;
    let genesis = trust.genesis.hash();
    let sent = pending::load(&genesis);
    for s in pending::pending(&sent, &sender, account.nonce()) {
        match api::get_optional::<TxResponse>(&format!("/transactions/{}", s.id)).await? {
            None => pending::mark_dropped(&genesis, &s.id, "unknown to the node"),
            Some(TxResponse {
                state: TxState::Dropped { reason },
                ..
            }) => pending::mark_dropped(&genesis, &s.id, &reason),
            Some(_) => {}
        }
    }
    Ok((trust, account, pending::load(&genesis)))
}

/// Moves focus to `el` and brings it into view.
fn focus(el: &web_sys::HtmlElement) {
    el.scroll_into_view();
    let _ = el.focus();
}

#[component]
pub fn SendForm(u: Arc<Unlocked>) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let lc = expect_context::<LightClient>();
    let balances = expect_context::<Balances>();
    let from = RwSignal::new(0u32);
    let to = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let to_error = RwSignal::new(None::<String>);
    let amount_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let draft = RwSignal::new(None::<Draft>);
    let sent = RwSignal::new(None::<Hash>);
    let status = RwSignal::new(None::<String>);
    let preview_ref = NodeRef::<html::Section>::new();
    let review_ref = NodeRef::<html::Button>::new();
    // The preview takes focus when it opens, so a keyboard or screen-reader user lands on it.
    Effect::new(move |_| {
        if draft.with(Option::is_some) {
            if let Some(el) = preview_ref.get() {
                focus(&el);
            }
        }
    });
    let cancel = move || {
        draft.set(None);
        if let Some(b) = review_ref.get_untracked() {
            let _ = b.focus();
        }
    };
    let u_review = u.clone();
    let review = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        session.touch(now_ms());
        draft.set(None);
        error.set(None);
        let recipient = Address::parse(to.get_untracked().trim());
        to_error.set(recipient.as_ref().err().map(|e| format!("Recipient: {e}")));
        let units = parse_amount(&amount.get_untracked()).filter(|a| *a > 0);
        amount_error.set(
            units
                .is_none()
                .then(|| "A positive number of JOULE, at most 9 decimals.".to_owned()),
        );
        let (Ok(recipient), Some(units)) = (recipient, units) else {
            return;
        };
        let i = from.get_untracked();
        let sender_key = u_review.key(i).public_key();
        let sender = u_review.address(i);
        spawn_local(async move {
            let r = async {
                let (trust, account, sent) =
                    proven_sender(lc, sender).await.map_err(DraftError::State)?;
                let tx = draft::transfer(
                    &trust,
                    &account,
                    sender_key,
                    &sent,
                    recipient,
                    units,
                    now_ms(),
                )?;
                Ok::<_, DraftError>(Draft {
                    from: i,
                    tx,
                    at: account.at(),
                    balance: account.balance(),
                    genesis: trust.genesis.hash(),
                })
            }
            .await;
            match r {
                Ok(d) => draft.set(Some(d)),
                Err(DraftError::Amount(e)) => amount_error.set(Some(e)),
                Err(DraftError::State(e)) => error.set(Some(e)),
            }
        });
    };
    let u_max = u.clone();
    let fill_max = move |_| {
        session.touch(now_ms());
        let sender = u_max.address(from.get_untracked());
        spawn_local(async move {
            match proven_sender(lc, sender).await {
                Ok((trust, account, sent)) => {
                    amount_error.set(None);
                    amount.set(format_amount(draft::max_amount(&trust, &account, &sent)));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let u_sign = u.clone();
    let sign_and_send = move || {
        session.touch(now_ms());
        let Some(d) = draft.get_untracked() else {
            return;
        };
        let stx = d.tx.clone().sign(&u_sign.key(d.from));
        let id = stx.id();
        let Payload::Transfer { to, amount } = stx.tx.payload.clone() else {
            return;
        };
        let record = Sent {
            id,
            from: stx.tx.sender_address(),
            to,
            amount,
            nonce: stx.tx.nonce,
            spend: amount.saturating_add(stx.tx.max_fee),
            sent_ms: now_ms(),
            dropped: None,
        };
        draft.set(None);
        status.set(Some("Submitting…".into()));
        spawn_local(async move {
            let r: Result<SubmitResponse, String> = api::post(
                "/transactions",
                &SubmitRequest {
                    tx: hex::encode(stx.encode()),
                },
            )
            .await;
            match r {
                Err(e) => status.set(Some(format!("Refused: {e}"))),
                Ok(_) => {
                    pending::record(&d.genesis, record);
                    sent.set(Some(id));
                    for _ in 0..120 {
                        match api::get::<TxResponse>(&format!("/transactions/{id}")).await {
                            Ok(t) => match t.state {
                                TxState::Included => {
                                    status.set(Some("Included in a block.".into()));
                                    return;
                                }
                                TxState::Dropped { reason } => {
                                    pending::mark_dropped(&d.genesis, &id, &reason);
                                    status.set(Some(format!("Dropped: {reason}")));
                                    return;
                                }
                                TxState::Pending => status.set(Some("Pending…".into())),
                            },
                            Err(e) => status.set(Some(e)),
                        }
                        gloo_timers::future::TimeoutFuture::new(500).await;
                    }
                }
            }
        });
    };
    // The picker names each account by its address and proven balance.
    let options = move || {
        let shown = balances.0.get();
        (0..u.accounts)
            .map(|i| {
                let balance = shown
                    .get(&i)
                    .map_or("…".to_owned(), |b| format!("{} JOULE", format_amount(*b)));
                let label = format!(
                    "Account {i} · {} · {balance}",
                    short_address(&u.address(i))
                );
                view! { <option value=i.to_string() selected=move || from.get() == i>{label}</option> }
            })
            .collect_view()
    };
    let field_error = |id: &'static str, e: RwSignal<Option<String>>| {
        move || {
            e.get()
                .map(|e| view! { <p class="error field-error" role="alert" id=id>{e}</p> })
        }
    };
    view! {
        <form class="card" on:submit=review>
            <h2>"Send"</h2>
            <label for="send-from">"From"</label>
            <select id="send-from" on:change=move |ev| from.set(event_target_value(&ev).parse().unwrap_or(0))>{options}</select>
            <label for="send-to">"To (joule1… address)"</label>
            <input id="send-to" autocomplete="off" spellcheck="false" aria-describedby="send-to-error"
                on:input=move |ev| { to_error.set(None); to.set(event_target_value(&ev)) }/>
            {field_error("send-to-error", to_error)}
            <label for="send-amount">"Amount (JOULE)"</label>
            <div class="amount-row">
                <input id="send-amount" inputmode="decimal" aria-describedby="send-amount-error" prop:value=move || amount.get()
                    on:input=move |ev| { amount_error.set(None); amount.set(event_target_value(&ev)) }/>
                <button id="send-max" type="button" on:click=fill_max>"Max"</button>
            </div>
            {field_error("send-amount-error", amount_error)}
            <button id="send-review" type="submit" node_ref=review_ref>"Review"</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="send-error">{e}</p> })}
        </form>
        {move || draft.get().map(|d| {
            let rows = vec![
                ("Chain", format!("{} (your trusted checkpoint)", d.tx.chain_id)),
                ("From", Address::from_public_key(&d.tx.sender).to_string()),
                ("To", match &d.tx.payload { Payload::Transfer { to, .. } => to.to_string(), _ => "—".into() }),
                ("Amount", match &d.tx.payload { Payload::Transfer { amount, .. } => format!("{} JOULE", format_amount(*amount)), _ => "—".into() }),
                ("Fee (at most)", format!("{} JOULE (the chain's fee, proven from its genesis)", format_amount(d.tx.max_fee))),
                ("Nonce", format!("{} (proven nonce and this wallet's pending transactions)", d.tx.nonce)),
                ("Balance", format!("{} JOULE, proven at block #{} ({})", format_amount(d.balance), d.at.height, iso_utc(d.at.timestamp_ms))),
                ("Transaction id", d.tx.id().to_hex()),
            ];
            let sign = sign_and_send.clone();
            view! {
                <section class="card confirm" id="send-preview" tabindex="-1" node_ref=preview_ref
                    role="dialog" aria-modal="false" aria-labelledby="send-preview-title"
                    on:keydown=move |ev| if ev.key() == "Escape" { cancel() }>
                    <h2 id="send-preview-title">"You are about to sign"</h2>
                    <table><tbody>
                        {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono">{v}</td></tr> }).collect_view()}
                    </tbody></table>
                    <button id="send-confirm" on:click=move |_| sign()>"Sign and send"</button>
                    " "
                    <button id="send-cancel" on:click=move |_| cancel()>"Cancel (Esc)"</button>
                </section>
            }
        })}
        {move || status.get().map(|s| view! { <p id="send-status" role="status">{s}</p> })}
        {move || sent.get().map(|id| {
            let href = format!("/transactions/{id}");
            view! { <p><A href=href attr:id="sent-link">"View the transaction (verified in your browser)"</A></p> }
        })}
    }
}
