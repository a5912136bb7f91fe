//! Block and shard headers (the first byte picks which).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = joule_fuzz::checks::block(data);
    });
}
