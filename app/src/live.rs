//! The light client at work for the whole session: every block the node streams (Server-Sent
//! Events on `/api/v1/stream`, see [`crate::stream`]) is verified as it arrives; while the
//! stream is quiet (not yet open, broken, or behind a proxy that buffers it), the follower
//! polls the node instead. A hidden tab neither streams nor polls; it catches up when shown.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use joule_light_client::api::BlockResponse;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::follow::{self, Follower};
use crate::now_ms;
use crate::proofs::Trust;
use crate::trust_root::{self, Root};

/// Without a streamed block for this long (the devnet makes two a second), poll instead.
const QUIET_MS: u64 = 2_500;

/// How long a page waits for the light client's first verified checkpoint.
const TRUST_WAIT_MS: u32 = 15_000;

/// Where the light client's headers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Not started yet.
    Starting,
    /// The node's block stream.
    Stream,
    /// Polling the node's head (the stream is quiet).
    Polling,
}

/// What the app shares about the light client (a context, available on every page).
#[derive(Debug, Clone, Copy)]
pub struct LightClient {
    /// What this browser trusts (`None` until the node's chain was first compared with it).
    pub root: RwSignal<Option<Root>>,
    /// The link's checkpoint (`?checkpoint=`), until the user dismisses it; `Err` when it
    /// does not parse.
    pub link: RwSignal<Option<Result<joule_light_client::Checkpoint, String>>>,
    /// The follower, once its checkpoint verified.
    pub follower: RwSignal<Option<Follower>>,
    /// Why the last step could not run (node unreachable, checkpoint refused…).
    pub error: RwSignal<Option<String>>,
    /// The newest block the node sent, verified or not (pages verify what they show).
    pub latest: RwSignal<Option<BlockResponse>>,
    /// Where headers come from now.
    pub source: RwSignal<Source>,
    /// Milliseconds from navigation start to the first verified head of this page load.
    pub first_verified_ms: RwSignal<Option<u64>>,
    /// Whether a step is running (one at a time: two would race to start the follower).
    busy: RwSignal<bool>,
}

impl LightClient {
    fn set_follower(&self, f: Follower) {
        if self.first_verified_ms.get_untracked().is_none() {
            self.first_verified_ms.set(since_navigation_ms());
        }
        self.follower.set(Some(f));
    }

    /// Verifies a block the node streamed (a refusal is kept among the follower's failures)
    /// and makes it the dashboard's newest block.
    fn on_block(&self, block: BlockResponse) {
        self.follower.maybe_update(|f| match f {
            Some(f) => {
                let changed = f.advance(&block, now_ms()) != Ok(false);
                if changed {
                    follow::store(f);
                }
                changed
            }
            None => false, // the first step is still verifying the checkpoint
        });
        self.latest.set(Some(block));
    }
}

fn since_navigation_ms() -> Option<u64> {
    Some(web_sys::window()?.performance()?.now().round() as u64)
}

