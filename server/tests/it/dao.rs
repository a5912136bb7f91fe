//! Governance over real HTTP: a member's voting power — locked, delegated, unlocked — each
//! change checkpointed and proven, every refusal by its name, the supply exact.

use joule_light_client::api::{AccountResponse, OwnedObjects};
use joule_light_client::dao::{checkpoint_key, power_at, power_key, Power, PowerCheckpoint};
use joule_light_client::{ExecStatus, Payload, ProvenObject};

use super::support::*;

#[test]
fn governance_parameters_are_proven_and_in_bounds() {
    use joule_light_client::api::GovernanceResponse;
    use joule_light_client::dao::{gov_params_key, GovParams};
    let node = TestNode::start();
    node.wait_until("block 1", |n| n.chain().head_height >= 1);
    let g: GovernanceResponse = node.get("/governance");
    let at = g.proof.as_ref().expect("a proof after block 1");
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<GovParams>::verify(&block, &gov_params_key(), &at.proof).unwrap();
    assert_eq!(proven.value(), Some(&g.params));
    assert_eq!(g.params, node.node().genesis.governance);
    assert_eq!(g.params.check(), Ok(()));
}

#[test]
fn devnet_members_have_locked_power_from_genesis_proven() {
    use joule_server::devnet::{account_key, DEVNET_MEMBERS, DEVNET_MEMBER_LOCK};
    let node = TestNode::start();
    node.wait_until("block 1", |n| n.chain().head_height >= 1);
    let zero = address(&account_key(0));
    for i in 0..DEVNET_MEMBERS {
        let member = address(&account_key(i));
        let p: Power = proven(&node, &power_key(&member)).expect("locked at genesis");
        let first: PowerCheckpoint = proven(&node, &checkpoint_key(&member, 0)).unwrap();
        assert_eq!((p.locked, p.checkpoints), (DEVNET_MEMBER_LOCK, 1));
        assert_eq!((first.height, first.locked), (0, DEVNET_MEMBER_LOCK));
        // The last two give their votes to member 0.
        let expected = (i + 2 >= DEVNET_MEMBERS).then_some(zero);
        assert_eq!((p.delegate, first.delegate), (expected, expected));
    }
    node.wait_until("supply conserved with genesis locks", |t| {
        let n = t.node();
        n.chain().supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });
}

#[test]
fn a_member_locks_delegates_and_unlocks_its_power_each_change_checkpointed_and_proven() {
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    let n = node.chain().genesis.shard_count;
    // Devnet accounts past the genesis members: nothing locked yet.
    let fresh_on = |shard: u16| {
        (joule_server::devnet::DEVNET_MEMBERS..joule_server::devnet::DEVNET_ACCOUNTS)
            .map(joule_server::devnet::account_key)
            .find(|k| address(k).shard(n) == shard)
            .unwrap()
    };
    let (member, delegate) = (fresh_on(1), fresh_on(2));
    let me = address(&member);
    let balance = || {
        node.get::<AccountResponse>(&format!("/accounts/{me}"))
            .account
            .balance
    };
    let fee = node.chain().genesis.min_fee;

    // Refused at admission, free: nothing to lock or unlock, a delegation to oneself.
    for (payload, what) in [
        (Payload::LockPower { amount: 0 }, "lock nothing"),
        (Payload::UnlockPower { amount: 0 }, "unlock nothing"),
        (Payload::Delegate { to: Some(me) }, "delegate to oneself"),
    ] {
        assert_eq!(
            refused(&node, &signed(&node, &member, payload)),
            "invalid_power",
            "{what}"
        );
    }
    // More than the balance: refused at admission as any overdraft.
    let too_much = Payload::LockPower {
        amount: balance() + 1,
    };
    assert_eq!(
        refused(&node, &signed(&node, &member, too_much)),
        "insufficient_balance"
    );

    // Locked: out of the balance, into the proven lock and its first checkpoint.
    let before = balance();
    let lock = signed(&node, &member, Payload::LockPower { amount: 5_000 });
    assert_eq!(outcome(&node, &lock), ExecStatus::Success);
    assert_eq!(balance(), before - 5_000 - fee);
    let p: Power = proven(&node, &power_key(&me)).expect("a lock");
    assert_eq!((p.locked, p.delegate, p.checkpoints), (5_000, None, 1));
    let first: PowerCheckpoint = proven(&node, &checkpoint_key(&me, 0)).unwrap();
    assert_eq!((first.locked, first.delegate), (5_000, None));
    node.wait_until("supply conserved with tokens locked", |t| {
        let n = t.node();
        n.chain().supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });

    // Delegated, then more unlocked than locked (the fee is charged, nothing else changes),
    // then part unlocked.
    let to = address(&delegate);
    let d = signed(&node, &member, Payload::Delegate { to: Some(to) });
    assert_eq!(outcome(&node, &d), ExecStatus::Success);
    let over = signed(&node, &member, Payload::UnlockPower { amount: 5_001 });
    assert_eq!(outcome(&node, &over), ExecStatus::InsufficientLocked);
    let before = balance();
    let unlock = signed(&node, &member, Payload::UnlockPower { amount: 2_000 });
    assert_eq!(outcome(&node, &unlock), ExecStatus::Success);
    assert_eq!(balance(), before + 2_000 - fee);
    let p: Power = proven(&node, &power_key(&me)).unwrap();
    assert_eq!((p.locked, p.delegate, p.checkpoints), (3_000, Some(to), 3));

    // The history, listed and proven: each checkpoint the state from its block on; the one
    // in force at any snapshot is the last before it.
    let listed: OwnedObjects = node.get(&format!("/accounts/{me}/objects?kind=power_checkpoint"));
    assert_eq!(listed.objects.len(), 3);
    let block = proven_block(&node, listed.height);
    let mut history: Vec<PowerCheckpoint> = listed
        .objects
        .iter()
        .map(|o| {
            *ProvenObject::<PowerCheckpoint>::verify(&block, &o.key, &o.proof)
                .unwrap()
                .value()
                .unwrap()
        })
        .collect();
    history.sort_unstable_by_key(|c| c.height);
    let states: Vec<(u64, Option<joule_light_client::Address>)> =
        history.iter().map(|c| (c.locked, c.delegate)).collect();
    assert_eq!(
        states,
        vec![(5_000, None), (5_000, Some(to)), (3_000, Some(to))]
    );
    // A snapshot just after the delegation: the delegation counts, the unlock does not yet.
    // (Each change was waited for, so each is in a later block than the one before.)
    let snapshot = history[1].height + 1;
    assert_eq!(
        power_at(&history[1], Some(&history[2]), snapshot),
        Ok(history[1])
    );
    assert!(power_at(&history[0], Some(&history[1]), snapshot).is_err());
    assert!(power_at(&history[2], None, snapshot).is_err());

    // Taking the votes back.
    let back = signed(&node, &member, Payload::Delegate { to: None });
    assert_eq!(outcome(&node, &back), ExecStatus::Success);
    let p: Power = proven(&node, &power_key(&me)).unwrap();
    assert_eq!((p.locked, p.delegate, p.checkpoints), (3_000, None, 4));
}
