//! View-model logic, free of view code: formatting, and what a transaction says in words.
//! What is proven, and how, is in [`crate::proofs`].

use joule_light_client::api::TxSummary;
use joule_light_client::units::format_amount;
use joule_light_client::{Address, Hash, Payload, SignedTransaction};

/// `joule1abcd…wxyz`: enough to recognise an address.
pub fn short_address(a: &Address) -> String {
    let s = a.to_string();
    format!("{}…{}", &s[..10], &s[s.len() - 4..])
}

/// What a transaction does, in words, read from its signed bytes (the sender from its key):
/// "joule1ab…cdef sent 12.5 JOULE to joule1gh…ijkl".
pub fn describe_tx(tx: &SignedTransaction) -> String {
    let sender = tx.tx.sender_address();
    match &tx.tx.payload {
        Payload::Transfer { to, amount } => format!(
            "{} sent {} JOULE to {}",
            short_address(&sender),
            format_amount(*amount),
            short_address(to)
        ),
        Payload::RegisterMeter {
            kind, capacity_w, ..
        } => format!(
            "{} registered a {} meter of {}",
            short_address(&sender),
            meter_kind(*kind),
            format_power(*capacity_w)
        ),
        Payload::Reading {
            interval,
            produced_wh,
            consumed_wh,
        } => format!(
            "meter {} read {} produced, {} consumed in interval {interval}",
            short_address(&sender),
            format_energy(*produced_wh),
            format_energy(*consumed_wh)
        ),
        Payload::PlaceOrder {
            interval,
            side,
            price,
            qty_wh,
            ..
        } => format!(
            "{} {} {} at {} for interval {interval}",
            short_address(&sender),
            match side {
                joule_light_client::market::Side::Ask => "offered",
                joule_light_client::market::Side::Bid => "bid for",
            },
            format_energy(*qty_wh),
            format_price(*price)
        ),
        Payload::CancelOrder { .. } => format!("{} cancelled an order", short_address(&sender)),
        Payload::ClaimCertificates { wh, .. } => {
            format!("{} claimed {wh} Wh of certificates", short_address(&sender))
        }
        Payload::LockPower { amount } => format!(
            "{} locked {} JOULE for governance",
            short_address(&sender),
            format_amount(*amount)
        ),
        Payload::UnlockPower { amount } => format!(
            "{} unlocked {} JOULE",
            short_address(&sender),
            format_amount(*amount)
        ),
        Payload::Delegate { to: Some(to) } => format!(
            "{} delegated its votes to {}",
            short_address(&sender),
            short_address(to)
        ),
        Payload::Delegate { to: None } => {
            format!("{} took its votes back", short_address(&sender))
        }
        Payload::Propose { title, action, .. } => format!(
            "{} proposed “{title}”: {}",
            short_address(&sender),
            describe_action(action, None)
        ),
        Payload::Vote { choice, .. } => {
            let how = match choice {
                joule_light_client::dao::Choice::For => "for",
                joule_light_client::dao::Choice::Against => "against",
                joule_light_client::dao::Choice::Abstain => "to abstain on",
            };
            format!("{} voted {how} a proposal", short_address(&sender))
        }
        Payload::CancelProposal { .. } => {
            format!("{} withdrew a proposal", short_address(&sender))
        }
    }
}

/// Energy for people: "850 Wh", "3.2 kWh", "1.25 MWh" (exact integers stay underneath).
pub fn format_energy(wh: u64) -> String {
    let scaled = |v: u64, unit: &str| {
        let whole = v / 1_000;
        let frac = (v % 1_000) / 10;
        match frac {
            0 => format!("{whole} {unit}"),
            f if f % 10 == 0 => format!("{whole}.{} {unit}", f / 10),
            f => format!("{whole}.{f:02} {unit}"),
        }
    };
    match wh {
        0..=999 => format!("{wh} Wh"),
        1_000..=999_999 => scaled(wh, "kWh"),
        _ => scaled(wh / 1_000, "MWh"),
    }
}

/// Power for people: "850 W", "10 kW", "2.5 MW".
pub fn format_power(w: u64) -> String {
    format_energy(w).replace("Wh", "W")
}

/// A price in token units per Wh, as people read it: JOULE per kWh ("0.115 JOULE/kWh").
pub fn format_price(units_per_wh: u64) -> String {
    format!(
        "{} JOULE/kWh",
        format_amount(units_per_wh.saturating_mul(1_000))
    )
}

