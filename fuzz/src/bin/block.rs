//! Block and shard headers (the first byte picks which).
use joule_fuzz::canonical;
use joule_light_client::{BlockHeader, ShardHeader};

fn main() {
    afl::fuzz!(|data: &[u8]| match data.split_first() {
        Some((k, rest)) if k % 2 == 0 => canonical::<BlockHeader>(rest),
        Some((_, rest)) => canonical::<ShardHeader>(rest),
        None => {}
    });
}
