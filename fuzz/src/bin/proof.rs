//! Merkle, state and object proofs (the first byte picks which).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = joule_fuzz::checks::proof(data);
    });
}
