//! The wallet's accounts: each with its proven balance, the devnet faucet, and a receive view
//! (the address to give, with a copy button and a QR code).

use std::time::Duration;

use joule_light_client::api::{FaucetRequest, FaucetResponse};
use joule_light_client::units::format_amount;
use joule_light_client::Address;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::Balances;
use crate::live::LightClient;
use crate::pages::account::verified_account;
use crate::ui::{loaded, CopyButton, QrCode};
use crate::wallet::session::WalletSession;
use crate::{api, now_ms};

/// One account: its address, its proven balance (shared with the send form's picker), the
/// faucet, and how to receive.
#[component]
pub fn AccountRow(index: u32, address: Address) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let lc = expect_context::<LightClient>();
    let tick = RwSignal::new(0u32);
    if let Ok(h) =
        set_interval_with_handle(move || tick.update(|t| *t += 1), Duration::from_secs(2))
    {
        on_cleanup(move || h.clear());
    }
    let state = loaded(move || {
        tick.track();
        Box::pin(verified_account(lc, address))
    });
    let balances = expect_context::<Balances>();
    Effect::new(move |_| {
        if let Some(Ok((_, Ok(proven)))) = state.get() {
            balances.0.update(|b| {
                b.insert(index, proven.balance());
            });
        }
    });
    let receiving = RwSignal::new(false);
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
                    {move || state.get().map(|r| match r {
                        Ok((_, Ok(proven))) => view! {
                            <span title=format!("proven in your browser against the state root of block #{}", proven.at().height)>
                                {format!("{} JOULE ✓", format_amount(proven.balance()))}
                            </span>
                        }
                        .into_any(),
                        Ok((_, Err(why))) => format!("— (not verified: {why})").into_any(),
                        Err(e) => e.into_any(),
                    }).unwrap_or_else(|| "…".into_any())}
            </td>
            <td>
                <button id=format!("receive-{index}") on:click=move |_| receiving.update(|r| *r = !*r)>"Receive"</button>
                " "
                <button id=format!("faucet-{index}") on:click=faucet>"Get devnet tokens"</button>
                {move || note.get().map(|n| view! { <span class="muted">" "{n}</span> })}
            </td>
        </tr>
        <Show when=move || receiving.get()>
            <tr><td colspan="4"><Receive address=address/></td></tr>
        </Show>
    }
}

/// What to give someone who pays you: the address (checksummed: a mistyped one is refused,
/// not lost), to copy or to scan.
#[component]
fn Receive(address: Address) -> impl IntoView {
    let text = address.to_string();
    view! {
        <div class="receive" id="receive">
            <p>"Your address on this chain — give it to whoever pays you:"</p>
            <p class="mono address-big">{text.clone()}" "<CopyButton text=text.clone() what="address"/></p>
            <QrCode text=text label="QR code of your address"/>
        </div>
    }
}
