//! Cross-shard receipts and transaction outcomes (the first byte picks which).
use joule_fuzz::canonical;
use joule_light_client::{Receipt, TxOutcome};

fn main() {
    afl::fuzz!(|data: &[u8]| match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<Receipt>(rest),
        Some((_, rest)) => canonical::<TxOutcome>(rest),
        None => {}
    });
}
