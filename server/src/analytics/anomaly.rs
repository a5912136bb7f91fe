//! Anomaly flags on meters, from what their neighbours under the same sky report: a producer
//! whose output is far below the median of its kind's (a failing panel), far above it — at
//! night, above nothing (energy it did not produce) —, or whose reading does not change while
//! everyone else's does (a stuck meter). A flag names the rule and the interval it was raised
//! at; `joule bench forecast` measures precision and recall against the simulator's seeded
//! faults.
//!
//! Neighbours are the community's solar meters: they share one sky, so their share of rating
//! moves together (wind turbines do not: each has its own gusts, so a turbine is compared
//! with itself only, by the stuck rule). The median rules need at least [`MIN_NEIGHBOURS`]
//! solar meters. A reading counts as stuck when it repeats while it shows production or the
//! sky has changed — a quiet night repeats honest readings too.

use std::collections::BTreeMap;

use joule_light_client::market::MeterKind;

/// Meters of a kind the median rules need.
pub const MIN_NEIGHBOURS: usize = 4;

/// Why a meter was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    /// Far below its neighbours while the sky gives them plenty.
    Underproducing,
    /// Far above its neighbours (at night: producing while they produce nothing).
    Overreporting,
    /// The same reading over and over.
    Stuck,
}

/// One interval's reading of one meter.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// The meter (any stable id).
    pub meter: u64,
    /// What it measures.
    pub kind: MeterKind,
    /// Wh produced.
    pub produced_wh: u64,
    /// Wh consumed.
    pub consumed_wh: u64,
    /// The most its rating allows in the interval.
    pub max_wh: u64,
}

#[derive(Debug, Default, Clone)]
struct Track {
    under: u32,
    over: u32,
    same: u32,
    last: Option<(u64, u64)>,
    flag: Option<(Anomaly, u64)>,
}

/// Consecutive intervals each rule needs before it flags.
const UNDER_RUN: u32 = 6;
const OVER_RUN: u32 = 3;
const STUCK_RUN: u32 = 5;

/// The detector: a little state per meter, fed one interval at a time.
#[derive(Debug, Default, Clone)]
pub struct Detector {
    tracks: BTreeMap<u64, Track>,
    /// The solar median of the interval before.
    last_sky: Option<f64>,
}

impl Detector {
    /// Takes every meter's reading of `interval`.
    pub fn observe(&mut self, interval: u64, readings: &[Reading]) {
        let share = |r: &Reading| r.produced_wh as f64 / r.max_wh.max(1) as f64;
        let mut solar: Vec<f64> = readings
            .iter()
            .filter(|r| r.kind == MeterKind::Solar)
            .map(share)
            .collect();
        solar.sort_by(f64::total_cmp);
        let sky = (solar.len() >= MIN_NEIGHBOURS).then(|| solar[solar.len() / 2]);
        let sky_moved = match (sky, self.last_sky) {
            (Some(a), Some(b)) => (a - b).abs() > 0.02,
            _ => false,
        };
        self.last_sky = sky;
        for r in readings.iter().filter(|r| r.kind.produces()) {
            let t = self.tracks.entry(r.meter).or_default();
            let now = (r.produced_wh, r.consumed_wh);
            if t.last != Some(now) {
                t.same = 0;
            } else if r.produced_wh > 0 || sky_moved {
                t.same += 1;
            }
            t.last = Some(now);
            let neighbours = sky.filter(|_| r.kind == MeterKind::Solar);
            if let Some(median) = neighbours.as_ref() {
                let s = share(r);
                t.over = if s > median + 0.35 { t.over + 1 } else { 0 };
                if *median > 0.2 {
                    t.under = if s < 0.5 * median { t.under + 1 } else { 0 };
                }
            }
            if t.flag.is_none() {
                // A stuck meter also reads far from its neighbours: named for its cause.
                let rule = if t.same >= STUCK_RUN {
                    Some(Anomaly::Stuck)
                } else if t.over >= OVER_RUN {
                    Some(Anomaly::Overreporting)
                } else if t.under >= UNDER_RUN {
                    Some(Anomaly::Underproducing)
                } else {
                    None
                };
                t.flag = rule.map(|a| (a, interval));
            }
        }
    }

    /// The meters flagged so far: why, and the interval the flag was raised at.
    pub fn flags(&self) -> impl Iterator<Item = (u64, Anomaly, u64)> + '_ {
        self.tracks
            .iter()
            .filter_map(|(m, t)| t.flag.map(|(a, at)| (*m, a, at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(meter: u64, produced_wh: u64, consumed_wh: u64) -> Reading {
        Reading {
            meter,
            kind: MeterKind::Solar,
            produced_wh,
            consumed_wh,
            max_wh: 100,
        }
    }

    #[test]
    fn each_fault_is_flagged_by_its_rule_and_honest_meters_are_not() {
        let mut d = Detector::default();
        for i in 0..20u64 {
            let sun = if i < 10 { 40 + 2 * i } else { 0 };
            let mut rs: Vec<Reading> = (0..5)
                .map(|m| reading(m, sun + m, 10 + (i * 7 + m) % 5))
                .collect();
            rs.push(reading(5, sun / 4, 10 + i % 3)); // failing
            rs.push(reading(6, 5, 5)); // stuck
            rs.push(reading(7, 90, 10 + i % 2)); // claims 90 Wh, day and night
            d.observe(i, &rs);
        }
        let flags: Vec<(u64, Anomaly)> = d.flags().map(|(m, a, _)| (m, a)).collect();
        assert!(flags.contains(&(5, Anomaly::Underproducing)), "{flags:?}");
        assert!(flags.contains(&(6, Anomaly::Stuck)), "{flags:?}");
        assert!(flags.contains(&(7, Anomaly::Overreporting)), "{flags:?}");
        assert!(flags.iter().all(|(m, _)| *m >= 5), "{flags:?}");
    }
}
