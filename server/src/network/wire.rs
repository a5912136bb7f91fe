//! What validators and full nodes send each other besides consensus' own messages: block bodies,
//! Joule votes, catch-up requests and forwarded transactions. Encoded with the protocol's codec
//! (length-prefixed, every length bounded), so a peer's bytes are checked like any other input.

use joule_light_client::codec::{self, put_vec, Decode, Encode, Reader};
use joule_light_client::{BlockHeader, Commit, CommitSig, Hash, SignedTransaction};

/// Most transactions one shard block may carry on the wire (the genesis' own limit is checked
/// when the block is verified; this only bounds decoding).
pub const MAX_WIRE_TXS_PER_SHARD: usize = 50_000;
/// Most shards a block on the wire may have.
pub const MAX_WIRE_SHARDS: usize = 64;
/// Most transactions in one forwarded batch.
pub const MAX_FORWARDED_TXS: usize = 10_000;

/// A proposed block: its header and its transactions per shard. Everything else (shard headers,
/// receipts, state) follows from executing it on its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetBlock {
    /// The header the proposer computed.
    pub header: BlockHeader,
    /// Transactions per shard, in shard order.
    pub txs: Vec<Vec<SignedTransaction>>,
}

impl NetBlock {
    /// The block's hash (what consensus agrees on).
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }
}

/// A message between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A proposal's body (tag 0).
    Block(NetBlock),
    /// A validator's Joule vote for a finalized block (tag 1).
    Vote {
        /// The block's height.
        height: u64,
        /// The block's hash.
        hash: Hash,
        /// The signature.
        sig: CommitSig,
    },
    /// "Send me the committed block at this height" (tag 2).
    Want {
        /// The height.
        height: u64,
    },
    /// A committed block with its commit, answering [`Msg::Want`] (tag 3).
    Final {
        /// The block.
        block: NetBlock,
        /// Its commit.
        commit: Commit,
    },
    /// Transactions admitted by the sender, for the next proposers (tag 4).
    Txs(Vec<SignedTransaction>),
    /// "Send me the body of this block, final or not" (tag 5): a restarted validator lost the
    /// bodies of blocks consensus may still build on.
    WantBody {
        /// The block's hash.
        hash: Hash,
    },
}

impl Encode for NetBlock {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        codec::put_len(out, self.txs.len());
        for shard in &self.txs {
            put_vec(out, shard);
        }
    }
}

impl Decode for NetBlock {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        let header = BlockHeader::decode_from(r)?;
        let shards = r.len("shards", MAX_WIRE_SHARDS, 4)?;
        let txs = (0..shards)
            .map(|_| r.vec("txs", MAX_WIRE_TXS_PER_SHARD, 100))
            .collect::<codec::Result<_>>()?;
        Ok(NetBlock { header, txs })
    }
}

impl Encode for Msg {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Msg::Block(b) => {
                0u8.encode_to(out);
                b.encode_to(out);
            }
            Msg::Vote { height, hash, sig } => {
                1u8.encode_to(out);
                height.encode_to(out);
                hash.encode_to(out);
                sig.encode_to(out);
            }
            Msg::Want { height } => {
                2u8.encode_to(out);
                height.encode_to(out);
            }
            Msg::Final { block, commit } => {
                3u8.encode_to(out);
                block.encode_to(out);
                commit.encode_to(out);
            }
            Msg::Txs(txs) => {
                4u8.encode_to(out);
                put_vec(out, txs);
            }
            Msg::WantBody { hash } => {
                5u8.encode_to(out);
                hash.encode_to(out);
            }
        }
    }
}

impl Decode for Msg {
    fn decode_from(r: &mut Reader<'_>) -> codec::Result<Self> {
        Ok(match r.u8()? {
            0 => Msg::Block(NetBlock::decode_from(r)?),
            1 => Msg::Vote {
                height: r.u64()?,
                hash: Hash::decode_from(r)?,
                sig: CommitSig::decode_from(r)?,
            },
            2 => Msg::Want { height: r.u64()? },
            3 => Msg::Final {
                block: NetBlock::decode_from(r)?,
                commit: Commit::decode_from(r)?,
            },
            4 => Msg::Txs(r.vec("txs", MAX_FORWARDED_TXS, 100)?),
            5 => Msg::WantBody {
                hash: Hash::decode_from(r)?,
            },
            _ => {
                return Err(codec::CodecError::Invalid {
                    field: "message",
                    reason: "unknown tag",
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use joule_light_client::codec::decode_exact;
    use joule_light_client::{Address, Payload, PublicKey, SecretKey, Signature, Transaction};

    fn header() -> BlockHeader {
        BlockHeader {
            chain_id: "joule-testnet".into(),
            height: 7,
            parent_hash: Hash([1; 32]),
            timestamp_ms: 1_700_000_000_000,
            proposer: PublicKey([2; 32]),
            shards_root: Hash([3; 32]),
            shard_count: 2,
            validator_set_hash: Hash([4; 32]),
            next_validator_set_hash: Hash([4; 32]),
        }
    }

    fn tx() -> SignedTransaction {
        let key = SecretKey::from_seed(&[5; 32]);
        Transaction {
            chain_id: "joule-testnet".into(),
            sender: key.public_key(),
            nonce: 0,
            max_fee: 10,
            payload: Payload::Transfer {
                to: Address([6; 20]),
                amount: 1,
            },
        }
        .sign(&key)
    }

    #[test]
    fn every_message_decodes_to_itself() {
        let block = NetBlock {
            header: header(),
            txs: vec![vec![tx()], vec![]],
        };
        let sig = CommitSig {
            validator: PublicKey([7; 32]),
            signature: Signature([8; 64]),
        };
        let msgs = [
            Msg::Block(block.clone()),
            Msg::Vote {
                height: 7,
                hash: block.hash(),
                sig,
            },
            Msg::Want { height: 9 },
            Msg::Final {
                block,
                commit: Commit {
                    height: 7,
                    block_hash: Hash([9; 32]),
                    signatures: vec![sig],
                },
            },
            Msg::Txs(vec![tx(), tx()]),
            Msg::WantBody {
                hash: Hash([3; 32]),
            },
        ];
        for m in msgs {
            assert_eq!(decode_exact::<Msg>(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn golden_want_and_vote_encodings() {
        assert_eq!(
            hex::encode(Msg::Want { height: 258 }.encode()),
            "020201000000000000"
        );
        let vote = Msg::Vote {
            height: 1,
            hash: Hash([0xaa; 32]),
            sig: CommitSig {
                validator: PublicKey([0xbb; 32]),
                signature: Signature([0xcc; 64]),
            },
        };
        let hex = hex::encode(vote.encode());
        assert_eq!(
            hex,
            format!(
                "01{}{}{}{}",
                "0100000000000000",
                "aa".repeat(32),
                "bb".repeat(32),
                "cc".repeat(64)
            )
        );
    }

    #[test]
    fn an_unknown_tag_or_a_truncated_block_is_refused() {
        assert!(decode_exact::<Msg>(&[9]).is_err());
        let bytes = Msg::Block(NetBlock {
            header: header(),
            txs: vec![vec![tx()]],
        })
        .encode();
        assert!(decode_exact::<Msg>(&bytes[..bytes.len() - 1]).is_err());
        // A block claiming more shards than any chain has is refused before allocating.
        let mut huge = vec![0u8];
        header().encode_to(&mut huge);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_exact::<Msg>(&huge).is_err());
    }
}
