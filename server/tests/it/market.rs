//! The energy market over HTTP: meters, readings, orders and certificates, each refusal by
//! name, and every object with a proof the light client verifies against a block it verified
//! itself.

use joule_light_client::api::{AccountResponse, MarketResponse, ObjectResponse};
use joule_light_client::market::{
    cert_lot_key, interval_key, meter_key, order_key, params_key, CertLot, IntervalRecord,
    MarketParams, Meter, MeterKind, Order, Side,
};
use joule_light_client::object::{Object, ObjectKind, ObjectProofError};
use joule_light_client::transaction::meter_pop_message;
use joule_light_client::{
    Address, ExecStatus, Payload, ProvenObject, SecretKey, Transaction, VerifyError,
};

use super::support::*;

#[test]
fn market_parameters_are_proven_and_the_clock_follows_the_head() {
    let node = TestNode::start();
    node.wait_until("block 3", |n| n.chain().head_height >= 3);
    let chain = node.chain();
    // The genesis the checkpoint proves names the market's first parameters.
    assert_eq!(chain.genesis.market, MarketParams::DEVNET);
    let m: MarketResponse = node.get("/market");
    let at = m.proof.as_ref().expect("a proof after block 1");
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<MarketParams>::verify(&block, &params_key(), &at.proof).unwrap();
    assert_eq!(proven.value(), Some(&m.params));
    assert_eq!(m.params, chain.genesis.market);
    // The clock is the parameters' at the head.
    assert!(m.height >= at.at.height);
    assert_eq!(m.open_interval, m.params.first_open(m.height));
    assert_eq!(Some(m.gate_height), m.params.gate(m.open_interval));
    assert!(m.blocks_to_gate >= 1 && m.blocks_to_gate <= u64::from(m.params.interval_blocks));
    assert_eq!(
        m.ms_to_gate,
        m.blocks_to_gate * chain.genesis.block_interval_ms
    );
    assert_eq!(m.treasury, joule_light_client::market::treasury());
    // A fresh devnet has meters registered at genesis: account 0's, listed and proven.
    let owner = address(&joule_server::devnet::account_key(0));
    let mine: joule_light_client::api::OwnedObjects =
        node.get(&format!("/accounts/{owner}/objects?kind=meter"));
    assert_eq!(mine.objects.len(), 1);
    let block = proven_block(&node, mine.height);
    let meter = ProvenObject::<Meter>::verify(&block, &mine.objects[0].key, &mine.objects[0].proof)
        .unwrap()
        .value()
        .copied()
        .unwrap();
    assert_eq!(
        (meter.owner, meter.kind),
        (owner, joule_server::devnet::meter_kind(0))
    );
    // Orders by id: a malformed id, an unknown one.
    let (status, e) = node.get_err("/market/orders/xyz");
    assert_eq!((status, e.code.as_str()), (400, "invalid_hash"));
    let (status, _) = node.get_err(&format!("/market/orders/{}", "ab".repeat(32)));
    assert_eq!(status, 404);
}

#[test]
fn any_state_key_is_answered_with_its_proof_present_or_absent() {
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    // Present: the parameters, by their key.
    let key = params_key();
    let o: ObjectResponse = node.get(&format!("/state/{key}"));
    assert_eq!((o.key, o.kind, o.shard), (key, Some(ObjectKind::Params), 0));
    let at = o.proof.unwrap();
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<MarketParams>::verify(&block, &key, &at.proof).unwrap();
    assert_eq!(
        o.value.as_deref(),
        proven
            .value()
            .map(|p| hex::encode(joule_light_client::Encode::encode(p)))
            .as_deref()
    );
    // Absent: no meter is registered yet; the proof shows it, on the key's own shard.
    let nobody = meter_key(&address(&joule_light_client::SecretKey::from_seed(
        &[9; 32],
    )));
    let o: ObjectResponse = node.get(&format!("/state/{nobody}"));
    assert_eq!(o.value, None);
    let at = o.proof.unwrap();
    assert_eq!(
        at.at.shard_header.shard,
        nobody.shard(node.chain().genesis.shard_count)
    );
    let block = proven_block(&node, at.at.height);
    let proven = ProvenObject::<Meter>::verify(&block, &nobody, &at.proof).unwrap();
    assert_eq!(proven.value(), None);
    // The parameters' proof asked to show a meter: refused by kind, not read as one.
    let params_at = node
        .get::<ObjectResponse>(&format!("/state/{key}"))
        .proof
        .unwrap();
    let block = proven_block(&node, params_at.at.height);
    assert_eq!(
        ProvenObject::<Meter>::verify(&block, &key, &params_at.proof).unwrap_err(),
        VerifyError::ObjectProof(ObjectProofError::WrongKind {
            wanted: Meter::KIND,
            found: ObjectKind::Params as u8
        })
    );
    // A malformed key is a JSON 400.
    let (status, e) = node.get_err("/state/abc");
    assert_eq!((status, e.code.as_str()), (400, "invalid_key"));
}

