//! Values the light client proved, in types that only this module's `verify` functions build.
//!
//! A view that puts a value under a "verified" mark renders it from one of these types, never
//! from the answer the proof arrived in: their fields are private, so outside this crate the
//! only way to hold a [`ProvenAccount`] is to have verified one, and what it holds is what the
//! proof showed — the account read out of the state proof, the sender derived from the signed
//! bytes, the position taken from the Merkle proof, the time from the signed header. Whatever
//! else a node sends beside a proof (its own copy of a balance, a sender, a height) is not
//! read here, so it cannot slip under the mark.
//!
//! Each `verify` takes what it builds on as a proven value too: a [`ProvenBlock`] needs a
//! validator set the caller trusts (one its light client verified from the user's
//! checkpoint); everything below a block needs the [`ProvenBlock`].

use crate::address::{Address, ShardId};
use crate::block::{shards_tree, BlockHeader, ShardHeader};
use crate::codec::Encode;
use crate::commit::{verify_commit, Commit};
use crate::dao::{proposal_key, tally_key, verify_tally, Proposal, Tally, Totals};
use crate::error::{Result, VerifyError};
use crate::event::Event;
use crate::hash::Hash;
use crate::market::{book_key, interval_key, verify_clearing, Book, Clearing, IntervalRecord};
use crate::merkle::{verify_proof, MerkleError, MerkleProof};
use crate::object::{Object, ObjectProof, StateKey};
use crate::receipt::{receipts_tree, Receipt, TxOutcome};
use crate::smt::StateProof;
use crate::state::Account;
use crate::transaction::{Payload, SignedTransaction};
use crate::validator::{Validator, ValidatorSet};
use crate::verify::{
    check as mismatch, verify_incoming_receipt, verify_outgoing_receipt, verify_transaction,
};

fn contradicts(what: &'static str, claimed: impl ToString, proven: impl ToString) -> VerifyError {
    VerifyError::Contradicts {
        what,
        claimed: claimed.to_string(),
        proven: proven.to_string(),
    }
}

/// A final block: its commit verified under a trusted validator set, and its shard headers
/// checked against the header's `shards_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenBlock {
    hash: Hash,
    header: BlockHeader,
    shards: Vec<ShardHeader>,
    signers: Vec<Validator>,
    signed_power: u64,
    total_power: u64,
}

impl ProvenBlock {
    /// Verifies that `commit` makes `header` final under `set` — which the caller must trust —
    /// for `chain_id`, and that `shards` are exactly the header's shard headers, in order.
    /// The signers' powers are the trusted set's.
    pub fn verify(
        chain_id: &str,
        set: &ValidatorSet,
        header: &BlockHeader,
        commit: &Commit,
        shards: &[ShardHeader],
    ) -> Result<Self> {
        let signed_power = verify_commit(chain_id, set, header, commit)?;
        mismatch(
            "shard header count",
            u64::from(header.shard_count),
            shards.len() as u64,
        )?;
        for (i, s) in shards.iter().enumerate() {
            mismatch("shard header index", i as u64, u64::from(s.shard))?;
            mismatch("shard header height", header.height, s.height)?;
        }
        if shards_tree(shards).root() != header.shards_root {
            return Err(VerifyError::Proof {
                what: "shard headers",
                source: MerkleError::RootMismatch,
            });
        }
        // verify_commit accepted only distinct members of `set`.
        let signers = commit
            .signatures
            .iter()
            .filter_map(|s| set.get(&s.validator).copied())
            .collect();
        Ok(ProvenBlock {
            hash: header.hash(),
            header: header.clone(),
            shards: shards.to_vec(),
            signers,
            signed_power,
            total_power: set.total_power(),
        })
    }

    /// The block's hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The signed header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// Height.
    pub fn height(&self) -> u64 {
        self.header.height
    }

    /// The proposer's timestamp, as signed.
    pub fn timestamp_ms(&self) -> u64 {
        self.header.timestamp_ms
    }

