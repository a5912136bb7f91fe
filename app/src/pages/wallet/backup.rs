//! The recovery phrase's own step, before a new wallet works: the 24 words, then a few of them
//! typed back, so a phrase nobody wrote down is caught now rather than when it is needed.

use std::sync::Arc;

use leptos::prelude::*;

use crate::wallet::backup::{first_wrong, positions};
use crate::wallet::session::{Unlocked, WalletSession};

/// The phrase, then the check.
#[component]
pub fn BackupStep(u: Arc<Unlocked>) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let phrase = u.backup.as_ref().map(|m| m.to_string()).unwrap_or_default();
    let count = phrase.split_whitespace().count();
    let mut random = [0u8; 8];
    // Which words are asked only needs to be unpredictable to the user's eye.
    let _ = getrandom::getrandom(&mut random);
    let asked = positions(count, random);
    let checking = RwSignal::new(false);
    let answers = RwSignal::new(vec![String::new(); asked.len()]);
    let error = RwSignal::new(None::<String>);
    let words = phrase
        .split_whitespace()
        .map(|w| view! { <li>{w.to_owned()}</li> })
        .collect_view();
    let check = {
        let asked = asked.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            match first_wrong(&phrase, &asked, &answers.get_untracked()) {
                None => session.confirm_backup(),
                Some(p) => error.set(Some(format!(
                    "Word #{p} is not the one shown. Check what you wrote down, or show the words again."
                ))),
            }
        }
    };
    let inputs = move || {
        asked
            .iter()
            .enumerate()
            .map(|(k, &p)| {
                let id = format!("backup-word-{p}");
                view! {
                    <label for=id.clone()>{format!("Word #{p}")}</label>
                    <input id=id data-word=p.to_string() autocomplete="off" spellcheck="false" autocapitalize="none"
                        on:input=move |ev| answers.update(|a| a[k] = event_target_value(&ev))/>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" id="backup" hidden=move || checking.get()>
            <h2>"Step 1 of 2: your recovery phrase"</h2>
            <p>"Write these 24 words down, in order, and keep them offline. They are the only way to restore this wallet; anyone who has them controls it. The wallet opens once you have typed some of them back."</p>
            <ol id="mnemonic" class="mnemonic">{words}</ol>
            <button id="backup-done" on:click=move |_| checking.set(true)>"I have written it down"</button>
        </section>
        <Show when=move || checking.get()>
            <form class="card" id="backup-check" on:submit=check.clone()>
                <h2>"Step 2 of 2: check what you wrote"</h2>
                <p>"Type these words from your written copy:"</p>
                {inputs.clone()}
                <p>
                    <button id="backup-confirm" type="submit">"Confirm"</button>
                    " "
                    <button id="backup-show" type="button" on:click=move |_| { error.set(None); checking.set(false) }>"Show the words again"</button>
                </p>
                {move || error.get().map(|e| view! { <p class="error" role="alert" id="backup-error">{e}</p> })}
            </form>
        </Show>
    }
}
