//! Parallel equals sequential: randomized blocks (transfers, every market kind over
//! registered and unknown meters, open and closed books, escrows and cancels, and every
//! governance kind over pending, active, ended and canceled proposals), and a
//! maximal-contention stress test.

use std::sync::Arc;

use joule_light_client::dao::{
    checkpoint_key, power_key, proposal_key, weight_key, Action, Choice, GovParams, Param, Power,
    PowerCheckpoint, Proposal, ProposalState, Weight,
};
use joule_light_client::market::{
    cert_lot_key, meter_key, order_key, CertLot, MarketParams, Meter, MeterKind, Order, Side,
};
use joule_light_client::object::StateKey;
use joule_light_client::{
    Account, Address, Encode, Hash, Payload, Receipt, SecretKey, Signature, SignedTransaction,
    Transaction,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ParallelExecutor;
use crate::chain::exec::{Executor, SequentialExecutor, ShardBlockInput};
use crate::chain::state::ShardState;
use crate::chain::vm::{GovContext, ProposalWindow};
use joule_light_client::api::ExecMode;

const FEE: u64 = 10;

/// Keys whose accounts live on shard 0 of a `shards`-shard chain.
fn keys_on_shard0(shards: u16, n: usize) -> Vec<SecretKey> {
    (0u32..)
        .map(|i| SecretKey::from_seed(&blake3::derive_key("joule blockstm test", &i.to_le_bytes())))
        .filter(|k| Address::from_public_key(&k.public_key()).shard(shards) == 0)
        .take(n)
        .collect()
}

/// A shard where every one of `keys` holds `balance` at nonce 0.
fn funded(keys: &[SecretKey], balance: u64) -> ShardState {
    let mut w: Vec<(Address, Account)> = keys
        .iter()
        .map(|k| {
            let account = Account { balance, nonce: 0 };
            (Address::from_public_key(&k.public_key()), account)
        })
        .collect();
    w.sort_unstable_by_key(|(a, _)| *a);
    ShardState::from_accounts(&w)
}

/// Signatures are checked before execution, so the executors never look at them.
fn unsigned(key: &SecretKey, nonce: u64, to: Address, amount: u64) -> SignedTransaction {
    with_payload(key, nonce, Payload::Transfer { to, amount })
}

/// A transaction of `key` carrying `payload`, unsigned (see [`unsigned`]).
fn with_payload(key: &SecretKey, nonce: u64, payload: Payload) -> SignedTransaction {
    let tx = Transaction {
        chain_id: "t".into(),
        sender: key.public_key(),
        nonce,
        max_fee: FEE,
        payload,
    };
    SignedTransaction {
        tx,
        signature: Signature([0; 64]),
    }
}

struct Case {
    shards: u16,
    height: u64,
    state: ShardState,
    incoming: Vec<Receipt>,
    /// What the block's system steps wrote first (the gate's clearing, when due).
    system: crate::chain::market::SystemWrites,
    txs: Vec<SignedTransaction>,
    /// Governance as the block sees it.
    gov: Arc<GovContext>,
}

/// Governance's parameters in the random blocks: a proposal needs 100 units locked.
const TEST_GOV: GovParams = GovParams {
    proposal_min_power: 100,
    ..GovParams::DEVNET
};

/// A random market transaction of `keys[s]` (at `nonce`) around `height`: meters registered,
/// read, named by offers (their own or another's), bids that may not be covered, cancels of
/// earlier orders or of none.
fn random_market_payload(
    rng: &mut StdRng,
    keys: &[SecretKey],
    addrs: &[Address],
    s: usize,
    height: u64,
    placed: &[(usize, Hash)],
    proposals: &[Hash],
) -> Payload {
    let p = MarketParams::DEVNET;
    let around = p.interval_at(height).unwrap_or(1);
    let interval = (around + rng.gen_range(0..4)).saturating_sub(2);
    let other = rng.gen_range(0..addrs.len());
    let proposal = |rng: &mut StdRng| {
        if rng.gen_bool(0.85) {
            proposals[rng.gen_range(0..proposals.len())]
        } else {
            Hash(rng.gen())
        }
    };
    match rng.gen_range(0..17) {
        // Proposals: a fee in or out of bounds, a spend of nothing or something, a signal.
        14 => Payload::Propose {
            action: match rng.gen_range(0..4) {
                0 => Action::SetParam {
                    param: Param::FeeBps,
                    value: rng.gen_range(0..1_500),
                },
                1 => Action::Spend {
                    to: addrs[other],
                    amount: rng.gen_range(0..3),
                },
                _ => Action::Text,
            },
            title: if rng.gen_bool(0.9) { "t" } else { "" }.into(),
            body_hash: Hash(rng.gen()),
        },
        15 => Payload::Vote {
            proposal: proposal(rng),
            choice: [Choice::For, Choice::Against, Choice::Abstain][rng.gen_range(0..3)],
        },
        16 => Payload::CancelProposal {
            proposal: proposal(rng),
        },
        0 | 1 => {
            let kinds = [
                MeterKind::Solar,
                MeterKind::Wind,
                MeterKind::Storage,
                MeterKind::Consumption,
            ];
            Payload::RegisterMeter {
                meter: keys[other].public_key(),
                kind: kinds[rng.gen_range(0..4)],
                capacity_w: rng.gen_range(1..20_000),
                pop: Signature([0; 64]),
            }
        }
        // A 20-block interval of 0.5 s blocks is 10 s: a 20 kW meter delivers 55 Wh in it.
        2 | 3 => Payload::Reading {
            interval,
            produced_wh: rng.gen_range(0..60),
            consumed_wh: rng.gen_range(0..30),
        },
        4..=7 => {
            let side = if rng.gen_bool(0.5) {
                Side::Bid
            } else {
                Side::Ask
            };
            Payload::PlaceOrder {
                interval: interval + rng.gen_range(0..3),
                side,
                // Now and then off the price grid (four significant digits).
                price: if rng.gen_bool(0.05) {
                    1_001
                } else {
                    rng.gen_range(0..40)
                },
                qty_wh: rng.gen_range(0..100),
                meter: (side == Side::Ask)
                    .then(|| addrs[if rng.gen_bool(0.7) { s } else { other }]),
            }
        }
        // Governance: locks that may exceed the balance, unlocks that may exceed the lock,
        // delegations to anyone (oneself included) or back.
        11 => Payload::LockPower {
            amount: rng.gen_range(0..1_500),
        },
        12 => Payload::UnlockPower {
            amount: rng.gen_range(0..400),
        },
        13 => Payload::Delegate {
            to: rng.gen_bool(0.8).then(|| addrs[other]),
        },
        // Certificates from any meter, of the sender's own lot or a meter's (its own or not).
        10 => Payload::ClaimCertificates {
            meter: rng
                .gen_bool(0.5)
                .then(|| addrs[if rng.gen_bool(0.7) { s } else { other }]),
            origin: addrs[rng.gen_range(0..addrs.len())],
            day: 0,
            kind: if rng.gen_bool(0.9) {
                MeterKind::Solar
            } else {
                MeterKind::Wind
            },
            wh: rng.gen_range(0..60),
        },
        _ => {
            let mine: Vec<Hash> = placed
                .iter()
                .filter(|(o, _)| *o == s)
                .map(|(_, h)| *h)
                .collect();
            let order = if !mine.is_empty() && rng.gen_bool(0.7) {
                mine[rng.gen_range(0..mine.len())]
            } else {
                Hash(rng.gen())
            };
            Payload::CancelOrder { order }
        }
    }
}

fn random_case(rng: &mut StdRng, pools: &[Vec<SecretKey>], market: bool) -> Case {
    let shards = rng.gen_range(1..=4u16);
    let pool = &pools[usize::from(shards) - 1];
    let accounts = rng.gen_range(1..=pool.len());
    let keys = &pool[..accounts];
    let addrs: Vec<Address> = keys
        .iter()
        .map(|k| Address::from_public_key(&k.public_key()))
        .collect();
    let mut state = ShardState::default();
    let mut nonces = Vec::new();
    let mut w = Vec::new();
    for a in &addrs {
        let acc = Account {
            balance: rng.gen_range(0..2_000),
            nonce: rng.gen_range(0..3),
        };
        nonces.push(acc.nonce);
        w.push((*a, acc));
    }
    w.sort_unstable_by_key(|(a, _)| *a);
    // Often a gate, where the book of an interval with orders here closes first, or a
    // readings' deadline, where an interval cleared at price 3 settles.
    let p = MarketParams::DEVNET;
    let settling = (market && rng.gen_bool(0.2)).then(|| rng.gen_range(1..6u64));
    let height = if let Some(i) = settling {
        p.deadline(i).unwrap_or(1)
    } else if market && rng.gen_bool(0.3) {
        p.gate(rng.gen_range(1..6)).unwrap_or(1)
    } else {
        rng.gen_range(1..120)
    };
    // Some accounts are meters already (their own or another's), some have open orders.
    let mut objects: Vec<(StateKey, Option<Vec<u8>>)> = Vec::new();
    let mut placed: Vec<(usize, Hash)> = Vec::new();
    if market {
        for (i, a) in addrs.iter().enumerate() {
            if rng.gen_bool(0.4) {
                let m = Meter {
                    owner: addrs[if rng.gen_bool(0.8) {
                        i
                    } else {
                        rng.gen_range(0..accounts)
                    }],
                    kind: if rng.gen_bool(0.8) {
                        MeterKind::Solar
                    } else {
                        MeterKind::Consumption
                    },
                    capacity_w: rng.gen_range(100..20_000),
                    next_interval: rng.gen_range(0..6),
                    produced_wh: 0,
                    consumed_wh: 0,
                    last_produced_wh: rng.gen_range(0..100),
                };
                objects.push((meter_key(a), Some(m.encode())));
            }
            if rng.gen_bool(0.3) {
                let power = Power {
                    member: *a,
                    locked: rng.gen_range(0..500),
                    delegate: None,
                    checkpoints: 1,
                };
                let first = PowerCheckpoint {
                    member: *a,
                    height: 0,
                    locked: power.locked,
                    delegate: None,
                };
                objects.push((power_key(a), Some(power.encode())));
                objects.push((checkpoint_key(a, 0), Some(first.encode())));
            }
            if rng.gen_bool(0.4) {
                let origin = addrs[rng.gen_range(0..accounts)];
                let lot = CertLot {
                    holder: *a,
                    origin,
                    day: 0,
                    kind: MeterKind::Solar,
                    wh: rng.gen_range(0..50),
                    claimed_wh: rng.gen_range(0..10),
                };
                objects.push((
                    cert_lot_key(a, &origin, 0, MeterKind::Solar),
                    Some(lot.encode()),
                ));
            }
            if rng.gen_bool(0.3) {
                let id = Hash(rng.gen());
                let (side, filled) = if rng.gen_bool(0.5) {
                    (Side::Bid, rng.gen_range(0..=10))
                } else {
                    (Side::Ask, rng.gen_range(0..=10))
                };
                let o = Order {
                    owner: *a,
                    interval: rng.gen_range(1..8),
                    side,
                    price: 3,
                    qty_wh: 10,
                    meter: (side == Side::Ask).then_some(*a),
                    escrow: if side == Side::Bid { 31 } else { 0 },
                    filled_wh: filled,
                };
                objects.push((order_key(a, &id), Some(o.encode())));
                placed.push((i, id));
            }
        }
        if let Some(i) = settling {
            let record = joule_light_client::market::IntervalRecord {
                interval: i,
                gate_height: p.gate(i).unwrap_or(0),
                shards: 1,
                clearing: Some(joule_light_client::market::Clearing {
                    price: 3,
                    volume_wh: 10,
                    bids: joule_light_client::market::Margin {
                        price: 3,
                        per_curve: vec![10],
                    },
                    asks: joule_light_client::market::Margin {
                        price: 3,
                        per_curve: vec![10],
                    },
                }),
                settlement: None,
            };
            objects.push((
                joule_light_client::market::interval_key(i),
                Some(record.encode()),
            ));
        }
        objects.sort_unstable_by_key(|(k, _)| *k);
    }
    // Proposals: one pending, one active (most members with a weight on it), one ended, one
    // canceled, each made by one of the accounts.
    let mut gov = GovContext {
        params: TEST_GOV,
        ..GovContext::default()
    };
    let mut proposals = Vec::new();
    if market {
        // One time in three each is due at this height: the block's system steps then take
        // the snapshot, the tally or the execution before the transactions.
        let due = |rng: &mut StdRng| u64::from(rng.gen_range(0..3u8) != 0);
        let (d1, d2, d3) = (due(rng), due(rng), due(rng));
        let windows = [
            (height + 2 * d1, height + 50, ProposalState::Pending),
            (
                height.saturating_sub(5),
                height + 20 * d2,
                ProposalState::Active,
            ),
            (
                height.saturating_sub(60),
                height.saturating_sub(10),
                ProposalState::Queued,
            ),
            (height + 2, height + 50, ProposalState::Canceled),
        ];
        for (start, end, state) in windows {
            let id = Hash(rng.gen());
            let proposer = addrs[rng.gen_range(0..accounts)];
            let mut p = Proposal::new(
                id,
                proposer,
                (Action::Text, "t".into(), Hash([0; 32])),
                0,
                &TEST_GOV,
            );
            let eta = if state == ProposalState::Queued {
                p.action = Action::SetParam {
                    param: Param::FeeBps,
                    value: 60,
                };
                height + 5 * d3
            } else {
                end + 1_000
            };
            (p.start, p.end, p.eta, p.state) = (start, end, eta, state);
            objects.push((proposal_key(&proposer, &id), Some(p.encode())));
            if matches!(state, ProposalState::Pending | ProposalState::Active) {
                let live = joule_light_client::dao::LiveProposal(id);
                let key = joule_light_client::dao::live_proposal_key(&proposer);
                // Two live proposals drawn for one proposer: the later marker stands.
                objects.retain(|(k, _)| *k != key);
                objects.push((key, Some(live.encode())));
            }
            gov.proposals.insert(
                id,
                ProposalWindow {
                    proposer,
                    start,
                    end,
                    state,
                },
            );
            if state == ProposalState::Active {
                for a in &addrs {
                    if rng.gen_bool(0.6) {
                        let w = Weight {
                            proposal: id,
                            member: *a,
                            power: rng.gen_range(0..500),
                            end,
                        };
                        objects.push((weight_key(a, &id), Some(w.encode())));
                    }
                }
            }
            proposals.push(id);
        }
        objects.sort_unstable_by_key(|(k, _)| *k);
    }
    state.apply(&w, &objects);
    let incoming = (0..rng.gen_range(0..4))
        .map(|i| Receipt {
            source_shard: 1,
            dest_shard: 0,
            source_height: 1,
            tx_id: joule_light_client::Domain::Transaction.hash(&[i]),
            from: Address([9; 20]),
            to: addrs[rng.gen_range(0..addrs.len())],
            amount: rng.gen_range(1..500),
        })
        .collect();
    let n = rng.gen_range(0..120);
    let txs = (0..n)
        .map(|_| {
            let s = rng.gen_range(0..accounts);
            // Mostly the right nonce; sometimes a stale or future one (skipped).
            let nonce = match rng.gen_range(0..10) {
                0 => nonces[s].wrapping_sub(1),
                1 => nonces[s] + 1,
                _ => {
                    nonces[s] += 1;
                    nonces[s] - 1
                }
            };
            let to = match rng.gen_range(0..10) {
                0..=6 => addrs[rng.gen_range(0..accounts)],
                7 => addrs[s],
                _ => Address(rng.gen()),
            };
            // Large amounts overdraw: the transaction fails but pays the fee.
            let amount = if rng.gen_bool(0.2) {
                rng.gen_range(1_000..5_000)
            } else {
                rng.gen_range(0..200)
            };
            if market && rng.gen_bool(0.5) {
                let payload =
                    random_market_payload(rng, keys, &addrs, s, height, &placed, &proposals);
                let tx = with_payload(&keys[s], nonce, payload);
                if matches!(tx.tx.payload, Payload::PlaceOrder { .. }) {
                    placed.push((s, tx.id()));
                }
                return tx;
            }
            unsigned(&keys[s], nonce, to, amount)
        })
        .collect();
    // At a gate (about one height in five here) the book closes before the transactions.
    let system = crate::chain::market::system_steps(
        std::slice::from_ref(&state),
        &Default::default(),
        &gov.params,
        height,
    )
    .pop()
    .unwrap_or_default();
    Case {
        shards,
        height,
        state,
        incoming,
        system,
        txs,
        gov: Arc::new(gov),
    }
}

fn run(exec: &dyn Executor, c: &Case) -> crate::chain::exec::ShardBlockOutput {
    run_with_stats(exec, c).0
}

fn run_with_stats(
    exec: &dyn Executor,
    c: &Case,
) -> (
    crate::chain::exec::ShardBlockOutput,
    crate::chain::exec::ExecStats,
) {
    let input = ShardBlockInput {
        shard: 0,
        height: c.height,
        shard_count: c.shards,
        fee: FEE,
        incoming: &c.incoming,
        txs: &c.txs,
        market: Default::default(),
        system: &c.system,
        gov: &c.gov,
    };
    exec.execute(&c.state, input)
}

#[test]
fn parallel_equals_sequential_on_random_blocks() {
    let cases: u64 = std::env::var("JOULE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let pools: Vec<Vec<SecretKey>> = (1..=4).map(|s| keys_on_shard0(s, 24)).collect();
    for seed in 0..cases {
        let mut rng = StdRng::seed_from_u64(seed);
        let case = random_case(&mut rng, &pools, seed % 2 == 0);
        let expected = run(&SequentialExecutor, &case);
        let threads = rng.gen_range(1..=8);
        let executor = ParallelExecutor::new(threads);
        for mode in [ExecMode::BlockStm, ExecMode::DeclaredKeys] {
            let got = run(&executor.clone().always(mode), &case);
            assert_eq!(
                got,
                expected,
                "seed {seed}, {mode:?}, {threads} threads, {} txs",
                case.txs.len()
            );
            let roots = |o: &crate::chain::exec::ShardBlockOutput| {
                let t = case.state.next_trees(&o.writes, &o.objects);
                (t.accounts.root(), t.objects.root())
            };
            assert_eq!(roots(&got), roots(&expected));
        }
        assert_eq!(run(&executor, &case), expected, "seed {seed}, adaptive");
    }
}

#[test]
fn random_market_blocks_reach_every_rule() {
    // The equality above means something only if the random blocks succeed and fail in
    // every way a market transaction can.
    use joule_light_client::ExecStatus;
    use std::collections::BTreeSet;
    let pools: Vec<Vec<SecretKey>> = (1..=4).map(|s| keys_on_shard0(s, 24)).collect();
    let mut seen = BTreeSet::new();
    let mut gates_with_refunds = 0;
    let mut settlements = 0;
    let mut gov_steps = [0usize; 3];
    for seed in 0..600 {
        let mut rng = StdRng::seed_from_u64(seed);
        let case = random_case(&mut rng, &pools, true);
        gates_with_refunds += usize::from(!case.system.credits.is_empty());
        settlements += usize::from(case.system.objects.iter().any(|(k, v)| {
            k.kind() == Some(joule_light_client::object::ObjectKind::Order) && v.is_none()
        }));
        for (n, kind) in gov_steps.iter_mut().zip([
            joule_light_client::object::ObjectKind::Weight,
            joule_light_client::object::ObjectKind::Tally,
            joule_light_client::object::ObjectKind::Params,
        ]) {
            *n += usize::from(
                case.system
                    .objects
                    .iter()
                    .any(|(k, _)| k.kind() == Some(kind)),
            );
        }
        let out = run(&SequentialExecutor, &case);
        for (i, o) in out.included.iter().zip(&out.outcomes) {
            let kind = match &case.txs[*i].tx.payload {
                Payload::Transfer { .. } => "transfer",
                Payload::RegisterMeter { .. } => "register",
                Payload::Reading { .. } => "reading",
                Payload::PlaceOrder {
                    side: Side::Bid, ..
                } => "bid",
                Payload::PlaceOrder {
                    side: Side::Ask, ..
                } => "ask",
                Payload::CancelOrder { .. } => "cancel",
                Payload::ClaimCertificates { .. } => "claim",
                Payload::LockPower { .. } => "lock",
                Payload::UnlockPower { .. } => "unlock",
                Payload::Delegate { .. } => "delegate",
                Payload::Propose { .. } => "propose",
                Payload::Vote { .. } => "vote",
                Payload::CancelProposal { .. } => "cancel_proposal",
            };
            seen.insert((kind, o.status.label()));
        }
    }
    for (kind, status) in [
        ("register", ExecStatus::Success),
        ("register", ExecStatus::MeterExists),
        ("reading", ExecStatus::Success),
        ("reading", ExecStatus::UnknownMeter),
        ("reading", ExecStatus::StaleReading),
        ("reading", ExecStatus::OverCapacity),
        ("reading", ExecStatus::NotAProducer),
        ("bid", ExecStatus::Success),
        ("bid", ExecStatus::InsufficientBalance),
        ("bid", ExecStatus::OrderTooSmall),
        ("bid", ExecStatus::MarketClosed),
        ("bid", ExecStatus::BadPrice),
        ("ask", ExecStatus::Success),
        ("ask", ExecStatus::UnknownMeter),
        ("ask", ExecStatus::NotMeterOwner),
        ("ask", ExecStatus::NotAProducer),
        ("cancel", ExecStatus::Success),
        ("cancel", ExecStatus::UnknownOrder),
        ("cancel", ExecStatus::MarketClosed),
        ("claim", ExecStatus::Success),
        ("claim", ExecStatus::InsufficientCertificates),
        ("claim", ExecStatus::NotMeterOwner),
        ("claim", ExecStatus::UnknownMeter),
        ("lock", ExecStatus::Success),
        ("lock", ExecStatus::InsufficientBalance),
        ("unlock", ExecStatus::Success),
        ("unlock", ExecStatus::InsufficientLocked),
        ("delegate", ExecStatus::Success),
        ("propose", ExecStatus::Success),
        ("propose", ExecStatus::BelowProposalThreshold),
        ("propose", ExecStatus::InvalidAction),
        ("propose", ExecStatus::AlreadyProposing),
        ("vote", ExecStatus::Success),
        ("vote", ExecStatus::UnknownProposal),
        ("vote", ExecStatus::ProposalCanceled),
        ("vote", ExecStatus::VotingNotStarted),
        ("vote", ExecStatus::VotingClosed),
        ("vote", ExecStatus::NoPower),
        ("cancel_proposal", ExecStatus::Success),
        ("cancel_proposal", ExecStatus::NotProposer),
        ("cancel_proposal", ExecStatus::UnknownProposal),
        ("cancel_proposal", ExecStatus::VotingStarted),
    ] {
        assert!(
            seen.contains(&(kind, status.label())),
            "never: {kind} {status:?}; saw {seen:?}"
        );
    }
    assert!(
        gates_with_refunds > 5,
        "the gate's step ran in {gates_with_refunds} blocks"
    );
    assert!(settlements > 5, "settlement ran in {settlements} blocks");
    assert!(
        gov_steps.iter().all(|n| *n > 5),
        "snapshots, tallies and executions ran in {gov_steps:?} blocks"
    );
}

#[test]
fn a_block_of_orders_runs_on_the_parallel_path() {
    // 400 bids from 400 senders: independent, so the plan runs them on every thread.
    let keys = keys_on_shard0(1, 400);
    let state = funded(&keys, 1_000_000);
    let txs = keys
        .iter()
        .map(|k| {
            with_payload(
                k,
                0,
                Payload::PlaceOrder {
                    interval: 3,
                    side: Side::Bid,
                    price: 5,
                    qty_wh: 100,
                    meter: None,
                },
            )
        })
        .collect();
    let case = Case {
        shards: 1,
        height: 30,
        state,
        incoming: Vec::new(),
        system: Default::default(),
        txs,
        gov: Default::default(),
    };
    let expected = run(&SequentialExecutor, &case);
    assert!(expected
        .outcomes
        .iter()
        .all(|o| o.status == joule_light_client::ExecStatus::Success));
    assert_eq!(expected.objects.len(), 400);
    let (got, stats) = run_with_stats(&ParallelExecutor::new(2), &case);
    assert_eq!(got, expected);
    assert_eq!(stats.mode, ExecMode::DeclaredKeys);
    assert_eq!(stats.threads, 2);
}

#[test]
fn two_power_changes_in_one_block_share_one_checkpoint() {
    // Lock, then delegate, in one block: one checkpoint with both; the next block adds one.
    let keys = keys_on_shard0(1, 2);
    let (me, other) = (
        Address::from_public_key(&keys[0].public_key()),
        Address::from_public_key(&keys[1].public_key()),
    );
    let case = |state: ShardState, height, txs| Case {
        shards: 1,
        height,
        state,
        incoming: Vec::new(),
        system: Default::default(),
        txs,
        gov: Default::default(),
    };
    let first = case(
        funded(&keys, 1_000_000),
        10,
        vec![
            with_payload(&keys[0], 0, Payload::LockPower { amount: 700 }),
            with_payload(&keys[0], 1, Payload::Delegate { to: Some(other) }),
        ],
    );
    let out = run(&SequentialExecutor, &first);
    let object = |out: &crate::chain::exec::ShardBlockOutput, key| {
        out.objects
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.clone())
            .unwrap()
    };
    let power: Power =
        joule_light_client::codec::decode_exact(&object(&out, power_key(&me))).unwrap();
    assert_eq!(
        (power.locked, power.delegate, power.checkpoints),
        (700, Some(other), 1)
    );
    let c0: PowerCheckpoint =
        joule_light_client::codec::decode_exact(&object(&out, checkpoint_key(&me, 0))).unwrap();
    assert_eq!((c0.height, c0.locked, c0.delegate), (10, 700, Some(other)));
    // The next block's change is a checkpoint of its own.
    let mut state = funded(&keys, 1_000_000);
    state.apply(&out.writes, &out.objects);
    let second = case(
        state,
        11,
        vec![with_payload(
            &keys[0],
            2,
            Payload::UnlockPower { amount: 200 },
        )],
    );
    let out = run(&SequentialExecutor, &second);
    let power: Power =
        joule_light_client::codec::decode_exact(&object(&out, power_key(&me))).unwrap();
    assert_eq!((power.locked, power.checkpoints), (500, 2));
    let c1: PowerCheckpoint =
        joule_light_client::codec::decode_exact(&object(&out, checkpoint_key(&me, 1))).unwrap();
    assert_eq!((c1.height, c1.locked, c1.delegate), (11, 500, Some(other)));
}

/// Runs `case` on the adaptive executor and with each of `modes` forced, at each thread count,
/// and checks every result equals the sequential one, which it returns.
fn every_way_in_order(
    case: &Case,
    threads: &[usize],
    modes: &[ExecMode],
) -> crate::chain::exec::ShardBlockOutput {
    let expected = run(&SequentialExecutor, case);
    for &threads in threads {
        let executor = ParallelExecutor::new(threads);
        assert_eq!(
            run(&executor, case),
            expected,
            "adaptive, {threads} threads"
        );
        for &mode in modes {
            let forced = executor.clone().always(mode);
            assert_eq!(run(&forced, case), expected, "{mode:?}, {threads} threads");
        }
    }
    expected
}

#[test]
fn maximal_contention_terminates_with_the_sequential_result() {
    // Every transaction touches one hot account: 400 senders pay it, and it pays back in a
    // run of 100 nonces, all interleaved.
    let keys = keys_on_shard0(1, 401);
    let hot = &keys[0];
    let hot_addr = Address::from_public_key(&hot.public_key());
    let state = funded(&keys, 1_000_000);
    let mut txs = Vec::new();
    let mut hot_nonce = 0;
    for (i, k) in keys[1..].iter().enumerate() {
        txs.push(unsigned(k, 0, hot_addr, 5));
        if i % 4 == 0 {
            txs.push(unsigned(
                hot,
                hot_nonce,
                Address::from_public_key(&k.public_key()),
                3,
            ));
            hot_nonce += 1;
        }
    }
    let case = Case {
        shards: 1,
        height: 7,
        state,
        incoming: Vec::new(),
        system: Default::default(),
        txs,
        gov: Default::default(),
    };
    let expected = every_way_in_order(
        &case,
        &[2, 4, 8],
        &[ExecMode::BlockStm, ExecMode::DeclaredKeys],
    );
    assert_eq!(expected.outcomes.len(), 500);
}

#[test]
fn addresses_ground_into_one_partition_still_give_the_in_order_result() {
    // An attacker grinds keys until every address falls in the plan's first partition (the
    // lowest sixteenth of the address space): one thread builds the whole plan, and the writes
    // of the empty partitions are empty. Slower, never different.
    let keys: Vec<SecretKey> = keys_on_shard0(1, 2_000)
        .into_iter()
        .filter(|k| Address::from_public_key(&k.public_key()).0[0] < 0x10)
        .take(60)
        .collect();
    assert_eq!(keys.len(), 60);
    let addrs: Vec<Address> = keys
        .iter()
        .map(|k| Address::from_public_key(&k.public_key()))
        .collect();
    let state = funded(&keys, 10_000);
    let mut rng = StdRng::seed_from_u64(16);
    let mut nonces = [0u64; 60];
    let txs = (0..600)
        .map(|_| {
            let s = rng.gen_range(0..60);
            nonces[s] += 1;
            unsigned(&keys[s], nonces[s] - 1, addrs[rng.gen_range(0..60)], 7)
        })
        .collect();
    let case = Case {
        shards: 1,
        height: 7,
        state,
        incoming: Vec::new(),
        system: Default::default(),
        txs,
        gov: Default::default(),
    };
    let expected = every_way_in_order(
        &case,
        &[2, 3, 16],
        &[ExecMode::DeclaredKeys, ExecMode::InOrder],
    );
    assert_eq!(expected.outcomes.len(), 600);
}

/// Transfers that declare only their sender: every transfer to another local account touches
/// a key it did not declare.
struct UndeclaredRecipients(crate::chain::vm::JouleVm);

impl crate::chain::vm::Vm for UndeclaredRecipients {
    type Tx = SignedTransaction;
    type Prepared = crate::chain::vm::PreparedTx;
    type Output = crate::chain::vm::TxResult;

    fn prepare(&self, tx: &SignedTransaction) -> Self::Prepared {
        self.0.prepare(tx).only_sender()
    }

    fn declared_keys(p: &Self::Prepared) -> &[Address] {
        crate::chain::vm::JouleVm::declared_keys(p)
    }

    fn execute<S: crate::chain::vm::StateView>(
        &self,
        tx: &SignedTransaction,
        p: &Self::Prepared,
        view: &mut S,
    ) -> Result<Self::Output, crate::chain::vm::Blocked> {
        self.0.execute(tx, p, view)
    }
}

#[test]
fn undeclared_keys_abandon_the_plan_and_the_result_is_still_in_order() {
    let pools: Vec<Vec<SecretKey>> = (1..=4).map(|s| keys_on_shard0(s, 24)).collect();
    let mut checked = 0;
    for seed in 0..60 {
        let mut rng = StdRng::seed_from_u64(seed);
        let case = random_case(&mut rng, &pools, false);
        let input = ShardBlockInput {
            shard: 0,
            height: case.height,
            shard_count: case.shards,
            fee: FEE,
            incoming: &case.incoming,
            txs: &case.txs,
            market: Default::default(),
            system: &case.system,
            gov: &case.gov,
        };
        let vm = input.vm();
        let base = crate::chain::exec::BaseState::new(&case.state, &case.incoming);
        let (expected, expected_writes, _) =
            crate::chain::exec::run_sequential(&vm, &base, &case.txs, |tx| {
                crate::chain::vm::Vm::prepare(&vm, tx)
            });
        let mut expected_writes: Vec<_> = expected_writes.into_iter().collect();
        expected_writes.sort_unstable_by_key(|(a, _)| *a);
        // A successful transfer to another local account reads its recipient: undeclared.
        let touches_undeclared = case.txs.iter().zip(&expected).any(|(t, out)| {
            let joule_light_client::Payload::Transfer { to, .. } = &t.tx.payload else {
                return false;
            };
            let succeeded = matches!(
                out,
                crate::chain::vm::TxResult::Executed { outcome, .. }
                    if outcome.status == joule_light_client::ExecStatus::Success
            );
            succeeded && *to != t.tx.sender_address() && to.shard(case.shards) == 0
        });
        let lying = UndeclaredRecipients(vm);
        for mode in [ExecMode::DeclaredKeys, ExecMode::InOrder] {
            let executor = ParallelExecutor::new(2).always(mode);
            let flatten = |runs: Vec<Vec<_>>| runs.into_iter().flatten().collect::<Vec<_>>();
            let (outputs, writes, _, stats) = executor.run(&lying, &base, &case.txs, &flatten);
            assert_eq!(outputs, expected, "seed {seed}, {mode:?}");
            // Returned sorted, whichever way ran.
            assert_eq!(writes, expected_writes, "seed {seed}, {mode:?}");
            if touches_undeclared {
                assert_eq!(stats.mode, ExecMode::BlockStm, "seed {seed}, {mode:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} blocks exercised the fallback");
}
