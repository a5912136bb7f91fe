//! The wallet's activity: what it sent from its accounts, newest first, and where each
//! transaction stands as the node reports it — pending, in a block (and when), failed or
//! dropped with the reason, a cross-shard transfer's credit as it lands. Each links to its
//! transaction page, where its inclusion is proven.

use std::time::Duration;

use joule_light_client::api::{TxResponse, TxState};
use joule_light_client::units::format_amount;
use joule_light_client::{Address, ExecStatus, Hash};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::live::LightClient;
use crate::model::{ago, iso_utc, local_time, short_address, short_hash};
use crate::now_ms;
use crate::ui::{loaded, Claimed};
use crate::wallet::pending::{self, Sent};

/// Transactions listed.
const SHOWN: usize = 20;

/// Where one sent transaction stands, in words, as the node reports it.
fn standing(sent: &Sent, answer: &Result<Option<TxResponse>, String>) -> String {
    if let Some(reason) = &sent.dropped {
        return format!("Dropped: {reason}");
    }
    match answer {
        Err(e) => format!("Unknown: {e}"),
        Ok(None) => "Unknown to this node".to_owned(),
        Ok(Some(t)) => match (&t.state, &t.inclusion) {
            (TxState::Pending, _) => "Pending".to_owned(),
            (TxState::Dropped { reason }, _) => format!("Dropped: {reason}"),
            (TxState::Included, None) => "Included".to_owned(),
            (TxState::Included, Some(inc)) => {
                let when = format!(
                    "in block #{} at {}",
                    inc.at.height,
                    local_time(inc.timestamp_ms)
                );
                match (inc.outcome.status, &t.receipt) {
                    (ExecStatus::Success, None) => format!("Included {when}"),
                    (ExecStatus::Success, Some(r)) => match &r.applied {
                        Some(a) => format!(
                            "Included {when}; credited by shard {} in block #{}",
                            r.receipt.dest_shard, a.at.height
                        ),
                        None => format!(
                            "Included {when}; on its way to shard {}",
                            r.receipt.dest_shard
                        ),
                    },
                    (other, _) => format!("Failed {when}: {} (the fee was charged)", other.label()),
                }
            }
        },
    }
}

/// Whether nothing more is to be learnt about a transaction (no need to ask again).
fn settled(sent: &Sent, answer: &Result<Option<TxResponse>, String>) -> bool {
    if sent.dropped.is_some() {
        return true;
    }
    match answer {
        Ok(Some(t)) => match t.state {
            TxState::Pending => false,
            TxState::Dropped { .. } => true,
            // Included: settled once any cross-shard credit has landed.
            TxState::Included => t.receipt.as_ref().is_none_or(|r| r.applied.is_some()),
        },
        Ok(None) => true,
        Err(_) => false,
    }
}

/// What `addresses` sent, with where each stands; refreshed every few seconds while any can
/// still change.
#[component]
pub fn Activity(addresses: Vec<Address>) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    let tick = RwSignal::new(0u32);
    let open = RwSignal::new(true);
    if let Ok(h) = set_interval_with_handle(
        move || {
            if open.get_untracked() {
                tick.update(|t| *t += 1)
            }
        },
        Duration::from_secs(3),
    ) {
        on_cleanup(move || h.clear());
    }
    let rows = loaded(move || {
        tick.track();
        let genesis: Option<Hash> = lc.follower.with(|f| f.as_ref().map(|f| f.genesis.hash()));
        let addresses = addresses.clone();
        Box::pin(async move {
            let Some(genesis) = genesis else {
                return Vec::new();
            };
            let mine: Vec<Sent> = pending::load(&genesis)
                .into_iter()
                .filter(|s| addresses.contains(&s.from))
                .take(SHOWN)
                .collect();
            let mut rows = Vec::with_capacity(mine.len());
            for s in mine {
                let answer = if s.dropped.is_some() {
                    Ok(None)
                } else {
                    api::get_optional::<TxResponse>(&format!("/transactions/{}", s.id)).await
                };
                if let Ok(Some(TxResponse {
                    state: TxState::Dropped { reason },
                    ..
                })) = &answer
                {
                    pending::mark_dropped(&genesis, &s.id, reason);
                }
                rows.push((standing(&s, &answer), settled(&s, &answer), s));
            }
            rows
        })
    });
    Effect::new(move |_| {
        if let Some(r) = rows.get() {
            open.set(r.iter().any(|(_, settled, _)| !settled));
        }
    });
    let list = move || {
        rows.get().map(|rows| {
            if rows.is_empty() {
                return view! { <p class="muted">"Nothing sent from this wallet yet."</p> }.into_any();
            }
            let now = now_ms();
            let items = rows
                .into_iter()
                .map(|(standing, _, s)| {
                    let href = format!("/transactions/{}", s.id);
                    view! {
                        <tr>
                            <td title=iso_utc(s.sent_ms)>{ago(now, s.sent_ms)}</td>
                            <td class="mono"><A href=href>{short_hash(&s.id)}</A></td>
                            <td class="mono hide-narrow">{short_address(&s.from)}</td>
                            <td class="mono"><A href=format!("/accounts/{}", s.to)>{short_address(&s.to)}</A></td>
                            <td>{format!("{} JOULE", format_amount(s.amount))}</td>
                            <td class="activity-state">{standing}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table id="activity">
                    <thead><tr><th>"Sent"</th><th>"Id"</th><th class="hide-narrow">"From"</th><th>"To"</th><th>"Amount"</th><th>"Where it stands"</th></tr></thead>
                    <tbody>{items}</tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <h2>"Activity"</h2>
        <Claimed what="where each transaction stands" note="Open one to see its inclusion and receipt proven in your browser.">
            {move || list().unwrap_or_else(|| view! { <p class="muted">"Loading…"</p> }.into_any())}
        </Claimed>
    }
}
