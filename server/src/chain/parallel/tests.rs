//! Parallel equals sequential: randomized blocks, and a maximal-contention stress test.

use joule_light_client::{
    Account, Address, Payload, Receipt, SecretKey, Signature, SignedTransaction, Transaction,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ParallelExecutor;
use crate::chain::exec::{Executor, SequentialExecutor, ShardBlockInput};
use crate::chain::state::ShardState;
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
    let tx = Transaction {
        chain_id: "t".into(),
        sender: key.public_key(),
        nonce,
        max_fee: FEE,
        payload: Payload::Transfer { to, amount },
    };
    SignedTransaction {
        tx,
        signature: Signature([0; 64]),
    }
}

struct Case {
    shards: u16,
    state: ShardState,
    incoming: Vec<Receipt>,
    txs: Vec<SignedTransaction>,
}

fn random_case(rng: &mut StdRng, pools: &[Vec<SecretKey>]) -> Case {
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
    state.apply(&w, &[]);
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
            unsigned(&keys[s], nonce, to, amount)
        })
        .collect();
    Case {
        shards,
        state,
        incoming,
        txs,
    }
}

fn run(exec: &dyn Executor, c: &Case) -> crate::chain::exec::ShardBlockOutput {
    let input = ShardBlockInput {
        shard: 0,
        height: 7,
        shard_count: c.shards,
        fee: FEE,
        incoming: &c.incoming,
        txs: &c.txs,
    };
    exec.execute(&c.state, input).0
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
        let case = random_case(&mut rng, &pools);
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
            let root = |o: &crate::chain::exec::ShardBlockOutput| {
                case.state.next_trees(&o.writes, &o.objects).accounts.root()
            };
            assert_eq!(root(&got), root(&expected));
        }
        assert_eq!(run(&executor, &case), expected, "seed {seed}, adaptive");
    }
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
        state,
        incoming: Vec::new(),
        txs,
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
        state,
        incoming: Vec::new(),
        txs,
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
struct UndeclaredRecipients(crate::chain::vm::TransferVm);

impl crate::chain::vm::Vm for UndeclaredRecipients {
    type Tx = SignedTransaction;
    type Prepared = crate::chain::vm::PreparedTransfer;
    type Output = crate::chain::vm::TxResult;

    fn prepare(&self, tx: &SignedTransaction) -> Self::Prepared {
        self.0.prepare(tx).only_sender()
    }

    fn declared_keys(p: &Self::Prepared) -> &[Address] {
        crate::chain::vm::TransferVm::declared_keys(p)
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
        let case = random_case(&mut rng, &pools);
        let input = ShardBlockInput {
            shard: 0,
            height: 7,
            shard_count: case.shards,
            fee: FEE,
            incoming: &case.incoming,
            txs: &case.txs,
        };
        let vm = input.vm();
        let base = crate::chain::exec::BaseState::new(&case.state, &case.incoming);
        let (expected, expected_writes) =
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
            let (outputs, writes, stats) = executor.run(&lying, &base, &case.txs, &flatten);
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
