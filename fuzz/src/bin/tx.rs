//! Signed transactions.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = joule_fuzz::checks::tx(data);
    });
}
