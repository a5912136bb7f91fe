//! The community simulator (`joule node --simulate N`, on in `make run`): N prosumers on the
//! devnet whose meters follow the sun, the wind and household load ([`weather`]), who trade
//! their expected surplus or deficit every interval, report what their meters measured, lock
//! power, delegate and vote on proposals a scripted member makes every few minutes — so a new
//! chain's market and DAO have something to show within a minute.
//!
//! The simulator is a client like any other: it signs with devnet keys (accounts from
//! [`FIRST_ACCOUNT`] on, well known, none of the first ones `joule load` uses) and submits
//! through the node's admission, after each block. Everything it does is derived from its seed
//! and the interval, so a run is reproducible.
//!
//! - **Meters**: 60 % solar, 10 % wind, 30 % load only, each rated [`CAPACITY_W`]; registered
//!   (and funded for their own fees) on the first block.
//! - **Trading**: before an interval's gate each prosumer forecasts its production and load for
//!   it, offers a surplus a little under the last clearing price or bids for a deficit a
//!   little over it, within feed-in and retail prices; after the interval its meter reports the
//!   forecast with noise.
//! - **Governance**: each prosumer locks [`LOCK`]; one in eight delegates to prosumer 1.
//!   Prosumer 0 proposes every `proposal_every` blocks, in turn: a market fee 10 bps away,
//!   another interval length (20 ↔ 30 blocks), half the treasury to the community battery.
//!   Prosumers vote over the first half of each vote (mostly for), and some change their mind.
//! - **Faults** ([`faults`]): a few producers' meters fail in seeded ways — a failing panel, a
//!   stuck meter, one reporting energy it did not produce — for the anomaly flags to find.

pub mod faults;
pub mod weather;

/// Production and load (Wh) of prosumer `agent` with a meter of `kind` in `interval`, at
/// `max_wh` for the meter's full rating over the interval: the forecast from the weather, or
/// with `noise` what an honest meter measures.
pub fn energy(
    seed: u64,
    agent: u64,
    kind: MeterKind,
    interval: u64,
    max_wh: u64,
    noise: bool,
) -> (u64, u64) {
    let share = match kind {
        MeterKind::Solar => weather::solar(seed, interval),
        MeterKind::Wind => weather::wind(seed, agent, interval),
        _ => 0.0,
    };
    let (mut p, mut l) = (share, weather::load(seed, agent, interval));
    if noise {
        p *= 0.85 + 0.25 * weather::unit(seed, "production noise", agent, interval);
        l *= 0.9 + 0.2 * weather::unit(seed, "measured load", agent, interval);
    }
    let wh = |x: f64| ((x.clamp(0.0, 1.0) * max_wh as f64).round() as u64).min(max_wh);
    (wh(p), wh(l))
}

/// The kind of meter simulated prosumer `i` has: 60 % solar, 10 % wind, 30 % load only.
pub fn kind_of(i: u64) -> MeterKind {
    match i % 10 {
        0..=5 => MeterKind::Solar,
        6 => MeterKind::Wind,
        _ => MeterKind::Consumption,
    }
}

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use joule_light_client::codec::decode_exact;
use joule_light_client::dao::{live_proposal_key, power_key, Action, Choice, Param, ProposalState};
use joule_light_client::market::{
    interval_key, meter_key, price_on_grid, treasury, IntervalRecord, MeterKind, Side,
};
use joule_light_client::transaction::meter_pop_message;
use joule_light_client::units::UNITS_PER_TOKEN;
use joule_light_client::{Address, Hash, Payload, SecretKey, Transaction};
use tokio::sync::broadcast::error::TryRecvError;

use crate::devnet;
use crate::node::Node;

/// The first devnet account the simulator's prosumers use.
pub const FIRST_ACCOUNT: u32 = 128;

/// Rated power of a simulated meter, W (a small business or an apartment block).
pub const CAPACITY_W: u64 = 50_000;

/// Tokens each prosumer locks for governance.
pub const LOCK: u64 = 5_000 * UNITS_PER_TOKEN;

/// Prices prosumers trade between, token units per Wh: the grid's feed-in tariff (0.08
/// JOULE/kWh) and its retail price (0.25 JOULE/kWh).
const FEED_IN: u64 = 80_000;
const RETAIL: u64 = 250_000;

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Prosumers (at most the devnet accounts from [`FIRST_ACCOUNT`] on).
    pub agents: u32,
    /// Seed of everything random.
    pub seed: u64,
    /// Blocks between the scripted member's proposals.
    pub proposal_every: u64,
}