    /// The shard headers, in shard order.
    pub fn shards(&self) -> &[ShardHeader] {
        &self.shards
    }

    /// Shard `shard`'s header.
    pub fn shard(&self, shard: ShardId) -> Result<&ShardHeader> {
        self.shards
            .get(usize::from(shard))
            .ok_or(VerifyError::Mismatch {
                what: "shard",
                expected: u64::from(self.header.shard_count),
                got: u64::from(shard),
            })
    }

    /// The validators whose signatures verified, with their power in the trusted set.
    pub fn signers(&self) -> &[Validator] {
        &self.signers
    }

    /// Power that signed.
    pub fn signed_power(&self) -> u64 {
        self.signed_power
    }

    /// The signing set's total power.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }
}

/// Where a proven item sits: the block and shard whose header its proof ends at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenAt {
    /// Block height.
    pub height: u64,
    /// Block hash.
    pub block_hash: Hash,
    /// Block time, as signed.
    pub timestamp_ms: u64,
    /// The shard.
    pub shard: ShardId,
}

impl ProvenAt {
    fn of(block: &ProvenBlock, shard: ShardId) -> Self {
        ProvenAt {
            height: block.height(),
            block_hash: block.hash(),
            timestamp_ms: block.timestamp_ms(),
            shard,
        }
    }
}

/// An account's state — or that no account exists — under a proven block's state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenAccount {
    address: Address,
    state: Option<Account>,
    at: ProvenAt,
}

impl ProvenAccount {
    /// Verifies `proof` for `address` (the address the caller asked about, not one from the
    /// answer) against the state root of the address's own shard in `block`, and keeps the
    /// state the proof shows.
    pub fn verify(block: &ProvenBlock, address: &Address, proof: &StateProof) -> Result<Self> {
        let shard = address.shard(block.header.shard_count);
        let header = block.shard(shard)?;
        let state = proof.proven_state(&header.state_root, address)?;
        Ok(ProvenAccount {
            address: *address,
            state,
            at: ProvenAt::of(block, shard),
        })
    }

    /// The address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The account, or `None` when the proof shows no account at the address.
    pub fn state(&self) -> Option<Account> {
        self.state
    }

    /// Whether an account exists.
    pub fn exists(&self) -> bool {
        self.state.is_some()
    }

    /// Balance (zero for no account).
    pub fn balance(&self) -> u64 {
        self.state.map_or(0, |a| a.balance)
    }

    /// The next nonce the account must use (zero for no account).
    pub fn nonce(&self) -> u64 {
        self.state.map_or(0, |a| a.nonce)
    }

    /// The block and shard it was proven at.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}

/// An object — or that a key holds none — under a proven block's object root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenObject<T> {
    key: StateKey,
    value: Option<T>,
    at: ProvenAt,
}

impl<T: Object> ProvenObject<T> {
    /// Verifies `proof` for `key` (the key the caller derived, not one from the answer)
    /// against the object root of the key's own shard in `block`, and keeps the object of
    /// type `T` the proof shows (a key of another kind is refused).
    pub fn verify(block: &ProvenBlock, key: &StateKey, proof: &ObjectProof) -> Result<Self> {
        let shard = key.shard(block.header.shard_count);
        let header = block.shard(shard)?;
        let value = proof.proven::<T>(&header.objects_root, key)?;
        Ok(ProvenObject {
            key: *key,
            value,
            at: ProvenAt::of(block, shard),
        })
    }

    /// The key.
    pub fn key(&self) -> StateKey {
        self.key
    }

    /// The object, or `None` when the proof shows the key holds none.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The block and shard it was proven at.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}

/// An event (a trade's fill or settlement) proven in a block's shard header's events root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEvent {
    event: Event,
    index: u64,
    at: ProvenAt,
}

