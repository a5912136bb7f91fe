//! Making a proposal from the DAO page: a title, its text (kept by the proposer; the chain
//! holds its blake3 hash) and an action — a signal, a parameter change or a treasury
//! spend — checked against the proven parameters before it is signed.

use std::sync::Arc;

use joule_light_client::dao::{Action, ChainParams, Param, MAX_TITLE_BYTES, PARAMS};
use joule_light_client::units::{format_amount, parse_amount};
use joule_light_client::{Address, Hash, Payload};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::live::{self, LightClient};
use crate::model::{describe_action, param_name, param_value, short_hash};
use crate::now_ms;
use crate::pages::market::verified_head;
use crate::pages::wallet::act::sign_and_send;
use crate::wallet::session::{Unlocked, WalletSession};

/// The body's commitment: blake3 of its UTF-8 bytes.
pub fn body_hash(text: &str) -> Hash {
    Hash(*blake3::hash(text.as_bytes()).as_bytes())
}

/// The action the form describes: `kind` is "text", "spend" or a parameter's name; `value`
/// the new value as the chain stores it (a spend: JOULE), `to` a spend's recipient.
pub fn form_action(kind: &str, value: &str, to: &str) -> Result<Action, String> {
    let value = value.trim();
    match kind {
        "text" => Ok(Action::Text),
        "spend" => Ok(Action::Spend {
            to: Address::parse(to.trim()).map_err(|e| format!("the recipient: {e}"))?,
            amount: parse_amount(value).ok_or("the amount: JOULE, for example 250")?,
        }),
        name => {
            let param = PARAMS
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| format!("no parameter {name}"))?;
            let value = if param == Param::ProposalMinPower {
                parse_amount(value)
            } else {
                value.parse().ok()
            }
            .ok_or_else(|| format!("the new {}: a whole number", param_name(param)))?;
            Ok(Action::SetParam { param, value })
        }
    }
}

/// The proposal form, for the wallet's first account.
#[component]
pub fn ProposeBox() -> impl IntoView {
    let session = expect_context::<WalletSession>();
    view! {
        <details class="card" id="propose">
            <summary>"Make a proposal"</summary>
            {move || match session.unlocked.get() {
                None => view! { <p class="muted">"Unlock your wallet to propose (it takes the proposal lock in voting power)."</p> }.into_any(),
                Some(u) => view! { <Propose u=u/> }.into_any(),
            }}
        </details>
    }
}

#[component]
fn Propose(u: Arc<Unlocked>) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let session = expect_context::<WalletSession>();
    let title = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new("text".to_owned());
    let value = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<Result<(Payload, String), String>>);
    let status = RwSignal::new(None::<String>);
    let review = move |_| {
        preview.set(None);
        spawn_local(async move {
            let r = async {
                let t = title.get_untracked();
                if t.trim().is_empty() || t.len() > MAX_TITLE_BYTES {
                    return Err(format!("a title of 1 to {MAX_TITLE_BYTES} bytes"));
                }
                let action = form_action(&kind.get_untracked(), &value.get_untracked(), &to.get_untracked())?;
                let trust = live::trusted(lc).await?;
                let params: ChainParams = live::proven_chain_params(&trust).await?;
                action
                    .check(&params, verified_head(lc))
                    .map_err(|e| format!("the chain would refuse it: {e}"))?;
                let current = match action {
                    Action::SetParam { param, .. } => Some(param.get(&params)),
                    _ => None,
                };
                let body = body_hash(&text.get_untracked());
                let words = format!(
                    "“{}”: {}. Text hash {} (keep the text: the chain holds only its hash). Needs {} locked; voting opens {} blocks after it is included.",
                    t.trim(),
                    describe_action(&action, current),
                    short_hash(&body),
                    param_value(Param::ProposalMinPower, params.gov.proposal_min_power),
                    params.gov.voting_delay
                );
                let payload = Payload::Propose {
                    action,
                    title: t.trim().to_owned(),
                    body_hash: body,
                };
                Ok((payload, words))
            }
            .await;
            preview.set(Some(r));
        });
    };
    let confirm = move |payload: Payload| {
        session.touch(now_ms());
        preview.set(None);
        let key = u.key(0);
        spawn_local(async move {
            let r = sign_and_send(lc, key, payload, 0).await;
            status.set(Some(match r {
                Ok(id) => format!("Proposal sent: its id is {id}."),
                Err(e) => format!("Not sent: {e}"),
            }));
        });
    };
    let options = PARAMS
        .map(
            |p| view! { <option value=p.name()>{format!("change the {}", param_name(p))}</option> },
        )
        .collect_view();
    view! {
        <p><label>"Title "<input id="propose-title" maxlength="120" prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/></label></p>
        <p><label>"Text "<textarea id="propose-text" rows="4" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea></label></p>
        <p>
            <label>"Action "
                <select id="propose-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="text">"a signal (no action on chain)"</option>
                    {options}
                    <option value="spend">"pay from the treasury"</option>
                </select>
            </label>" "
            <label>"New value or amount "<input id="propose-value" placeholder="60 (bps, blocks, Wh or JOULE)" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/></label>" "
            <label>"Recipient (a spend) "<input id="propose-to" placeholder="joule1…" prop:value=to on:input=move |ev| to.set(event_target_value(&ev))/></label>
        </p>
        <button id="propose-review" on:click=review>"Review"</button>
        {move || { let confirm = confirm.clone(); preview.get().map(|p| match p {
            Err(e) => view! { <p class="error" role="alert" id="propose-error">{e}</p> }.into_any(),
            Ok((payload, words)) => view! {
                <div class="preview" id="propose-preview">
                    <p>{words}</p>
                    <button id="propose-confirm" on:click=move |_| confirm(payload.clone())>"Sign and send"</button>
                </div>
            }
            .into_any(),
        })}}
        {move || status.get().map(|s| view! { <p role="status" id="propose-status">{s}</p> })}
        <p class="muted">{format!("Amounts: a treasury spend and the proposal lock in JOULE ({} JOULE = 1 000 000 000 units); fees and quorums in basis points; times in blocks; the smallest order in Wh.", format_amount(1_000_000_000))}</p>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_form_gives_the_action_the_chain_takes() {
        assert_eq!(form_action("text", "", ""), Ok(Action::Text));
        assert_eq!(
            form_action("fee_bps", " 60 ", ""),
            Ok(Action::SetParam {
                param: Param::FeeBps,
                value: 60
            })
        );
        assert_eq!(
            form_action("proposal_min_power", "5000", ""),
            Ok(Action::SetParam {
                param: Param::ProposalMinPower,
                value: 5_000_000_000_000
            })
        );
        assert!(form_action("fee_bps", "0.6", "").is_err());
        assert!(form_action("spend", "250", "nobody").is_err());
        assert!(form_action("no_such", "1", "").is_err());
    }

    #[test]
    fn a_text_is_committed_by_its_blake3_hash() {
        // blake3("") is a published constant.
        assert_eq!(
            body_hash("").to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_ne!(
            body_hash("Fund the battery."),
            body_hash("Fund the battery")
        );
    }
}