/// A forecast's measured error in words, tenths of a percent ("6.6 % (naive 18.5 %) over 40
/// intervals"), or that nothing was scored yet: no forecast is shown without its error.
pub fn mape_words(e: &joule_light_client::api::ForecastError) -> String {
    let pct = |m: f64| {
        let tenths = if m.is_finite() && m > 0.0 {
            (m * 10.0 + 0.5) as u64
        } else {
            0
        };
        format!("{}.{} %", tenths / 10, tenths % 10)
    };
    match (e.mape, e.naive_mape) {
        (Some(m), Some(n)) => format!(
            "{} (naive same-time-yesterday {}) over {} intervals",
            pct(m),
            pct(n),
            e.scored
        ),
        (Some(m), None) => format!("{} over {} intervals", pct(m), e.scored),
        _ => "not measured yet (it needs a full simulated day)".to_owned(),
    }
}

/// Basis points as a percentage: 50 → "0.50 %".
pub fn format_bps(bps: u64) -> String {
    format!("{}.{:02} %", bps / 100, bps % 100)
}

/// A meter's kind in words.
pub fn meter_kind(kind: joule_light_client::market::MeterKind) -> &'static str {
    use joule_light_client::market::MeterKind;
    match kind {
        MeterKind::Solar => "solar",
        MeterKind::Wind => "wind",
        MeterKind::Storage => "storage",
        MeterKind::Consumption => "consumption",
    }
}

/// A parameter's value in words: fees as percentages, lengths in blocks, the lock in JOULE.
pub fn param_value(param: joule_light_client::dao::Param, value: u64) -> String {
    use joule_light_client::dao::Param;
    match param {
        Param::FeeBps | Param::QuorumBps | Param::ThresholdBps => format_bps(value),
        Param::IntervalBlocks
        | Param::GateBlocks
        | Param::ReadingBlocks
        | Param::VotingDelay
        | Param::VotingPeriod
        | Param::Timelock => format!("{value} blocks"),
        Param::MinOrderWh => format_energy(value),
        Param::MaxAhead => format!("{value} intervals"),
        Param::ProposalMinPower => format!("{} JOULE", format_amount(value)),
    }
}

/// A parameter's name in words.
pub fn param_name(param: joule_light_client::dao::Param) -> &'static str {
    use joule_light_client::dao::Param;
    match param {
        Param::FeeBps => "market fee",
        Param::IntervalBlocks => "interval length",
        Param::GateBlocks => "gate (blocks before an interval)",
        Param::ReadingBlocks => "reading window",
        Param::MinOrderWh => "smallest order",
        Param::MaxAhead => "how far ahead orders go",
        Param::VotingDelay => "voting delay",
        Param::VotingPeriod => "voting period",
        Param::Timelock => "timelock",
        Param::QuorumBps => "quorum",
        Param::ThresholdBps => "threshold",
        Param::ProposalMinPower => "lock to propose",
    }
}

/// What a proposal does, in words: "market fee 0.50 % → 0.40 %" (`from`: the value before,
/// when known), "pay 5 JOULE from the treasury to joule1…", "a signal (no action)".
pub fn describe_action(action: &joule_light_client::dao::Action, from: Option<u64>) -> String {
    use joule_light_client::dao::Action;
    match action {
        Action::Text => "a signal (no action on chain)".to_owned(),
        Action::SetParam { param, value } => match from {
            Some(f) => format!(
                "{} {} → {}",
                param_name(*param),
                param_value(*param, f),
                param_value(*param, *value)
            ),
            None => format!("{} to {}", param_name(*param), param_value(*param, *value)),
        },
        Action::Spend { to, amount } => format!(
            "pay {} JOULE from the treasury to {}",
            format_amount(*amount),
            short_address(to)
        ),
    }
}

/// `2026-11-24T09:15:02.250Z`: a block time in UTC, ISO 8601 (what spreadsheets parse).
pub fn iso_utc(ms: u64) -> String {
    let (days, rem) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, sec, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{sec:02}.{milli:03}Z")
}

