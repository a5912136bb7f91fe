//! What the browser proves before it shows a ✓: the node's answers checked against what this
//! browser's light client trusts, giving the light client's proven types
//! ([`joule_light_client::proven`]), which are all a view may render under a mark.
//!
//! Every function here takes what the user asked for (an address, an id, a page) from the
//! user, never from the answer, and refuses an answer whose own fields contradict its
//! proof: a node that does so is lying or broken, and the page says so instead of choosing.

use joule_light_client::api::{
    AccountResponse, BlockResponse, ProposalItem, ProposalResponse, ReceiptView,
    ShardBlockResponse, TxResponse, VoteItem,
};
use joule_light_client::dao::{proposal_key, vote_key, Proposal, Vote};
use joule_light_client::{
    Address, GenesisHeader, Hash, ProvenAccount, ProvenAt, ProvenBlock, ProvenCredit, ProvenObject,
    ProvenReceipt, ProvenShardBlock, ProvenTally, ProvenTx, ShardId, ValidatorSet, VerifyError,
};

use crate::model::short_hash;

mod market;
pub use market::{
    prove_gov_params, prove_interval, prove_market_params, prove_owned, prove_records, prove_trade,
    Recomputed,
};

/// A proof's head may lag the light client's verified head by this many blocks and still
/// count as current.
pub const MAX_LAG_BLOCKS: u64 = 20;

/// …and be at most this old by the browser's clock (or 20 block intervals, if longer).
pub const MAX_AGE_MS: u64 = 120_000;

/// What this browser's light client trusts, as every page checks against it: the genesis
/// proven from the user's checkpoint, the validator sets verified from it, and its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// The chain's genesis header (its hash is the user's checkpoint's).
    pub genesis: GenesisHeader,
    /// Verified validator sets, oldest first.
    pub sets: Vec<ValidatorSet>,
    /// Height of the light client's verified head.
    pub head_height: u64,
}

impl Trust {
    /// The chain's nominal clock from the trusted genesis: its start and block interval, ms
    /// (height `h` is due at `start + h × interval`).
    pub fn clock(&self) -> (u64, u64) {
        (self.genesis.genesis_time_ms, self.genesis.block_interval_ms)
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.genesis.chain_id
    }

    /// The trusted set hashing to `hash`.
    pub fn set(&self, hash: &Hash) -> Option<&ValidatorSet> {
        self.sets.iter().find(|s| s.hash() == *hash)
    }
}

fn contradicts(what: &'static str, claimed: impl ToString, proven: impl ToString) -> String {
    VerifyError::Contradicts {
        what,
        claimed: claimed.to_string(),
        proven: proven.to_string(),
    }
    .to_string()
}

/// Verifies `block`'s commit under the trusted validator set it names, and its shard headers.
pub fn prove_block(trust: &Trust, block: &BlockResponse) -> Result<ProvenBlock, String> {
    let Some(set) = trust.set(&block.header.validator_set_hash) else {
        return Err(format!(
            "signed by validator set {}, which this browser's light client has not verified",
            short_hash(&block.header.validator_set_hash)
        ));
    };
    let proven = ProvenBlock::verify(
        trust.chain_id(),
        set,
        &block.header,
        &block.commit,
        &block.shards,
    )
    .map_err(|e| e.to_string())?;
    if block.hash != proven.hash() {
        return Err(contradicts("block hash", block.hash, proven.hash()));
    }
    Ok(proven)
}

/// Fails unless `block` is the block a proof names.
fn same_block(block: &ProvenBlock, height: u64, hash: &Hash) -> Result<(), String> {
    if block.height() == height && block.hash() == *hash {
        Ok(())
    } else {
        Err(format!(
            "the proof names block #{height}, but block #{} was verified",
            block.height()
        ))
    }
}

/// The state of `address` — the address the user asked for — proven from `block`'s commit
/// down to the state proof in `answer`.
pub fn prove_account(
    trust: &Trust,
    block: &BlockResponse,
    address: &Address,
    answer: &AccountResponse,
) -> Result<ProvenAccount, String> {
    let Some(proof) = &answer.proof else {
        return Err("the node sent no proof (no block yet)".into());
    };
    let proven_block =
        prove_block(trust, block).map_err(|e| format!("block #{}: {e}", block.header.height))?;
    same_block(&proven_block, proof.at.height, &proof.at.block_hash)?;
    let proven =
        ProvenAccount::verify(&proven_block, address, &proof.proof).map_err(|e| e.to_string())?;
    if answer.address != *address {
        return Err(contradicts("address", answer.address, address));
    }
    if answer.exists != proven.exists() {
        return Err(contradicts("existence", answer.exists, proven.exists()));
    }
    if answer.account.balance != proven.balance() {
        return Err(contradicts(
            "balance",
            answer.account.balance,
            proven.balance(),
        ));
    }
    if answer.account.nonce != proven.nonce() {
        return Err(contradicts("nonce", answer.account.nonce, proven.nonce()));
    }
    Ok(proven)
}

