//! A seasonal forecast of a series with a daily pattern (the community's production or
//! consumption per interval): additive Holt–Winters without trend — a level and one seasonal
//! offset per interval of the day, each updated by exponential smoothing — with a band from
//! the spread of its own recent one-step errors.
//!
//! Chosen over a learned model because it is small, needs one day of history to start, adapts
//! to weather within hours, and its error is measured against the naive same-time-yesterday
//! forecast by `joule bench forecast`: it must beat that baseline to earn its place.

/// The model's state.
#[derive(Debug, Clone)]
pub struct Seasonal {
    season: usize,
    alpha: f64,
    gamma: f64,
    level: f64,
    offsets: Vec<f64>,
    /// Observations so far.
    seen: usize,
    /// The first season's values (the model starts after one season).
    first: Vec<f64>,
    /// Recent one-step errors (for the band).
    errors: Vec<f64>,
}

/// A forecast and its band (about 95 %: ±1.96 σ of recent one-step errors, widening with the
/// horizon).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// The expected value.
    pub value: f64,
    /// The band's low end (never below 0).
    pub low: f64,
    /// Its high end.
    pub high: f64,
}

/// One-step errors kept for the band.
const ERROR_WINDOW: usize = 192;

impl Seasonal {
    /// A model of a series whose pattern repeats every `season` steps, smoothing the level by
    /// `alpha` and the seasonal offsets by `gamma`.
    pub fn new(season: usize, alpha: f64, gamma: f64) -> Self {
        Seasonal {
            season: season.max(1),
            alpha,
            gamma,
            level: 0.0,
            offsets: Vec::new(),
            seen: 0,
            first: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Whether it has seen a full season and forecasts.
    pub fn ready(&self) -> bool {
        !self.offsets.is_empty()
    }

    /// Takes the next observation.
    pub fn observe(&mut self, y: f64) {
        let i = self.seen % self.season;
        self.seen += 1;
        if !self.ready() {
            self.first.push(y);
            if self.first.len() == self.season {
                self.level = self.first.iter().sum::<f64>() / self.season as f64;
                self.offsets = self.first.iter().map(|v| v - self.level).collect();
            }
            return;
        }
        let predicted = self.level + self.offsets[i];
        self.errors.push(y - predicted);
        if self.errors.len() > ERROR_WINDOW {
            self.errors.remove(0);
        }
        let level = self.alpha * (y - self.offsets[i]) + (1.0 - self.alpha) * self.level;
        self.offsets[i] = self.gamma * (y - level) + (1.0 - self.gamma) * self.offsets[i];
        self.level = level;
    }

    /// The forecast `h ≥ 1` steps after the last observation (`None` before a full season).
    pub fn forecast(&self, h: usize) -> Option<Forecast> {
        if !self.ready() {
            return None;
        }
        let i = (self.seen + h.max(1) - 1) % self.season;
        let value = (self.level + self.offsets[i]).max(0.0);
        let n = self.errors.len().max(1) as f64;
        let sigma = (self.errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
        let spread = 1.96 * sigma * (h.max(1) as f64).sqrt();
        Some(Forecast {
            value,
            low: (value - spread).max(0.0),
            high: value + spread,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeating_pattern_is_learned_and_its_band_is_narrow() {
        let pattern = [0.0, 2.0, 6.0, 9.0, 6.0, 2.0];
        let mut m = Seasonal::new(pattern.len(), 0.2, 0.3);
        assert_eq!(m.forecast(1), None);
        for _ in 0..20 {
            for y in pattern {
                m.observe(y);
            }
        }
        for (h, want) in pattern.iter().enumerate() {
            let f = m.forecast(h + 1).unwrap();
            assert!((f.value - want).abs() < 1e-6, "{h}: {f:?}");
            assert!(f.high - f.low < 1e-6);
        }
    }

    #[test]
    fn a_level_shift_is_followed_and_the_band_widens_with_noise() {
        let mut m = Seasonal::new(4, 0.3, 0.1);
        for k in 0..40 {
            let shift = if k < 20 { 0.0 } else { 10.0 };
            for (j, y) in [1.0, 3.0, 5.0, 3.0].iter().enumerate() {
                let noise = if (k + j) % 2 == 0 { 0.5 } else { -0.5 };
                m.observe(y + shift + noise);
            }
        }
        let f = m.forecast(3).unwrap();
        assert!((f.value - 15.0).abs() < 1.0, "{f:?}");
        assert!(f.low < f.value && f.value < f.high);
    }
}
