//! The trust gate: on first use, the node's checkpoint as a fingerprint the user compares and
//! accepts; when the node (or a link) presents another chain than the trusted one, a
//! full-page warning. Until the user decides, nothing is verified and no page is shown.

use joule_light_client::Checkpoint;
use leptos::prelude::*;

use crate::live::LightClient;
use crate::trust_root::Root;

/// The fingerprint and the full checkpoint, for comparing.
#[component]
fn CheckpointCard(checkpoint: Checkpoint, id: &'static str) -> impl IntoView {
    view! {
        <div class="card" id=id>
            <p class="fingerprint">{checkpoint.fingerprint()}</p>
            <table><tbody>
                <tr><th>"Chain id"</th><td class="mono">{checkpoint.chain_id.clone()}</td></tr>
                <tr><th>"Genesis hash"</th><td class="mono">{checkpoint.genesis_hash.to_hex()}</td></tr>
                <tr><th>"Genesis validator set"</th><td class="mono">{checkpoint.validator_set_hash.to_hex()}</td></tr>
            </tbody></table>
        </div>
    }
}

/// What the user must decide before anything is verified, if anything.
#[component]
pub fn TrustGate(root: Root) -> impl IntoView {
    let lc = expect_context::<LightClient>();
    match root {
        Root::Trusted { .. } => ().into_any(),
        Root::Ask { presented } => {
            let accept = presented.clone();
            view! {
                <section class="gate" id="trust-ask" aria-labelledby="trust-title">
                    <h1 id="trust-title">"Trust this chain?"</h1>
                    <p>"Everything this app marks as verified is checked in your browser against one checkpoint: the chain id, the hash of its genesis and of its first validator set. You choose it once; the node you are talking to is not trusted to choose it for you."</p>
                    <p>"Compare this fingerprint with the one the node's operator gives you (a node started with "<code>"joule node"</code>" prints it when it starts):"</p>
                    <CheckpointCard checkpoint=presented id="trust-presented"/>
                    <p><button id="trust-accept" on:click=move |_| lc.trust(&accept)>"Trust this chain"</button></p>
                    <p class="muted">"Until you do, no page shows a verified mark. The choice is kept in this browser; a node that later presents another chain gets a warning."</p>
                </section>
            }
            .into_any()
        }
        Root::Mismatch {
            trusted,
            presented,
            via_link,
        } => {
            let switch = presented.clone();
            let (title, lead) = if via_link {
                (
                    "This link asks you to trust another chain",
                    "The link you opened names a checkpoint other than the one this browser trusts. Switch only if you meant to follow another chain.",
                )
            } else {
                (
                    "This node presents another chain than the one you trust",
                    "Its genesis or validator set differs from your checkpoint: it may be a new devnet, another network, or a node trying to show you a chain of its own. Nothing it sends is marked verified.",
                )
            };
            let keep = via_link.then(|| {
                view! { " "<button id="trust-keep" on:click=move |_| lc.dismiss_link()>"Keep the chain I trust"</button> }
            });
            view! {
                <section class="gate warning card" id="trust-mismatch" role="alert" aria-labelledby="trust-title">
                    <h1 id="trust-title">{format!("⚠ {title}")}</h1>
                    <p>{lead}</p>
                    <h2>"You trust"</h2>
                    <CheckpointCard checkpoint=trusted id="trust-pinned"/>
                    <h2>{if via_link { "The link names" } else { "The node presents" }}</h2>
                    <CheckpointCard checkpoint=presented id="trust-presented"/>
                    <p>
                        <button id="trust-switch" on:click=move |_| lc.trust(&switch)>"Switch to trusting this chain"</button>
                        {keep}
                    </p>
                </section>
            }
            .into_any()
        }
    }
}
