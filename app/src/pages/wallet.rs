//! The wallet: create (with a recovery phrase shown once) or import, lock and unlock, accounts
//! with verified balances and the devnet faucet, and sending: a preview of exactly what will be
//! signed, signing in this page, submission, and following it to its verified inclusion.
//! Keys and the phrase never leave the browser: requests carry addresses and signed
//! transactions only.

use std::sync::Arc;
use std::time::Duration;

use joule_light_client::api::{
    FaucetRequest, FaucetResponse, SubmitRequest, SubmitResponse, TxResponse, TxState,
};
use joule_light_client::units::{format_amount, parse_amount};
use joule_light_client::{Address, Encode, Hash, Payload, ProvenAt, Transaction};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::account::verified_account;
use crate::live::{self, LightClient};
use crate::model::iso_utc;
use crate::ui::CopyButton;
use crate::wallet::draft;
use crate::wallet::pending::{self, Sent};
use crate::wallet::session::{Unlocked, WalletSession};
use crate::{api, now_ms};

/// Lets the page paint "working…" before a slow step (the password KDF) blocks the thread.
async fn yield_to_browser() {
    gloo_timers::future::TimeoutFuture::new(30).await;
}

/// `/wallet`.
#[component]
pub fn WalletPage() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    view! {
        <h1>"Wallet"</h1>
        <p class="muted">"Keys are made and kept in this browser, encrypted under your password; they never leave it."</p>
        {move || match session.unlocked.get() {
            Some(u) => view! { <UnlockedView u=u/> }.into_any(),
            None if session.exists.get() => view! { <UnlockForm/> }.into_any(),
            None => view! { <CreateOrImport/> }.into_any(),
        }}
    }
}

#[component]
fn CreateOrImport() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let phrase = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = move |import: bool| {
        let (p, c, m) = (
            password.get_untracked(),
            confirm.get_untracked(),
            phrase.get_untracked(),
        );
        if p != c {
            error.set(Some("The two passwords differ.".into()));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            yield_to_browser().await;
            let r = if import {
                session.import(&m, &p, now_ms())
            } else {
                session.create(&p, now_ms())
            };
            busy.set(false);
            error.set(r.err());
        });
    };
    view! {
        <section class="card">
            <h2>"New wallet"</h2>
            <label for="wallet-password">"Password (at least 8 characters)"</label>
            <input id="wallet-password" type="password" autocomplete="new-password"
                on:input=move |ev| password.set(event_target_value(&ev))/>
            <label for="wallet-confirm">"Password again"</label>
            <input id="wallet-confirm" type="password" autocomplete="new-password"
                on:input=move |ev| confirm.set(event_target_value(&ev))/>
            <p>
                <button id="wallet-create" on:click=move |_| run(false) disabled=move || busy.get()>"Create a wallet"</button>
            </p>
            <label for="wallet-phrase">"…or import a recovery phrase"</label>
            <textarea id="wallet-phrase" rows="3" autocomplete="off" spellcheck="false"
                on:input=move |ev| phrase.set(event_target_value(&ev))></textarea>
            <p>
                <button id="wallet-import" on:click=move |_| run(true) disabled=move || busy.get()>"Import"</button>
            </p>
            {move || busy.get().then(|| view! { <p class="muted">"Encrypting…"</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="wallet-error">{e}</p> })}
        </section>
    }
}

#[component]
fn UnlockForm() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unlock = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = password.get_untracked();
        busy.set(true);
        spawn_local(async move {
            yield_to_browser().await;
            let r = session.unlock(&p, now_ms());
            busy.set(false);
            error.set(r.err());
        });
    };
    view! {
        <form class="card" on:submit=unlock>
            <h2>"Unlock"</h2>
            <label for="unlock-password">"Password"</label>
            <input id="unlock-password" type="password" autocomplete="current-password"
                on:input=move |ev| password.set(event_target_value(&ev))/>
            <button id="unlock" type="submit" disabled=move || busy.get()>"Unlock"</button>
            {move || busy.get().then(|| view! { <p class="muted">"Decrypting…"</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="unlock-error">{e}</p> })}
        </form>
    }
}

