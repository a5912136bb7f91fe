//! The node's running analytics: every meter reading the chain accepts, summed per interval
//! for the community, and — once an interval settles (its readings are final) — fed to the
//! seasonal forecasts of production and consumption and to the anomaly flags. What
//! `GET /market/forecast` and `/market/anomalies` answer. Computed by the node from its own
//! chain (not proven: a forecast is an opinion, shown with its measured error). Kept in memory:
//! a restarted node starts learning again.

use std::collections::BTreeMap;

use joule_light_client::api::IntervalTotals;
use joule_light_client::market::MeterKind;
use joule_light_client::Address;

use super::anomaly::{Anomaly, Detector, Reading};
use super::forecast::{Forecast, Seasonal};

/// Intervals of community totals kept for the API.
const HISTORY: usize = 192;

/// The level's and the daily pattern's smoothing (see `joule bench forecast`).
const ALPHA: f64 = 0.5;
const GAMMA: f64 = 0.15;

/// A running mean absolute percentage error, against the naive same-time-yesterday forecast.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunningError {
    /// The model's MAPE so far, % (`None` before anything was scored).
    pub mape: Option<f64>,
    /// The naive forecast's, %.
    pub naive_mape: Option<f64>,
    /// Intervals scored.
    pub scored: u64,
    sum: f64,
    naive_sum: f64,
}

impl RunningError {
    fn add(&mut self, forecast: f64, naive: f64, actual: f64) {
        self.sum += (forecast - actual).abs() / actual;
        self.naive_sum += (naive - actual).abs() / actual;
        self.scored += 1;
        self.mape = Some(100.0 * self.sum / self.scored as f64);
        self.naive_mape = Some(100.0 * self.naive_sum / self.scored as f64);
    }
}

/// The node's analytics.
#[derive(Debug)]
pub struct Tracker {
    season: usize,
    /// Readings of intervals not settled yet.
    open: BTreeMap<u64, Vec<Reading>>,
    /// Meters by id.
    meters: BTreeMap<u64, Address>,
    history: Vec<IntervalTotals>,
    production: Seasonal,
    consumption: Seasonal,
    /// One-interval-ahead errors, scored as each interval settles.
    pub production_error: RunningError,
    /// The same for consumption.
    pub consumption_error: RunningError,
    /// The same for the clearing price.
    pub price_error: RunningError,
    detector: Detector,
    /// Clearing prices by interval, as each gate cleared (the last one carried over an
    /// interval that did not cross, so the daily pattern stays aligned).
    prices: Vec<(u64, u64)>,
    price: Seasonal,
}

/// A meter's id for the detector.
fn id_of(a: &Address) -> u64 {
    u64::from_le_bytes(a.0[..8].try_into().unwrap_or([0; 8]))
}

impl Tracker {
    /// Analytics for a chain whose daily pattern repeats every `season` intervals.
    pub fn new(season: usize) -> Self {
        Tracker {
            season,
            open: BTreeMap::new(),
            meters: BTreeMap::new(),
            history: Vec::new(),
            production: Seasonal::new(season, ALPHA, GAMMA),
            consumption: Seasonal::new(season, ALPHA, GAMMA),
            production_error: RunningError::default(),
            consumption_error: RunningError::default(),
            price_error: RunningError::default(),
            detector: Detector::default(),
            prices: Vec::new(),
            price: Seasonal::new(season, ALPHA, GAMMA),
        }
    }

    /// Intervals in the daily pattern.
    pub fn season(&self) -> usize {
        self.season
    }

    /// A reading the chain accepted.
    pub fn record(
        &mut self,
        meter: Address,
        kind: MeterKind,
        max_wh: u64,
        interval: u64,
        produced_wh: u64,
        consumed_wh: u64,
    ) {
        let id = id_of(&meter);
        self.meters.insert(id, meter);
        self.open.entry(interval).or_default().push(Reading {
            meter: id,
            kind,
            produced_wh,
            consumed_wh,
            max_wh,
        });
    }

