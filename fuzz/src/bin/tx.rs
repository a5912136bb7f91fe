//! Signed transactions, as `POST /transactions` and blocks carry them.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(stx) = joule_light_client::SignedTransaction::from_bytes(data) {
            assert_eq!(joule_light_client::Encode::encode(&stx), data);
        }
    });
}
