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

/// The "done when", over real HTTP on `make run`'s devnet: a member proposes a fee
/// change, members vote, it passes, waits out the timelock, executes, and the next interval's
/// settlement charges the new fee — each step verified with the light client, and the
/// tampered answers it must refuse refused.
#[test]
fn a_fee_change_passes_executes_after_the_timelock_and_the_next_settlement_charges_it() {
    use joule_light_client::api::{
        EventItem, GovernanceResponse, MarketResponse, Page, PowerResponse, ProposalResponse,
        ProposalsPage, VotesPage,
    };
    use joule_light_client::dao::{proposal_key, Action, Choice, Param, Proposal, ProposalState};
    use joule_light_client::event::{Event, Stage};
    use joule_light_client::market::{market_fee, params_key, MarketParams, Side};
    use joule_light_client::{Hash, ProvenEvent, ProvenTally};
    use joule_server::devnet::{account_key, meter_key, DEVNET_MEMBER_LOCK};

    let node = TestNode::start();
    node.wait_until("block 1", |n| n.chain().head_height >= 1);
    let n = node.chain().genesis.shard_count;
    let (proposer, m0, m2, m3) = (
        account_key(1),
        account_key(0),
        account_key(2),
        account_key(3),
    );

    // Member 0 votes with its own lock and the two delegated to it at genesis.
    let power: PowerResponse = node.get(&format!("/accounts/{}/power", address(&m0)));
    assert_eq!(power.voting_power, 3 * DEVNET_MEMBER_LOCK);
    assert_eq!(power.delegators.len(), 2);
    let block = proven_block(&node, power.height);
    for d in &power.delegators {
        let key = power_key(&d.power.member);
        let p = ProvenObject::<Power>::verify(&block, &key, &d.proof).unwrap();
        assert_eq!(p.value().and_then(|p| p.delegate), Some(address(&m0)));
    }

    // Out of bounds: refused at admission with the parameter's name.
    let capture = Payload::Propose {
        action: Action::SetParam {
            param: Param::FeeBps,
            value: 10_000,
        },
        title: "Everything to the treasury".into(),
        body_hash: Hash([0; 32]),
    };
    let (status, e) = node.submit(&signed(&node, &proposer, capture)).unwrap_err();
    assert_eq!((status, e.code.as_str()), (422, "invalid_action"));
    assert!(e.message.contains("fee_bps"), "{}", e.message);

    // The proposal: 0.5 % → 2 %, its text kept off chain, committed by its hash.
    let body = "Raise the market fee to 2 % to fund the community battery.";
    let propose = signed(
        &node,
        &proposer,
        Payload::Propose {
            action: Action::SetParam {
                param: Param::FeeBps,
                value: 200,
            },
            title: "Market fee to 2 %".into(),
            body_hash: Hash(*blake3::hash(body.as_bytes()).as_bytes()),
        },
    );
    assert_eq!(outcome(&node, &propose), ExecStatus::Success);
    let id = propose.id();
    let listed: ProposalsPage = node.get("/governance/proposals?state=pending");
    assert!(listed.items.iter().any(|i| i.proposal.id == id));
    let (status, e) = node.get_err("/governance/proposals?state=won");
    assert_eq!((status, e.code.as_str()), (400, "invalid_state"));
    let key = proposal_key(&address(&proposer), &id);
    let r: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
    let block = proven_block(&node, r.item.height);
    let p = ProvenObject::<Proposal>::verify(&block, &key, &r.item.proof).unwrap();
    let p = p.value().expect("in state").clone();
    assert_eq!(p.state, ProposalState::Pending);
    assert_eq!(p.body_hash.0, *blake3::hash(body.as_bytes()).as_bytes());
    assert!(r.item.times.start_ms < r.item.times.end_ms);

    // Votes, once it starts: for (30,000 with the delegated locks), for, against.
    node.wait_until("the vote's start", |t| t.chain().head_height + 1 >= p.start);
    for (key, choice) in [
        (&m0, Choice::For),
        (&m2, Choice::For),
        (&m3, Choice::Against),
    ] {
        let v = signed(
            &node,
            key,
            Payload::Vote {
                proposal: id,
                choice,
            },
        );
        assert_eq!(outcome(&node, &v), ExecStatus::Success);
    }
    let live: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
    let provisional = live.provisional.expect("a live tally while active");
    assert_eq!(
        (provisional.for_power, provisional.against_power),
        (4 * DEVNET_MEMBER_LOCK, DEVNET_MEMBER_LOCK)
    );
    let votes: VotesPage = node.get(&format!("/governance/proposals/{id}/votes"));
    assert_eq!(votes.total, 3);
    let block = proven_block(&node, votes.items[0].height);
    for v in &votes.items {
        let key = joule_light_client::dao::vote_key(&v.vote.voter, &id);
        let proven =
            ProvenObject::<joule_light_client::dao::Vote>::verify(&block, &key, &v.proof).unwrap();
        assert_eq!(proven.value(), Some(&v.vote));
    }
    // A forged vote: the node's proof with the choice flipped does not verify.
    let mut forged = votes.items[0].proof.clone();
    if let Some((_, bytes)) = forged.leaf.as_mut() {
        let at = 32 + 20;
        bytes[at] = (bytes[at] + 1) % 3;
    }
    let key = joule_light_client::dao::vote_key(&votes.items[0].vote.voter, &id);
    assert!(ProvenObject::<joule_light_client::dao::Vote>::verify(&block, &key, &forged).is_err());

    // The end: every shard's tally, proven in one block, sums to the outcome.
    node.wait_until("the vote's end", |t| t.chain().head_height >= p.end);
    let r: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
    assert_eq!(r.tallies.len(), usize::from(n));
    let block = proven_block(&node, r.item.height);
    let tally = ProvenTally::verify(
        &block,
        &address(&proposer),
        &id,
        &r.item.proof,
        &r.tally_proofs,
    )
    .unwrap();
    assert_eq!(tally.proposal().state, ProposalState::Queued);
    assert_eq!(tally.totals().for_power, 4 * DEVNET_MEMBER_LOCK);
    // Tampered: a shard's tally dropped, a tally altered.
    let dropped = &r.tally_proofs[..r.tally_proofs.len() - 1];
    assert!(ProvenTally::verify(&block, &address(&proposer), &id, &r.item.proof, dropped).is_err());
    let mut altered = r.tally_proofs.clone();
    for proof in &mut altered {
        if let Some((_, bytes)) = proof.leaf.as_mut() {
            bytes[34] ^= 1;
        }
    }
    assert!(
        ProvenTally::verify(&block, &address(&proposer), &id, &r.item.proof, &altered).is_err()
    );

    // The timelock, then execution: the market's parameters in state carry the new fee.
    node.wait_until("execution", |t| t.chain().head_height >= p.eta);
    let m: MarketResponse = node.get("/market");
    let at = m.proof.as_ref().unwrap();
    let block = proven_block(&node, at.at.height);
    let params = ProvenObject::<MarketParams>::verify(&block, &params_key(), &at.proof).unwrap();
    assert_eq!(params.value().map(|p| p.fee_bps), Some(200));
    let g: GovernanceResponse = node.get("/governance");
    let change = g.history.first().expect("the change in the history");
    assert_eq!(
        (
            change.proposal,
            change.param,
            change.previous,
            change.value,
            change.height
        ),
        (id, Param::FeeBps, 50, 200, p.eta)
    );
    let done: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
    assert_eq!(done.item.proposal.state, ProposalState::Executed);

    // The next interval: a devnet solar meter's owner sells 5 Wh, a member on another shard
    // buys them; settlement charges 2 % to both.
    let seller = account_key(0);
    let meter = meter_key(0, n);
    let buyer_shard = address(&seller).shard(n) + 1;
    let (_, buyer) = devnet_key_where(n, |s| s == buyer_shard % n);
    let mp = params.value().copied().unwrap();
    let interval = mp.first_open(node.chain().head_height + 1) + 1;
    for (key, side, meter) in [
        (&seller, Side::Ask, Some(address(&meter))),
        (&buyer, Side::Bid, None),
    ] {
        let order = Payload::PlaceOrder {
            interval,
            side,
            price: 1_000,
            qty_wh: 5,
            meter,
        };
        assert_eq!(
            outcome(&node, &signed(&node, key, order)),
            ExecStatus::Success
        );
    }
    let end = mp.start(interval + 1).unwrap();
    node.wait_until("the interval's end", |t| t.chain().head_height + 1 >= end);
    let reading = Payload::Reading {
        interval,
        produced_wh: 5,
        consumed_wh: 0,
    };
    assert_eq!(
        outcome(&node, &signed(&node, &meter, reading)),
        ExecStatus::Success
    );
    let deadline = mp.deadline(interval).unwrap();
    node.wait_until("settlement", |t| t.chain().head_height >= deadline);
    let trades: Page<EventItem> = node.get(&format!("/accounts/{}/trades", address(&seller)));
    let settled = trades
        .items
        .iter()
        .find(|e| matches!(e.event, Event::Trade(t) if t.stage == Stage::Settled && t.interval == interval))
        .expect("the seller's settlement");
    let block = proven_block(&node, settled.height);
    let proven =
        ProvenEvent::verify(&block, settled.shard, &settled.event, &settled.proof).unwrap();
    let Event::Trade(t) = *proven.event();
    assert_eq!((t.wh, t.price), (5, 1_000));
    assert_eq!(
        t.fee,
        market_fee(5_000, 200),
        "the new fee, not {}",
        market_fee(5_000, 50)
    );
}
