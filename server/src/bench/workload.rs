//! The blocks `joule bench exec` runs: transfers only, the market's transactions (orders and
//! readings), or a mix of the three — among N prosumers, each an account with a registered
//! meter, in one shard, at a height where an interval's book is open and the previous
//! interval's readings are due — or votes on one proposal open for them, each member with
//! the weight its start fixed.

use joule_light_client::market::{meter_key, MarketParams, Meter, MeterKind, Side};
use joule_light_client::object::StateKey;
use joule_light_client::{
    Account, Address, Encode, Payload, SecretKey, Signature, SignedTransaction, Transaction,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use std::sync::Arc;

use joule_light_client::dao::{weight_key, Choice, ProposalState, Weight};
use joule_light_client::Hash;

use super::bench_key;
use crate::chain::exec::ShardBlockInput;
use crate::chain::state::ShardState;
use crate::chain::vm::{GovContext, ProposalWindow};

/// Which transactions a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// Transfers between accounts drawn at random.
    Transfer,
    /// Orders (offers naming the sender's meter, bids) and meters' readings, 60/40.
    Market,
    /// Transfers, orders and readings, 50/30/20.
    Mixed,
    /// Votes on one active proposal (for, against, abstain at random).
    Votes,
}

/// A block and the state it runs against.
pub struct Workload {
    /// The shard's state before the block.
    pub state: ShardState,
    /// The block's transactions (signatures are taken as checked).
    pub txs: Vec<SignedTransaction>,
    /// The block's height (inside the market's schedule, see the module doc).
    pub height: u64,
    /// Governance as the block sees it (the votes' proposal).
    pub gov: Arc<GovContext>,
}

impl Workload {
    /// The block as the executors take it: one shard, fee 1, no receipts or system writes.
    pub fn input(&self) -> ShardBlockInput<'_> {
        ShardBlockInput {
            shard: 0,
            height: self.height,
            shard_count: 1,
            fee: 1,
            incoming: &[],
            txs: &self.txs,
            market: Default::default(),
            system: &crate::chain::market::NO_SYSTEM,
            gov: &self.gov,
        }
    }
}

/// The interval whose book the workload's orders go to; the one before it is read.
const OPEN: u64 = 5;

/// The meter key of prosumer `i`.
fn meter_of(i: u32) -> SecretKey {
    SecretKey::from_seed(&blake3::derive_key("joule bench meter", &i.to_le_bytes()))
}

