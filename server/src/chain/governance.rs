//! Governance's system steps: every proposal's transitions, at the heights it fixed when it
//! was made, the same on every node, before the block's transactions.
//!
//! - **Start** (`height ≥ start`, pending): the snapshot. Each member's lock as it stood
//!   before the block — the state the step reads — goes to its delegate, or to itself if it
//!   has none (one hop); every member with power gets a [`Weight`] for the proposal under its
//!   own home, and the proposal records the total locked (quorum's base). Each lock goes to
//!   exactly one weight, so nothing can count twice, and anything locked, moved or delegated
//!   from this block on counts for later proposals only.
//! - **End** (`height ≥ end`, active): each shard's votes on the proposal, summed from the
//!   shard's vote index, become that shard's [`Tally`]; their sum decides it (quorum and
//!   threshold fixed when it was made) — queued, or defeated; the proposer's live-proposal
//!   marker goes, so it may propose again.
//! - **Execution** (`height ≥ eta`, queued): a parameter change writes the new parameters
//!   (the next block runs under them: the market's next settlement charges a new fee on every
//!   shard at once); a spend moves tokens out of the community treasury; a text proposal does
//!   nothing. If the action cannot apply any more — the treasury holds too little, another
//!   change made the value inconsistent — the proposal expires instead. The step and the
//!   proposal's new state commit in one block, so a node killed in between runs it again, and
//!   one that committed it never does.
//!
//! Due proposals are taken in id order; those executing in one block apply one after another.

use std::collections::BTreeMap;

use joule_light_client::codec::decode_exact;
use joule_light_client::dao::{
    gov_params_key, live_proposal_key, tally_key, weight_key, Action, ChainParams, GovParams,
    LiveProposal, Proposal, ProposalState, Tally, Totals, Weight,
};
use joule_light_client::market::{params_key, previous_params_key, treasury};
use joule_light_client::object::StateKey;
use joule_light_client::{Address, Encode};
use rayon::prelude::*;

use super::market::SystemWrites;
use super::state::ShardState;
use super::vm::MarketContext;

/// Whether `p` takes a step at `height`.
fn due(p: &Proposal, height: u64) -> bool {
    match p.state {
        ProposalState::Pending => height >= p.start,
        ProposalState::Active => height >= p.end,
        ProposalState::Queued => height >= p.eta,
        _ => false,
    }
}

/// Each member's power as the state before the block holds it (locks to their delegates,
/// one hop), and the total locked.
pub fn snapshot(shards: &[ShardState]) -> (BTreeMap<Address, u64>, u64) {
    let mut weights: BTreeMap<Address, u64> = BTreeMap::new();
    let mut total = 0u64;
    for p in shards.iter().flat_map(|s| s.indexes().powers()) {
        if p.locked == 0 {
            continue;
        }
        let to = p.delegate.unwrap_or(p.member);
        // Locks come out of balances: their sum fits in the supply's u64.
        *weights.entry(to).or_default() += p.locked;
        total = total.saturating_add(p.locked);
    }
    (weights, total)
}

/// Every shard's sums of the votes on `proposal`, in shard order.
pub fn shard_totals(shards: &[ShardState], proposal: &joule_light_client::Hash) -> Vec<Totals> {
    shards
        .par_iter()
        .map(|s| {
            s.indexes()
                .votes_on(proposal)
                .fold(Totals::default(), |t, (_, (choice, power))| {
                    t.add(&choice.totals(*power))
                })
        })
        .collect()
}

