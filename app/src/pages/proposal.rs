//! `/dao/proposals/:id`: one proposal proven in this browser — its action in words, its
//! heights and times, its tally (recomputed here from every shard's proven tally once its vote
//! has ended; the node's provisional sums while it runs, labelled so), its votes, each proven —
//! and voting from the wallet, signed in the page.

use std::sync::Arc;

use joule_light_client::api::{BlockResponse, ProposalResponse, VotesPage};
use joule_light_client::dao::{Choice, Proposal, ProposalState, Totals, Vote};
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Hash, Payload};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::live::{self, LightClient};
use crate::model::{describe_action, format_bps, local_time, short_hash};
use crate::now_ms;
use crate::pages::wallet::act::sign_and_send;
use crate::proofs::{prove_proposal, prove_tally, prove_votes, Trust};
use crate::ui::{loaded, AccountLink, Claimed, NotVerified, VerifiedMark};
use crate::wallet::session::{Unlocked, WalletSession};

/// What the page proved.
#[derive(Clone)]
struct Page {
    id: Hash,
    answer: ProposalResponse,
    /// The proposal proven (or why not).
    proposal: Result<Proposal, String>,
    /// The final tally recomputed (after the end), or why not.
    tally: Option<Result<Totals, String>>,
    /// The first votes, each proven (or why not).
    votes: Vec<(Vote, Result<(), String>)>,
    total_votes: u64,
    /// The changed parameter's value now, proven (before the proposal executes).
    current: Option<u64>,
    /// The chain's clock from the trusted genesis: its start and block interval, ms.
    clock: Option<(u64, u64)>,
}

async fn load(lc: LightClient, id: String) -> Result<Page, String> {
    let id = Hash::from_hex(&id).map_err(|e| format!("not a proposal id: {e}"))?;
    let answer: ProposalResponse = api::get(&format!("/governance/proposals/{id}")).await?;
    let votes: VotesPage = api::get(&format!("/governance/proposals/{id}/votes?limit=50")).await?;
    let trust = live::trusted(lc).await;
    let block: BlockResponse = api::get(&format!("/blocks/{}", answer.item.height)).await?;
    let proposal = trust
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|t| prove_proposal(t, &block, &id, &answer.item).map(|(p, _)| p));
    let tally = (!answer.tally_proofs.is_empty()).then(|| {
        trust
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|t| prove_tally(t, &block, &id, &answer).map(|t| t.totals()))
    });
    let vote_block: Option<BlockResponse> = match votes.items.first() {
        Some(v) if v.height == answer.item.height => Some(block.clone()),
        Some(v) => Some(api::get(&format!("/blocks/{}", v.height)).await?),
        None => None,
    };
    let proven = match (&trust, &vote_block) {
        (Ok(t), Some(b)) => prove_votes(t, b, &id, &votes.items)?,
        (Err(e), _) => votes.items.iter().map(|_| Err(e.clone())).collect(),
        _ => Vec::new(),
    };
    // With every vote listed and proven, they must add up to the proven tally: a node that
    // drops or alters a vote from the list is caught here.
    let all_listed = votes.items.len() as u64 == votes.total && proven.iter().all(Result::is_ok);
    let tally = match tally {
        Some(Ok(t)) if all_listed => {
            let mut sum = Totals::default();
            for v in &votes.items {
                match v.vote.choice {
                    Choice::For => sum.for_power += v.vote.power,
                    Choice::Against => sum.against_power += v.vote.power,
                    Choice::Abstain => sum.abstain_power += v.vote.power,
                }
            }
            let adds_up = (sum.for_power, sum.against_power, sum.abstain_power)
                == (t.for_power, t.against_power, t.abstain_power);
            Some(if adds_up {
                Ok(t)
            } else {
                Err("the votes listed do not add up to the proven tally: a vote is missing or altered".to_owned())
            })
        }
        other => other,
    };
    let votes_shown = votes
        .items
        .iter()
        .zip(proven)
        .map(|(v, r)| (v.vote, r.map(|_| ())))
        .collect();
    let current = match (&trust, &answer.item.proposal.action) {
        (Ok(t), joule_light_client::dao::Action::SetParam { param, .. }) => {
            live::proven_chain_params(t)
                .await
                .ok()
                .map(|p| param.get(&p))
        }
        _ => None,
    };
    let clock = trust.as_ref().ok().map(Trust::clock);
    Ok(Page {
        clock,
        current,
        id,
        answer,
        proposal,
        tally,
        votes: votes_shown,
        total_votes: votes.total,
    })
}

/// `/dao/proposals/:id`.
#[component]
pub fn ProposalPage() -> impl IntoView {
    let params = use_params_map();
    let lc = expect_context::<LightClient>();
    let data = loaded(move || Box::pin(load(lc, params.read().get("id").unwrap_or_default())));
    view! {
        {move || data.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Ok(p) => view! { <ProposalView p=p/> }.into_any(),
        }).unwrap_or_else(|| view! { <p class="muted">"Loading proposal…"</p> }.into_any())}
    }
}