#[component]
fn UnlockedView(u: Arc<Unlocked>) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let backup = u.backup.as_ref().map(|m| {
        let words = m
            .split(' ')
            .map(|w| view! { <li>{w.to_owned()}</li> })
            .collect_view();
        view! {
            <section class="card" id="backup">
                <h2>"Your recovery phrase"</h2>
                <p>"Write these 24 words down, in order, and keep them offline. They are the only way to restore this wallet; anyone who has them controls it."</p>
                <ol id="mnemonic" class="mnemonic">{words}</ol>
                <button id="backup-done" on:click=move |_| session.confirm_backup()>"I have written it down"</button>
            </section>
        }
    });
    let accounts = (0..u.accounts)
        .map(|i| view! { <AccountRow index=i address=u.address(i)/> })
        .collect_view();
    let add_error = RwSignal::new(None::<String>);
    view! {
        {backup}
        <p>
            <button id="lock" on:click=move |_| session.lock()>"Lock"</button>
            " "
            <button id="add-account" on:click=move |_| add_error.set(session.add_account(now_ms()).err())>"Add an account"</button>
        </p>
        {move || add_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <h2>"Accounts"</h2>
        <table>
            <thead><tr><th>"#"</th><th>"Address"</th><th>"Balance"</th><th></th></tr></thead>
            <tbody>{accounts}</tbody>
        </table>
        <SendForm u=u/>
    }
}

#[component]
fn AccountRow(index: u32, address: Address) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let lc = expect_context::<LightClient>();
    let tick = RwSignal::new(0u32);
    if let Ok(h) =
        set_interval_with_handle(move || tick.update(|t| *t += 1), Duration::from_secs(2))
    {
        on_cleanup(move || h.clear());
    }
    let state = LocalResource::new(move || {
        tick.track();
        verified_account(lc, address)
    });
    let note = RwSignal::new(None::<String>);
    let faucet = move |_| {
        session.touch(now_ms());
        spawn_local(async move {
            let r: Result<FaucetResponse, String> = api::post(
                "/faucet",
                &FaucetRequest {
                    address: address.to_string(),
                },
            )
            .await;
            note.set(Some(match r {
                Ok(f) => format!(
                    "Faucet sent {} JOULE; it lands in the next block.",
                    format_amount(f.amount)
                ),
                Err(e) => e,
            }));
        });
    };
    let href = format!("/accounts/{address}");
    view! {
        <tr>
            <td>{index}</td>
            <td class="mono"><A href=href>{address.to_string()}</A>" "<CopyButton text=address.to_string() what="address"/></td>
            <td id=format!("balance-{index}")>
                <Transition fallback=|| "…">
                    {move || state.get().map(|r| match r {
                        Ok((_, Ok(proven))) => view! {
                            <span title=format!("proven in your browser against the state root of block #{}", proven.at().height)>
                                {format!("{} JOULE ✓", format_amount(proven.balance()))}
                            </span>
                        }
                        .into_any(),
                        Ok((_, Err(why))) => format!("— (not verified: {why})").into_any(),
                        Err(e) => e.into_any(),
                    })}
                </Transition>
            </td>
            <td>
                <button id=format!("faucet-{index}") on:click=faucet>"Get devnet tokens"</button>
                {move || note.get().map(|n| view! { <span class="muted">" "{n}</span> })}
            </td>
        </tr>
    }
}

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
    /// The proven nonce (what the wallet's record of sent transactions is pruned to).
    proven_nonce: u64,
}

/// The sending account's proven state and this wallet's pending transactions from it, after
/// forgetting those the node reports dropped or does not know (which can only lower the
/// nonce, never raise it).
async fn proven_sender(
    lc: LightClient,
    sender: Address,
) -> Result<
    (
        crate::proofs::Trust,
        joule_light_client::ProvenAccount,
        Vec<Sent>,
    ),
    String,
> {
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
            None => pending::forget(&genesis, &s.id),
            Some(t) if matches!(t.state, TxState::Dropped { .. }) => {
                pending::forget(&genesis, &s.id)
            }
            Some(_) => {}
        }
    }
    Ok((trust, account, pending::load(&genesis)))
}

