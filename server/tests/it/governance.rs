//! Governance's lifecycle on a node driven block by block (no timer, so every height is
//! known): proposals, the snapshot at the start, votes, tallies, the timelock and execution
//! exactly once — and every refusal by its name.

use joule_light_client::dao::{
    verify_tally, Action, Choice, Param, Proposal, ProposalState, Tally, Totals,
};
use joule_light_client::market::treasury;
use joule_light_client::units::UNITS_PER_TOKEN;
use joule_light_client::{Address, ExecStatus, Hash, Payload, SecretKey, Transaction};
use joule_server::devnet::{account_key, DEVNET_MEMBER_LOCK};
use joule_server::node::{Node, NodeConfig};

use super::support::address;

/// A devnet node whose blocks the test makes.
struct Manual {
    node: Node,
    _dir: tempfile::TempDir,
}

impl Manual {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::open(&NodeConfig::devnet(dir.path())).unwrap();
        Manual { node, _dir: dir }
    }

    fn height(&self) -> u64 {
        self.node.chain().height()
    }

    /// Admits `payload` from `key` at its next nonce, for the next block.
    fn send(&self, key: &SecretKey, payload: Payload) -> Hash {
        self.try_send(key, payload)
            .unwrap_or_else(|code| panic!("refused at admission: {code}"))
    }

    fn try_send(&self, key: &SecretKey, payload: Payload) -> Result<Hash, &'static str> {
        let g = &self.node.genesis;
        let stx = Transaction {
            chain_id: g.chain_id.clone(),
            sender: key.public_key(),
            nonce: self.node.next_nonce(&address(key)),
            max_fee: g.min_fee,
            payload,
        }
        .sign(key);
        self.node.admit(stx).map_err(|e| e.code())
    }

    fn block(&self) {
        self.node.produce_block().unwrap();
    }

    fn blocks_to(&self, height: u64) {
        while self.height() < height {
            self.block();
        }
    }

    fn status(&self, id: &Hash) -> ExecStatus {
        self.node.store.wait_indexed();
        self.node
            .store
            .tx(id)
            .unwrap()
            .expect("included")
            .outcome
            .status
    }

    fn proposal(&self, id: &Hash) -> Proposal {
        let chain = self.node.chain();
        chain
            .shards
            .iter()
            .find_map(|s| s.indexes().proposal(id).map(|(_, p)| p.clone()))
            .expect("a proposal")
    }

    fn tallies(&self, id: &Hash) -> Vec<Tally> {
        let chain = self.node.chain();
        chain
            .shards
            .iter()
            .enumerate()
            .filter_map(|(s, state)| {
                let key = joule_light_client::dao::tally_key(s as u16, id);
                state
                    .object(&key)
                    .map(|b| joule_light_client::codec::decode_exact(b).unwrap())
            })
            .collect()
    }

    fn balance(&self, a: &Address) -> u64 {
        self.node.chain().account(a).balance
    }

    /// Member 1 proposes `proposal`; once its vote opens, member 0 (with the two locks
    /// delegated to it at genesis: a quorum) votes for it. The proposal as it started.
    fn propose_and_back(&self, proposal: Payload) -> Proposal {
        let id = self.send(&account_key(1), proposal);
        self.block();
        let p = self.proposal(&id);
        self.blocks_to(p.start);
        let vote = Payload::Vote {
            proposal: id,
            choice: Choice::For,
        };
        self.send(&account_key(0), vote);
        p
    }
}

fn text(title: &str) -> Payload {
    Payload::Propose {
        action: Action::Text,
        title: title.into(),
        body_hash: Hash(*blake3::hash(title.as_bytes()).as_bytes()),
    }
}