impl ProvenEvent {
    /// Verifies that `event` is leaf `proof.index` of `shard`'s events root in `block`.
    pub fn verify(
        block: &ProvenBlock,
        shard: ShardId,
        event: &Event,
        proof: &MerkleProof,
    ) -> Result<Self> {
        let header = block.shard(shard)?;
        verify_proof(&header.events_root, &event.encode(), proof).map_err(|source| {
            VerifyError::Proof {
                what: "event",
                source,
            }
        })?;
        Ok(ProvenEvent {
            event: *event,
            index: proof.index,
            at: ProvenAt::of(block, shard),
        })
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// Its position among the shard block's events.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The block and shard it was proven at.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}

/// An interval's clearing, recomputed from the books of every shard, all proven in one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenClearing {
    record: IntervalRecord,
    books: Vec<Book>,
    height: u64,
}

impl ProvenClearing {
    /// Verifies that in `block` shard 0 holds `interval`'s record (by `record_proof`) and
    /// every shard the record names holds its book (`book_proofs`, in shard order), then that
    /// the record's clearing is what those books clear to. `interval` is the caller's.
    pub fn verify(
        block: &ProvenBlock,
        interval: u64,
        record_proof: &ObjectProof,
        book_proofs: &[ObjectProof],
    ) -> Result<Self> {
        let record =
            ProvenObject::<IntervalRecord>::verify(block, &interval_key(interval), record_proof)?
                .value
                .ok_or(VerifyError::Mismatch {
                    what: "interval record present",
                    expected: 1,
                    got: 0,
                })?;
        mismatch(
            "shards in the clearing",
            u64::from(block.header.shard_count),
            u64::from(record.shards),
        )?;
        mismatch(
            "book proofs",
            u64::from(record.shards),
            book_proofs.len() as u64,
        )?;
        let books = book_proofs
            .iter()
            .enumerate()
            .map(|(s, p)| {
                ProvenObject::<Book>::verify(block, &book_key(s as ShardId, interval), p)?
                    .value
                    .ok_or(VerifyError::Mismatch {
                        what: "a shard's book present",
                        expected: 1,
                        got: 0,
                    })
            })
            .collect::<Result<Vec<Book>>>()?;
        verify_clearing(&record, &books)?;
        Ok(ProvenClearing {
            record,
            books,
            height: block.height(),
        })
    }

    /// The record (its clearing recomputed and equal).
    pub fn record(&self) -> &IntervalRecord {
        &self.record
    }

    /// The clearing; `None` when nothing crossed.
    pub fn clearing(&self) -> Option<&Clearing> {
        self.record.clearing.as_ref()
    }

    /// Each shard's closed book, in shard order.
    pub fn books(&self) -> &[Book] {
        &self.books
    }

    /// The block it was proven at.
    pub fn height(&self) -> u64 {
        self.height
    }
}

/// A proposal's final tally, recomputed from every shard's tally, all proven in one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenTally {
    proposal: Proposal,
    tallies: Vec<Tally>,
    totals: Totals,
    height: u64,
}

impl ProvenTally {
    /// Verifies that in `block` the proposal made by transaction `id` of `proposer` is held
    /// under the proposer (by `proposal_proof`) and every shard holds its tally of it
    /// (`tally_proofs`, in shard order), then that the tallies sum to the proposal's totals
    /// and that quorum and threshold, recomputed, give its state (`dao::verify_tally`).
    /// `proposer` and `id` are the caller's.
    pub fn verify(
        block: &ProvenBlock,
        proposer: &Address,
        id: &Hash,
        proposal_proof: &ObjectProof,
        tally_proofs: &[ObjectProof],
    ) -> Result<Self> {
        let present = |what| VerifyError::Mismatch {
            what,
            expected: 1,
            got: 0,
        };
        let key = proposal_key(proposer, id);
        let proposal = ProvenObject::<Proposal>::verify(block, &key, proposal_proof)?
            .value
            .ok_or(present("proposal present"))?;
        if proposal.id != *id || proposal.proposer != *proposer {
            return Err(contradicts("proposal's id", proposal.id, id));
        }
        let shards = block.header.shard_count;
        mismatch("tally proofs", u64::from(shards), tally_proofs.len() as u64)?;
        let tallies = tally_proofs
            .iter()
            .enumerate()
            .map(|(s, p)| {
                ProvenObject::<Tally>::verify(block, &tally_key(s as ShardId, id), p)?
                    .value
                    .ok_or(present("a shard's tally present"))
            })
            .collect::<Result<Vec<Tally>>>()?;
        let totals = verify_tally(&proposal, &tallies, shards)?;
        Ok(ProvenTally {
            proposal,
            tallies,
            totals,
            height: block.height(),
        })
    }