/// Starts the light client: a first step right away (trust root, checkpoint, then the
/// head), the block stream, and a poll every second that runs only while the stream is quiet
/// or the trust root is not settled.
pub fn start() -> LightClient {
    let lc = LightClient {
        root: RwSignal::new(None),
        link: RwSignal::new(trust_root::from_url()),
        follower: RwSignal::new(None),
        error: RwSignal::new(None),
        latest: RwSignal::new(None),
        source: RwSignal::new(Source::Starting),
        first_verified_ms: RwSignal::new(None),
        busy: RwSignal::new(false),
    };
    let last_event = Rc::new(Cell::new(0u64));
    let poll = {
        let last_event = last_event.clone();
        move || {
            let started = lc.follower.with_untracked(Option::is_some);
            let quiet = now_ms().saturating_sub(last_event.get()) > QUIET_MS;
            if (started && !quiet) || crate::stream::hidden() {
                return;
            }
            if lc.busy.get_untracked() {
                return; // the previous step is still fetching
            }
            if started {
                lc.source.set(Source::Polling);
            }
            spawn_local(lc.step());
        }
    };
    poll();
    if let Ok(handle) = set_interval_with_handle(poll, Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    open_stream(lc, last_event);
    lc
}

impl LightClient {
    /// One step of the follower, unless one is running; publishes what it found.
    async fn step(self) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.step_now().await;
        self.busy.set(false);
    }

    async fn step_now(self) {
        let link = self
            .link
            .with_untracked(|l| l.as_ref().and_then(|l| l.as_ref().ok()).cloned());
        match follow::step(self.follower.get_untracked(), link, now_ms()).await {
            Ok(step) => {
                if self.root.with_untracked(|r| r.as_ref() != Some(&step.root)) {
                    self.root.set(Some(step.root));
                }
                match step.follower {
                    Some(f) => self.set_follower(f),
                    // Not trusted (any more): nothing may show as verified.
                    None => {
                        if self.follower.with_untracked(Option::is_some) {
                            self.follower.set(None);
                        }
                    }
                }
                if let Some(b) = step.newest {
                    self.latest.set(Some(b));
                }
                self.error.set(None);
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    /// The user accepted `checkpoint` (on first use, or switching chains): pin it, forget
    /// what was verified from any other, and start over from it.
    pub fn trust(self, checkpoint: &joule_light_client::Checkpoint) {
        trust_root::pin(checkpoint);
        follow::forget();
        self.follower.set(None);
        self.link.set(None);
        self.restart();
    }

    /// The user keeps the chain they trust and ignores the link's checkpoint.
    pub fn dismiss_link(self) {
        self.link.set(None);
        self.restart();
    }

    /// Settles the root anew, after any step still running (it may have read the old one).
    fn restart(self) {
        self.root.set(None);
        spawn_local(async move {
            while self.busy.get_untracked() {
                gloo_timers::future::TimeoutFuture::new(20).await;
            }
            self.step().await;
        });
    }
}

/// Verifies each block the node streams, while the page is shown; catches up with a step
/// when it is shown again.
fn open_stream(lc: LightClient, last_event: Rc<Cell<u64>>) {
    crate::stream::follow(
        move |text| {
            last_event.set(now_ms());
            lc.source.set(Source::Stream);
            match serde_json::from_str::<BlockResponse>(&text) {
                Ok(block) => lc.on_block(block),
                Err(e) => lc.error.set(Some(format!(
                    "the node streamed a block this app cannot read: {e}"
                ))),
            }
        },
        move || spawn_local(lc.step()),
    );
}

/// The light client's trust once its checkpoint has verified; what every page verifies
/// against. Fails at once when the checkpoint was refused or the user has not settled which
/// chain to trust.
pub async fn trusted(lc: LightClient) -> Result<Trust, String> {
    const STEP_MS: u32 = 50;
    for _ in 0..TRUST_WAIT_MS / STEP_MS {
        if let Some(trust) = lc
            .follower
            .with_untracked(|f| f.as_ref().map(Follower::trust))
        {
            return Ok(trust);
        }
        if let Some(why) = lc
            .root
            .with_untracked(|r| r.as_ref().and_then(Root::blocked_reason))
        {
            return Err(why.to_owned());
        }
        if let Some(e) = lc
            .error
            .get_untracked()
            .filter(|e| e.starts_with("checkpoint"))
        {
            return Err(format!("this browser's light client refused its {e}"));
        }
        gloo_timers::future::TimeoutFuture::new(STEP_MS).await;
    }
    Err("this browser's light client has not verified a checkpoint yet".into())
}

/// Block `height` as the node serves it, proven against `trust` (its commit verified by the
/// validators this browser trusts).
pub async fn proven_block_at(
    trust: &Trust,
    height: u64,
) -> Result<joule_light_client::ProvenBlock, String> {
    let block: BlockResponse = crate::api::get(&format!("/blocks/{height}")).await?;
    crate::proofs::prove_block(trust, &block)
}

/// The market's and governance's parameters at the head, each proven against `trust`.
pub async fn proven_chain_params(
    trust: &Trust,
) -> Result<joule_light_client::dao::ChainParams, String> {
    use joule_light_client::api::{GovernanceResponse, MarketResponse};
    let market: MarketResponse = crate::api::get("/market").await?;
    let gov: GovernanceResponse = crate::api::get("/governance").await?;
    let at = |p: &Option<joule_light_client::api::ObjectProofAt>| {
        p.as_ref()
            .map(|p| p.at.height)
            .ok_or("no block yet".to_owned())
    };
    let m = proven_block_at(trust, at(&market.proof)?).await?;
    let g = proven_block_at(trust, at(&gov.proof)?).await?;
    Ok(joule_light_client::dao::ChainParams {
        market: crate::proofs::prove_market_params(&m, &market)?,
        gov: crate::proofs::prove_gov_params(&g, &gov)?,
    })
}