/// The transaction `id` — the id the user asked for — proven included: its bytes hash to
/// the id, `block`'s commit verifies, and its outcome is in its shard's transaction root.
/// Returns the proven block too (its receipt is proven against it).
pub fn prove_tx(
    trust: &Trust,
    block: &BlockResponse,
    id: &Hash,
    answer: &TxResponse,
) -> Result<(ProvenBlock, ProvenTx), String> {
    let Some(inc) = &answer.inclusion else {
        return Err("not in a block yet".into());
    };
    let proven_block =
        prove_block(trust, block).map_err(|e| format!("block #{}: {e}", inc.at.height))?;
    same_block(&proven_block, inc.at.height, &inc.at.block_hash)?;
    let proven = ProvenTx::verify(&proven_block, &answer.tx, &inc.outcome, &inc.proof)
        .map_err(|e| e.to_string())?;
    if proven.id() != *id {
        return Err(format!(
            "the node answered with transaction {}, not the one asked for",
            short_hash(&proven.id())
        ));
    }
    if answer.sender != proven.sender() {
        return Err(contradicts("sender", answer.sender, proven.sender()));
    }
    if inc.index != proven.index() {
        return Err(contradicts("position", inc.index, proven.index()));
    }
    if inc.at.shard_header.shard != proven.at().shard {
        return Err(contradicts(
            "shard",
            inc.at.shard_header.shard,
            proven.at().shard,
        ));
    }
    if inc.timestamp_ms != proven.at().timestamp_ms {
        return Err(contradicts(
            "block time",
            inc.timestamp_ms,
            proven.at().timestamp_ms,
        ));
    }
    Ok((proven_block, proven))
}

/// The receipt `tx` emitted, proven in the block `tx` was proven in.
pub fn prove_receipt(
    tx: &ProvenTx,
    block: &ProvenBlock,
    view: &ReceiptView,
) -> Result<ProvenReceipt, String> {
    ProvenReceipt::verify(tx, block, &view.receipt, &view.outgoing_proof).map_err(|e| e.to_string())
}

/// Where `receipt` was credited: `dest` (the block the node says applied it) is verified,
/// and the receipt is proven among its destination shard's applied receipts.
pub fn prove_credit(
    trust: &Trust,
    receipt: &ProvenReceipt,
    dest: &BlockResponse,
    view: &ReceiptView,
) -> Result<ProvenCredit, String> {
    let Some(applied) = &view.applied else {
        return Err("not credited yet".into());
    };
    let proven_block =
        prove_block(trust, dest).map_err(|e| format!("block #{}: {e}", applied.at.height))?;
    same_block(&proven_block, applied.at.height, &applied.at.block_hash)?;
    ProvenCredit::verify(receipt, &proven_block, &applied.incoming_proof).map_err(|e| e.to_string())
}

/// A shard block, proven whole: the block's commit, the shard's header and both of its
/// receipt lists, and each transaction row of the page — every row at the position the
/// page must hold, so a node can neither alter nor leave out a row.
#[derive(Debug, Clone)]
pub struct ProvenShardPage {
    /// The block.
    pub block: ProvenBlock,
    /// The shard with its receipts.
    pub shard: ProvenShardBlock,
    /// The page shown (from 0).
    pub page: u32,
    /// The page's transactions, in order.
    pub rows: Vec<ProvenTx>,
}

/// Proves shard `shard` of `block` and page `page` (of `limit` rows) of its transactions.
pub fn prove_shard_page(
    trust: &Trust,
    block: &BlockResponse,
    shard: ShardId,
    page: u32,
    limit: u32,
    answer: &ShardBlockResponse,
) -> Result<ProvenShardPage, String> {
    let proven_block =
        prove_block(trust, block).map_err(|e| format!("block #{}: {e}", block.header.height))?;
    prove_shard_rows(proven_block, shard, page, limit, answer)
}

