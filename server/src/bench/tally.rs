//! `joule bench tally`: a proposal's end — every shard's votes on it summed from the shard's
//! vote index into its tally object, the outcome decided — for `votes` votes spread over the
//! shards, on the executor's thread pool, exactly as the block at the end runs it
//! ([`crate::chain::market::system_steps`]).

use std::time::Instant;

use joule_light_client::dao::{
    proposal_key, vote_key, Action, Choice, GovParams, Proposal, ProposalState, Vote,
};
use joule_light_client::object::StateKey;
use joule_light_client::{Address, Encode, Hash};
use serde::Serialize;

use super::{filler_address, median};
use crate::chain::market::system_steps;
use crate::chain::vm::MarketContext;
use crate::chain::ShardState;

/// What to run.
#[derive(Debug, Clone)]
pub struct TallyBenchOptions {
    /// Votes on the proposal, over all shards.
    pub votes: usize,
    /// Shards.
    pub shards: u16,
    /// Runs (median reported).
    pub reps: usize,
    /// Threads.
    pub threads: usize,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct TallyRow {
    /// Votes.
    pub votes: usize,
    /// Shards.
    pub shards: u16,
    /// Threads.
    pub threads: usize,
    /// The end's step (every shard's tally and the decision), median ms.
    pub tally_ms: f64,
    /// The proposal's state after it.
    pub state: &'static str,
    /// Voters counted.
    pub voters: u64,
}

/// The proposal the votes are on (active, its end at [`END`]).
const PROPOSAL: Hash = Hash([0x7a; 32]);
/// Its end.
const END: u64 = 1_000;

/// The shards holding `votes` votes on [`PROPOSAL`] (its proposer on shard 0's first voter).
fn shards_with_votes(votes: usize, shards: u16) -> Vec<ShardState> {
    let mut per_shard: Vec<Vec<(StateKey, Vec<u8>)>> = vec![Vec::new(); usize::from(shards)];
    let mut total = 0u64;
    for i in 0..votes {
        let voter = filler_address(i as u64);
        let choice = [Choice::For, Choice::For, Choice::Against, Choice::Abstain][i % 4];
        let power = 1_000 + (i as u64 % 7) * 100;
        total += power;
        let v = Vote {
            proposal: PROPOSAL,
            voter,
            choice,
            power,
            height: END - 1,
        };
        per_shard[usize::from(voter.shard(shards))].push((vote_key(&voter, &PROPOSAL), v.encode()));
    }
    let proposer = Address([1; 20]);
    let mut p = Proposal::new(
        PROPOSAL,
        proposer,
        (Action::Text, "bench".into(), Hash([0; 32])),
        END - 50,
        &GovParams::DEVNET,
    );
    (p.start, p.end, p.eta, p.state, p.total_power) =
        (END - 40, END, END + 20, ProposalState::Active, total);
    per_shard[usize::from(proposer.shard(shards))]
        .push((proposal_key(&proposer, &PROPOSAL), p.encode()));
    per_shard
        .into_iter()
        .map(|mut objects| {
            objects.sort_unstable_by_key(|(k, _)| *k);
            ShardState::from_parts(&[], &objects)
        })
        .collect()
}

/// Runs the benchmark on a pool of `opts.threads` threads.
pub fn run_tally(opts: &TallyBenchOptions) -> TallyRow {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .expect("a thread pool");
    let shards = shards_with_votes(opts.votes, opts.shards);
    // A height where no interval closes or settles: the block's only step is the tally.
    let market = MarketContext::default();
    let mut times = Vec::new();
    let mut decided = None;
    for _ in 0..opts.reps.max(1) {
        let t = Instant::now();
        let w = pool.install(|| system_steps(&shards, &market, &GovParams::DEVNET, END));
        times.push(t.elapsed().as_secs_f64() * 1e3);
        decided = w
            .iter()
            .flat_map(|w| &w.objects)
            .find(|(k, _)| k.kind() == Some(joule_light_client::object::ObjectKind::Proposal))
            .and_then(|(_, v)| v.as_deref())
            .and_then(|b| joule_light_client::codec::decode_exact::<Proposal>(b).ok());
    }
    let p = decided.expect("the tally decided the proposal");
    TallyRow {
        votes: opts.votes,
        shards: opts.shards,
        threads: opts.threads,
        tally_ms: median(times),
        state: p.state.name(),
        voters: p.totals.voters,
    }
}

/// The rows as a table.
pub fn table(rows: &[TallyRow]) -> String {
    let mut out = String::from("   votes  shards  threads   tally (ms)   state     voters\n");
    for r in rows {
        out.push_str(&format!(
            "{:>8}  {:>6}  {:>7}   {:>10.2}   {:<8}  {:>6}\n",
            r.votes, r.shards, r.threads, r.tally_ms, r.state, r.voters
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_tally_counts_every_vote() {
        let row = run_tally(&TallyBenchOptions {
            votes: 1_000,
            shards: 4,
            reps: 1,
            threads: 2,
        });
        assert_eq!((row.voters, row.state), (1_000, "queued"));
        assert!(table(&[row]).contains("1000"));
    }
}