/// A meter key whose address is on `shard` (keys are ground off-chain).
fn meter_on(shard: u16, shards: u16, salt: u8) -> SecretKey {
    (0u8..=255)
        .map(|i| {
            SecretKey::from_seed(&[
                salt, i, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                7, 7, 7, 7, 7,
            ])
        })
        .find(|k| address(k).shard(shards) == shard)
        .unwrap()
}

fn register(
    chain_id: &str,
    owner: &SecretKey,
    meter: &SecretKey,
    kind: MeterKind,
    capacity_w: u64,
) -> Payload {
    let pop = meter_pop_message(
        chain_id,
        &address(owner),
        &meter.public_key(),
        kind,
        capacity_w,
    );
    Payload::RegisterMeter {
        meter: meter.public_key(),
        kind,
        capacity_w,
        pop: meter.sign(pop.as_bytes()),
    }
}

#[test]
fn a_prosumer_registers_a_meter_reads_it_and_trades_and_every_refusal_is_named() {
    let node = TestNode::start();
    let chain = node.chain();
    let p = chain.genesis.market;
    // Past interval 1's gate, so its book is closed.
    let gate = p.gate(1).unwrap();
    node.wait_until("interval 1's gate", |n| n.chain().head_height >= gate);
    let (n, chain_id) = (chain.genesis.shard_count, chain.genesis.chain_id.clone());
    let (_, owner) = devnet_key_where(n, |s| s == 1);
    let home = address(&owner).shard(n);
    let meter = meter_on(home, n, 1);

    // Refused at admission, each by its own code: nothing is charged.
    let mut bad = register(&chain_id, &owner, &meter, MeterKind::Solar, 0);
    assert_eq!(refused(&node, &signed(&node, &owner, bad)), "invalid_meter");
    let (_, stranger) = devnet_key_where(n, |s| s == 2);
    bad = register(&chain_id, &stranger, &meter, MeterKind::Solar, 5_000);
    assert_eq!(
        refused(&node, &signed(&node, &owner, bad)),
        "invalid_meter",
        "a PoP for another owner"
    );
    bad = register(
        &chain_id,
        &owner,
        &meter_on((home + 1) % n, n, 2),
        MeterKind::Solar,
        5_000,
    );
    assert_eq!(
        refused(&node, &signed(&node, &owner, bad)),
        "invalid_meter",
        "a meter on another shard"
    );
    let order = |interval, side, price, qty_wh, meter: Option<Address>| Payload::PlaceOrder {
        interval,
        side,
        price,
        qty_wh,
        meter,
    };
    // Far enough ahead that its gate cannot pass during the test, however slow the machine.
    let open = p.first_open(node.chain().head_height + 1) + 30;
    for (payload, code) in [
        (order(open, Side::Bid, 0, 10, None), "invalid_order"),
        (
            order(open, Side::Bid, 10, 10, Some(address(&meter))),
            "invalid_order",
        ),
        (order(open, Side::Ask, 10, 10, None), "invalid_order"),
        (order(1, Side::Bid, 10, 10, None), "market_closed"),
        (
            order(open + 1_000, Side::Bid, 10, 10, None),
            "market_closed",
        ),
    ] {
        assert_eq!(
            refused(&node, &signed(&node, &owner, payload.clone())),
            code,
            "{payload:?}"
        );
    }

    // Registered, then proven; a second registration of the same meter pays the fee and fails.
    let reg = register(&chain_id, &owner, &meter, MeterKind::Solar, 20_000);
    assert_eq!(
        outcome(&node, &signed(&node, &owner, reg.clone())),
        ExecStatus::Success
    );
    let m: Meter = proven(&node, &meter_key(&address(&meter))).expect("the meter is in state");
    assert_eq!(
        (m.owner, m.kind, m.capacity_w),
        (address(&owner), MeterKind::Solar, 20_000)
    );
    assert_eq!(
        outcome(&node, &signed(&node, &owner, reg)),
        ExecStatus::MeterExists
    );

    // An offer for its own meter is booked; one naming a stranger's meter or none is refused.
    let ask = order(open, Side::Ask, 100, 50, Some(address(&meter)));
    let ask_tx = signed(&node, &owner, ask);
    assert_eq!(outcome(&node, &ask_tx), ExecStatus::Success);
    let o: Order = proven(&node, &order_key(&address(&owner), &ask_tx.id())).expect("booked");
    assert_eq!((o.side, o.qty_wh, o.escrow), (Side::Ask, 50, 0));
    let stranger_meter = meter_on(address(&stranger).shard(n), n, 3);
    let reg = register(
        &chain_id,
        &stranger,
        &stranger_meter,
        MeterKind::Consumption,
        3_000,
    );
    assert_eq!(
        outcome(&node, &signed(&node, &stranger, reg)),
        ExecStatus::Success
    );
    let theirs = order(open, Side::Ask, 100, 50, Some(address(&stranger_meter)));
    assert_eq!(
        outcome(&node, &signed(&node, &stranger, theirs)),
        ExecStatus::NotAProducer
    );
    let unknown = order(
        open,
        Side::Ask,
        100,
        50,
        Some(address(&meter_on(home, n, 9))),
    );
    assert_eq!(
        outcome(&node, &signed(&node, &owner, unknown)),
        ExecStatus::UnknownMeter
    );
    // A neighbour on the owner's shard naming the owner's meter: not theirs.
    let neighbour = (0..joule_server::devnet::DEVNET_ACCOUNTS)
        .map(joule_server::devnet::account_key)
        .find(|k| address(k).shard(n) == home && address(k) != address(&owner))
        .unwrap();
    assert_eq!(
        outcome(
            &node,
            &signed(
                &node,
                &neighbour,
                order(open, Side::Ask, 1, 1, Some(address(&meter)))
            )
        ),
        ExecStatus::NotMeterOwner
    );

    // A bid escrows price × quantity plus the fee; cancelling returns it and deletes the order.
    let before: AccountResponse = node.get(&format!("/accounts/{}", address(&owner)));
    let bid_tx = signed(&node, &owner, order(open, Side::Bid, 120, 1_000, None));
    assert_eq!(outcome(&node, &bid_tx), ExecStatus::Success);
    let escrow = joule_light_client::market::bid_escrow(120, 1_000, p.fee_bps).unwrap();
    let after: AccountResponse = node.get(&format!("/accounts/{}", address(&owner)));
    assert_eq!(
        before.account.balance - after.account.balance,
        escrow + chain.genesis.min_fee
    );
    // Escrow is still supply: balances + escrows + in flight + burned = genesis.
    node.wait_until("supply conserved with the escrow held", |t| {
        let n = t.node();
        let chain = n.chain();
        let escrowed: u128 = chain.shards.iter().map(|s| s.total_escrow()).sum();
        escrowed == u128::from(escrow)
            && chain.supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });
    let bid_key = order_key(&address(&owner), &bid_tx.id());
    assert_eq!(
        proven::<Order>(&node, &bid_key).map(|o| o.escrow),
        Some(escrow)
    );
    let cancel = Payload::CancelOrder { order: bid_tx.id() };
    assert_eq!(
        outcome(&node, &signed(&node, &owner, cancel.clone())),
        ExecStatus::Success
    );
    assert_eq!(
        proven::<Order>(&node, &bid_key),
        None,
        "the order is gone, proven absent"
    );
    let refunded: AccountResponse = node.get(&format!("/accounts/{}", address(&owner)));
    assert_eq!(
        refunded.account.balance,
        after.account.balance + escrow - chain.genesis.min_fee
    );
    assert_eq!(
        outcome(&node, &signed(&node, &owner, cancel)),
        ExecStatus::UnknownOrder
    );

    // Readings: the meter pays its own fees (funded by its owner), one per interval, in order.
    let fund = transfer(
        &chain,
        &owner,
        node.get::<AccountResponse>(&format!("/accounts/{}", address(&owner)))
            .next_nonce,
        address(&meter),
        1_000_000_000,
    );
    node.wait_included(&node.submit(&fund).unwrap());
    // A funded key that is no registered meter.
    let stray = meter_on(home, n, 11);
    let fund = transfer(
        &chain,
        &owner,
        node.get::<AccountResponse>(&format!("/accounts/{}", address(&owner)))
            .next_nonce,
        address(&stray),
        1_000_000_000,
    );
    node.wait_included(&node.submit(&fund).unwrap());
    let reading = |interval, produced_wh| Payload::Reading {
        interval,
        produced_wh,
        consumed_wh: 3,
    };
    // Not ended yet: refused at admission.
    let now = node.chain().head_height;
    let current = p.interval_at(now + 1).unwrap_or(p.anchor_interval);
    assert_eq!(
        refused(&node, &signed(&node, &meter, reading(current + 1, 5))),
        "reading_out_of_window"
    );
    // Wait for an interval to end, then read it at the start of the next one.
    let target = current;
    let end = p.start(target + 1).unwrap();
    node.wait_until("the interval to end", |n| n.chain().head_height + 1 >= end);
    let max = 20_000 * u64::from(p.interval_blocks) * chain.genesis.block_interval_ms / 3_600_000;
    // Over capacity, and a reading from the unregistered key, in one block's time.
    let over = node
        .submit(&signed(&node, &meter, reading(target, max + 1)))
        .unwrap();
    let stray_id = node
        .submit(&signed(&node, &stray, reading(target, 1)))
        .unwrap();
    let status = |id| node.wait_included(&id).inclusion.unwrap().outcome.status;
    assert_eq!(status(over), ExecStatus::OverCapacity);
    assert_eq!(status(stray_id), ExecStatus::UnknownMeter);
    assert_eq!(
        outcome(&node, &signed(&node, &meter, reading(target, 4))),
        ExecStatus::Success
    );
    assert_eq!(
        outcome(&node, &signed(&node, &meter, reading(target, 4))),
        ExecStatus::StaleReading
    );
    let m: Meter = proven(&node, &meter_key(&address(&meter))).unwrap();
    assert_eq!(
        (m.next_interval, m.produced_wh, m.consumed_wh),
        (target + 1, 4, 3)
    );
    // Solar production is minted as certificates held by the meter.
    let day = {
        let start = p.start(target).unwrap();
        ((chain.genesis.genesis_time_ms + start * chain.genesis.block_interval_ms) / 86_400_000)
            as u32
    };
    let m_addr = address(&meter);
    let lot: CertLot = proven(
        &node,
        &cert_lot_key(&m_addr, &m_addr, day, MeterKind::Solar),
    )
    .expect("minted");
    assert_eq!((lot.wh, lot.claimed_wh), (4, 0));

    // The owner claims (retires) what its meter holds; each refusal by its name.
    let claim = |meter: Option<Address>, wh| Payload::ClaimCertificates {
        meter,
        origin: m_addr,
        day,
        kind: MeterKind::Solar,
        wh,
    };
    for (payload, what) in [
        (claim(Some(m_addr), 0), "nothing"),
        (
            Payload::ClaimCertificates {
                meter: Some(m_addr),
                origin: m_addr,
                day,
                kind: MeterKind::Storage,
                wh: 1,
            },
            "a kind that is never certified",
        ),
        (
            claim(Some(address(&meter_on((home + 1) % n, n, 2))), 1),
            "a meter on another shard",
        ),
    ] {
        assert_eq!(
            refused(&node, &signed(&node, &owner, payload)),
            "invalid_claim",
            "{what}"
        );
    }
    assert_eq!(
        outcome(&node, &signed(&node, &owner, claim(Some(m_addr), 3))),
        ExecStatus::Success
    );
    let lot_key = cert_lot_key(&m_addr, &m_addr, day, MeterKind::Solar);
    let lot: CertLot = proven(&node, &lot_key).unwrap();
    assert_eq!((lot.wh, lot.claimed_wh), (1, 3), "claimed for good");
    for (who, payload, status) in [
        (
            &owner,
            claim(Some(m_addr), 2),
            ExecStatus::InsufficientCertificates,
        ),
        (&owner, claim(None, 1), ExecStatus::InsufficientCertificates),
        (
            &owner,
            claim(Some(address(&meter_on(home, n, 9))), 1),
            ExecStatus::UnknownMeter,
        ),
        (
            &neighbour,
            claim(Some(m_addr), 1),
            ExecStatus::NotMeterOwner,
        ),
    ] {
        assert_eq!(
            outcome(&node, &signed(&node, who, payload.clone())),
            status,
            "{payload:?}"
        );
    }
    let lot: CertLot = proven(&node, &lot_key).unwrap();
    assert_eq!(
        (lot.wh, lot.claimed_wh),
        (1, 3),
        "refused claims changed nothing"
    );
}

