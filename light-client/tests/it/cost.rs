//! What verifying a block commit costs in the browser, for the README's budget. A measurement,
//! not a timed test: it asserts that the commits verify and prints the medians
//! (`make bench-wasm` shows them).

use joule_light_client::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{console_log, wasm_bindgen_test as test};

use super::fixtures::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance)]
    fn now() -> f64;
}

/// Median milliseconds per call of `f`, over `runs` runs of `reps` calls.
fn median_ms(runs: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = now();
            for _ in 0..reps {
                f();
            }
            (now() - start) / reps as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[runs / 2]
}

#[test]
fn commit_verification_cost_in_the_browser() {
    // `make test` runs this unoptimised, as a check that both commits verify; the numbers
    // worth quoting come from `make bench-wasm` (release).
    let (runs, scale) = if cfg!(debug_assertions) {
        (1, 0)
    } else {
        (7, 1)
    };
    console_log!("| validators | signatures checked | median per commit (ms) |");
    console_log!("|---:|---:|---:|");
    for (n, reps) in [(4u8, 100 * scale + 1), (100, 5 * scale + 1)] {
        let keys = validator_keys(100, n);
        let set = set_of(&keys);
        let (header, commit) = signed_block(2, Hash::ZERO, &keys);
        let ms = median_ms(runs, reps, || {
            verify_commit(CHAIN, &set, &header, &commit).expect("the commit verifies");
        });
        console_log!("| {n} | {} | {ms:.2} |", commit.signatures.len());
    }
}
