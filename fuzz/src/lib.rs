//! The properties each fuzz target checks on arbitrary bytes: decoding never panics, and what
//! decodes is canonical — encoding it again gives the same bytes (two encodings of one value
//! would let a relayer change a signed object's bytes without changing its meaning).
//! `light-client/tests/it/fuzz_corpus.rs` checks the same on the committed corpus.

use joule_light_client::codec::decode_exact;
use joule_light_client::{Decode, Encode};

/// Decodes `data` as a `T`; if it decodes, its encoding must be `data`.
pub fn canonical<T: Decode + Encode>(data: &[u8]) {
    if let Ok(value) = decode_exact::<T>(data) {
        assert_eq!(value.encode(), data, "a non-canonical encoding decoded");
    }
}

/// Parses `data` as JSON of `T` (the API's types): never a panic.
pub fn json<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}