impl SimOptions {
    /// `agents` prosumers, seed 1, a proposal every 600 blocks (5 minutes at the devnet's
    /// 500 ms blocks).
    pub fn new(agents: u32) -> Self {
        SimOptions {
            agents: agents.min(devnet::DEVNET_ACCOUNTS - FIRST_ACCOUNT),
            seed: 1,
            proposal_every: 600,
        }
    }
}

/// A running simulator; stops when stopped or dropped.
pub struct Simulation {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulation {
    /// Starts simulating on `node`: a step after every block it publishes.
    pub fn start(node: Arc<Node>, opts: SimOptions) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // The simulated day is 96 intervals: the node's forecast learns that pattern.
        *node.analytics.lock().unwrap_or_else(|p| p.into_inner()) =
            crate::analytics::tracker::Tracker::new(weather::INTERVALS_PER_DAY as usize);
        let _ = node
            .simulation
            .set(joule_light_client::api::SimulationInfo {
                prosumers: opts.agents,
                seed: opts.seed,
                minutes_per_interval: weather::MINUTES_PER_INTERVAL as u32,
            });
        let thread = std::thread::Builder::new()
            .name("joule-sim".into())
            .spawn(move || {
                let mut rx = node.subscribe();
                let mut sim = Sim::new(&node, opts);
                while !flag.load(Ordering::Relaxed) {
                    match rx.try_recv() {
                        Ok(_) | Err(TryRecvError::Lagged(_)) => sim.step(&node),
                        Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(20)),
                        Err(TryRecvError::Closed) => break,
                    }
                }
            })
            .ok();
        Simulation { stop, thread }
    }

    /// Stops it and waits for its thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Simulation {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One prosumer.
struct Agent {
    index: u64,
    key: SecretKey,
    address: Address,
    meter: SecretKey,
    meter_address: Address,
    kind: MeterKind,
    delegates: bool,
}

struct Sim {
    opts: SimOptions,
    agents: Vec<Agent>,
    set_up: bool,
    /// Intervals ordered for, and read.
    ordered: BTreeSet<u64>,
    read: BTreeSet<u64>,
    /// (proposal, agent) that voted, and that changed their vote.
    voted: HashSet<(Hash, u64)>,
    changed: HashSet<(Hash, u64)>,
    next_proposal: u64,
    cycle: u64,
    last_price: u64,
}

/// The community battery's fund, where the treasury grants go.
fn battery_fund() -> Address {
    let h = blake3::derive_key("joule simulator community battery", b"");
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    Address(a)
}

/// `price` on the market's grid (three significant digits), between feed-in and retail.
fn on_grid(price: u64) -> u64 {
    let mut p = price.clamp(FEED_IN, RETAIL);
    let mut scale = 1;
    while p >= 1_000 {
        p /= 10;
        scale *= 10;
    }
    let p = p * scale;
    debug_assert!(price_on_grid(p));
    p
}

impl Sim {
    fn new(node: &Node, opts: SimOptions) -> Self {
        let shards = node.genesis.shard_count;
        let agents = (0..opts.agents)
            .map(|i| {
                let n = FIRST_ACCOUNT + i;
                let key = devnet::account_key(n);
                let meter = devnet::meter_key(n, shards);
                let kind = kind_of(u64::from(i));
                Agent {
                    index: u64::from(i),
                    address: Address::from_public_key(&key.public_key()),
                    meter_address: Address::from_public_key(&meter.public_key()),
                    key,
                    meter,
                    kind,
                    delegates: i % 8 == 3,
                }
            })
            .collect();
        Sim {
            opts,
            agents,
            set_up: false,
            ordered: BTreeSet::new(),
            read: BTreeSet::new(),
            voted: HashSet::new(),
            changed: HashSet::new(),
            next_proposal: 0,
            cycle: 0,
            last_price: 120_000,
        }
    }