#[component]
fn SendForm(u: Arc<Unlocked>) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let lc = expect_context::<LightClient>();
    let from = RwSignal::new(0u32);
    let to = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let draft = RwSignal::new(None::<Draft>);
    let sent = RwSignal::new(None::<Hash>);
    let status = RwSignal::new(None::<String>);
    let accounts = u.accounts;
    let u_review = u.clone();
    let review = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        session.touch(now_ms());
        draft.set(None);
        let recipient = match Address::parse(to.get_untracked().trim()) {
            Ok(a) => a,
            Err(e) => return error.set(Some(format!("Recipient: {e}"))),
        };
        let Some(units) = parse_amount(&amount.get_untracked()).filter(|a| *a > 0) else {
            return error.set(Some(
                "Amount: a positive number of JOULE, at most 9 decimals.".into(),
            ));
        };
        let i = from.get_untracked();
        let sender_key = u_review.key(i).public_key();
        let sender = u_review.address(i);
        spawn_local(async move {
            let r = async {
                let (trust, account, sent) = proven_sender(lc, sender).await?;
                let tx = draft::transfer(
                    &trust,
                    &account,
                    sender_key,
                    &sent,
                    recipient,
                    units,
                    now_ms(),
                )?;
                Ok::<_, String>(Draft {
                    from: i,
                    tx,
                    at: account.at(),
                    balance: account.balance(),
                    genesis: trust.genesis.hash(),
                    proven_nonce: account.nonce(),
                })
            }
            .await;
            match r {
                Ok(d) => {
                    error.set(None);
                    draft.set(Some(d));
                }
                Err(e) => error.set(Some(e)),
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
                    error.set(None);
                    amount.set(format_amount(draft::max_amount(&trust, &account, &sent)));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let u_sign = u;
    let sign_and_send = move |_| {
        session.touch(now_ms());
        let Some(d) = draft.get_untracked() else {
            return;
        };
        let stx = d.tx.clone().sign(&u_sign.key(d.from));
        let id = stx.id();
        let record = Sent {
            id,
            from: stx.tx.sender_address(),
            nonce: stx.tx.nonce,
            spend: stx.tx.amount_out().saturating_add(stx.tx.max_fee),
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
                    pending::record(&d.genesis, record, d.proven_nonce);
                    sent.set(Some(id));
                    for _ in 0..120 {
                        match api::get::<TxResponse>(&format!("/transactions/{id}")).await {
                            Ok(t) => match t.state {
                                TxState::Included => {
                                    status.set(Some("Included in a block.".into()));
                                    return;
                                }
                                TxState::Dropped { reason } => {
                                    pending::forget(&d.genesis, &id);
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
    let options = (0..accounts)
        .map(|i| view! { <option value=i.to_string()>{format!("Account {i}")}</option> })
        .collect_view();
    view! {
        <form class="card" on:submit=review>
            <h2>"Send"</h2>
            <label for="send-from">"From"</label>
            <select id="send-from" on:change=move |ev| from.set(event_target_value(&ev).parse().unwrap_or(0))>{options}</select>
            <label for="send-to">"To (joule1… address)"</label>
            <input id="send-to" autocomplete="off" spellcheck="false" on:input=move |ev| to.set(event_target_value(&ev))/>
            <label for="send-amount">"Amount (JOULE)"</label>
            <input id="send-amount" inputmode="decimal" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev))/>
            <button id="send-max" type="button" on:click=fill_max>"Max"</button>
            " "
            <button id="send-review" type="submit">"Review"</button>
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
            view! {
                <section class="card" id="send-preview">
                    <h2>"You are about to sign"</h2>
                    <table><tbody>
                        {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono">{v}</td></tr> }).collect_view()}
                    </tbody></table>
                    <button id="send-confirm" on:click=sign_and_send.clone()>"Sign and send"</button>
                    " "
                    <button id="send-cancel" on:click=move |_| draft.set(None)>"Cancel"</button>
                </section>
            }
        })}
        {move || status.get().map(|s| view! { <p id="send-status">{s}</p> })}
        {move || sent.get().map(|id| {
            let href = format!("/transactions/{id}");
            view! { <p><A href=href attr:id="sent-link">"View the transaction (verified in your browser)"</A></p> }
        })}
    }
}