/// A block of `txs` transactions of `kind` among `accounts` prosumers.
pub fn workload(kind: WorkloadKind, accounts: usize, txs: usize, seed: u64) -> Workload {
    let p = MarketParams::DEVNET;
    // Interval OPEN − 1 delivering, its readings not due yet; at its end, the readings of
    // OPEN − 2 are in their window, and OPEN's book is open (its gate is later).
    let height = p.start(OPEN - 1).expect("on the schedule") + 1;
    debug_assert!(p.order_window(OPEN, height).is_ok());
    debug_assert!(p.reading_window(OPEN - 2, height).is_ok());
    let keys: Vec<SecretKey> = (0..accounts as u32).map(bench_key).collect();
    let meters: Vec<SecretKey> = (0..accounts as u32).map(meter_of).collect();
    let addr = |k: &SecretKey| Address::from_public_key(&k.public_key());
    let (owners, meter_addrs): (Vec<Address>, Vec<Address>) = keys
        .iter()
        .zip(&meters)
        .map(|(k, m)| (addr(k), addr(m)))
        .unzip();
    let funded = Account {
        balance: u64::MAX / (4 * accounts as u64),
        nonce: 0,
    };
    let mut accs: Vec<(Address, Account)> = owners
        .iter()
        .chain(&meter_addrs)
        .map(|a| (*a, funded))
        .collect();
    accs.sort_unstable_by_key(|(a, _)| *a);
    let mut objects: Vec<(StateKey, Vec<u8>)> = meter_addrs
        .iter()
        .zip(&owners)
        .map(|(m, owner)| {
            let meter = Meter {
                owner: *owner,
                kind: MeterKind::Solar,
                capacity_w: 1_000_000,
                next_interval: OPEN - 2,
                produced_wh: 0,
                consumed_wh: 0,
                last_produced_wh: 0,
            };
            (meter_key(m), meter.encode())
        })
        .collect();
    // Every member's weight on the votes' proposal, as its start step wrote them.
    if kind == WorkloadKind::Votes {
        objects.extend(owners.iter().map(|member| {
            let w = Weight {
                proposal: PROPOSAL,
                member: *member,
                power: 1_000,
                end: height + 100,
            };
            (weight_key(member, &PROPOSAL), w.encode())
        }));
    }
    objects.sort_unstable_by_key(|(k, _)| *k);
    let state = ShardState::from_parts(&accs, &objects);

    let mut rng = StdRng::seed_from_u64(seed);
    let mut nonces = vec![0u64; accounts];
    // A meter reads its interval once: later draws for it become orders.
    let mut read = vec![false; accounts];
    let sign = |key: &SecretKey, nonce: u64, payload: Payload| SignedTransaction {
        tx: Transaction {
            chain_id: "bench".into(),
            sender: key.public_key(),
            nonce,
            max_fee: 1,
            payload,
        },
        // Signatures are checked before execution; this workload measures execution only.
        signature: Signature([0; 64]),
    };
    let txs = (0..txs)
        .map(|_| {
            let s = rng.gen_range(0..accounts);
            if kind == WorkloadKind::Votes {
                let choice = [Choice::For, Choice::Against, Choice::Abstain][rng.gen_range(0..3)];
                nonces[s] += 1;
                let payload = Payload::Vote {
                    proposal: PROPOSAL,
                    choice,
                };
                return sign(&keys[s], nonces[s] - 1, payload);
            }
            let roll = rng.gen_range(0..10);
            let transfer = match kind {
                WorkloadKind::Transfer => true,
                WorkloadKind::Market => false,
                WorkloadKind::Mixed => roll < 5,
                WorkloadKind::Votes => unreachable!("votes return above"),
            };
            let reading = !transfer
                && !read[s]
                && match kind {
                    WorkloadKind::Market => roll < 4,
                    _ => roll >= 8,
                };
            if reading {
                read[s] = true;
                let payload = Payload::Reading {
                    interval: OPEN - 2,
                    produced_wh: rng.gen_range(0..2_000),
                    consumed_wh: rng.gen_range(0..500),
                };
                // The meter's first and only transaction: nonce 0.
                return sign(&meters[s], 0, payload);
            }
            let payload = if transfer {
                Payload::Transfer {
                    to: owners[rng.gen_range(0..accounts)],
                    amount: 1,
                }
            } else {
                let ask = rng.gen_bool(0.5);
                Payload::PlaceOrder {
                    interval: OPEN,
                    side: if ask { Side::Ask } else { Side::Bid },
                    price: rng.gen_range(90..=130) * 1_000,
                    qty_wh: rng.gen_range(1..2_000),
                    meter: ask.then_some(meter_addrs[s]),
                }
            };
            nonces[s] += 1;
            sign(&keys[s], nonces[s] - 1, payload)
        })
        .collect();
    let mut gov = GovContext::default();
    gov.proposals.insert(
        PROPOSAL,
        ProposalWindow {
            proposer: owners[0],
            start: height - 1,
            end: height + 100,
            state: ProposalState::Active,
        },
    );
    Workload {
        state,
        txs,
        height,
        gov: Arc::new(gov),
    }
}

/// The proposal the votes workload votes on.
const PROPOSAL: Hash = Hash([0x9a; 32]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::exec::{Executor, SequentialExecutor};
    use joule_light_client::ExecStatus;

    #[test]
    fn every_transaction_of_every_workload_succeeds() {
        for kind in [
            WorkloadKind::Transfer,
            WorkloadKind::Market,
            WorkloadKind::Mixed,
            WorkloadKind::Votes,
        ] {
            let w = workload(kind, 50, 400, 1);
            let out = SequentialExecutor.execute(&w.state, w.input()).0;
            assert_eq!(out.outcomes.len(), 400, "{kind:?}: every one included");
            assert!(
                out.outcomes.iter().all(|o| o.status == ExecStatus::Success),
                "{kind:?}: {:?}",
                out.outcomes
                    .iter()
                    .find(|o| o.status != ExecStatus::Success)
            );
            let readings = w
                .txs
                .iter()
                .filter(|t| matches!(t.tx.payload, Payload::Reading { .. }))
                .count();
            match kind {
                WorkloadKind::Transfer | WorkloadKind::Votes => assert_eq!(readings, 0),
                _ => assert!(readings > 0, "{kind:?}"),
            }
        }
    }
}
