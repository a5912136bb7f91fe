//! Receipts and transaction outcomes (the first byte picks which).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = joule_fuzz::checks::receipt(data);
    });
}