/// For, against and abstain as bars over the power locked at the start, with the quorum's
/// line.
#[component]
fn TallyBars(
    totals: Totals,
    total_power: u64,
    quorum_bps: u16,
    threshold_bps: u16,
) -> impl IntoView {
    let share = |v: u64| {
        if total_power == 0 {
            0.0
        } else {
            (v as f64 / total_power as f64 * 100.0).min(100.0)
        }
    };
    let bar = |label: &'static str, class: &'static str, v: u64| {
        let pct = share(v);
        view! {
            <div class="tally-row">
                <span class="tally-label">{label}</span>
                <span class="tally-track" role="img" aria-label=format!("{label}: {pct:.1} % of the power locked")>
                    <span class=format!("tally-fill {class}") style=format!("width: {pct:.2}%")></span>
                    <span class="tally-quorum" style=format!("left: {}%", f64::from(quorum_bps) / 100.0)></span>
                </span>
                <span class="tally-value">{format!("{} JOULE ({pct:.1} %)", format_amount(v))}</span>
            </div>
        }
    };
    let turnout = totals.for_power + totals.against_power + totals.abstain_power;
    view! {
        <div class="tally">
            {bar("For", "for", totals.for_power)}
            {bar("Against", "against", totals.against_power)}
            {bar("Abstain", "abstain", totals.abstain_power)}
            <p class="muted">
                {format!("Turnout {} JOULE of {} locked; quorum {} (the line), passes with more than {} of for and against. {} voters.",
                    format_amount(turnout), format_amount(total_power), format_bps(quorum_bps.into()), format_bps(threshold_bps.into()), totals.voters)}
            </p>
        </div>
    }
}

#[component]
fn ProposalView(p: Page) -> impl IntoView {
    let item = &p.answer.item;
    let head = item.height;
    let clock = p.clock;
    let (mark, shown) = match p.proposal {
        Ok(ref proposal) => (
            view! { <VerifiedMark id="proposal-verified" covers=format!("this proposal proven in your browser at block #{head}")/> }.into_any(),
            proposal.clone(),
        ),
        Err(ref e) => (view! { <NotVerified reason=e.clone()/> }.into_any(), item.proposal.clone()),
    };
    // Heights in local time on the chain's nominal clock (the trusted genesis').
    let when = |h: u64| {
        let rel = if h > head {
            format!("in {} blocks", h - head)
        } else {
            format!("{} blocks ago", head - h)
        };
        match clock {
            Some((t0, ms)) => format!("block #{h} ({rel}, {})", local_time(t0 + h * ms)),
            None => format!("block #{h} ({rel})"),
        }
    };
    let tally = match (&p.tally, shown.state) {
        (Some(Ok(t)), _) => view! {
            <VerifiedMark id="tally-verified" covers="final tally recomputed in your browser from every shard's proven tally: quorum and threshold checked".into()/>
            <TallyBars totals=*t total_power=shown.total_power quorum_bps=shown.quorum_bps threshold_bps=shown.threshold_bps/>
        }
        .into_any(),
        (Some(Err(e)), _) => view! { <NotVerified reason=e.clone()/> }.into_any(),
        (None, ProposalState::Active) => {
            let provisional = p.answer.provisional.unwrap_or_default();
            view! {
                <Claimed what="the votes so far" note="the final tally is recomputed here when the vote ends.">
                    <TallyBars totals=provisional total_power=shown.total_power quorum_bps=shown.quorum_bps threshold_bps=shown.threshold_bps/>
                </Claimed>
            }
            .into_any()
        }
        (None, _) => view! { <p class="muted">"No votes yet: the vote has not started."</p> }.into_any(),
    };
    let votes = p
        .votes
        .iter()
        .map(|(v, ok)| {
            let choice = match v.choice {
                Choice::For => "for",
                Choice::Against => "against",
                Choice::Abstain => "abstain",
            };
            view! {
                <tr class=if ok.is_ok() { "" } else { "unverified" }>
                    <td><AccountLink address=v.voter/></td>
                    <td>{choice}</td>
                    <td>{format!("{} JOULE", format_amount(v.power))}</td>
                    <td>{if ok.is_ok() { "✓ proven".to_owned() } else { ok.clone().err().unwrap_or_default() }}</td>
                </tr>
            }
        })
        .collect_view();
    let open = shown.state == ProposalState::Active;
    view! {
        <h1>{shown.title.clone()}</h1>
        {mark}
        <dl class="kv">
            <dt>"State"</dt><dd><span class=format!("state {}", shown.state.name()) id="proposal-state">{shown.state.name()}</span></dd>
            <dt>"Action"</dt><dd id="proposal-action">{describe_action(&shown.action, if shown.executed_at > 0 { Some(shown.previous) } else { p.current })}</dd>
            <dt>"Proposer"</dt><dd><AccountLink address=shown.proposer/></dd>
            <dt>"Text"</dt><dd><span class="mono" title="blake3 of the full text, kept off chain">{short_hash(&shown.body_hash)}</span>" (its hash; the text is kept off chain)"<TextCheck hash=shown.body_hash/></dd>
            <dt>"Vote opens"</dt><dd>{when(shown.start)}</dd>
            <dt>"Vote closes"</dt><dd>{when(shown.end)}</dd>
            <dt>"Executes"</dt><dd>{when(shown.eta)}</dd>
        </dl>
        <h2>"Tally"</h2>
        {tally}
        {open.then(|| view! { <VoteBox id=p.id/> })}
        <h2>{format!("Votes ({})", p.total_votes)}</h2>
        <table class="rows">
            <thead><tr><th>"Voter"</th><th>"Choice"</th><th>"Power"</th><th>"Proof"</th></tr></thead>
            <tbody>{votes}</tbody>
        </table>
    }
}