/// Like [`prove_shard_page`], in a block already proven.
pub fn prove_shard_rows(
    proven_block: ProvenBlock,
    shard: ShardId,
    page: u32,
    limit: u32,
    answer: &ShardBlockResponse,
) -> Result<ProvenShardPage, String> {
    if answer.block_hash != proven_block.hash() {
        return Err("the shard block names another block than the one verified".into());
    }
    let proven_shard = ProvenShardBlock::verify(
        &proven_block,
        shard,
        &answer.outgoing_receipts,
        &answer.incoming_receipts,
    )
    .map_err(|e| e.to_string())?;
    let first = u64::from(page) * u64::from(limit);
    let count = u64::from(proven_shard.header().tx_count);
    let expected = count.saturating_sub(first).min(u64::from(limit));
    if answer.transactions.items.len() as u64 != expected {
        return Err(format!(
            "the page should hold {expected} of the shard's {count} transactions, the node sent {}",
            answer.transactions.items.len()
        ));
    }
    let rows = answer
        .transactions
        .items
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let position = first + i as u64;
            let proof = row
                .proof
                .as_ref()
                .ok_or_else(|| format!("transaction #{position} came without its proof"))?;
            let proven = ProvenTx::verify(&proven_block, &row.tx, &row.outcome, proof)
                .map_err(|e| format!("transaction #{position}: {e}"))?;
            if proven.at().shard != shard || u64::from(proven.index()) != position {
                return Err(format!(
                    "transaction #{position} is proven at #{} of shard {}",
                    proven.index(),
                    proven.at().shard
                ));
            }
            if row.sender != proven.sender() {
                return Err(contradicts("sender", row.sender, proven.sender()));
            }
            Ok(proven)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ProvenShardPage {
        block: proven_block,
        shard: proven_shard,
        page,
        rows,
    })
}

/// The proposal the user named (`id`), proven in the block of the answer: under the proposer
/// the answer names, holding exactly the answer's copy and carrying `id`.
pub fn prove_proposal(
    trust: &Trust,
    block: &BlockResponse,
    id: &Hash,
    item: &ProposalItem,
) -> Result<(Proposal, ProvenAt), String> {
    let proven_block = prove_block(trust, block)?;
    let key = proposal_key(&item.proposal.proposer, id);
    let proven = ProvenObject::<Proposal>::verify(&proven_block, &key, &item.proof)
        .map_err(|e| e.to_string())?;
    let p = proven
        .value()
        .ok_or_else(|| "the proof shows no such proposal".to_owned())?;
    if p.id != *id {
        return Err(contradicts("proposal's id", p.id, id));
    }
    if *p != item.proposal {
        return Err(contradicts(
            "proposal",
            format!("{:?}", item.proposal.state),
            format!("{:?}", p.state),
        ));
    }
    Ok((p.clone(), proven.at()))
}

/// The final tally of the proposal `id`: every shard's tally proven in the answer's block,
/// summed, and quorum and threshold recomputed against the proposal's state.
pub fn prove_tally(
    trust: &Trust,
    block: &BlockResponse,
    id: &Hash,
    answer: &ProposalResponse,
) -> Result<ProvenTally, String> {
    let proven_block = prove_block(trust, block)?;
    let t = ProvenTally::verify(
        &proven_block,
        &answer.item.proposal.proposer,
        id,
        &answer.item.proof,
        &answer.tally_proofs,
    )
    .map_err(|e| e.to_string())?;
    if t.tallies() != answer.tallies.as_slice() {
        return Err(contradicts(
            "shard tallies",
            answer.tallies.len(),
            t.tallies().len(),
        ));
    }
    Ok(t)
}

/// Each vote of a page on proposal `id`, proven in the page's block; a vote that does not
/// verify is its error.
pub fn prove_votes(
    trust: &Trust,
    block: &BlockResponse,
    id: &Hash,
    page: &[VoteItem],
) -> Result<Vec<Result<Vote, String>>, String> {
    let proven_block = prove_block(trust, block)?;
    Ok(page
        .iter()
        .map(|v| {
            let key = vote_key(&v.vote.voter, id);
            let proven = ProvenObject::<Vote>::verify(&proven_block, &key, &v.proof)
                .map_err(|e| e.to_string())?;
            match proven.value() {
                Some(vote) if *vote == v.vote => Ok(*vote),
                Some(vote) => Err(contradicts(
                    "vote",
                    format!("{:?}", v.vote.choice),
                    format!("{:?}", vote.choice),
                )),
                None => Err("the proof shows no such vote".into()),
            }
        })
        .collect())
}

/// Fails when what was proven at `at` may be out of date: its block lags the light client's
/// verified head by more than [`MAX_LAG_BLOCKS`], or is older than [`MAX_AGE_MS`] (or 20
/// block intervals) by this browser's clock. A replayed old answer verifies; this is what
/// keeps it from passing for the present.
pub fn check_fresh(trust: &Trust, at: &ProvenAt, now_ms: u64) -> Result<(), String> {
    if at.height + MAX_LAG_BLOCKS < trust.head_height {
        return Err(format!(
            "out of date: proven at block #{}, {} blocks behind the head your light client verified (#{})",
            at.height,
            trust.head_height - at.height,
            trust.head_height
        ));
    }
    let max_age = MAX_AGE_MS.max(20 * trust.genesis.block_interval_ms);
    let age = now_ms.saturating_sub(at.timestamp_ms);
    if age > max_age {
        return Err(format!(
            "out of date: proven at block #{}, made {} s ago by this browser's clock",
            at.height,
            age / 1000
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
