//! View-model logic, free of view code: verification verdicts and formatting.

use joule_light_client::api::{
    AccountResponse, BlockResponse, ChainInfo, ShardBlockResponse, TxResponse,
};
use joule_light_client::receipt::receipts_tree;
use joule_light_client::units::format_amount;
use joule_light_client::{
    verify_account, verify_commit, verify_shard_header, verify_transaction, Address, Hash, Payload,
};

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

/// Verifies an account's state down from a block commit: `block` (the block the proof names)
/// is verified against the trusted set, the proof's shard header against the block's shards
/// root, then the account — or its absence — against that header's state root.
pub fn verify_account_state(
    chain: &ChainInfo,
    block: &BlockResponse,
    account: &AccountResponse,
) -> Verdict {
    let Some(proof) = &account.proof else {
        return Verdict::Failed("the node sent no proof (no block yet)".into());
    };
    if let Verdict::Failed(why) = verify_block(chain, block) {
        return Verdict::Failed(format!("block #{}: {why}", proof.at.height));
    }
    if block.hash != proof.at.block_hash || block.header.height != proof.at.height {
        return Verdict::Failed("the proof names another block than the one verified".into());
    }
    if let Err(e) =
        verify_shard_header(&block.header, &proof.at.shard_header, &proof.at.shard_proof)
    {
        return Verdict::Failed(format!("shard header: {e}"));
    }
    if proof.at.shard_header.shard != account.shard {
        return Verdict::Failed("the proof is for another shard".into());
    }
    let claimed = account.exists.then_some(&account.account);
    match verify_account(
        &proof.at.shard_header,
        &account.address,
        claimed,
        &proof.proof,
    ) {
        Ok(()) => Verdict::Verified,
        Err(e) => Verdict::Failed(e.to_string()),
    }
}

/// Verifies a transaction's inclusion down from a block commit: the transaction's id is
/// recomputed from its bytes (so the shown payload is the one committed), `block` is verified
/// against the trusted set, the shard header against the block, and the outcome against the
/// shard header's transaction root.
pub fn verify_tx_inclusion(chain: &ChainInfo, block: &BlockResponse, tx: &TxResponse) -> Verdict {
    if tx.tx.id() != tx.id {
        return Verdict::Failed("the transaction's bytes do not hash to its id".into());
    }
    let Some(inc) = &tx.inclusion else {
        return Verdict::Failed("not in a block yet".into());
    };
    if let Verdict::Failed(why) = verify_block(chain, block) {
        return Verdict::Failed(format!("block #{}: {why}", inc.at.height));
    }
    if block.hash != inc.at.block_hash || block.header.height != inc.at.height {
        return Verdict::Failed("the proof names another block than the one verified".into());
    }
    if let Err(e) = verify_shard_header(&block.header, &inc.at.shard_header, &inc.at.shard_proof) {
        return Verdict::Failed(format!("shard header: {e}"));
    }
    if inc.outcome.tx_id != tx.id {
        return Verdict::Failed("the proven outcome is for another transaction".into());
    }
    match verify_transaction(&inc.at.shard_header, &inc.outcome, &inc.proof) {
        Ok(()) => Verdict::Verified,
        Err(e) => Verdict::Failed(e.to_string()),
    }
}

/// Verifies a shard block: `block` against the trusted set, the shard header against the
/// block's shards root, and both receipt lists against the header's receipt roots.
pub fn verify_shard_block(
    chain: &ChainInfo,
    block: &BlockResponse,
    sb: &ShardBlockResponse,
) -> Verdict {
    if let Verdict::Failed(why) = verify_block(chain, block) {
        return Verdict::Failed(format!("block #{}: {why}", block.header.height));
    }
    if sb.block_hash != block.hash || sb.header.hash() != block.hash {
        return Verdict::Failed("the shard block names another block than the one verified".into());
    }
    if let Err(e) = verify_shard_header(&block.header, &sb.shard, &sb.shard_proof) {
        return Verdict::Failed(format!("shard header: {e}"));
    }
    if receipts_tree(&sb.outgoing_receipts).root() != sb.shard.outgoing_receipts_root {
        return Verdict::Failed("outgoing receipts do not match the shard header".into());
    }
    if receipts_tree(&sb.incoming_receipts).root() != sb.shard.incoming_receipts_root {
        return Verdict::Failed("incoming receipts do not match the shard header".into());
    }
    Verdict::Verified
}

/// `joule1abcd…wxyz`: enough to recognise an address.
pub fn short_address(a: &Address) -> String {
    let s = a.to_string();
    format!("{}…{}", &s[..10], &s[s.len() - 4..])
}

/// What a transaction does, in words: "joule1ab…cdef sent 12.5 JOULE to joule1gh…ijkl".
pub fn describe_tx(tx: &TxResponse) -> String {
    match &tx.tx.tx.payload {
        Payload::Transfer { to, amount } => format!(
            "{} sent {} JOULE to {}",
            short_address(&tx.sender),
            format_amount(*amount),
            short_address(to)
        ),
        _ => "an unknown kind of transaction".to_owned(),
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
