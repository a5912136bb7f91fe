//! `joule load --workload dao`: drives governance of a running node from outside — members
//! lock tokens (the devnet's first eight hold locks from genesis), some delegate, two
//! proposals are made (a market-fee change a step away from the current fee, and a signal),
//! every member votes once each opens (a few change their minds), and the run follows both
//! through their tallies to execution — then reports what the chain decided.
//!
//! Members are devnet accounts (their keys are well known). A run can be repeated: members
//! already locked keep their locks, and each run proposes anew.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use joule_light_client::api::{
    AccountResponse, ChainInfo, MarketResponse, PowerResponse, ProposalResponse,
};
use joule_light_client::dao::{Action, Choice, Param, Proposal};
use joule_light_client::units::UNITS_PER_TOKEN;
use joule_light_client::{Address, Hash, Payload, SecretKey, SignedTransaction, Transaction};
use rand::{Rng, SeedableRng};

use super::{Client, LoadError};
use crate::devnet::{self, DEVNET_ACCOUNTS};

/// What a member locks when it has no lock yet.
const LOCK: u64 = 1_000 * UNITS_PER_TOKEN;

/// What the governance run did.
#[derive(Debug, Clone, Default)]
pub struct DaoReport {
    /// Members that locked tokens in this run.
    pub locked: u64,
    /// Members that delegated in this run.
    pub delegated: u64,
    /// Votes sent (changes of mind included).
    pub votes: u64,
    /// Refused at admission, by code.
    pub rejected: BTreeMap<String, u64>,
    /// Failed at execution, by status.
    pub failed: BTreeMap<String, u64>,
    /// Each proposal as the run left it.
    pub proposals: Vec<Proposal>,
    /// The market fee before and after the run, basis points.
    pub fee_bps: (u16, u16),
}

impl fmt::Display for DaoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = joule_light_client::units::format_amount;
        writeln!(f, "members locked   {}", self.locked)?;
        writeln!(f, "delegations      {}", self.delegated)?;
        writeln!(f, "votes sent       {}", self.votes)?;
        for (code, n) in &self.rejected {
            writeln!(f, "rejected         {n} ({code})")?;
        }
        for (status, n) in &self.failed {
            writeln!(f, "failed           {n} ({status})")?;
        }
        writeln!(
            f,
            "proposal                                  state      for (JOULE)   against   abstain   voters"
        )?;
        for p in &self.proposals {
            let t = &p.totals;
            writeln!(
                f,
                "{:<40}  {:<9}  {:>11}  {:>8}  {:>8}  {:>7}",
                p.title,
                p.state.name(),
                tokens(t.for_power),
                tokens(t.against_power),
                tokens(t.abstain_power),
                t.voters
            )?;
        }
        write!(
            f,
            "market fee       {} → {} bps",
            self.fee_bps.0, self.fee_bps.1
        )
    }
}

struct Member {
    key: SecretKey,
    address: Address,
    nonce: u64,
}

