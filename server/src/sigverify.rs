//! Signature checks for many transactions at once: ed25519 batch verification in parallel
//! chunks, with each transaction's own verdict.
//!
//! Every key is decoded and checked for weakness (small order) first, one by one, so a weak
//! key is refused with its own reason and never enters a batch. A chunk whose batch equation
//! holds is accepted whole; a chunk that fails is re-checked one signature at a time with
//! `verify_strict`, so each bad signature is named and the good ones in its chunk still pass.
//!
//! Batch verification is probabilistic in one corner: a signature whose `R` carries a
//! small-order component (which only the key's owner can make, and no honest signer does)
//! passes a batch with probability at most 1/8 where `verify_strict` refuses it. It cannot
//! forge anything; closing the corner needs ZIP-215 rules on both paths (noted in the README).

use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use joule_light_client::{Hash, KeyError, SignedTransaction};
use rayon::prelude::*;

/// Signatures per batch: large enough to amortise the multiscalar multiplication, small
/// enough that one bad signature costs a short re-check.
pub const BATCH: usize = 64;

/// Each transaction's id, or why its signature is refused, in input order.
pub fn verify_signatures(txs: &[SignedTransaction]) -> Vec<Result<Hash, KeyError>> {
    txs.par_chunks(BATCH).flat_map_iter(verify_chunk).collect()
}

fn verify_chunk(chunk: &[SignedTransaction]) -> Vec<Result<Hash, KeyError>> {
    let ids: Vec<Hash> = chunk.iter().map(SignedTransaction::id).collect();
    let keys: Vec<Result<VerifyingKey, KeyError>> = chunk
        .iter()
        .map(|stx| stx.tx.sender.to_verifying_key())
        .collect();
    let mut messages: Vec<&[u8]> = Vec::with_capacity(chunk.len());
    let mut signatures = Vec::with_capacity(chunk.len());
    let mut vks = Vec::with_capacity(chunk.len());
    for ((stx, id), vk) in chunk.iter().zip(&ids).zip(&keys) {
        if let Ok(vk) = vk {
            messages.push(id.as_bytes());
            signatures.push(DalekSignature::from_bytes(&stx.signature.0));
            vks.push(*vk);
        }
    }
    let batch_ok = ed25519_dalek::verify_batch(&messages, &signatures, &vks).is_ok();
    chunk
        .iter()
        .zip(ids)
        .zip(keys)
        .map(|((stx, id), vk)| {
            vk?;
            if !batch_ok {
                stx.tx.sender.verify(id.as_bytes(), &stx.signature)?;
            }
            Ok(id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use joule_light_client::{Address, Payload, PublicKey, SecretKey, Signature, Transaction};

    use super::*;

    fn signed(i: u32) -> SignedTransaction {
        let key = SecretKey::from_seed(&blake3::derive_key(
            "joule sigverify test",
            &i.to_le_bytes(),
        ));
        Transaction {
            chain_id: "t".into(),
            sender: key.public_key(),
            nonce: u64::from(i),
            max_fee: 1,
            payload: Payload::Transfer {
                to: Address([1; 20]),
                amount: 5,
            },
        }
        .sign(&key)
    }

    #[test]
    fn batch_verdicts_equal_one_by_one_verdicts() {
        let mut txs: Vec<SignedTransaction> = (0..300).map(signed).collect();
        // Forged signature, a signature from another tx, a weak key, an invalid key.
        txs[5].signature.0[10] ^= 1;
        txs[70].signature = txs[71].signature;
        txs[130].tx.sender = PublicKey([0; 32]);
        txs[131].tx.sender = PublicKey([0xff; 32]);
        txs[200].signature = Signature([0; 64]);
        let batch = verify_signatures(&txs);
        assert_eq!(batch.len(), txs.len());
        for (i, (stx, got)) in txs.iter().zip(&batch).enumerate() {
            let single = stx.verify_signature().map(|()| stx.id());
            assert_eq!(*got, single, "tx {i}");
        }
        let bad: Vec<usize> = batch
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(bad, vec![5, 70, 130, 131, 200]);
    }
}
