//! End-to-end in Chromium: a member of the community trades energy and votes from the browser
//! against a real node at people's pace (half-second blocks), every outcome verified in the
//! page — the fill and the clearing recomputed, the certificates it received, its vote in the
//! proven tally and the fee change that vote passed.

use std::time::{Duration, Instant};

use joule_light_client::api::{
    IntervalResponse, MarketResponse, PowerResponse, ProposalResponse, SubmitRequest,
};
use joule_light_client::dao::{Action, Choice, Param, ProposalState};
use joule_light_client::market::Side;
use joule_light_client::{Address, ExecStatus, Hash, Payload, SignedTransaction};
use joule_server::devnet::{account_key, meter_key};
use serde_json::Value;

use super::e2e::{dist, trusted_url, Driver};
use super::proxy::{self, Forgery};
use super::support::{address, outcome, signed, TestNode};

/// A valid BIP-39 phrase (all-zero entropy): the wallet imports it.
const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art";
const PASSWORD: &str = "a community of prosumers";

fn wait_for<T>(what: &str, bound: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Clicks the in-app link to `href` once the page shows it (keeping the unlocked wallet: a
/// page load would lock it).
fn follow(driver: &Driver, href: &str) {
    let script = format!(
        "const a = document.querySelector('a[href=\"{href}\"]'); if (a) a.click(); return !!a;"
    );
    wait_for(
        &format!("a link to {href}"),
        Duration::from_secs(20),
        || (driver.script(&script) == Value::Bool(true)).then_some(()),
    );
}

#[test]
#[ignore = "needs the built app (dist/) and Chromium; `make test` runs it"]
fn a_member_trades_and_votes_in_the_browser_and_sees_each_outcome_verified() {
    let node = TestNode::start_paced(dist(), 500);
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    let shards = node.chain().genesis.shard_count;
    let proxy = proxy::start(node.base.clone(), Forgery::None);
    let driver = Driver::start();

    // The member imports its phrase and takes faucet funds.
    driver.goto(&trusted_url(&proxy.base, &node, "/wallet"));
    driver.fill("#wallet-password", PASSWORD);
    driver.fill("#wallet-confirm", PASSWORD);
    driver.fill("#wallet-phrase", PHRASE);
    driver.click("#wallet-import");
    let me = driver.wait_text("tbody tr td.mono a", |t| t.starts_with("joule1"));
    let me = Address::parse(&me).unwrap();
    driver.click("#faucet-0");
    driver.wait_text("#balance-0", |t| t == "1000 JOULE ✓");

    // A bid from the browser for the interval after the first open one (ten seconds away).
    let market: MarketResponse = node.get("/market");
    let interval = market.open_interval + 1;
    driver.click("#nav-energy");
    driver.wait_text("#energy-verified", |t| t.contains("proven in your browser"));
    driver.fill("#order-interval", &interval.to_string());
    driver.fill("#order-kwh", "0.02");
    driver.fill("#order-price", "0.2");
    driver.click("#order-review");
    let preview = driver.wait_text("#order-preview", |t| t.contains("Buy 20 Wh"));
    assert!(
        preview.contains(&format!(
            "for interval {interval} at 0.2 JOULE/kWh (200000 units per Wh)"
        )),
        "{preview}"
    );
    // 20 Wh × 200,000 units + 0.5 % = 0.00402 JOULE held.
    assert!(
        preview.contains("escrow until settlement: 0.00402 JOULE"),
        "{preview}"
    );
    driver.click("#order-confirm");
    driver.wait_text("#energy-status", |t| t.contains("order sent"));

    // A prosumer offers from its solar meter (devnet account 0 and meter 0: 10 kW, so at most
    // 27 Wh in a 10-second interval).
    let seller = account_key(0);
    let meter = meter_key(0, shards);
    let offer = Payload::PlaceOrder {
        interval,
        side: Side::Ask,
        price: 100_000,
        qty_wh: 20,
        meter: Some(address(&meter)),
    };
    assert_eq!(
        outcome(&node, &signed(&node, &seller, offer)),
        ExecStatus::Success
    );
    driver.wait_text("#my-orders", |t| t.contains("20 Wh"));

    // The gate clears it; the interval page recomputes the clearing in the browser.
    let cleared = wait_for("the gate", Duration::from_secs(40), || {
        let r: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
        r.record.filter(|r| r.clearing.is_some())
    });
    assert_eq!(cleared.clearing.as_ref().unwrap().volume_wh, 20);
    follow(&driver, &format!("/market/intervals/{interval}"));
    driver.wait_text("#clearing-recomputed", |t| {
        t.contains("recomputed in your browser")
    });
    driver.wait_text("#clearing", |t| t.contains("for 20 Wh"));
    driver.wait_text("#trades", |t| {
        t.contains("bought 20 Wh") && t.contains("sold 20 Wh")
    });
    driver.screenshot("interval");
    // A node that says the clearing price was higher: the page says so and shows no mark.
    proxy.set_forgery(Forgery::AlterClearingPrice);
    driver.click("#nav-market");
    driver.wait_text("#records-verified", |t| t.contains("proven"));
    follow(&driver, &format!("/market/intervals/{interval}"));
    driver.wait_text("p.unverified", |t| t.contains("interval record"));
    driver.assert_absent("#clearing-recomputed");
    proxy.set_forgery(Forgery::None);

    // The meter reports; settlement pays the seller and moves the certificates to the buyer.
    let end = market.params.start(interval + 1).unwrap();
    node.wait_until("the interval's end", |t| t.chain().head_height + 1 >= end);
    let reading = Payload::Reading {
        interval,
        produced_wh: 20,
        consumed_wh: 0,
    };
    assert_eq!(
        outcome(&node, &signed(&node, &meter, reading)),
        ExecStatus::Success
    );
    wait_for("settlement", Duration::from_secs(40), || {
        let r: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
        r.record.and_then(|r| r.settlement)
    });
    driver.click("#nav-market");
    driver.wait_text("#records-verified", |t| t.contains("proven"));
    driver.click("#nav-energy");
    driver.wait_text("#my-trades", |t| t.contains("received 20 Wh"));
    driver.wait_text("#my-certificates", |t| {
        t.contains("solar") && t.contains("20 Wh")
    });
    // Inflated certificates: nothing on the page is marked.
    proxy.set_forgery(Forgery::InflateCertificates);
    driver.click("#nav-market");
    driver.click("#nav-energy");
    driver.wait_text("p.unverified", |t| t.contains("Not verified"));
    driver.assert_absent("#energy-verified");
    proxy.set_forgery(Forgery::None);
    driver.click("#nav-market");
    driver.click("#nav-energy");
    driver.wait_text("#my-certificates", |t| {
        t.contains("solar") && t.contains("20 Wh")
    });
    driver.click("#my-certificates button.claim");
    driver.wait_text("#energy-status", |t| t.contains("claim sent"));

    // The member locks 100 JOULE as voting power, proven on the DAO page.
    driver.click("#nav-dao");
    driver.wait_text("#power-verified", |t| t.contains("proven"));
    driver.fill("#power-amount", "100");
    driver.click("#power-lock");
    driver.wait_text("#power-status", |t| t.starts_with("Sent"));
    wait_for("the lock", Duration::from_secs(20), || {
        let p: PowerResponse = node.get(&format!("/accounts/{me}/power"));
        p.power.filter(|p| p.locked == 100_000_000_000)
    });

    // The proposal form checks an action against the proven parameters before signing.
    driver.click("#propose summary");
    driver.fill("#propose-title", "Market fee to 0.6 %");
    driver.script(
        "const s = document.querySelector('#propose-kind'); s.value = 'fee_bps';\
         s.dispatchEvent(new Event('change'));",
    );
    driver.fill("#propose-value", "5000");
    driver.click("#propose-review");
    driver.wait_text("#propose-error", |t| {
        t.contains("the chain would refuse it")
    });
    driver.fill("#propose-value", "60");
    driver.click("#propose-review");
    let preview = driver.wait_text("#propose-preview", |t| {
        t.contains("market fee 0.50 % → 0.60 %")
    });
    assert!(preview.contains("Needs 1000 JOULE locked"), "{preview}");

    // Another member proposes that fee change; the browser votes for it once the vote opens.
    let proposer = account_key(1);
    let propose = signed(
        &node,
        &proposer,
        Payload::Propose {
            action: Action::SetParam {
                param: Param::FeeBps,
                value: 60,
            },
            title: "Market fee to 0.6 %".into(),
            body_hash: Hash(*blake3::hash(b"Fund the battery.").as_bytes()),
        },
    );
    assert_eq!(outcome(&node, &propose), ExecStatus::Success);
    let id = propose.id();
    let p: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
    let p = p.item.proposal;
    node.wait_until("the vote's start", |t| t.chain().head_height >= p.start);
    let link = format!("/dao/proposals/{id}");
    wait_for("the vote box", Duration::from_secs(20), || {
        driver.click("#nav-market");
        driver.click("#nav-dao");
        driver.wait_text("#proposals-verified", |t| t.contains("proven"));
        follow(&driver, &link);
        driver.wait_text("#proposal-verified", |t| t.contains("proven"));
        driver.find("#vote-for")
    });
    driver.wait_text("#vote-weight", |t| t.contains("proven: 100 JOULE"));
    driver.wait_text("#proposal-action", |t| t == "market fee 0.50 % → 0.60 %");
    // The text someone hands out is checked against the hash the proposal committed to.
    driver.click("#proposal-text summary");
    driver.fill("#text-check", "Fund the battery!");
    driver.element("#text-mismatch");
    driver.fill("#text-check", "Fund the battery.");
    driver.element("#text-verified");
    driver.click("#vote-for");
    driver.wait_text("#vote-status", |t| t.starts_with("Vote sent"));
    // A member with 30,000 JOULE of power (its own and two delegated) votes for too.
    let v = signed(
        &node,
        &account_key(0),
        Payload::Vote {
            proposal: id,
            choice: Choice::For,
        },
    );
    assert_eq!(outcome(&node, &v), ExecStatus::Success);

    // The end: the final tally recomputed in the browser holds the member's vote.
    node.wait_until("the vote's end", |t| t.chain().head_height >= p.end);
    driver.click("#nav-market");
    driver.click("#nav-dao");
    follow(&driver, &link);
    driver.wait_text("#tally-verified", |t| {
        t.contains("recomputed in your browser")
    });
    driver.wait_text("table.rows", |t| {
        t.contains("for") && t.contains("100 JOULE")
    });
    driver.screenshot("proposal");
    // An altered shard tally, then a vote left out of the list: each is refused, unmarked.
    for (forgery, why) in [
        (Forgery::AlterTally, "shard tallies"),
        (Forgery::DropVote, "do not add up to the proven tally"),
    ] {
        proxy.set_forgery(forgery);
        driver.click("#nav-market");
        driver.click("#nav-dao");
        follow(&driver, &link);
        driver.wait_text("p.unverified", |t| t.contains(why));
        driver.assert_absent("#tally-verified");
    }
    proxy.set_forgery(Forgery::None);

    // Executed after the timelock: the market page shows the new fee, proven.
    wait_for("execution", Duration::from_secs(40), || {
        let r: ProposalResponse = node.get(&format!("/governance/proposals/{id}"));
        (r.item.proposal.state == ProposalState::Executed).then_some(())
    });
    driver.click("#nav-market");
    driver.wait_text("#market-fee", |t| t == "0.60 %");
    driver.screenshot("market");

    // Nothing secret left the browser: the phrase and password are in no request, and every
    // write is the faucet request or a transaction the member signed.
    let log = proxy.log.lock().unwrap().clone();
    let words: Vec<&str> = PHRASE.split_whitespace().collect();
    for entry in &log {
        assert!(!entry.contains(PASSWORD), "password sent: {entry}");
        assert!(
            !entry.contains(&words[..3].join(" ")),
            "phrase sent: {entry}"
        );
        assert!(
            !entry.contains(&words[..3].join("%20")),
            "phrase sent: {entry}"
        );
    }
    let signed_writes: Vec<SignedTransaction> = log
        .iter()
        .filter(|e| e.starts_with("POST /api/v1/transactions "))
        .map(|e| {
            let body = e.split_once('\n').unwrap().1;
            let req: SubmitRequest = serde_json::from_str(body).unwrap();
            SignedTransaction::from_bytes(&hex::decode(req.tx).unwrap()).unwrap()
        })
        .collect();
    // The bid, the claim, the lock and the vote.
    assert_eq!(signed_writes.len(), 4, "{signed_writes:?}");
    for stx in &signed_writes {
        stx.verify_signature().unwrap();
        assert_eq!(stx.tx.sender_address(), me);
    }
    assert!(log
        .iter()
        .filter(|e| !e.starts_with("GET "))
        .all(|e| e.starts_with("POST /api/v1/transactions ")
            || e.starts_with("POST /api/v1/faucet ")));
}