/// Runs governance with `members` devnet accounts; `duration_s` bounds the whole run beyond
/// the proposals' own schedule (a stalled chain ends it).
pub fn run(url: &str, members: u32, duration_s: u64) -> Result<DaoReport, LoadError> {
    if !(3..=DEVNET_ACCOUNTS).contains(&members) {
        return Err(LoadError::Options(format!(
            "--senders must be 3..={DEVNET_ACCOUNTS} for the dao workload"
        )));
    }
    let client = Client::new(url);
    let chain: ChainInfo = client.get("/chain")?;
    let (chain_id, fee) = (chain.genesis.chain_id.clone(), chain.genesis.min_fee);
    let mut people: Vec<Member> = (0..members)
        .map(|i| {
            let key = devnet::account_key(i);
            let address = Address::from_public_key(&key.public_key());
            Member {
                key,
                address,
                nonce: 0,
            }
        })
        .collect();
    for m in &mut people {
        m.nonce = client
            .get::<AccountResponse>(&format!("/accounts/{}?limit=1", m.address))?
            .next_nonce;
    }
    let mut report = DaoReport::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(duration_s ^ u64::from(members));
    let sign = |m: &mut Member, payload: Payload| {
        let stx = Transaction {
            chain_id: chain_id.clone(),
            sender: m.key.public_key(),
            nonce: m.nonce,
            max_fee: fee,
            payload,
        }
        .sign(&m.key);
        m.nonce += 1;
        stx
    };
    let submit = |txs: Vec<SignedTransaction>, report: &mut DaoReport| {
        client.submit_all(&txs, &mut report.rejected)
    };
    let give_up = Duration::from_secs(duration_s.max(10));
    let head = || client.get::<ChainInfo>("/chain").map(|c| c.head_height);
    let wait_for = |height: u64| -> Result<(), LoadError> {
        // Each wait is bounded by the run's own limit past the proposals' schedule.
        let until = Instant::now() + give_up + Duration::from_secs(120);
        while head()? < height {
            if Instant::now() > until {
                return Err(LoadError::Options(format!(
                    "the chain did not reach height {height} in time"
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    };

    // Locks for members without one; one in four of those delegates to member 0.
    let mut setup = Vec::new();
    let leader = people[0].address;
    for (i, m) in people.iter_mut().enumerate() {
        let power: PowerResponse = client.get(&format!("/accounts/{}/power", m.address))?;
        if power.power.is_some_and(|p| p.locked > 0) {
            continue;
        }
        setup.push(sign(m, Payload::LockPower { amount: LOCK }));
        report.locked += 1;
        if i % 4 == 3 {
            setup.push(sign(m, Payload::Delegate { to: Some(leader) }));
            report.delegated += 1;
        }
    }
    submit(setup, &mut report)?;

    // Two proposals: the fee a step from where it is, and a signal.
    let market: MarketResponse = client.get("/market")?;
    let fee_now = market.params.fee_bps;
    let fee_next = if fee_now >= 900 {
        fee_now - 10
    } else {
        fee_now + 10
    };
    report.fee_bps = (fee_now, fee_now);
    let at = head()?;
    let made = vec![
        sign(
            &mut people[1],
            Payload::Propose {
                action: Action::SetParam {
                    param: Param::FeeBps,
                    value: u64::from(fee_next),
                },
                title: format!("Market fee {fee_now} → {fee_next} bps (load at #{at})"),
                body_hash: Hash(*blake3::hash(b"joule load --workload dao: fee").as_bytes()),
            },
        ),
        sign(
            &mut people[2],
            Payload::Propose {
                action: Action::Text,
                title: format!("Build a community battery (load at #{at})"),
                body_hash: Hash(*blake3::hash(b"joule load --workload dao: battery").as_bytes()),
            },
        ),
    ];
    let ids = submit(made, &mut report)?;
    if ids.is_empty() {
        return Err(LoadError::Options(format!(
            "no proposal was admitted ({:?}); a member has one proposal live at a time: run again once the last run's votes have ended",
            report.rejected
        )));
    }
    let proposal = |id: &Hash| -> Result<Option<Proposal>, LoadError> {
        match client.get::<ProposalResponse>(&format!("/governance/proposals/{id}")) {
            Ok(r) => Ok(Some(r.item.proposal)),
            // Not in state yet (its block is not made).
            Err(_) => Ok(None),
        }
    };
    let mut proposals = Vec::new();
    for id in &ids {
        let until = Instant::now() + give_up;
        loop {
            if let Some(p) = proposal(id)? {
                proposals.push(p);
                break;
            }
            if Instant::now() > until {
                return Err(LoadError::Options(format!(
                    "proposal {id} never made it into a block"
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // Every member votes once the votes open — mostly for — and one in five changes its mind
    // a few blocks later (the last vote counts).
    let start = proposals.iter().map(|p| p.start).max().unwrap_or(0);
    wait_for(start)?;
    let mut votes = Vec::new();
    for p in &proposals {
        for m in people.iter_mut() {
            let choice = match rng.gen_range(0..10) {
                0..=6 => Choice::For,
                7 | 8 => Choice::Against,
                _ => Choice::Abstain,
            };
            votes.push(sign(
                m,
                Payload::Vote {
                    proposal: p.id,
                    choice,
                },
            ));
        }
    }
    report.votes += submit(votes, &mut report)?.len() as u64;
    wait_for(start + 3)?;
    let mut changes = Vec::new();
    for p in &proposals {
        for m in people.iter_mut().step_by(5) {
            changes.push(sign(
                m,
                Payload::Vote {
                    proposal: p.id,
                    choice: Choice::For,
                },
            ));
        }
    }
    let changed = submit(changes, &mut report)?;
    report.votes += changed.len() as u64;

    // Through the tally and the timelock to execution.
    let eta = proposals.iter().map(|p| p.eta).max().unwrap_or(0);
    wait_for(eta + 1)?;
    report.proposals = ids
        .iter()
        .filter_map(|id| proposal(id).transpose())
        .collect::<Result<_, _>>()?;
    for id in changed {
        let tx: joule_light_client::api::TxResponse = client.get(&format!("/transactions/{id}"))?;
        if let Some(i) = tx.inclusion {
            if i.outcome.status != joule_light_client::ExecStatus::Success {
                *report
                    .failed
                    .entry(i.outcome.status.name().into())
                    .or_default() += 1;
            }
        }
    }
    let after: MarketResponse = client.get("/market")?;
    report.fee_bps.1 = after.params.fee_bps;
    Ok(report)
}
