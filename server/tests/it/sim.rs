//! The community simulator against a real node: within seconds its prosumers' intervals clear
//! and settle on metered delivery (which the node's analytics record), and its scripted
//! proposal is voted through and executed.

use joule_light_client::api::{IntervalsPage, ProposalsPage};
use joule_server::sim::{SimOptions, Simulation};

use super::support::*;

#[test]
fn a_simulated_community_trades_settles_and_governs_itself() {
    let node = TestNode::start();
    let sim = Simulation::start(
        node.running.as_ref().unwrap().node.clone(),
        SimOptions {
            proposal_every: 1_000,
            ..SimOptions::new(16)
        },
    );
    // 100 ms blocks: a 2 s interval; the first proposal comes on the fifth block, and its
    // delay, vote and timelock take 62 blocks.
    node.wait_until("an interval settled on delivered energy", |t| {
        let page: IntervalsPage = t.get("/market/intervals?limit=10");
        page.intervals.iter().any(|i| {
            i.record.clearing.as_ref().is_some_and(|c| c.volume_wh > 0)
                && i.record.settlement.is_some_and(|s| s.delivered_wh > 0)
        })
    });
    node.wait_until("a proposal voted through and executed", |t| {
        let page: ProposalsPage = t.get("/governance/proposals?state=executed");
        page.items
            .iter()
            .any(|i| i.proposal.totals.voters >= 5 && i.proposal.executed_at > 0)
    });
    // The node's analytics saw the settled intervals' readings.
    let f: joule_light_client::api::ForecastResponse = node.get("/market/forecast");
    assert_eq!((f.computed_by.as_str(), f.season_intervals), ("node", 96));
    assert!(
        f.history.iter().any(|t| t.produced_wh > 0 && t.meters > 0),
        "{f:?}"
    );
    let _: joule_light_client::api::AnomaliesResponse = node.get("/market/anomalies");
    sim.stop();
    let n = node.node();
    node.wait_until("supply conserved", |_| {
        n.chain().supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });
}