#[test]
fn a_proposal_walks_its_lifecycle_once_and_every_refusal_has_its_name() {
    let c = Manual::new();
    c.block();
    let member = account_key;
    let fresh = account_key(40);
    let g = c.node.genesis.governance;
    let shards = c.node.genesis.shard_count;

    // Refused at admission, free: a fee out of its bounds (a captured vote cannot set 100 %),
    // a proposal without a title.
    let capture = Payload::Propose {
        action: Action::SetParam {
            param: Param::FeeBps,
            value: 10_000,
        },
        title: "All of it".into(),
        body_hash: Hash([0; 32]),
    };
    assert_eq!(c.try_send(&member(1), capture), Err("invalid_action"));
    assert_eq!(c.try_send(&member(1), text(" ")), Err("invalid_action"));

    // Block h0: four proposals (a fee change, a treasury spend, two signals) and one from a
    // member without the lock it takes.
    let fee = Payload::Propose {
        action: Action::SetParam {
            param: Param::FeeBps,
            value: 200,
        },
        title: "Market fee to 2 %".into(),
        body_hash: Hash([1; 32]),
    };
    let recipient = address(&account_key(41));
    let spend = Payload::Propose {
        action: Action::Spend {
            to: recipient,
            amount: 1_000,
        },
        title: "Pay the installer".into(),
        body_hash: Hash([2; 32]),
    };
    let p = c.send(&member(1), fee);
    let s = c.send(&member(2), spend);
    let canceled = c.send(&member(3), text("Withdrawn"));
    let d = c.send(&member(4), text("Defeated"));
    let poor = c.send(&fresh, text("Not a member"));
    c.block();
    let h0 = c.height();
    for id in [p, s, canceled, d] {
        assert_eq!(c.status(&id), ExecStatus::Success);
    }
    assert_eq!(c.status(&poor), ExecStatus::BelowProposalThreshold);
    // One live proposal per member: refused at admission now that member 1's is in state…
    assert_eq!(
        c.try_send(&member(1), text("A second one")),
        Err("invalid_action")
    );
    // …and in the block when two come in one block (admission saw neither in state; below).
    let first = c.send(&member(5), text("First"));
    let second = c.send(&member(5), text("Second"));
    let pp = c.proposal(&p);
    assert_eq!(pp.state, ProposalState::Pending);
    let (start, end, eta) = (pp.start, pp.end, pp.eta);
    assert_eq!(start, h0 + u64::from(g.voting_delay));
    assert_eq!(end, start + u64::from(g.voting_period));
    assert_eq!(eta, end + u64::from(g.timelock));

    // Block h0 + 1, before the start: cancels (not the proposer's; the proposer's), a vote too
    // early, a vote and a cancel of proposals that do not exist.
    let not_mine = c.send(&member(4), Payload::CancelProposal { proposal: canceled });
    let cancel = c.send(&member(3), Payload::CancelProposal { proposal: canceled });
    let early = c.send(
        &member(1),
        Payload::Vote {
            proposal: p,
            choice: Choice::For,
        },
    );
    let unknown = c.send(
        &member(5),
        Payload::Vote {
            proposal: Hash([7; 32]),
            choice: Choice::For,
        },
    );
    let cancel_unknown = c.send(
        &member(1),
        Payload::CancelProposal {
            proposal: Hash([7; 32]),
        },
    );
    c.block();
    assert!(c.height() < start);
    assert_eq!(c.status(&not_mine), ExecStatus::NotProposer);
    assert_eq!(c.status(&cancel), ExecStatus::Success);
    assert_eq!(c.status(&early), ExecStatus::VotingNotStarted);
    assert_eq!(c.status(&unknown), ExecStatus::UnknownProposal);
    assert_eq!(c.status(&cancel_unknown), ExecStatus::UnknownProposal);
    assert_eq!(c.proposal(&canceled).state, ProposalState::Canceled);
    assert_eq!(c.status(&first), ExecStatus::Success);
    assert_eq!(c.status(&second), ExecStatus::AlreadyProposing);

    // The start: the snapshot is taken before this block's transactions.
    c.blocks_to(start - 1);
    let vote = |key: &SecretKey, proposal, choice| c.send(key, Payload::Vote { proposal, choice });
    let m0_for = vote(&member(0), p, Choice::For);
    let m1_for = vote(&member(1), p, Choice::For);
    let m2_against = vote(&member(2), p, Choice::Against);
    // Member 6 gave its power to member 0 before the start: it has none of its own, and
    // member 0's weight counts its lock once.
    let delegated = vote(&member(6), p, Choice::Against);
    let on_canceled = vote(&member(5), canceled, Choice::For);
    let late_cancel = c.send(&member(1), Payload::CancelProposal { proposal: p });
    // Unlock → transfer → relock after the start counts nothing twice: member 4's weight is
    // fixed, and the tokens it hands on give their new holder none on this proposal.
    let unlock = c.send(
        &member(4),
        Payload::UnlockPower {
            amount: DEVNET_MEMBER_LOCK,
        },
    );
    let hand_on = c.send(
        &member(4),
        Payload::Transfer {
            to: address(&fresh),
            amount: DEVNET_MEMBER_LOCK,
        },
    );
    // A delegation made mid-vote moves nothing either.
    let mid = c.send(
        &member(5),
        Payload::Delegate {
            to: Some(address(&member(2))),
        },
    );
    let on_spend = vote(&member(0), s, Choice::For);
    let against_d = vote(&member(3), d, Choice::Against);
    c.block();
    assert_eq!(c.height(), start);
    assert_eq!(c.proposal(&p).state, ProposalState::Active);
    for id in [
        m0_for, m1_for, m2_against, unlock, hand_on, mid, on_spend, against_d,
    ] {
        assert_eq!(c.status(&id), ExecStatus::Success);
    }
    assert_eq!(c.status(&delegated), ExecStatus::NoPower);
    assert_eq!(c.status(&on_canceled), ExecStatus::ProposalCanceled);
    assert_eq!(c.status(&late_cancel), ExecStatus::VotingStarted);
    let total = c.proposal(&p).total_power;
    assert_eq!(total, 8 * DEVNET_MEMBER_LOCK, "every genesis lock, once");

    // After the start: the relocked tokens have no power on it; member 4 and member 5 vote
    // with their weights from the start; member 2 changes its mind (the last vote counts).
    let relock = c.send(
        &fresh,
        Payload::LockPower {
            amount: DEVNET_MEMBER_LOCK,
        },
    );
    // Its proposal withdrawn, member 3 may propose again.
    let again = c.send(&member(3), text("Second thoughts"));
    c.block();
    assert_eq!(c.status(&relock), ExecStatus::Success);
    assert_eq!(c.status(&again), ExecStatus::Success);
    let relocked = vote(&fresh, p, Choice::Against);
    let m4_for = vote(&member(4), p, Choice::For);
    let m5_abstain = vote(&member(5), p, Choice::Abstain);
    let m2_for = vote(&member(2), p, Choice::For);
    c.block();
    assert_eq!(c.status(&relocked), ExecStatus::NoPower);
    for id in [m4_for, m5_abstain, m2_for] {
        assert_eq!(c.status(&id), ExecStatus::Success);
    }

    // The end: a vote in its block is closed; the tally is taken before it.
    c.blocks_to(end - 1);
    let closed = vote(&member(3), p, Choice::Against);
    c.block();
    assert_eq!(c.height(), end);
    assert_eq!(c.status(&closed), ExecStatus::VotingClosed);
    let decided = c.proposal(&p);
    assert_eq!(decided.state, ProposalState::Queued);
    let lock = DEVNET_MEMBER_LOCK;
    assert_eq!(
        decided.totals,
        Totals {
            // Member 0 with members 6 and 7's locks, members 1, 2 and 4.
            for_power: 3 * lock + 3 * lock,
            against_power: 0,
            abstain_power: lock,
            voters: 5,
        }
    );
    let tallies = c.tallies(&p);
    assert_eq!(tallies.len(), usize::from(shards));
    assert_eq!(verify_tally(&decided, &tallies, shards), Ok(decided.totals));
    assert_eq!(c.proposal(&s).state, ProposalState::Queued);
    // Its vote over, the proposer may propose again.
    let next = c.send(&member(1), text("Next"));
    c.block();
    assert_eq!(c.status(&next), ExecStatus::Success);
    let defeated = c.proposal(&d);
    assert_eq!(defeated.state, ProposalState::Defeated);
    assert_eq!(
        verify_tally(&defeated, &c.tallies(&d), shards),
        Ok(defeated.totals)
    );

    // The treasury is funded (anyone may pay into it) for the spend.
    let t = treasury();
    let fund = c.send(
        &fresh,
        Payload::Transfer {
            to: t,
            amount: 5_000,
        },
    );
    c.block();
    c.block();
    assert_eq!(c.status(&fund), ExecStatus::Success);

    // The timelock holds until eta; then each executes once.
    c.blocks_to(eta - 1);
    assert_eq!(c.proposal(&p).state, ProposalState::Queued);
    let fee_now = |c: &Manual| c.node.market_context(&c.node.chain()).params.fee_bps;
    assert_eq!(fee_now(&c), 50);
    let (treasury_before, recipient_before) = (c.balance(&t), c.balance(&recipient));
    c.block();
    let executed = c.proposal(&p);
    assert_eq!(
        (executed.state, executed.executed_at, executed.previous),
        (ProposalState::Executed, eta, 50)
    );
    assert_eq!(fee_now(&c), 200);
    assert_eq!(c.proposal(&s).state, ProposalState::Executed);
    assert_eq!(c.balance(&t), treasury_before - 1_000);
    assert_eq!(c.balance(&recipient), recipient_before + 1_000);
    for _ in 0..5 {
        c.block();
    }
    assert_eq!(c.proposal(&p).executed_at, eta, "executed once");
    assert_eq!(c.balance(&t), treasury_before - 1_000, "paid once");
    assert_eq!(c.balance(&recipient), recipient_before + 1_000);
    let n = &c.node;
    assert_eq!(
        n.chain().supply_in_state() + n.burned(),
        u128::from(n.genesis.total_supply())
    );
}

