//! Integration tests of the protocol crate: golden vectors, commit and chain verification, and
//! inclusion proofs. They run natively and, through wasm-bindgen-test, in headless Chromium.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod chain;
mod commit;
#[cfg(target_arch = "wasm32")]
mod cost;
mod fixtures;
#[cfg(not(target_arch = "wasm32"))]
mod fuzz_corpus;
mod golden;
mod inclusion;
mod proven;
