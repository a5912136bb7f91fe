//! Commits and validator sets (the first byte picks which).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = joule_fuzz::checks::commit(data);
    });
}