#[test]
fn a_spend_the_treasury_cannot_cover_expires_and_moves_nothing() {
    let c = Manual::new();
    c.block();
    let to = address(&account_key(41));
    let spend = Payload::Propose {
        action: Action::Spend {
            to,
            amount: 1_000 * UNITS_PER_TOKEN,
        },
        title: "More than there is".into(),
        body_hash: Hash([3; 32]),
    };
    let p = c.propose_and_back(spend);
    let before = c.balance(&to);
    c.blocks_to(p.eta);
    let done = c.proposal(&p.id);
    assert_eq!(
        (done.state, done.executed_at),
        (ProposalState::Expired, p.eta)
    );
    assert_eq!(c.balance(&to), before);
}

#[test]
fn a_new_interval_length_by_vote_keeps_every_interval_closing_and_settling() {
    reschedule(Param::IntervalBlocks, 40);
}

#[test]
fn a_longer_gate_by_vote_keeps_every_interval_closing_and_settling() {
    reschedule(Param::GateBlocks, 12);
}

#[test]
fn a_longer_reading_window_by_vote_keeps_every_interval_closing_and_settling() {
    reschedule(Param::ReadingBlocks, 18);
}

/// Votes `param` to `value` (a schedule parameter) and checks that every interval, before the
/// change and after, closes at its gate and settles at its deadline.
fn reschedule(param: Param, value: u64) {
    use joule_light_client::market::{interval_key, IntervalRecord};
    let c = Manual::new();
    c.block();
    let longer = Payload::Propose {
        action: Action::SetParam { param, value },
        title: "A new schedule".into(),
        body_hash: Hash([4; 32]),
    };
    let p = c.propose_and_back(longer);
    let id = p.id;
    let before = c.node.market_context(&c.node.chain());
    c.blocks_to(p.eta);
    assert_eq!(c.proposal(&id).state, ProposalState::Executed);
    let after = c.node.market_context(&c.node.chain());
    assert_eq!(
        param.get(&joule_light_client::dao::ChainParams {
            market: after.params,
            gov: c.node.gov_params(&c.node.chain())
        }),
        value
    );
    assert_eq!(after.previous, Some(before.params));
    // Intervals already traded keep their heights: the anchor starts where the old schedule
    // put it, after the last interval whose book had closed.
    let anchor = after.params.anchor_interval;
    assert_eq!(
        after.params.start(anchor),
        before.params.start(anchor),
        "the anchor keeps its old start"
    );
    assert!(before.params.gate(anchor).unwrap() > p.eta);
    // Every interval, old schedule and new, closes at its gate and settles at its deadline:
    // none is skipped across the change.
    c.blocks_to(p.eta + 300);
    let head = c.height();
    let chain = c.node.chain();
    let settled: Vec<u64> = (1..)
        .take_while(|i| after.schedule(*i).deadline(*i).is_some_and(|d| d <= head))
        .collect();
    assert!(
        settled.len() > 8 && settled.contains(&anchor),
        "{settled:?}"
    );
    for i in settled {
        let record: IntervalRecord = chain.shards[0]
            .object(&interval_key(i))
            .map(|b| joule_light_client::codec::decode_exact(b).unwrap())
            .unwrap_or_else(|| panic!("interval {i} never closed"));
        let s = record
            .settlement
            .unwrap_or_else(|| panic!("interval {i} never settled"));
        assert_eq!(
            s.height,
            after.schedule(i).deadline(i).unwrap(),
            "interval {i}"
        );
        assert_eq!(
            record.gate_height,
            after.schedule(i).gate(i).unwrap(),
            "interval {i}"
        );
    }
}
