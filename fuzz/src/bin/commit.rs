//! Commits and validator sets (the first byte picks which).
use joule_fuzz::canonical;
use joule_light_client::{Commit, ValidatorSet};

fn main() {
    afl::fuzz!(|data: &[u8]| match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Commit>(rest),
        Some((_, rest)) => canonical::<ValidatorSet>(rest),
        None => {}
    });
}