#[test]
fn an_interval_clears_at_its_gate_across_shards_settles_on_metered_delivery_and_is_proven() {
    use joule_light_client::api::IntervalResponse;
    use joule_light_client::market::{bid_escrow, market_fee};
    use joule_light_client::ProvenClearing;
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    let chain = node.chain();
    let (n, chain_id, p) = (
        chain.genesis.shard_count,
        chain.genesis.chain_id.clone(),
        chain.genesis.market,
    );
    // A seller on shard 0, buyers on shards 1 and 2: one community book.
    let (_, seller) = devnet_key_where(n, |s| s == 0);
    let (_, high) = devnet_key_where(n, |s| s == 1);
    let (_, low) = devnet_key_where(n, |s| s == 2);
    let meter = meter_on(0, n, 21);
    // 1 MW: 150 Wh in a 2 s interval (20 blocks of 100 ms) is within its capacity.
    let reg = register(&chain_id, &seller, &meter, MeterKind::Wind, 1_000_000);
    assert_eq!(
        outcome(&node, &signed(&node, &seller, reg)),
        ExecStatus::Success
    );
    // Two intervals of slack: three orders, each waited for, on a loaded 2-core machine.
    let interval = p.first_open(node.chain().head_height + 1) + 2;
    let gate = p.gate(interval).unwrap();
    let place = |key: &SecretKey, side, price, qty_wh, meter| {
        let stx = signed(
            &node,
            key,
            Payload::PlaceOrder {
                interval,
                side,
                price,
                qty_wh,
                meter,
            },
        );
        assert_eq!(outcome(&node, &stx), ExecStatus::Success);
        // The order by its transaction's id: the same key, proven.
        let by_id: ObjectResponse = node.get(&format!("/market/orders/{}", stx.id()));
        assert_eq!(by_id.key, order_key(&address(key), &stx.id()));
        assert!(by_id.value.is_some());
        by_id.key
    };
    let ask = place(&seller, Side::Ask, 100, 300, Some(address(&meter)));
    let bid_high = place(&high, Side::Bid, 130, 200, None);
    let bid_low = place(&low, Side::Bid, 90, 100, None);
    assert!(
        node.chain().head_height < gate,
        "the orders came in before the gate"
    );
    // The buyer's open orders, listed and each proven.
    let mine: joule_light_client::api::OwnedObjects =
        node.get(&format!("/accounts/{}/objects?kind=order", address(&high)));
    assert_eq!(mine.objects.len(), 1);
    assert_eq!(mine.objects[0].key, bid_high);
    let block = proven_block(&node, mine.height);
    let listed = ProvenObject::<Order>::verify(&block, &bid_high, &mine.objects[0].proof).unwrap();
    assert_eq!(listed.value().map(|o| o.price), Some(130));
    let (status, e) = node.get_err(&format!("/accounts/{}/objects?kind=book", address(&high)));
    assert_eq!((status, e.code.as_str()), (400, "invalid_kind"));
    let balance = |key: &SecretKey| {
        node.get::<AccountResponse>(&format!("/accounts/{}", address(key)))
            .account
            .balance
    };
    let (high_before, low_before) = (balance(&high), balance(&low));

    // The open book's depth, summed over the shards (an aggregate, not proven).
    let depth: joule_light_client::api::BookDepth =
        node.get(&format!("/market/intervals/{interval}/book"));
    let levels = |l: &[joule_light_client::api::DepthLevel]| -> Vec<(u64, u64, u32)> {
        l.iter().map(|l| (l.price, l.qty_wh, l.orders)).collect()
    };
    assert!(depth.open);
    assert_eq!(levels(&depth.bids), vec![(130, 200, 1), (90, 100, 1)]);
    assert_eq!(levels(&depth.asks), vec![(100, 300, 1)]);
    // The seller's meter, listed under its owner and proven.
    let meters: joule_light_client::api::OwnedObjects = node.get(&format!(
        "/accounts/{}/objects?kind=meter",
        address(&seller)
    ));
    let listed: Vec<_> = meters.objects.iter().map(|o| o.key).collect();
    assert!(listed.contains(&meter_key(&address(&meter))), "{listed:?}");
    let block = proven_block(&node, meters.height);
    for o in &meters.objects {
        let m = ProvenObject::<Meter>::verify(&block, &o.key, &o.proof).unwrap();
        assert_eq!(m.value().map(|m| m.owner), Some(address(&seller)));
    }

    // Before the gate: no record, its absence proven.
    let r: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
    assert_eq!((r.record.clone(), r.gate_height), (None, Some(gate)));
    let block = proven_block(&node, r.height);
    assert!(ProvenClearing::verify(&block, interval, &r.record_proof, &r.book_proofs).is_err());

    // After it: one price for the three shards, recomputed from the proven books.
    node.wait_until("the gate", |t| t.chain().head_height >= gate);
    // Spare escrow is back at once (checked first: settlement follows a few blocks later).
    let kept = 200 * 115 + market_fee(200 * 115, p.fee_bps);
    let high_escrow = bid_escrow(130, 200, p.fee_bps).unwrap();
    let low_escrow = bid_escrow(90, 100, p.fee_bps).unwrap();
    assert_eq!(balance(&high), high_before + high_escrow - kept);
    assert_eq!(balance(&low), low_before + low_escrow);
    // Everything fetched at once (settlement follows a few blocks later), checked after.
    let r: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
    let orders: Vec<ObjectResponse> = [ask, bid_high, bid_low]
        .iter()
        .map(|k| node.get(&format!("/state/{k}")))
        .collect();
    // The meter reads 150 Wh for the interval (less than the 200 sold); at the readings'
    // deadline the interval settles on what it delivered. Sent before the gate's proofs are
    // checked: its window is short and checking them in a debug build is not.
    let fund = transfer(
        &chain,
        &seller,
        node.get::<AccountResponse>(&format!("/accounts/{}", address(&seller)))
            .next_nonce,
        address(&meter),
        1_000_000_000,
    );
    node.wait_included(&node.submit(&fund).unwrap());
    let (seller_before, high_mid, low_mid) = (balance(&seller), balance(&high), balance(&low));
    let treasury = joule_light_client::market::treasury();
    let treasury_balance = || {
        node.get::<AccountResponse>(&format!("/accounts/{treasury}"))
            .account
            .balance
    };
    let treasury_before = treasury_balance();
    let end = p.start(interval + 1).unwrap();
    node.wait_until("the interval's end", |t| t.chain().head_height + 1 >= end);
    let reading = Payload::Reading {
        interval,
        produced_wh: 150,
        consumed_wh: 0,
    };
    assert_eq!(
        outcome(&node, &signed(&node, &meter, reading)),
        ExecStatus::Success
    );
    let block = proven_block(&node, r.height);
    let cleared =
        ProvenClearing::verify(&block, interval, &r.record_proof, &r.book_proofs).unwrap();
    let c = cleared.clearing().expect("the books crossed");
    assert_eq!((c.price, c.volume_wh), (115, 200));
    assert_eq!(cleared.record().gate_height, gate);
    assert_eq!(cleared.books().len(), usize::from(n));
    assert_eq!(Some(cleared.record()), r.record.as_ref());
    // Each order's fill, proven; spare escrow back to the buyers.
    let o = |i: usize| -> Order {
        let at = orders[i].proof.as_ref().unwrap();
        let block = proven_block(&node, at.at.height);
        ProvenObject::<Order>::verify(&block, &orders[i].key, &at.proof)
            .unwrap()
            .value()
            .copied()
            .expect("the order is kept until settlement")
    };
    assert_eq!(o(0).filled_wh, 200);
    assert_eq!((o(1).filled_wh, o(1).escrow), (200, kept));
    assert_eq!((o(2).filled_wh, o(2).escrow), (0, 0));
    node.wait_until("supply conserved", |t| {
        let n = t.node();
        n.chain().supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });
    let deadline = p.deadline(interval).unwrap();
    node.wait_until("the readings' deadline", |t| {
        t.chain().head_height >= deadline
    });
    let r2: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
    let block = proven_block(&node, r2.height);
    let settled =
        ProvenClearing::verify(&block, interval, &r2.record_proof, &r2.book_proofs).unwrap();
    let s = settled.record().settlement.expect("settled");
    // The interval list, newest first, each record proven; paged by `before`.
    let page: joule_light_client::api::IntervalsPage = node.get(&format!(
        "/market/intervals?before={}&limit=2",
        interval + 1
    ));
    assert_eq!(page.intervals[0].interval, interval);
    assert_eq!(page.intervals.len(), 2);
    let block = proven_block(&node, page.height);
    for item in &page.intervals {
        let record = ProvenObject::<IntervalRecord>::verify(
            &block,
            &interval_key(item.interval),
            &item.proof,
        )
        .unwrap();
        assert_eq!(record.value(), Some(&item.record));
    }
    assert_eq!(page.intervals[0].record.settlement, Some(s));
    let older: joule_light_client::api::IntervalsPage = node.get(&format!(
        "/market/intervals?before={}&limit=2",
        page.next_before.expect("older intervals")
    ));
    assert_eq!(older.intervals[0].interval, interval - 2);
    let (sold, got) = (150 * 115, 150 * 115);
    let fees = market_fee(sold, p.fee_bps) + market_fee(got, p.fee_bps);
    assert_eq!((s.height, s.delivered_wh, s.fees), (deadline, 150, fees));
    assert_eq!(
        balance(&seller),
        seller_before + sold - market_fee(sold, p.fee_bps)
    );
    assert_eq!(
        balance(&high),
        high_mid + kept - got - market_fee(got, p.fee_bps)
    );
    assert_eq!(balance(&low), low_mid);
    assert_eq!(treasury_balance(), treasury_before + fees);
    for k in [ask, bid_high, bid_low] {
        assert_eq!(
            proven::<Order>(&node, &k),
            None,
            "settled orders are deleted"
        );
    }
    // The interval's trades: three fills at the gate, three settlements, each event proven.
    use joule_light_client::event::{Event, Stage};
    let trades: joule_light_client::api::Page<joule_light_client::api::EventItem> =
        node.get(&format!("/market/intervals/{interval}/trades"));
    assert_eq!(trades.total, 6);
    for item in &trades.items {
        let block = proven_block(&node, item.height);
        joule_light_client::ProvenEvent::verify(&block, item.shard, &item.event, &item.proof)
            .unwrap();
        let mut forged = item.event;
        let Event::Trade(t) = &mut forged;
        t.wh += 1;
        assert!(
            joule_light_client::ProvenEvent::verify(&block, item.shard, &forged, &item.proof)
                .is_err(),
            "forged_trade"
        );
    }
    // The buyer's own: its settlement (newest first), then its fill.
    let mine: joule_light_client::api::Page<joule_light_client::api::EventItem> =
        node.get(&format!("/accounts/{}/trades", address(&high)));
    let stages: Vec<(Stage, u64, u64, u64)> = mine
        .items
        .iter()
        .map(|i| {
            let Event::Trade(t) = i.event;
            (t.stage, t.wh, t.tokens, t.refund)
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            (
                Stage::Settled,
                150,
                got + market_fee(got, p.fee_bps),
                kept - got - market_fee(got, p.fee_bps)
            ),
            (Stage::Filled, 200, 0, high_escrow - kept),
        ]
    );
    let block = proven_block(&node, mine.items[0].height);
    joule_light_client::ProvenEvent::verify(
        &block,
        mine.items[0].shard,
        &mine.items[0].event,
        &mine.items[0].proof,
    )
    .unwrap();
    // The wind certificates for the 150 Wh delivered went to the buyer who received them.
    let lots: joule_light_client::api::OwnedObjects = node.get(&format!(
        "/accounts/{}/objects?kind=cert_lot",
        address(&high)
    ));
    assert_eq!(lots.objects.len(), 1, "{lots:?}");
    let block = proven_block(&node, lots.height);
    let lot = ProvenObject::<CertLot>::verify(&block, &lots.objects[0].key, &lots.objects[0].proof)
        .unwrap()
        .value()
        .copied()
        .unwrap();
    assert_eq!(
        (lot.kind, lot.wh, lot.holder),
        (MeterKind::Wind, 150, address(&high))
    );
    node.wait_until("supply conserved after settlement", |t| {
        let n = t.node();
        n.chain().supply_in_state() + n.burned() == u128::from(n.genesis.total_supply())
    });
    // The books' proofs in another order (shard 1's book as shard 0's) are refused.
    let mut swapped = r.book_proofs.clone();
    swapped.swap(0, 1);
    assert!(ProvenClearing::verify(&block, interval, &r.record_proof, &swapped).is_err());
    let (status, e) = node.get_err("/market/intervals/x");
    assert_eq!((status, e.code.as_str()), (400, "invalid_interval"));
}