    /// The proposal (its state recomputed from the tallies and equal).
    pub fn proposal(&self) -> &Proposal {
        &self.proposal
    }

    /// Each shard's tally, in shard order.
    pub fn tallies(&self) -> &[Tally] {
        &self.tallies
    }

    /// The sums over every shard.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The block it was proven at.
    pub fn height(&self) -> u64 {
        self.height
    }
}

/// A transaction included in a proven block, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenTx {
    tx: SignedTransaction,
    id: Hash,
    sender: Address,
    outcome: TxOutcome,
    index: u32,
    at: ProvenAt,
}

impl ProvenTx {
    /// Verifies that `tx` (its id recomputed from its bytes) has `outcome` at the position
    /// `proof` names in the transaction root of its sender's shard in `block`.
    pub fn verify(
        block: &ProvenBlock,
        tx: &SignedTransaction,
        outcome: &TxOutcome,
        proof: &MerkleProof,
    ) -> Result<Self> {
        let id = tx.id();
        if outcome.tx_id != id {
            return Err(contradicts("transaction id", outcome.tx_id, id));
        }
        // A transaction runs on its sender's shard.
        let sender = tx.tx.sender_address();
        let shard = sender.shard(block.header.shard_count);
        verify_transaction(block.shard(shard)?, outcome, proof)?;
        // Below the shard's u32 transaction count, which verify_transaction checked.
        let index = proof.index as u32;
        Ok(ProvenTx {
            tx: tx.clone(),
            id,
            sender,
            outcome: *outcome,
            index,
            at: ProvenAt::of(block, shard),
        })
    }

    /// The signed transaction (its bytes hash to [`ProvenTx::id`]).
    pub fn tx(&self) -> &SignedTransaction {
        &self.tx
    }

    /// Its id.
    pub fn id(&self) -> Hash {
        self.id
    }

    /// The sender, derived from the signed transaction's key.
    pub fn sender(&self) -> Address {
        self.sender
    }

    /// The committed outcome: status and fee charged.
    pub fn outcome(&self) -> TxOutcome {
        self.outcome
    }

    /// Position in its shard block.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Where it was included.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}

/// The cross-shard receipt a proven transaction emitted, proven in its source shard header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenReceipt {
    receipt: Receipt,
}

impl ProvenReceipt {
    /// Verifies that `tx`'s shard header in `block` (the block `tx` was proven in) emitted
    /// `receipt`, and that the receipt is the one `tx` pays: same transaction, sender,
    /// recipient, amount, and the recipient's shard as destination.
    pub fn verify(
        tx: &ProvenTx,
        block: &ProvenBlock,
        receipt: &Receipt,
        proof: &MerkleProof,
    ) -> Result<Self> {
        if block.hash() != tx.at.block_hash {
            return Err(contradicts(
                "receipt's block",
                block.hash(),
                tx.at.block_hash,
            ));
        }
        if receipt.tx_id != tx.id {
            return Err(contradicts("receipt's transaction", receipt.tx_id, tx.id));
        }
        if receipt.from != tx.sender {
            return Err(contradicts("receipt's sender", receipt.from, tx.sender));
        }
        match &tx.tx.tx.payload {
            Payload::Transfer { to, amount } => {
                if receipt.to != *to {
                    return Err(contradicts("receipt's recipient", receipt.to, to));
                }
                if receipt.amount != *amount {
                    return Err(contradicts("receipt's amount", receipt.amount, amount));
                }
                mismatch(
                    "receipt destination shard",
                    u64::from(to.shard(block.header.shard_count)),
                    u64::from(receipt.dest_shard),
                )?;
            }
            // Only a transfer to another shard emits a receipt.
            Payload::RegisterMeter { .. }
            | Payload::Reading { .. }
            | Payload::PlaceOrder { .. }
            | Payload::CancelOrder { .. }
            | Payload::ClaimCertificates { .. }
            | Payload::LockPower { .. }
            | Payload::UnlockPower { .. }
            | Payload::Delegate { .. }
            | Payload::Propose { .. }
            | Payload::Vote { .. }
            | Payload::CancelProposal { .. } => {
                return Err(VerifyError::Mismatch {
                    what: "receipt of a transaction that pays none",
                    expected: 0,
                    got: 1,
                })
            }
        }
        verify_outgoing_receipt(block.shard(tx.at.shard)?, receipt, proof)?;
        Ok(ProvenReceipt {
            receipt: receipt.clone(),
        })
    }

