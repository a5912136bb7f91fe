//! One account: balance and nonce verified against a shard state root, and its history.

use joule_light_client::api::{AccountResponse, BlockResponse, ChainInfo};
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Payload};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::model::{short_hash, verify_account_state, Verdict};

async fn load(address: String) -> Result<(AccountResponse, Verdict), String> {
    // Checked here too, so a typo gets a clear message without a round trip.
    let address = Address::parse(&address).map_err(|e| format!("not an address: {e}"))?;
    verified_account(address).await
}

/// An account's state from the node, verified in this browser (commit → shard header →
/// state proof).
pub async fn verified_account(address: Address) -> Result<(AccountResponse, Verdict), String> {
    let chain: ChainInfo = api::get("/chain").await?;
    let acc: AccountResponse = api::get(&format!("/accounts/{address}")).await?;
    let verdict = match &acc.proof {
        Some(p) => {
            let block: BlockResponse = api::get(&format!("/blocks/{}", p.at.height)).await?;
            verify_account_state(&chain, &block, &acc)
        }
        None => Verdict::Failed("no block yet: nothing to verify against".into()),
    };
    Ok((acc, verdict))
}

/// `/accounts/:address`.
#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let data = LocalResource::new(move || load(params.read().get("address").unwrap_or_default()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading account…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok((acc, verdict)) => view! { <AccountView acc=acc verdict=verdict/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn AccountView(acc: AccountResponse, verdict: Verdict) -> impl IntoView {
    let at = acc.proof.as_ref().map(|p| p.at.height);
    let mark = match verdict {
        Verdict::Verified => {
            let what = if acc.exists {
                "Balance and nonce"
            } else {
                "That no account exists here"
            };
            view! {
                <p class="verified" id="account-verified">{format!(
                    "✓ {what} verified in your browser against the state root of block #{}, whose commit you verified.",
                    at.unwrap_or_default()
                )}</p>
            }
            .into_any()
        }
        Verdict::Failed(reason) => view! {
            <p class="unverified" role="alert">{format!("✗ Not verified: {reason}")}</p>
        }
        .into_any(),
    };
    let fields = vec![
        ("Address", acc.address.to_string()),
        ("Shard", acc.shard.to_string()),
        (
            "Balance",
            format!("{} JOULE", format_amount(acc.account.balance)),
        ),
        ("Nonce", acc.account.nonce.to_string()),
        ("Next nonce (with pending)", acc.next_nonce.to_string()),
    ];
    let history = acc
        .transactions
        .items
        .iter()
        .map(|t| {
            let (to, amount) = match &t.tx.tx.payload {
                Payload::Transfer { to, amount } => (to.to_string(), format_amount(*amount)),
                _ => ("—".to_owned(), "—".to_owned()),
            };
            let (id_href, id_text) = (format!("/transactions/{}", t.id), short_hash(&t.id));
            let (block_href, block_text) =
                (format!("/blocks/{}", t.height), format!("#{}", t.height));
            view! {
                <tr>
                    <td class="mono"><A href=id_href>{id_text}</A></td>
                    <td><A href=block_href>{block_text}</A></td>
                    <td class="mono hide-narrow">{t.sender.to_string()}</td>
                    <td class="mono hide-narrow">{to}</td>
                    <td>{amount}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = acc.transactions.items.is_empty();
    view! {
        <h1>"Account"</h1>
        {mark}
        <table><tbody>
            {fields.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="mono" id=format!("acc-{}", k.split(' ').next().unwrap_or(k).to_lowercase())>{v}</td></tr> }).collect_view()}
        </tbody></table>
        <h2>{format!("Transactions ({})", acc.transactions.total)}</h2>
        {if empty {
            view! { <p class="muted">"No transactions yet."</p> }.into_any()
        } else {
            view! {
                <table>
                    <thead><tr><th>"Id"</th><th>"Block"</th><th class="hide-narrow">"From"</th><th class="hide-narrow">"To"</th><th>"Amount"</th></tr></thead>
                    <tbody>{history}</tbody>
                </table>
            }.into_any()
        }}
    }
}