#[test]
fn the_market_workload_clears_and_settles_intervals_the_light_client_verifies() {
    use joule_light_client::api::IntervalResponse;
    use joule_light_client::ProvenClearing;
    let node = TestNode::start();
    // Ten prosumers: the devnet registered the first eight meters at genesis.
    let report = joule_server::load::market::run(&node.base, 10, 5).unwrap();
    assert_eq!(
        report.meters_registered,
        u64::from(10 - joule_server::devnet::DEVNET_METERS)
    );
    assert!(report.orders >= 8, "{report}");
    assert!(report.readings >= 8, "{report}");
    assert!(report.rejected.is_empty(), "{report}");
    let settled: Vec<_> = report
        .intervals
        .iter()
        .filter(|(_, price, _, delivered)| price.is_some() && delivered.is_some())
        .collect();
    assert!(!settled.is_empty(), "{report}");
    assert!(report.treasury > 0, "{report}");
    // What the report says, the light client proves.
    let (interval, price, volume, delivered) = *settled[0];
    let r: IntervalResponse = node.get(&format!("/market/intervals/{interval}"));
    let block = proven_block(&node, r.height);
    let proven = ProvenClearing::verify(&block, interval, &r.record_proof, &r.book_proofs).unwrap();
    let c = proven.clearing().unwrap();
    assert_eq!((Some(c.price), c.volume_wh), (price, volume));
    assert_eq!(
        proven.record().settlement.map(|s| s.delivered_wh),
        delivered
    );
}