    /// Signs `payload` from `key` at its next nonce and admits it (a refusal is logged: the
    /// chain moved under the simulator, and its next step tries again).
    fn send(node: &Node, key: &SecretKey, payload: Payload) -> Option<Hash> {
        let g = &node.genesis;
        let stx = Transaction {
            chain_id: g.chain_id.clone(),
            sender: key.public_key(),
            nonce: node.next_nonce(&Address::from_public_key(&key.public_key())),
            max_fee: g.min_fee,
            payload,
        }
        .sign(key);
        match node.admit(stx) {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::debug!(code = e.code(), reason = %e, "simulator transaction refused");
                None
            }
        }
    }

    /// Production and load (Wh) of `agent` in `interval`: the forecast, or with `noise` what
    /// its meter reports (faults included).
    fn energy(&self, agent: &Agent, interval: u64, max_wh: u64, noise: bool) -> (u64, u64) {
        let seed = self.opts.seed;
        if noise {
            let fault = faults::fault_of(seed, agent.index, agent.kind);
            faults::reported(
                seed,
                agent.index,
                agent.kind,
                fault.as_ref(),
                interval,
                max_wh,
            )
        } else {
            energy(seed, agent.index, agent.kind, interval, max_wh, false)
        }
    }

    fn step(&mut self, node: &Node) {
        let (height, market, gov) = {
            let chain = node.chain();
            (
                chain.height(),
                node.market_context(&chain),
                node.gov_context(&chain),
            )
        };
        let next = height + 1;
        if !self.set_up {
            self.set_up(node);
            self.next_proposal = next + 4;
            return;
        }
        let p = &market.params;
        let max_wh = market.max_wh(p.first_open(next), CAPACITY_W);

        // Orders for the first open interval, once, with a block of margin before its gate.
        let target = p.first_open(next);
        if p.gate(target).is_some_and(|g| g > next + 1) && self.ordered.insert(target) {
            self.update_price(node, target);
            for a in &self.agents {
                let (prod, load) = self.energy(a, target, max_wh, false);
                let u = weather::unit(self.opts.seed, "price", a.index, target);
                let order = if prod > load && a.kind.produces() {
                    let price = on_grid(self.last_price * (88 + (u * 12.0) as u64) / 100);
                    (Side::Ask, price, prod - load, Some(a.meter_address))
                } else if load > prod {
                    let price = on_grid(self.last_price * (100 + (u * 14.0) as u64) / 100);
                    (Side::Bid, price, load - prod, None)
                } else {
                    continue;
                };
                let (side, price, qty_wh, meter) = order;
                let payload = Payload::PlaceOrder {
                    interval: target,
                    side,
                    price,
                    qty_wh,
                    meter,
                };
                Self::send(node, &a.key, payload);
            }
        }

        // Readings for the interval that ended, once its window is open (only intervals the
        // simulator traded in: its meters were registered after the ones before).
        if let Some(ended) = market.interval_at(next).and_then(|d| d.checked_sub(1)) {
            let traded = self.ordered.first().is_some_and(|first| ended >= *first);
            let open = market.schedule(ended).reading_window(ended, next).is_ok();
            if traded && open && self.read.insert(ended) {
                let max_wh = market.max_wh(ended, CAPACITY_W);
                for a in &self.agents {
                    let (produced_wh, consumed_wh) = self.energy(a, ended, max_wh, true);
                    let payload = Payload::Reading {
                        interval: ended,
                        produced_wh: if a.kind.produces() { produced_wh } else { 0 },
                        consumed_wh,
                    };
                    Self::send(node, &a.meter, payload);
                }
            }
        }

        // Governance: the scripted proposal, then votes on what is open.
        if next >= self.next_proposal {
            self.propose(node, &market);
            self.next_proposal = next + self.opts.proposal_every;
        }
        let seed = self.opts.seed;
        for (id, w) in &gov.proposals {
            if !(w.start..w.end).contains(&next) || w.state == ProposalState::Canceled {
                continue;
            }
            let half = w.start + (w.end - w.start) / 2;
            let key = u64::from_le_bytes(id.0[..8].try_into().unwrap_or([0; 8]));
            for a in self.agents.iter().filter(|a| !a.delegates) {
                let roll = weather::unit(seed, "vote", key ^ a.index, next);
                if next < half && !self.voted.contains(&(*id, a.index)) && roll < 0.2 {
                    let u = weather::unit(seed, "choice", key, a.index);
                    let choice = match u {
                        u if u < 0.7 => Choice::For,
                        u if u < 0.88 => Choice::Against,
                        _ => Choice::Abstain,
                    };
                    if Self::send(
                        node,
                        &a.key,
                        Payload::Vote {
                            proposal: *id,
                            choice,
                        },
                    )
                    .is_some()
                    {
                        self.voted.insert((*id, a.index));
                    }
                } else if next >= half
                    && self.voted.contains(&(*id, a.index))
                    && !self.changed.contains(&(*id, a.index))
                    && roll < 0.01
                {
                    // A change of mind: the last vote counts.
                    let vote = Payload::Vote {
                        proposal: *id,
                        choice: Choice::For,
                    };
                    if Self::send(node, &a.key, vote).is_some() {
                        self.changed.insert((*id, a.index));
                    }
                }
            }
        }
    }

    /// Meters funded and registered, locks and delegations — whatever the chain lacks.
    fn set_up(&mut self, node: &Node) {
        let shards = node.genesis.shard_count;
        let chain_id = node.genesis.chain_id.clone();
        for a in &self.agents {
            let (registered, locked) = {
                let chain = node.chain();
                let state = |x: &Address| &chain.shards[usize::from(x.shard(shards))];
                (
                    state(&a.meter_address)
                        .object(&meter_key(&a.meter_address))
                        .is_some(),
                    state(&a.address).object(&power_key(&a.address)).is_some(),
                )
            };
            if !registered {
                let fund = Payload::Transfer {
                    to: a.meter_address,
                    amount: 100 * UNITS_PER_TOKEN,
                };
                Self::send(node, &a.key, fund);
                let pop = a.meter.sign(
                    meter_pop_message(
                        &chain_id,
                        &a.address,
                        &a.meter.public_key(),
                        a.kind,
                        CAPACITY_W,
                    )
                    .as_bytes(),
                );
                let register = Payload::RegisterMeter {
                    meter: a.meter.public_key(),
                    kind: a.kind,
                    capacity_w: CAPACITY_W,
                    pop,
                };
                Self::send(node, &a.key, register);
            }
            if !locked {
                Self::send(node, &a.key, Payload::LockPower { amount: LOCK });
                if a.delegates {
                    let to = self.agents.get(1).map(|d| d.address);
                    Self::send(node, &a.key, Payload::Delegate { to });
                }
            }
        }
        self.set_up = true;
    }

    /// The last clearing price, from the record of the interval before `target`, if it crossed.
    fn update_price(&mut self, node: &Node, target: u64) {
        let chain = node.chain();
        let record = target.checked_sub(1).and_then(|i| {
            chain.shards[0]
                .object(&interval_key(i))
                .and_then(|b| decode_exact::<IntervalRecord>(b).ok())
        });
        if let Some(c) = record.and_then(|r| r.clearing) {
            self.last_price = c.price;
        }
    }

    /// Prosumer 0's next proposal, unless it has one live.
    fn propose(&mut self, node: &Node, market: &crate::chain::MarketContext) {
        let Some(proposer) = self.agents.first() else {
            return;
        };
        let (live, in_treasury) = {
            let chain = node.chain();
            let shards = chain.shards.len() as u16;
            let state = |x: &Address| &chain.shards[usize::from(x.shard(shards))];
            let t = treasury();
            (
                state(&proposer.address)
                    .object(&live_proposal_key(&proposer.address))
                    .is_some(),
                chain.account(&t).balance,
            )
        };
        if live {
            return;
        }
        let p = &market.params;
        let pct = |bps: u64| format!("{}.{:02} %", bps / 100, bps % 100);
        let (action, title) = match self.cycle % 3 {
            0 => {
                let now = u64::from(p.fee_bps);
                let to = if now >= 50 { now - 10 } else { now + 10 };
                let param = Param::FeeBps;
                let title = format!("Market fee {} → {}", pct(now), pct(to));
                (Action::SetParam { param, value: to }, title)
            }
            1 => {
                let to = if p.interval_blocks == 20 { 30 } else { 20 };
                let param = Param::IntervalBlocks;
                let title = format!("Intervals of {to} blocks");
                (Action::SetParam { param, value: to }, title)
            }
            _ if in_treasury >= 2 => {
                let amount = in_treasury / 2;
                let title = "Half the treasury to the community battery".to_owned();
                let to = battery_fund();
                (Action::Spend { to, amount }, title)
            }
            _ => (
                Action::Text,
                "Should we build a community battery?".to_owned(),
            ),
        };
        self.cycle += 1;
        let body = format!(
            "{title}. Proposed by the simulated community (seed {}).",
            self.opts.seed
        );
        let payload = Payload::Propose {
            action,
            title,
            body_hash: Hash(*blake3::hash(body.as_bytes()).as_bytes()),
        };
        Self::send(node, &proposer.key, payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_land_on_the_grid_between_feed_in_and_retail() {
        for p in [1, 79_999, 80_000, 123_456, 249_999, 10_000_000] {
            let g = on_grid(p);
            assert!(
                price_on_grid(g) && (FEED_IN..=RETAIL).contains(&g),
                "{p} → {g}"
            );
        }
        assert_eq!(on_grid(123_456), 123_000);
    }
}
