//! The simulated community's physics, as pure functions of the market interval and a seed:
//! the time of day an interval stands for, the sky, the sun, the wind, and a household's load.
//!
//! One interval is 15 simulated minutes (a day is 96 intervals: 16 minutes of wall time at the
//! devnet's 10-second intervals). Every value is derived from `(seed, interval, agent)` by
//! hashing, so a run is reproducible and nothing needs remembering between intervals.

use std::f64::consts::PI;

/// Simulated minutes per market interval.
pub const MINUTES_PER_INTERVAL: u64 = 15;

/// Intervals per simulated day.
pub const INTERVALS_PER_DAY: u64 = 24 * 60 / MINUTES_PER_INTERVAL;

/// The simulated clock starts at 09:00 on its first day, so the first screen sees the sun.
const START_INTERVAL_OF_DAY: u64 = 9 * 60 / MINUTES_PER_INTERVAL;

/// A uniform number in `[0, 1)` from `(seed, what, a, b)`.
pub fn unit(seed: u64, what: &str, a: u64, b: u64) -> f64 {
    let mut buf = [0u8; 24];
    buf[..8].copy_from_slice(&seed.to_le_bytes());
    buf[8..16].copy_from_slice(&a.to_le_bytes());
    buf[16..].copy_from_slice(&b.to_le_bytes());
    let h = blake3::derive_key(&format!("joule simulator {what}"), &buf);
    let x = u64::from_le_bytes(h[..8].try_into().unwrap_or([0; 8]));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The simulated hour (0 ≤ h < 24) at the start of `interval`.
pub fn hour_of(interval: u64) -> f64 {
    let i = (interval + START_INTERVAL_OF_DAY) % INTERVALS_PER_DAY;
    (i * MINUTES_PER_INTERVAL) as f64 / 60.0
}

/// Cloud cover over the community in `interval`, 0 (clear) to 1 (overcast): slow weather
/// fronts and a little noise, the same sky for every panel.
pub fn clouds(seed: u64, interval: u64) -> f64 {
    let t = interval as f64;
    let phase = unit(seed, "front phase", 0, 0) * 2.0 * PI;
    let front = 0.45 + 0.3 * (t / 40.0 + phase).sin() + 0.1 * (t / 9.0).sin();
    (front + 0.15 * (unit(seed, "cloud noise", interval, 0) - 0.5)).clamp(0.0, 1.0)
}

/// A solar panel's output in `interval` as a share of its rated power: the sun's arc from
/// 06:00 to 18:00, dimmed by clouds (an overcast sky still lets 30 % through).
pub fn solar(seed: u64, interval: u64) -> f64 {
    let h = hour_of(interval);
    let sun = if (6.0..18.0).contains(&h) {
        (PI * (h - 6.0) / 12.0).sin()
    } else {
        0.0
    };
    sun * (1.0 - 0.7 * clouds(seed, interval))
}

/// A wind turbine's output in `interval` as a share of its rated power: gusty, with calm and
/// windy spells.
pub fn wind(seed: u64, agent: u64, interval: u64) -> f64 {
    let t = interval as f64;
    let phase = unit(seed, "wind phase", agent, 0) * 2.0 * PI;
    let spell = 0.4 + 0.3 * (t / 25.0 + phase).sin();
    (spell + 0.3 * (unit(seed, "gust", agent, interval) - 0.5)).clamp(0.0, 1.0)
}

/// A household's (or small business's) load in `interval` as a share of its meter's rating:
/// a base, a morning and an evening peak.
pub fn load(seed: u64, agent: u64, interval: u64) -> f64 {
    let h = hour_of(interval);
    let peak = |at: f64, width: f64| (-((h - at) / width).powi(2)).exp();
    let size = 0.5 + unit(seed, "household size", agent, 0);
    let shape = 0.06 + 0.18 * peak(7.5, 1.2) + 0.25 * peak(19.0, 1.8);
    let noise = 0.9 + 0.2 * unit(seed, "load noise", agent, interval);
    (size * shape * noise).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sun_rises_and_sets_and_nights_are_dark() {
        // Interval 0 is 09:00; 36 intervals later it is 18:00, 60 later 00:00.
        assert_eq!(hour_of(0), 9.0);
        assert_eq!(hour_of(36), 18.0);
        assert_eq!(hour_of(60), 0.0);
        for i in 36..(36 + 48) {
            assert_eq!(solar(1, i), 0.0, "night at {}", hour_of(i));
        }
        let noon = solar(1, 12);
        assert!(noon > 0.25 && noon <= 1.0, "{noon}");
        for i in 0..500 {
            for v in [clouds(1, i), solar(1, i), wind(1, 3, i), load(1, 3, i)] {
                assert!((0.0..=1.0).contains(&v));
            }
        }
    }

    #[test]
    fn load_peaks_in_the_morning_and_evening_and_runs_are_reproducible() {
        let at =
            |hour: u64| (hour * 4 + INTERVALS_PER_DAY - START_INTERVAL_OF_DAY) % INTERVALS_PER_DAY;
        let l = |h| load(7, 2, at(h));
        assert!(
            l(19) > l(14) && l(8) > l(3),
            "{} {} {} {}",
            l(19),
            l(14),
            l(8),
            l(3)
        );
        assert_eq!(clouds(7, 5), clouds(7, 5));
        assert_ne!(clouds(7, 5), clouds(8, 5));
    }
}