/// A long random market run on a node, checked after every block: tokens conserved to the unit
/// (balances, escrows, receipts in flight and burned fees), certificates minted equal to the
/// renewable Wh measured, no order filled beyond its quantity or on the wrong side of the price,
/// no escrow below what its fill costs. `JOULE_MARKET_BLOCKS` sets the length (500 here).
#[test]
fn invariants_hold_over_a_long_random_market_run() {
    use joule_light_client::codec::decode_exact;
    use joule_light_client::market::market_fee;
    use joule_light_client::object::ObjectKind;
    use rand::{Rng, SeedableRng};
    let blocks: u64 = std::env::var("JOULE_MARKET_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let node = joule_server::Node::open(&config(dir.path())).unwrap();
    let g = node.genesis.clone();
    let (n, p) = (g.shard_count, g.market);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    struct Person {
        key: SecretKey,
        meter: SecretKey,
        nonce: u64,
        meter_nonce: u64,
        orders: Vec<joule_light_client::Hash>,
    }
    let mut people: Vec<Person> = (0..24u32)
        .map(|i| {
            let key = joule_server::devnet::account_key(i);
            let meter = meter_on(address(&key).shard(n), n, 100 + i as u8);
            Person {
                key,
                meter,
                nonce: 0,
                meter_nonce: 0,
                orders: Vec::new(),
            }
        })
        .collect();
    let addrs: Vec<Address> = people.iter().map(|p| address(&p.key)).collect();
    let tx = |key: &SecretKey, nonce: u64, payload: Payload| {
        Transaction {
            chain_id: g.chain_id.clone(),
            sender: key.public_key(),
            nonce,
            max_fee: g.min_fee,
            payload,
        }
        .sign(key)
    };
    // Meters funded and registered in the first block: even ones solar, odd ones consumption.
    let mut first = Vec::new();
    for (i, person) in people.iter_mut().enumerate() {
        let kind = if i % 2 == 0 {
            MeterKind::Solar
        } else {
            MeterKind::Consumption
        };
        first.push(tx(
            &person.key,
            0,
            Payload::Transfer {
                to: address(&person.meter),
                amount: 10_000_000_000,
            },
        ));
        first.push(tx(
            &person.key,
            1,
            register(&g.chain_id, &person.key, &person.meter, kind, 1_000_000),
        ));
        person.nonce = 2;
    }
    assert!(node.admit_many(first).iter().all(Result::is_ok));
    let supply = u128::from(g.total_supply());
    let (mut cleared, mut settled, mut filled_orders) = (0, 0, 0);
    let (mut bought_certificates, mut claimed) = (0u64, 0u64);
    for _ in 0..blocks {
        let head = node.chain().height();
        let h = head + 1;
        let mut txs = Vec::new();
        for (i, person) in people.iter_mut().enumerate() {
            let roll = rng.gen_range(0..10);
            if roll < 3 {
                // An order, usually for an open interval, sometimes for a closed one.
                let interval = p.first_open(h) + rng.gen_range(0..2) - u64::from(rng.gen_bool(0.1));
                let (side, meter) = if i % 2 == 0 {
                    (Side::Ask, Some(address(&person.meter)))
                } else {
                    (Side::Bid, None)
                };
                let price = rng.gen_range(90..=130) * 1_000;
                let stx = tx(
                    &person.key,
                    person.nonce,
                    Payload::PlaceOrder {
                        interval,
                        side,
                        price,
                        qty_wh: rng.gen_range(1..500),
                        meter,
                    },
                );
                person.orders.push(stx.id());
                txs.push(stx);
                person.nonce += 1;
            } else if roll == 3 && !person.orders.is_empty() {
                let order = person.orders[rng.gen_range(0..person.orders.len())];
                txs.push(tx(
                    &person.key,
                    person.nonce,
                    Payload::CancelOrder { order },
                ));
                person.nonce += 1;
            } else if roll == 4 {
                // A reading for the interval that ended (or an older one: stale).
                if let Some(ended) = p.interval_at(h).and_then(|d| d.checked_sub(1)) {
                    let produced = if i % 2 == 0 { rng.gen_range(0..700) } else { 0 };
                    txs.push(tx(
                        &person.meter,
                        person.meter_nonce,
                        Payload::Reading {
                            interval: ended,
                            produced_wh: produced,
                            consumed_wh: rng.gen_range(0..300),
                        },
                    ));
                    person.meter_nonce += 1;
                }
            } else if roll == 6 {
                // Claims part of a lot the person, or their meter, holds.
                let chain = node.chain();
                let (me, m) = (address(&person.key), address(&person.meter));
                let lot = chain.shards[usize::from(me.shard(n))]
                    .objects_in(..)
                    .filter(|(k, _)| k.kind() == Some(ObjectKind::CertLot))
                    .map(|(_, v)| decode_exact::<CertLot>(v).unwrap())
                    .find(|l| (l.holder == me || l.holder == m) && l.wh > 0);
                if let Some(l) = lot {
                    txs.push(tx(
                        &person.key,
                        person.nonce,
                        Payload::ClaimCertificates {
                            meter: (l.holder == m).then_some(m),
                            origin: l.origin,
                            day: l.day,
                            kind: l.kind,
                            wh: rng.gen_range(1..=l.wh),
                        },
                    ));
                    person.nonce += 1;
                }
            } else if roll == 5 {
                let to = addrs[rng.gen_range(0..addrs.len())];
                txs.push(tx(
                    &person.key,
                    person.nonce,
                    Payload::Transfer {
                        to,
                        amount: rng.gen_range(1..1_000_000),
                    },
                ));
                person.nonce += 1;
            }
        }
        // Refused ones (a closed book, a reading out of its window) leave a nonce gap: resync.
        let verdicts = node.admit_many(txs);
        if verdicts.iter().any(Result::is_err) {
            let chain = node.chain();
            for person in &mut people {
                person.nonce = node
                    .next_nonce(&address(&person.key))
                    .max(chain.account(&address(&person.key)).nonce);
                person.meter_nonce = node.next_nonce(&address(&person.meter));
            }
        }
        node.produce_block().unwrap();

        let chain = node.chain();
        assert_eq!(
            chain.supply_in_state() + node.burned(),
            supply,
            "tokens at height {h}"
        );
        let (mut minted, mut held) = (0u64, 0u64);
        (bought_certificates, claimed) = (0, 0);
        for shard in &chain.shards {
            for (k, v) in shard.objects_in(..) {
                match k.kind() {
                    Some(ObjectKind::Meter) => {
                        let m: Meter = decode_exact(v).unwrap();
                        if m.kind.renewable() {
                            minted += m.produced_wh;
                        }
                    }
                    Some(ObjectKind::CertLot) => {
                        let l: CertLot = decode_exact(v).unwrap();
                        held += l.wh + l.claimed_wh;
                        claimed += l.claimed_wh;
                        if l.origin == joule_server::chain::market::POOLED_ORIGIN {
                            bought_certificates += l.wh;
                        }
                    }
                    Some(ObjectKind::Order) => {
                        let o: Order = decode_exact(v).unwrap();
                        assert!(o.filled_wh <= o.qty_wh, "overfilled at {h}: {o:?}");
                        if o.filled_wh > 0 {
                            filled_orders += 1;
                            let r: IntervalRecord = chain.shards[0]
                                .object(&interval_key(o.interval))
                                .map(|b| decode_exact(b).unwrap())
                                .expect("a filled order's interval has a record");
                            let price = r.clearing.expect("it cleared").price;
                            match o.side {
                                Side::Bid => {
                                    assert!(o.price >= price, "bid filled above its limit: {o:?}");
                                    let cost = o.filled_wh * price;
                                    assert!(
                                        o.escrow >= cost + market_fee(cost, p.fee_bps),
                                        "escrow short: {o:?}"
                                    );
                                }
                                Side::Ask => {
                                    assert!(o.price <= price, "ask filled below its limit: {o:?}")
                                }
                            }
                        }
                    }
                    Some(ObjectKind::Interval) => {
                        let r: IntervalRecord = decode_exact(v).unwrap();
                        cleared += usize::from(r.gate_height == h && r.clearing.is_some());
                        settled += usize::from(r.settlement.is_some_and(|s| s.height == h));
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(minted, held, "certificates at height {h}");
    }
    if blocks >= 200 {
        assert!(
            cleared >= 5 && settled >= 5 && filled_orders > 0 && bought_certificates > 0,
            "cleared {cleared}, settled {settled}, filled {filled_orders}, certificates bought \
             {bought_certificates}"
        );
        assert!(claimed > 0, "no certificate was claimed");
    }
}