/// Checks a text someone gave as the proposal's against the hash the proposal committed to.
#[component]
fn TextCheck(hash: Hash) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let verdict = move || {
        text.with(|t| {
            (!t.is_empty()).then(|| {
                if crate::pages::propose::body_hash(t) == hash {
                    view! { <p class="verified" id="text-verified">"✓ this is the proposal's text: its hash is the one the proposal committed to"</p> }.into_any()
                } else {
                    view! { <p class="unverified" id="text-mismatch">"✗ not the proposal's text: its hash differs"</p> }.into_any()
                }
            })
        })
    };
    view! {
        <details id="proposal-text">
            <summary>"Check a text you were given"</summary>
            <textarea id="text-check" rows="3" aria-label="The proposal's text, to check against its hash" on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            {verdict}
        </details>
    }
}

/// The voting weight the snapshot at the vote's start gave `me` on proposal `id`, proven
/// (`None`: it had none, proven absent).
async fn my_weight(lc: LightClient, me: Address, id: Hash) -> Result<Option<u64>, String> {
    use joule_light_client::api::ObjectResponse;
    use joule_light_client::dao::{weight_key, Weight};
    let trust = live::trusted(lc).await?;
    let key = weight_key(&me, &id);
    let answer: ObjectResponse = api::get(&format!("/state/{key}")).await?;
    let at = answer.proof.ok_or("no block yet")?;
    let block = live::proven_block_at(&trust, at.at.height).await?;
    let proven = joule_light_client::ProvenObject::<Weight>::verify(&block, &key, &at.proof)
        .map_err(|e| e.to_string())?;
    Ok(proven.value().map(|w| w.power))
}

/// Voting from the wallet: for, against or abstain from the first account, signed here from
/// proven values (the chain id and fee from the trusted genesis, the nonce from the proven
/// account); voting again replaces the vote until the end.
#[component]
fn VoteBox(id: Hash) -> impl IntoView {
    let session = expect_context::<WalletSession>();
    let lc = expect_context::<LightClient>();
    let status = RwSignal::new(None::<String>);
    let cast = move |u: Arc<Unlocked>, choice: Choice| {
        session.touch(now_ms());
        status.set(Some("Proving your account…".into()));
        let key = u.key(0);
        spawn_local(async move {
            let r = sign_and_send(
                lc,
                key,
                Payload::Vote {
                    proposal: id,
                    choice,
                },
                0,
            )
            .await;
            status.set(Some(match r {
                Ok(tx) => format!("Vote sent (transaction {}); it counts once in a block, and your last vote is the one counted.", short_hash(&tx)),
                Err(e) => format!("Not sent: {e}"),
            }));
        });
    };
    view! {
        <section class="vote">
            <h2>"Your vote"</h2>
            {move || match session.unlocked.get() {
                None => view! { <p class="muted">"Unlock your wallet to vote with the power your account had locked at the vote's start."</p> }.into_any(),
                Some(u) => {
                    let me = u.address(0);
                    let weight = crate::ui::loaded(move || Box::pin(my_weight(lc, me, id)));
                    let (a, b, c) = (u.clone(), u.clone(), u);
                    let buttons = move || match weight.get() {
                        None => view! { <p class="muted">"Proving your voting weight…"</p> }.into_any(),
                        Some(Err(e)) => view! { <NotVerified reason=e/> }.into_any(),
                        Some(Ok(None)) => view! {
                            <p id="vote-no-weight">"Your account had no voting power when this vote opened (proven): lock JOULE on the DAO page to vote on proposals that open after that."</p>
                        }
                        .into_any(),
                        Some(Ok(Some(power))) => {
                            let (a, b, c) = (a.clone(), b.clone(), c.clone());
                            view! {
                                <p id="vote-weight">{format!("✓ Your weight on this proposal, proven: {} JOULE (what you and your delegators had locked when it opened).", format_amount(power))}</p>
                                <button id="vote-for" on:click=move |_| cast(a.clone(), Choice::For)>"Vote for"</button>" "
                                <button id="vote-against" on:click=move |_| cast(b.clone(), Choice::Against)>"Vote against"</button>" "
                                <button id="vote-abstain" on:click=move |_| cast(c.clone(), Choice::Abstain)>"Abstain"</button>
                            }
                            .into_any()
                        }
                    };
                    view! {
                        <p>"Voting as "<AccountLink address=me/>" (your first account)."</p>
                        {buttons}
                    }
                    .into_any()
                }
            }}
            {move || status.get().map(|s| view! { <p role="status" id="vote-status">{s}</p> })}
        </section>
    }
}
