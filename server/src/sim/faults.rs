//! Faults the simulator injects into some producers' meters (seeded), for the anomaly flags to
//! find: a **failing panel** (from some interval on it delivers a third of what the sky
//! allows), a **stuck meter** (it repeats one reading forever), and **over-reporting** (it
//! claims most of its rating, day and night — energy it did not produce).

use joule_light_client::market::MeterKind;

use super::{energy, weather};

/// How a meter goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Output falls to a third.
    FailingPanel,
    /// The same reading, again and again.
    StuckMeter,
    /// Claims energy it did not produce.
    OverReporting,
}

/// One meter's fault and when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// The first interval it shows in.
    pub from: u64,
}

/// The fault of prosumer `agent` (a meter of `kind`), if it has one: one producer in eight,
/// starting on its second or third simulated day.
pub fn fault_of(seed: u64, agent: u64, kind: MeterKind) -> Option<Fault> {
    if !kind.produces() || weather::unit(seed, "faulty", agent, 0) >= 0.125 {
        return None;
    }
    let kinds = [
        FaultKind::FailingPanel,
        FaultKind::StuckMeter,
        FaultKind::OverReporting,
    ];
    let pick = (weather::unit(seed, "fault kind", agent, 0) * 3.0) as usize;
    let day = weather::INTERVALS_PER_DAY;
    let from = day + (weather::unit(seed, "fault start", agent, 0) * (2 * day) as f64) as u64;
    Some(Fault {
        kind: kinds[pick.min(2)],
        from,
    })
}

/// What the meter of prosumer `agent` reports for `interval`: what it measures, unless its
/// `fault` has started.
pub fn reported(
    seed: u64,
    agent: u64,
    kind: MeterKind,
    fault: Option<&Fault>,
    interval: u64,
    max_wh: u64,
) -> (u64, u64) {
    let honest = energy(seed, agent, kind, interval, max_wh, true);
    let Some(f) = fault.filter(|f| interval >= f.from) else {
        return honest;
    };
    match f.kind {
        FaultKind::FailingPanel => (honest.0 / 3, honest.1),
        FaultKind::StuckMeter => energy(seed, agent, kind, f.from, max_wh, true),
        FaultKind::OverReporting => (honest.0.max(max_wh * 8 / 10), honest.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_one_producer_in_eight_fails_and_consumers_never_do() {
        let faulty = (0..800)
            .filter(|a| fault_of(1, *a, MeterKind::Solar).is_some())
            .count();
        assert!((60..140).contains(&faulty), "{faulty}");
        assert!((0..800).all(|a| fault_of(1, a, MeterKind::Consumption).is_none()));
        let f = Fault {
            kind: FaultKind::StuckMeter,
            from: 10,
        };
        let r = |i| reported(1, 3, MeterKind::Solar, Some(&f), i, 1_000);
        assert_eq!(r(11), r(30));
        assert_eq!(r(10), energy(1, 3, MeterKind::Solar, 10, 1_000, true));
    }
}
