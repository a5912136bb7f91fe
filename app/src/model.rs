//! View-model logic, free of view code: verification verdicts and formatting.

use joule_light_client::api::{BlockResponse, ChainInfo};
use joule_light_client::{verify_commit, Hash};

/// What the browser concluded about a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The commit verified under the trusted validator set.
    Verified,
    /// It did not; the reason.
    Failed(String),
}

/// Verifies `block`'s commit in this browser against the validator set the user trusts
/// (the genesis set of `chain`, whose hash the page shows as the checkpoint).
pub fn verify_block(chain: &ChainInfo, block: &BlockResponse) -> Verdict {
    if block.hash != block.header.hash() {
        return Verdict::Failed("block hash does not match its header".into());
    }
    match verify_commit(
        &chain.chain_id,
        &chain.genesis_validators,
        &block.header,
        &block.commit,
    ) {
        Ok(_) => Verdict::Verified,
        Err(e) => Verdict::Failed(e.to_string()),
    }
}

/// First 8 and last 6 hex digits of a hash.
pub fn short_hash(h: &Hash) -> String {
    let s = h.to_hex();
    format!("{}…{}", &s[..8], &s[s.len() - 6..])
}

/// "3 s ago", "2 min ago", "1 h ago".
pub fn ago(now_ms: u64, then_ms: u64) -> String {
    let s = now_ms.saturating_sub(then_ms) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn formats() {
        assert_eq!(ago(10_000, 7_000), "3 s ago");
        assert_eq!(ago(200_000, 0), "3 min ago");
        assert_eq!(ago(7_300_000, 0), "2 h ago");
        assert_eq!(short_hash(&Hash([0xab; 32])), "abababab…ababab");
    }
}
