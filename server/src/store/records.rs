//! What the store keeps per key, in the protocol's canonical encoding.

use joule_light_client::codec::{self, put_vec, Decode, Encode, Reader};
use joule_light_client::{BlockHeader, Commit, ShardHeader, ShardId, SignedTransaction, TxOutcome};

/// Most shard headers a stored block can hold.
const MAX_SHARD_RECORDS: usize = 256;
/// Most items in one stored list (transactions or receipts of a shard block).
const MAX_LIST: usize = 1 << 20;
/// Encoded size of a receipt: shards 2 + 2, height 8, tx id 32, addresses 20 + 20, amount 8.
const RECEIPT_BYTES: usize = 92;
/// Encoded size of a transaction outcome: id 32, status 1, fee 8.
const OUTCOME_BYTES: usize = 41;

/// A final block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// Header.
    pub header: BlockHeader,
    /// Shard headers in shard order.
    pub shards: Vec<ShardHeader>,
    /// Commit.
    pub commit: Commit,
}

/// An included transaction with where it is and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    /// The transaction.
    pub stx: SignedTransaction,
    /// Block height.
    pub height: u64,
    /// Shard.
    pub shard: ShardId,
    /// Position in the shard block.
    pub index: u32,
    /// Outcome.
    pub outcome: TxOutcome,
    /// Block time.
    pub timestamp_ms: u64,
}

/// Where a receipt was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedAt {
    /// Block height.
    pub height: u64,
    /// Destination shard.
    pub shard: ShardId,
    /// Position among the shard block's incoming receipts.
    pub index: u32,
}

/// The outcomes of a shard block's transactions, in order (the leaves of its `tx_root`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutcomeList(pub Vec<TxOutcome>);

impl Encode for StoredBlock {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        put_vec(out, &self.shards);
        self.commit.encode_to(out);
    }
}

impl Decode for StoredBlock {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(StoredBlock {
            header: BlockHeader::decode_from(r)?,
            shards: r.vec("shards", MAX_SHARD_RECORDS, 1)?,
            commit: Commit::decode_from(r)?,
        })
    }
}

/// A [`StoredTx`] whose transaction is borrowed: the commit encodes a block's transactions
/// without copying each first. Encodes to the same bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredTxRef<'a> {
    pub stx: &'a SignedTransaction,
    pub height: u64,
    pub shard: ShardId,
    pub index: u32,
    pub outcome: &'a TxOutcome,
    pub timestamp_ms: u64,
}

impl Encode for StoredTxRef<'_> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.stx.encode_to(out);
        self.height.encode_to(out);
        self.shard.encode_to(out);
        self.index.encode_to(out);
        self.outcome.encode_to(out);
        self.timestamp_ms.encode_to(out);
    }
}

impl Encode for StoredTx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        StoredTxRef {
            stx: &self.stx,
            height: self.height,
            shard: self.shard,
            index: self.index,
            outcome: &self.outcome,
            timestamp_ms: self.timestamp_ms,
        }
        .encode_to(out);
    }
}

impl Decode for StoredTx {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(StoredTx {
            stx: SignedTransaction::decode_from(r)?,
            height: r.u64()?,
            shard: r.u16()?,
            index: r.u32()?,
            outcome: TxOutcome::decode_from(r)?,
            timestamp_ms: r.u64()?,
        })
    }
}

impl Encode for OutcomeList {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_vec(out, &self.0);
    }
}

impl Decode for OutcomeList {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(OutcomeList(r.vec("outcomes", MAX_LIST, OUTCOME_BYTES)?))
    }
}

/// A list of receipts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptList(pub Vec<joule_light_client::Receipt>);

impl Encode for ReceiptList {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_vec(out, &self.0);
    }
}

impl Decode for ReceiptList {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(ReceiptList(r.vec("receipts", MAX_LIST, RECEIPT_BYTES)?))
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::codec::decode_exact;
    use joule_light_client::{Address, Domain, ExecStatus, Receipt};

    use super::*;

    fn receipt(i: u8) -> Receipt {
        Receipt {
            source_shard: 1,
            dest_shard: 2,
            source_height: 3,
            tx_id: Domain::Transaction.hash(&[i]),
            from: Address([1; 20]),
            to: Address([2; 20]),
            amount: 4,
        }
    }

    /// Regression: the receipt list's item-size bound was 100 bytes, above a receipt's 92, so
    /// every stored non-empty list failed to decode.
    #[test]
    fn receipt_list_round_trip() {
        assert_eq!(receipt(0).encode().len(), RECEIPT_BYTES);
        for n in [0, 1, 5] {
            let list = ReceiptList((0..n).map(receipt).collect());
            assert_eq!(decode_exact::<ReceiptList>(&list.encode()), Ok(list));
        }
    }

    #[test]
    fn outcome_list_round_trip() {
        let o = TxOutcome {
            tx_id: Domain::Transaction.hash(b"t"),
            status: ExecStatus::InsufficientBalance,
            fee: 9,
        };
        assert_eq!(o.encode().len(), OUTCOME_BYTES);
        let list = OutcomeList(vec![o; 3]);
        assert_eq!(decode_exact::<OutcomeList>(&list.encode()), Ok(list));
    }
}
