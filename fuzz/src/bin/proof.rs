//! Merkle proofs, state proofs and object proofs (the first byte picks which).
use joule_fuzz::canonical;
use joule_light_client::object::ObjectProof;
use joule_light_client::{MerkleProof, StateProof};

fn main() {
    afl::fuzz!(|data: &[u8]| match data.split_first() {
        Some((k, rest)) if k % 3 == 0 => canonical::<MerkleProof>(rest),
        Some((k, rest)) if k % 3 == 1 => canonical::<StateProof>(rest),
        Some((_, rest)) => canonical::<ObjectProof>(rest),
        None => {}
    });
}
