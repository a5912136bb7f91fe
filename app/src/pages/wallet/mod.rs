//! `/wallet`: create (the recovery phrase written down and checked before the wallet works)
//! or import (the phrase's used accounts found), lock and unlock, accounts with proven
//! balances, receiving, sending — a preview of exactly what will be signed, from proven values
//! only — and the wallet's activity. Keys and the phrase never leave the browser: requests
//! carry addresses and signed transactions only.

mod accounts;
pub(crate) mod act;
mod activity;
mod backup;
pub(crate) mod send;

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::verified_account;
use crate::live::LightClient;
use crate::now_ms;
use crate::wallet::session::{Unlocked, WalletSession};

/// Unused accounts in a row after which discovery stops (BIP-44's gap limit).
const GAP_LIMIT: u32 = 20;

/// Accounts discovery looks at, at most.
const MAX_DISCOVERED: u32 = 100;

/// Each shown account's proven balance (smallest units), as its row last proved it.
#[derive(Debug, Clone, Copy)]
pub struct Balances(pub RwSignal<BTreeMap<u32, u64>>);

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
    let lc = expect_context::<LightClient>();
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
            let imported = import && r.is_ok();
            error.set(r.err());
            if imported {
                discover(session, lc).await;
            }
        });
    };
    view! {
        <form class="card" on:submit=|ev| ev.prevent_default()>
            <h2>"New wallet"</h2>
            <label for="wallet-password">"Password (at least 8 characters)"</label>
            <input id="wallet-password" type="password" autocomplete="new-password"
                on:input=move |ev| password.set(event_target_value(&ev))/>
            <label for="wallet-confirm">"Password again"</label>
            <input id="wallet-confirm" type="password" autocomplete="new-password"
                on:input=move |ev| confirm.set(event_target_value(&ev))/>
            <p>
                <button id="wallet-create" type="button" on:click=move |_| run(false) disabled=move || busy.get()>"Create a wallet"</button>
            </p>
            <label for="wallet-phrase">"…or import a recovery phrase"</label>
            <textarea id="wallet-phrase" rows="3" autocomplete="off" spellcheck="false"
                on:input=move |ev| phrase.set(event_target_value(&ev))></textarea>
            <p>
                <button id="wallet-import" type="button" on:click=move |_| run(true) disabled=move || busy.get()>"Import"</button>
            </p>
            {move || busy.get().then(|| view! { <p class="muted">"Encrypting…"</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="wallet-error">{e}</p> })}
        </form>
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

/// Finds the accounts an imported phrase used before: each account's state is proven in
/// this browser, and the search stops after [`GAP_LIMIT`] unused ones in a row.
async fn discover(session: WalletSession, lc: LightClient) {
    let Some(u) = session.unlocked.get_untracked() else {
        return;
    };
    session
        .note
        .set(Some("Looking for accounts this phrase used before…".into()));
    let (mut used, mut gap, mut i) = (0u32, 0u32, 0u32);
    while gap < GAP_LIMIT && i < MAX_DISCOVERED {
        match verified_account(lc, u.address(i)).await {
            Ok((_, Ok(account))) if account.exists() => {
                used = i + 1;
                gap = 0;
            }
            Ok((_, Ok(_))) => gap += 1,
            Ok((_, Err(why))) | Err(why) => {
                session.note.set(Some(format!(
                    "Could not look for used accounts (their state could not be proven: {why}); add them with \"Add an account\"."
                )));
                return;
            }
        }
        i += 1;
    }
    let note = match session.set_accounts(used.max(1)) {
        Ok(()) if used == 0 => "No account of this phrase has been used yet.".to_owned(),
        Ok(()) => format!(
            "Found {used} account(s) this phrase used (checked against proven state, up to {GAP_LIMIT} unused in a row)."
        ),
        Err(e) => e,
    };
    session.note.set(Some(note));
}

#[component]
fn UnlockedView(u: Arc<Unlocked>) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    if u.backup.is_some() {
        // The wallet works only once the phrase is written down and checked.
        return view! { <backup::BackupStep u=u/> }.into_any();
    }
    let balances = Balances(RwSignal::new(BTreeMap::new()));
    provide_context(balances);
    let accounts = (0..u.accounts)
        .map(|i| view! { <accounts::AccountRow index=i address=u.address(i)/> })
        .collect_view();
    let addresses: Vec<_> = (0..u.accounts).map(|i| u.address(i)).collect();
    let add_error = RwSignal::new(None::<String>);
    view! {
        <p>
            <button id="lock" on:click=move |_| session.lock()>"Lock"</button>
            " "
            <button id="add-account" on:click=move |_| add_error.set(session.add_account(now_ms()).err())>"Add an account"</button>
        </p>
        {move || add_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || session.note.get().map(|n| view! { <p class="muted" role="status" id="wallet-note">{n}</p> })}
        <h2>"Accounts"</h2>
        <table class="accounts">
            <thead><tr><th>"#"</th><th>"Address"</th><th>"Balance"</th><th></th></tr></thead>
            <tbody>{accounts}</tbody>
        </table>
        <send::SendForm u=u/>
        <activity::Activity addresses=addresses/>
    }
    .into_any()
}
