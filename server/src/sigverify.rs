//! Signature checks for many transactions at once: ed25519 batch verification in parallel
//! chunks, with each transaction's own verdict.
//!
//! Every key and signature is decoded first, one by one, so an invalid or weak key or an
//! undecodable signature is refused with its own reason and never enters a batch. A chunk whose
//! batch equation holds is accepted whole; a chunk that fails is re-checked one signature at a
//! time, so each bad signature is named and the good ones in its chunk still pass. Both use the
//! cofactored (ZIP-215) equation of [`joule_light_client::crypto`], whose batch form agrees
//! with the single check on every signature: a verdict never depends on the batch.

use joule_light_client::crypto::{verify_batch, SigCheck};
use joule_light_client::{Hash, KeyError, SignedTransaction};
use rand::Rng;
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
    let checks: Vec<Result<SigCheck, KeyError>> = chunk
        .iter()
        .zip(&ids)
        .map(|(stx, id)| stx.tx.sender.check(id.as_bytes(), &stx.signature))
        .collect();
    let decoded: Vec<SigCheck> = checks
        .iter()
        .filter_map(|c| c.as_ref().ok().copied())
        .collect();
    // Fresh coefficients per batch, unknown to whoever made the signatures.
    let mut rng = rand::thread_rng();
    let z: Vec<u128> = decoded.iter().map(|_| rng.gen()).collect();
    let batch_ok = verify_batch(&decoded, &z);
    ids.into_iter()
        .zip(checks)
        .map(|(id, check)| {
            let check = check?;
            if batch_ok || check.holds() {
                Ok(id)
            } else {
                Err(KeyError::BadSignature)
            }
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
