//! The member's governance power on the DAO page: its lock and delegate proven, and locking,
//! unlocking and delegating signed in the page with the wallet's first account.

use std::sync::Arc;

use joule_light_client::api::PowerResponse;
use joule_light_client::dao::{power_key, Power};
use joule_light_client::units::{format_amount, parse_amount};
use joule_light_client::{Address, Payload, ProvenObject};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::short_hash;
use crate::now_ms;
use crate::pages::wallet::act::sign_and_send;
use crate::ui::{loaded, AccountLink, NotVerified, VerifiedMark};
use crate::wallet::session::{Unlocked, WalletSession};

async fn load(lc: LightClient, me: Address) -> Result<(Option<Power>, u64), String> {
    let trust = live::trusted(lc).await?;
    let answer: PowerResponse = api::get(&format!("/accounts/{me}/power")).await?;
    let block = live::proven_block_at(&trust, answer.height).await?;
    let proven = ProvenObject::<Power>::verify(&block, &power_key(&me), &answer.proof)
        .map_err(|e| e.to_string())?;
    let power = proven.value().cloned();
    if power != answer.power {
        return Err("the node's answer contradicts its proof of your power".into());
    }
    Ok((power, answer.voting_power))
}

/// Lock, unlock and delegate, from the wallet's first account.
#[component]
pub fn PowerBox() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    view! {
        <section class="card" id="power">
            <h2>"Your voting power"</h2>
            {move || match session.unlocked.get() {
                None => view! { <p class="muted">"Unlock your wallet to lock JOULE as voting power, unlock it, or delegate it."</p> }.into_any(),
                Some(u) => view! { <Power u=u/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Power(u: Arc<Unlocked>) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let session = expect_context::<WalletSession>();
    let me = u.address(0);
    let reload = RwSignal::new(0u32);
    let data = loaded(move || {
        reload.track();
        Box::pin(load(lc, me))
    });
    let amount = RwSignal::new(String::new());
    let delegate = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let act = move |payload: Result<(Payload, u64), String>| {
        session.touch(now_ms());
        let key = u.key(0);
        spawn_local(async move {
            let r = match payload {
                Err(e) => Err(e),
                Ok((p, out)) => sign_and_send(lc, key, p, out).await,
            };
            status.set(Some(match r {
                Ok(id) => format!("Sent (transaction {}): it counts from the next block, for proposals that start after it.", short_hash(&id)),
                Err(e) => format!("Not sent: {e}"),
            }));
            gloo_timers::future::TimeoutFuture::new(1_500).await;
            reload.update(|n| *n += 1);
        });
    };
    let tokens = move || {
        parse_amount(amount.get_untracked().trim())
            .filter(|a| *a > 0)
            .ok_or_else(|| "enter an amount of JOULE, for example 100".to_owned())
    };
    let lock = act.clone();
    let unlock = act.clone();
    view! {
        <p>"As "<AccountLink address=me/>" (your first account)."</p>
        {move || data.get().map(|r| match r {
            Err(e) => view! { <NotVerified reason=e/> }.into_any(),
            Ok((p, voting)) => {
                let locked = p.as_ref().map_or(0, |p| p.locked);
                let to = p.and_then(|p| p.delegate);
                let counted = to.is_none().then(|| view! {
                    <p class="claim-label" id="my-voting-power">{format!("The node counts {} JOULE of voting power for you (your lock and your delegators'; not proven complete).", format_amount(voting))}</p>
                });
                view! {
                    <VerifiedMark id="power-verified" covers="your lock and delegate proven in your browser".into()/>
                    <p id="my-power">{format!("Locked {} JOULE; ", format_amount(locked))}
                        {match to {
                            Some(d) => view! { "delegated to "<AccountLink address=d/> }.into_any(),
                            None => view! { "you vote yourself." }.into_any(),
                        }}
                    </p>
                    {counted}
                }
                .into_any()
            }
        }).unwrap_or_else(|| view! { <p class="muted">"Proving your power…"</p> }.into_any())}
        <label>"JOULE "<input id="power-amount" inputmode="decimal" placeholder="100" prop:value=amount on:input=move |ev| amount.set(event_target_value(&ev))/></label>" "
        <button id="power-lock" on:click=move |_| lock(tokens().map(|a| (Payload::LockPower { amount: a }, a)))>"Lock"</button>" "
        <button id="power-unlock" on:click=move |_| unlock(tokens().map(|a| (Payload::UnlockPower { amount: a }, 0)))>"Unlock"</button>
        <p>
            <label>"Delegate to "<input id="power-delegate" placeholder="joule1… (empty: take it back)" prop:value=delegate on:input=move |ev| delegate.set(event_target_value(&ev))/></label>" "
            <button id="power-delegate-send" on:click=move |_| {
                let text = delegate.get_untracked();
                let to = match text.trim() {
                    "" => Ok(None),
                    t => Address::parse(t).map(Some).map_err(|e| format!("not an address: {e}")),
                };
                act(to.map(|to| (Payload::Delegate { to }, 0)));
            }>"Delegate"</button>
        </p>
        {move || status.get().map(|s| view! { <p role="status" id="power-status">{s}</p> })}
    }
}