/// A block time in the user's time zone and locale (the browser's), for people; pair it with
/// [`iso_utc`] on hover. Only in the browser: it asks the JavaScript clock.
pub fn local_time(ms: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// One CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// An account's history as CSV, one row per transaction, amounts in JOULE.
pub fn history_csv(account: &Address, items: &[TxSummary]) -> String {
    let mut out = String::from(
        "tx_id,block,time_utc,shard,index,direction,from,to,amount_joule,fee_joule,status\r\n",
    );
    for t in items {
        let (to, amount) = match &t.tx.tx.payload {
            Payload::Transfer { to, amount } => (to.to_string(), format_amount(*amount)),
            _ => (String::new(), String::new()),
        };
        let sender = t.tx.tx.sender_address();
        let direction = match (sender == *account, to == account.to_string()) {
            (true, true) => "self",
            (true, false) => "out",
            _ => "in",
        };
        let row = [
            t.id.to_hex(),
            t.height.to_string(),
            iso_utc(t.timestamp_ms),
            t.shard.to_string(),
            t.index.to_string(),
            direction.to_owned(),
            sender.to_string(),
            to,
            amount,
            format_amount(t.outcome.fee),
            t.outcome.status.label().to_owned(),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// First 8 and last 6 hex digits of a hash.
pub fn short_hash(h: &Hash) -> String {
    short_hex(&h.to_hex())
}

/// First 8 and last 6 digits of a hex string (a hash, a key) of at least 14 digits.
pub fn short_hex(s: &str) -> String {
    format!("{}…{}", &s[..8], &s[s.len() - 6..])
}

/// "3 s ago", "2 min ago", "1 h ago".
pub fn ago(now_ms: u64, then_ms: u64) -> String {
    let s = now_ms.saturating_sub(then_ms) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn formats() {
        assert_eq!(ago(10_000, 7_000), "3 s ago");
        assert_eq!(ago(200_000, 0), "3 min ago");
        assert_eq!(ago(7_300_000, 0), "2 h ago");
        assert_eq!(short_hash(&Hash([0xab; 32])), "abababab…ababab");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_utc(1_795_511_702_250), "2026-11-24T09:15:02.250Z");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn energy_prices_and_proposals_in_words() {
        use joule_light_client::dao::{Action, Param};
        assert_eq!(format_energy(850), "850 Wh");
        assert_eq!(format_energy(3_200), "3.2 kWh");
        assert_eq!(format_energy(3_250), "3.25 kWh");
        assert_eq!(format_energy(1_250_000), "1.25 MWh");
        assert_eq!(format_power(10_000), "10 kW");
        assert_eq!(format_price(115_000), "0.115 JOULE/kWh");
        assert_eq!(format_bps(50), "0.50 %");
        let fee = Action::SetParam {
            param: Param::FeeBps,
            value: 40,
        };
        assert_eq!(
            describe_action(&fee, Some(50)),
            "market fee 0.50 % → 0.40 %"
        );
        assert_eq!(describe_action(&fee, None), "market fee to 0.40 %");
        let longer = Action::SetParam {
            param: Param::IntervalBlocks,
            value: 30,
        };
        assert_eq!(
            describe_action(&longer, Some(20)),
            "interval length 20 blocks → 30 blocks"
        );
        let spend = Action::Spend {
            to: Address([1; 20]),
            amount: 5_000_000_000,
        };
        assert!(
            describe_action(&spend, None).starts_with("pay 5 JOULE from the treasury to joule1")
        );
    }

    #[test]
    fn history_exports_as_csv() {
        use joule_light_client::{ExecStatus, SecretKey, Transaction, TxOutcome};
        let key = SecretKey::from_seed(&[1; 32]);
        let me = Address::from_public_key(&key.public_key());
        let other = Address([9; 20]);
        let tx = Transaction {
            chain_id: "t".into(),
            sender: key.public_key(),
            nonce: 0,
            max_fee: 10,
            payload: Payload::Transfer {
                to: other,
                amount: 12_500_000_000,
            },
        }
        .sign(&key);
        let item = TxSummary {
            id: tx.id(),
            outcome: TxOutcome {
                tx_id: tx.id(),
                status: ExecStatus::Success,
                fee: 1_000_000,
            },
            tx,
            sender: me,
            height: 7,
            shard: 1,
            index: 3,
            timestamp_ms: 0,
            proof: None,
        };
        let csv = history_csv(&me, std::slice::from_ref(&item));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "header, one row, and the final line break");
        assert!(lines[0].starts_with("tx_id,block,time_utc"));
        assert_eq!(
            lines[1],
            format!(
                "{},7,1970-01-01T00:00:00.000Z,1,3,out,{me},{other},12.5,0.001,Success",
                item.id.to_hex()
            )
        );
        assert!(history_csv(&other, &[item]).contains(",in,"));
    }
}
