//! The journal's file format: a magic line, then one frame per transaction.
//!
//! ```text
//! segment := MAGIC frame*
//! frame   := len: u32 LE | check: blake3(tx)[..8] | tx: canonical SignedTransaction (len bytes)
//! ```
//!
//! A frame is written whole or, when the process dies in the middle of a write, cut short; the
//! check tells a cut or garbled frame from a good one. Nothing past the first bad frame is
//! read: the writer appends in order and acknowledges only after a sync, so every acknowledged
//! frame comes before any frame a crash could have torn.

use joule_light_client::codec::Encode;
use joule_light_client::transaction::MAX_TX_BYTES;
use joule_light_client::SignedTransaction;

/// The first bytes of every segment (format version 1).
pub const MAGIC: &[u8; 8] = b"JOULMJ1\n";

/// Bytes before a frame's transaction.
const HEAD: usize = 4 + 8;

fn check(tx: &[u8]) -> [u8; 8] {
    let mut c = [0; 8];
    c.copy_from_slice(&blake3::hash(tx).as_bytes()[..8]);
    c
}

/// Appends `stx`'s frame to `out`.
pub fn push(out: &mut Vec<u8>, stx: &SignedTransaction) {
    let start = out.len();
    out.extend_from_slice(&[0; HEAD]);
    stx.encode_to(out);
    let len = (out.len() - start - HEAD) as u32;
    let c = check(&out[start + HEAD..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + HEAD].copy_from_slice(&c);
}

/// What a segment held.
#[derive(Debug, Default)]
pub struct Read {
    /// The transactions of its good frames, in order.
    pub txs: Vec<SignedTransaction>,
    /// Bytes after the last good frame (0 for a segment that ended cleanly).
    pub ignored: usize,
    /// Whether the segment did not start with [`MAGIC`] (nothing of it is read).
    pub foreign: bool,
}

/// `stx`'s frame.
pub fn encode(stx: &SignedTransaction) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    push(&mut out, stx);
    out
}

/// Reads a segment's frames up to the first that is cut short or fails its check.
pub fn read(bytes: &[u8]) -> Read {
    let Some(mut rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Read {
            txs: Vec::new(),
            ignored: bytes.len(),
            // An empty file is a segment created just before a crash, not a foreign one.
            foreign: !bytes.is_empty(),
        };
    };
    let mut txs = Vec::new();
    while rest.len() >= HEAD {
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_TX_BYTES || rest.len() < HEAD + len {
            break;
        }
        let tx = &rest[HEAD..HEAD + len];
        if rest[4..HEAD] != check(tx) {
            break;
        }
        let Ok(stx) = SignedTransaction::from_bytes(tx) else {
            break;
        };
        txs.push(stx);
        rest = &rest[HEAD + len..];
    }
    Read {
        txs,
        ignored: rest.len(),
        foreign: false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use joule_light_client::{Address, Payload, SecretKey, Transaction};

    /// A signed transfer from a fixed key (shared with the journal's tests).
    pub(crate) fn tx(nonce: u64) -> SignedTransaction {
        let key = SecretKey::from_seed(&[7; 32]);
        Transaction {
            chain_id: "joule-test".into(),
            sender: key.public_key(),
            nonce,
            max_fee: 10,
            payload: Payload::Transfer {
                to: Address([9; 20]),
                amount: 5,
            },
        }
        .sign(&key)
    }

    fn segment(txs: &[SignedTransaction]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for t in txs {
            push(&mut out, t);
        }
        out
    }

    #[test]
    fn frames_round_trip_in_order() {
        let txs = [tx(0), tx(1), tx(2)];
        let read = read(&segment(&txs));
        assert_eq!(read.txs, txs);
        assert_eq!(read.ignored, 0);
        assert!(!read.foreign);
    }

    #[test]
    fn golden_frame() {
        // On disk across upgrades: a change here is a format change (and needs a new MAGIC).
        let mut out = Vec::new();
        push(&mut out, &tx(3));
        assert_eq!(&out[12..], tx(3).encode().as_slice());
        assert_eq!(hex::encode(&out[..12]), "9c0000004609fd24d3efd016");
        assert_eq!(MAGIC, b"JOULMJ1\n");
    }

    #[test]
    fn a_torn_tail_keeps_every_whole_frame_before_it() {
        let whole = segment(&[tx(0), tx(1)]);
        for cut in MAGIC.len()..whole.len() {
            let read = read(&whole[..cut]);
            let frame = (whole.len() - MAGIC.len()) / 2;
            let expect = (cut - MAGIC.len()) / frame;
            assert_eq!(read.txs.len(), expect, "cut at {cut}");
            assert_eq!(read.ignored, cut - MAGIC.len() - expect * frame);
        }
    }

    #[test]
    fn a_garbled_frame_ends_the_read_there() {
        let mut bytes = segment(&[tx(0), tx(1), tx(2)]);
        let frame = (bytes.len() - MAGIC.len()) / 3;
        // A flipped bit in the second frame's transaction.
        bytes[MAGIC.len() + frame + HEAD + 5] ^= 1;
        let read = read(&bytes);
        assert_eq!(read.txs, [tx(0)]);
        assert_eq!(read.ignored, 2 * frame);
    }

    #[test]
    fn a_huge_length_is_not_trusted() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 64]);
        let read = read(&bytes);
        assert!(read.txs.is_empty());
        assert_eq!(read.ignored, 68);
    }

    #[test]
    fn a_file_without_the_magic_is_foreign_and_an_empty_one_is_not() {
        assert!(read(b"not a journal").foreign);
        assert!(!read(b"").foreign);
    }
}