    /// `interval` settled: its readings are final.
    pub fn close(&mut self, interval: u64) {
        let readings = self.open.remove(&interval).unwrap_or_default();
        // Readings of older intervals that never settled here (a node started mid-way).
        self.open.retain(|i, _| *i > interval);
        let produced: u64 = readings.iter().map(|r| r.produced_wh).sum();
        let consumed: u64 = readings.iter().map(|r| r.consumed_wh).sum();
        let season = self.season;
        let yesterday = |h: &[IntervalTotals], f: fn(&IntervalTotals) -> u64| {
            h.len().checked_sub(season).map(|i| f(&h[i]) as f64)
        };
        if let (Some(f), Some(naive)) = (
            self.production.forecast(1),
            yesterday(&self.history, |t| t.produced_wh),
        ) {
            if produced > 0 {
                self.production_error.add(f.value, naive, produced as f64);
            }
        }
        if let (Some(f), Some(naive)) = (
            self.consumption.forecast(1),
            yesterday(&self.history, |t| t.consumed_wh),
        ) {
            if consumed > 0 {
                self.consumption_error.add(f.value, naive, consumed as f64);
            }
        }
        self.production.observe(produced as f64);
        self.consumption.observe(consumed as f64);
        self.detector.observe(interval, &readings);
        self.history.push(IntervalTotals {
            interval,
            produced_wh: produced,
            consumed_wh: consumed,
            meters: readings.len() as u32,
        });
        if self.history.len() > HISTORY.max(self.season + 1) {
            self.history.remove(0);
        }
    }

    /// `interval`'s gate cleared at `price` (token units per Wh; `None`: nothing crossed).
    pub fn cleared(&mut self, interval: u64, price: Option<u64>) {
        let Some(p) = price.or_else(|| self.prices.last().map(|(_, p)| *p)) else {
            return;
        };
        let season = self.season;
        let naive = self
            .prices
            .len()
            .checked_sub(season)
            .map(|i| self.prices[i].1 as f64);
        if let (Some(f), Some(naive), true) = (self.price.forecast(1), naive, p > 0) {
            self.price_error.add(f.value, naive, p as f64);
        }
        self.price.observe(p as f64);
        self.prices.push((interval, p));
        if self.prices.len() > HISTORY.max(self.season + 1) {
            self.prices.remove(0);
        }
    }

    /// Clearing prices forecast for the `n` intervals after the last cleared one.
    pub fn price_forecast(&self, n: usize) -> Vec<(u64, Forecast)> {
        let last = self.prices.last().map_or(0, |(i, _)| *i);
        (1..=n)
            .filter_map(|h| Some((last + h as u64, self.price.forecast(h)?)))
            .collect()
    }

    /// The settled intervals kept, oldest first.
    pub fn history(&self) -> &[IntervalTotals] {
        &self.history
    }

    /// Production and consumption forecasts for the next `n` intervals after the last
    /// settled one (empty until a full day has settled).
    pub fn forecast(&self, n: usize) -> Vec<(u64, Forecast, Forecast)> {
        let last = self.history.last().map_or(0, |t| t.interval);
        (1..=n)
            .filter_map(|h| {
                Some((
                    last + h as u64,
                    self.production.forecast(h)?,
                    self.consumption.forecast(h)?,
                ))
            })
            .collect()
    }

    /// Meters flagged: which, why, and the interval the flag was raised at.
    pub fn flags(&self) -> Vec<(Address, Anomaly, u64)> {
        self.detector
            .flags()
            .filter_map(|(id, a, at)| Some((*self.meters.get(&id)?, a, at)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_intervals_feed_the_forecast_and_the_flags() {
        let mut t = Tracker::new(4);
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        for i in 0..12u64 {
            let sun = [0, 40, 80, 40][i as usize % 4];
            for (n, m) in (0..5u8).map(|n| (n, Address([n + 10; 20]))) {
                t.record(
                    m,
                    MeterKind::Solar,
                    100,
                    i,
                    sun + u64::from(n),
                    5 + (i + u64::from(n)) % 3,
                );
            }
            t.record(a, MeterKind::Solar, 100, i, sun, 7 + i % 2);
            t.record(b, MeterKind::Solar, 100, i, 90, 3 + i % 4); // day and night
            t.close(i);
        }
        assert_eq!(t.history().len(), 12);
        assert_eq!(t.forecast(2).len(), 2);
        assert!(t.production_error.scored > 0);
        for i in 0..12u64 {
            t.cleared(i, (i % 3 != 0).then_some(100 + 10 * (i % 4)));
        }
        assert_eq!(t.price_forecast(2).len(), 2);
        assert!(t.price_error.scored > 0);
        let flags = t.flags();
        assert_eq!(
            flags.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![b],
            "{flags:?}"
        );
    }
}
