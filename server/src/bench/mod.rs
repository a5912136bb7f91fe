//! `joule bench exec|e2e|state|clear|tally|restart` (and `engines`, with `--features fjall-bench`): the benchmarks behind the README's performance tables.
//! Each prints a table and can write its rows as JSON; each measures its contenders side by
//! side in one run and reports medians.

pub mod clear;
pub mod e2e;
#[cfg(feature = "fjall-bench")]
pub mod engines;
pub mod exec;
pub mod forecast;
pub mod restart;
pub mod state;
pub mod tally;
pub mod workload;

use joule_light_client::{Address, SecretKey};

/// Median of `v` (which must not be empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Thread counts to try: powers of two up to `max`, and `max` itself.
pub fn thread_counts(max: usize) -> Vec<usize> {
    let mut t: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
        .take_while(|x| *x < max)
        .collect();
    t.push(max.max(1));
    t
}

/// The `i`th benchmark account's key (deterministic, so runs are comparable).
pub fn bench_key(i: u32) -> SecretKey {
    SecretKey::from_seed(&blake3::derive_key("joule bench account", &i.to_le_bytes()))
}

/// A pseudo-random address for filler accounts (no key needed).
pub fn filler_address(i: u64) -> Address {
    let h = blake3::derive_key("joule bench filler", &i.to_le_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    Address(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_powers_of_two_then_the_max() {
        assert_eq!(thread_counts(16), vec![1, 2, 4, 8, 16]);
        assert_eq!(thread_counts(6), vec![1, 2, 4, 6]);
        assert_eq!(thread_counts(1), vec![1]);
    }
}