    /// The receipt.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }
}

/// Where a proven receipt was credited: a later block of its destination shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenCredit {
    at: ProvenAt,
}

impl ProvenCredit {
    /// Verifies that `block`'s header of the receipt's destination shard applied `receipt`.
    pub fn verify(
        receipt: &ProvenReceipt,
        block: &ProvenBlock,
        proof: &MerkleProof,
    ) -> Result<Self> {
        let r = &receipt.receipt;
        if block.height() <= r.source_height {
            return Err(VerifyError::NotNewer {
                trusted: r.source_height,
                got: block.height(),
            });
        }
        verify_incoming_receipt(block.shard(r.dest_shard)?, r, proof)?;
        Ok(ProvenCredit {
            at: ProvenAt::of(block, r.dest_shard),
        })
    }

    /// The block and shard that credited it.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}

/// One shard of a proven block with the complete lists of receipts it emitted and applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenShardBlock {
    header: ShardHeader,
    outgoing: Vec<Receipt>,
    incoming: Vec<Receipt>,
    at: ProvenAt,
}

impl ProvenShardBlock {
    /// Verifies that `outgoing` and `incoming` are exactly the receipts shard `shard` of
    /// `block` emitted and applied (their trees give the header's receipt roots).
    pub fn verify(
        block: &ProvenBlock,
        shard: ShardId,
        outgoing: &[Receipt],
        incoming: &[Receipt],
    ) -> Result<Self> {
        let header = block.shard(shard)?;
        for r in outgoing {
            mismatch(
                "receipt source shard",
                u64::from(shard),
                u64::from(r.source_shard),
            )?;
            mismatch("receipt source height", header.height, r.source_height)?;
        }
        for r in incoming {
            mismatch(
                "receipt destination shard",
                u64::from(shard),
                u64::from(r.dest_shard),
            )?;
        }
        let root_err = |what| VerifyError::Proof {
            what,
            source: MerkleError::RootMismatch,
        };
        if receipts_tree(outgoing).root() != header.outgoing_receipts_root {
            return Err(root_err("outgoing receipts"));
        }
        if receipts_tree(incoming).root() != header.incoming_receipts_root {
            return Err(root_err("incoming receipts"));
        }
        Ok(ProvenShardBlock {
            header: header.clone(),
            outgoing: outgoing.to_vec(),
            incoming: incoming.to_vec(),
            at: ProvenAt::of(block, shard),
        })
    }

    /// The shard header.
    pub fn header(&self) -> &ShardHeader {
        &self.header
    }

    /// Receipts the shard emitted, in order.
    pub fn outgoing(&self) -> &[Receipt] {
        &self.outgoing
    }

    /// Receipts the shard applied, in order.
    pub fn incoming(&self) -> &[Receipt] {
        &self.incoming
    }

    /// The block and shard.
    pub fn at(&self) -> ProvenAt {
        self.at
    }
}