/// Governance's steps at `height`, one entry per shard (all empty when nothing is due).
pub fn gov_steps(
    shards: &[ShardState],
    market: &MarketContext,
    gov: &GovParams,
    height: u64,
) -> Vec<SystemWrites> {
    let n = shards.len();
    let mut out = vec![SystemWrites::default(); n];
    let mut due_now: Vec<(StateKey, Proposal)> = shards
        .iter()
        .flat_map(|s| s.indexes().proposals())
        .filter(|(_, p)| due(p, height))
        .map(|(k, p)| (*k, p.clone()))
        .collect();
    if due_now.is_empty() {
        return out;
    }
    due_now.sort_unstable_by_key(|(_, p)| p.id);
    let shard_of = |a: &Address| usize::from(a.shard(n as u16));
    let mut taken: Option<(BTreeMap<Address, u64>, u64)> = None;
    let mut m = *market;
    let mut params = ChainParams {
        market: market.params,
        gov: *gov,
    };
    let (mut market_changed, mut gov_changed, mut rescheduled) = (false, false, false);
    let t = treasury();
    let mut in_treasury = shards[shard_of(&t)].get(&t).balance;
    for (key, mut p) in due_now {
        // `due` chose the step; each call below checks its height again.
        let stepped = match p.state {
            ProposalState::Pending => {
                let (weights, total) = taken.get_or_insert_with(|| snapshot(shards));
                for (member, power) in weights.iter() {
                    let w = Weight {
                        proposal: p.id,
                        member: *member,
                        power: *power,
                        end: p.end,
                    };
                    out[shard_of(member)]
                        .objects
                        .push((weight_key(member, &p.id), Some(w.encode())));
                }
                p.begin(height, *total)
            }
            ProposalState::Active => {
                let per_shard = shard_totals(shards, &p.id);
                let mut sum = Totals::default();
                for (s, totals) in per_shard.into_iter().enumerate() {
                    sum = sum.add(&totals);
                    let tally = Tally {
                        proposal: p.id,
                        shard: s as u16,
                        totals,
                    };
                    out[s]
                        .objects
                        .push((tally_key(s as u16, &p.id), Some(tally.encode())));
                }
                // Its vote is over: the proposer may propose again.
                let live = live_proposal_key(&p.proposer);
                let marker = shards[shard_of(&p.proposer)]
                    .object(&live)
                    .and_then(|b| decode_exact::<LiveProposal>(b).ok());
                if marker == Some(LiveProposal(p.id)) {
                    out[shard_of(&p.proposer)].objects.push((live, None));
                }
                p.decide(height, sum)
            }
            _ => {
                let applied = match p.action {
                    Action::Text => true,
                    Action::SetParam { param, value } => {
                        let allowed = !param.is_schedule() || m.may_reschedule(height);
                        match param.set(&params, value, height) {
                            Ok(next) if allowed => {
                                p.previous = param.get(&params);
                                if param.is_schedule() {
                                    m.previous = Some(params.market);
                                    rescheduled = true;
                                }
                                market_changed |= next.market != params.market;
                                gov_changed |= next.gov != params.gov;
                                params = next;
                                m.params = params.market;
                                true
                            }
                            _ => false,
                        }
                    }
                    Action::Spend { to, amount } if amount <= in_treasury => {
                        in_treasury -= amount;
                        out[shard_of(&t)].debits.push((t, amount));
                        out[shard_of(&to)].credits.push((to, amount));
                        true
                    }
                    Action::Spend { .. } => false,
                };
                p.execute(height, applied)
            }
        };
        if stepped.is_ok() {
            out[shard_of(&p.proposer)]
                .objects
                .push((key, Some(p.encode())));
        }
    }
    if market_changed {
        out[0]
            .objects
            .push((params_key(), Some(params.market.encode())));
    }
    if gov_changed {
        out[0]
            .objects
            .push((gov_params_key(), Some(params.gov.encode())));
    }
    if let (true, Some(previous)) = (rescheduled, m.previous) {
        out[0]
            .objects
            .push((previous_params_key(), Some(previous.encode())));
    }
    out
}

/// Governance's parameters in `state` (shard 0's), or `fallback` (genesis') if absent.
pub fn gov_params_in(state: &ShardState, fallback: GovParams) -> GovParams {
    state
        .object(&gov_params_key())
        .and_then(|b| decode_exact(b).ok())
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use joule_light_client::dao::{proposal_key, Param};
    use joule_light_client::market::MarketParams;
    use joule_light_client::Hash;

    use super::*;

    /// A shard holding one queued proposal that sets `param` to `value` at `eta`.
    fn queued(param: Param, value: u64, eta: u64) -> (ShardState, Proposal) {
        let proposer = Address([3; 20]);
        let mut p = Proposal::new(
            Hash([1; 32]),
            proposer,
            (Action::SetParam { param, value }, "t".into(), Hash([0; 32])),
            1,
            &GovParams::DEVNET,
        );
        (p.state, p.eta) = (ProposalState::Queued, eta);
        let objects = vec![(proposal_key(&proposer, &p.id), p.encode())];
        (ShardState::from_parts(&[], &objects), p)
    }

    fn executed(w: &[SystemWrites]) -> Proposal {
        w.iter()
            .flat_map(|w| &w.objects)
            .find(|(k, _)| k.kind() == Some(joule_light_client::object::ObjectKind::Proposal))
            .and_then(|(_, v)| v.as_deref())
            .map(|b| decode_exact(b).unwrap())
            .unwrap()
    }

    #[test]
    fn a_second_schedule_change_expires_while_the_first_ones_intervals_settle() {
        let old = MarketParams::DEVNET;
        let new = old.rescheduled(
            100,
            MarketParams {
                interval_blocks: 40,
                ..old
            },
        );
        let market = MarketContext {
            params: new,
            previous: Some(old),
            ..MarketContext::default()
        };
        // The last old interval settles at its deadline under the old schedule.
        let last_old = old.deadline(new.anchor_interval - 1).unwrap();
        let (shard, _) = queued(Param::GateBlocks, 8, last_old);
        let w = gov_steps(
            std::slice::from_ref(&shard),
            &market,
            &GovParams::DEVNET,
            last_old,
        );
        assert_eq!(executed(&w).state, ProposalState::Expired);
        assert!(w[0].objects.iter().all(|(k, _)| *k != params_key()));
        // After it, the change applies; a fee change never waits.
        let (shard, _) = queued(Param::GateBlocks, 8, last_old + 1);
        let w = gov_steps(
            std::slice::from_ref(&shard),
            &market,
            &GovParams::DEVNET,
            last_old + 1,
        );
        assert_eq!(executed(&w).state, ProposalState::Executed);
        let (shard, _) = queued(Param::FeeBps, 80, last_old);
        let w = gov_steps(
            std::slice::from_ref(&shard),
            &market,
            &GovParams::DEVNET,
            last_old,
        );
        assert_eq!(executed(&w).state, ProposalState::Executed);
    }
}
