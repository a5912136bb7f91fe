//! One sender's pending transactions, in nonce order: a sorted vector, since a sender holds at
//! most [`MAX_PER_SENDER`](super::MAX_PER_SENDER) and usually one. (A `BTreeMap` allocates a
//! leaf of eleven entries for the first: kilobytes per sender, touched on every admission and
//! removal.)

use joule_light_client::{Hash, SignedTransaction};

/// A pending transaction.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub stx: SignedTransaction,
    pub id: Hash,
    /// Arrival order in the pool.
    pub seq: u64,
}

impl Entry {
    fn nonce(&self) -> u64 {
        self.stx.tx.nonce
    }
}

/// Entries sorted by nonce, no nonce twice.
#[derive(Debug, Default)]
pub(super) struct SenderQueue(Vec<Entry>);

impl SenderQueue {
    /// A queue holding `entry`, sized for it alone.
    pub fn one(entry: Entry) -> Self {
        SenderQueue(vec![entry])
    }

    fn find(&self, nonce: u64) -> Result<usize, usize> {
        self.0.binary_search_by_key(&nonce, Entry::nonce)
    }

    /// The entry with `nonce`.
    pub fn get(&self, nonce: u64) -> Option<&Entry> {
        self.find(nonce).ok().map(|i| &self.0[i])
    }

    /// Whether an entry has `nonce`.
    pub fn contains(&self, nonce: u64) -> bool {
        self.find(nonce).is_ok()
    }

    /// Adds `entry`; false (and nothing added) if its nonce is taken.
    pub fn insert(&mut self, entry: Entry) -> bool {
        match self.find(entry.nonce()) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, entry);
                true
            }
        }
    }

    /// Removes the entry with `nonce`.
    pub fn remove(&mut self, nonce: u64) -> Option<Entry> {
        self.find(nonce).ok().map(|i| self.0.remove(i))
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none are left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in nonce order.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.0.iter()
    }

    /// Entries whose nonce is below `nonce`.
    pub fn below(&self, nonce: u64) -> &[Entry] {
        let end = self.find(nonce).unwrap_or_else(|i| i);
        &self.0[..end]
    }

    /// The entries of consecutive nonces starting at `next` (none if `next` is absent).
    pub fn run_from(&self, next: u64) -> &[Entry] {
        let Ok(start) = self.find(next) else {
            return &[];
        };
        let len = self.0[start..]
            .iter()
            .zip(next..)
            .take_while(|(e, n)| e.nonce() == *n)
            .count();
        &self.0[start..start + len]
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::{Payload, PublicKey, Signature, Transaction};

    use super::*;

    fn entry(nonce: u64) -> Entry {
        Entry {
            stx: SignedTransaction {
                tx: Transaction {
                    chain_id: "t".into(),
                    sender: PublicKey([1; 32]),
                    nonce,
                    max_fee: 1,
                    payload: Payload::Transfer {
                        to: joule_light_client::Address([2; 20]),
                        amount: 1,
                    },
                },
                signature: Signature([0; 64]),
            },
            id: Hash([nonce as u8; 32]),
            seq: nonce,
        }
    }

    fn nonces(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(Entry::nonce).collect()
    }

    #[test]
    fn keeps_nonce_order_whatever_the_arrival_order() {
        let mut q = SenderQueue::one(entry(5));
        for n in [2, 9, 3, 7] {
            assert!(q.insert(entry(n)));
        }
        assert!(!q.insert(entry(3)), "a taken nonce is refused");
        assert_eq!(nonces(q.iter().as_slice()), [2, 3, 5, 7, 9]);
        assert_eq!(q.len(), 5);
        assert!(q.contains(7) && !q.contains(4));
        assert_eq!(q.get(9).map(|e| e.seq), Some(9));
        assert!(q.get(8).is_none());
    }

    #[test]
    fn runs_and_prefixes() {
        let mut q = SenderQueue::one(entry(4));
        for n in [5, 6, 8, 9] {
            q.insert(entry(n));
        }
        assert_eq!(nonces(q.run_from(4)), [4, 5, 6]);
        assert_eq!(nonces(q.run_from(8)), [8, 9]);
        assert!(q.run_from(7).is_empty());
        assert!(q.run_from(3).is_empty());
        assert_eq!(nonces(q.below(6)), [4, 5]);
        assert_eq!(nonces(q.below(7)), [4, 5, 6]);
        assert!(q.below(4).is_empty());
        assert_eq!(nonces(q.below(100)), [4, 5, 6, 8, 9]);
    }

    #[test]
    fn removal_empties_the_queue() {
        let mut q = SenderQueue::one(entry(1));
        q.insert(entry(2));
        assert_eq!(q.remove(1).map(|e| e.seq), Some(1));
        assert!(q.remove(1).is_none());
        assert_eq!(q.remove(2).map(|e| e.seq), Some(2));
        assert!(q.is_empty());
    }
}
