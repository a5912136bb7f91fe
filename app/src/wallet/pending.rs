//! The wallet's own transactions not yet seen in a proven account state, kept in browser
//! storage per chain: the next nonce is the proven nonce plus those, and the balance they
//! will spend is held back — never more because a node says so. A node can only make the
//! wallet forget one (by reporting it dropped), which at worst gets the next transaction
//! refused as a duplicate nonce, never parked behind a gap.

use joule_light_client::{Address, Hash};
use serde::{Deserialize, Serialize};

/// Where sent transactions are kept.
const STORAGE_KEY: &str = "joule.wallet.sent.v1";

/// A transaction this wallet signed and the node accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// Its id.
    pub id: Hash,
    /// The sending account.
    pub from: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Amount plus fee: what it takes from the balance.
    pub spend: u64,
}

/// What storage holds: the chain (its genesis hash) and what was sent on it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    genesis: Hash,
    sent: Vec<Sent>,
}

/// An account's pending transactions, as far as this wallet knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The nonce the next transaction must use.
    pub next_nonce: u64,
    /// What the pending ones will spend.
    pub spend: u64,
    /// How many are pending.
    pub count: usize,
}

/// Plans `from`'s next transaction over its proven nonce: the wallet's own transactions from
/// that nonce on, without a gap, are pending (lower nonces are in the proven state already).
pub fn plan(sent: &[Sent], from: &Address, proven_nonce: u64) -> Plan {
    let mut mine: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.from == *from && s.nonce >= proven_nonce)
        .collect();
    mine.sort_by_key(|s| s.nonce);
    let mut p = Plan {
        next_nonce: proven_nonce,
        spend: 0,
        count: 0,
    };
    for s in mine {
        if s.nonce != p.next_nonce {
            break; // a gap (one was dropped): the next transaction fills it
        }
        p.next_nonce += 1;
        p.spend = p.spend.saturating_add(s.spend);
        p.count += 1;
    }
    p
}

/// The pending transactions among `sent` for `from` at `proven_nonce` (those [`plan`] counts).
pub fn pending<'a>(sent: &'a [Sent], from: &Address, proven_nonce: u64) -> Vec<&'a Sent> {
    let count = plan(sent, from, proven_nonce).count as u64;
    sent.iter()
        .filter(|s| s.from == *from && (proven_nonce..proven_nonce + count).contains(&s.nonce))
        .collect()
}

/// What this wallet sent on the chain with this genesis hash.
pub fn load(genesis: &Hash) -> Vec<Sent> {
    crate::storage::get(STORAGE_KEY)
        .and_then(|t| serde_json::from_str::<Stored>(&t).ok())
        .filter(|s| s.genesis == *genesis)
        .map(|s| s.sent)
        .unwrap_or_default()
}

fn save(genesis: &Hash, sent: Vec<Sent>) {
    let stored = Stored {
        genesis: *genesis,
        sent,
    };
    if let Ok(text) = serde_json::to_string(&stored) {
        crate::storage::set(STORAGE_KEY, &text);
    }
}

/// Records a sent transaction, dropping those of `from` the proven nonce has passed.
pub fn record(genesis: &Hash, s: Sent, proven_nonce: u64) {
    let mut sent = load(genesis);
    sent.retain(|o| !(o.from == s.from && o.nonce < proven_nonce) && o.id != s.id);
    sent.push(s);
    save(genesis, sent);
}

/// Forgets a transaction (the node reports it dropped, or does not know it).
pub fn forget(genesis: &Hash, id: &Hash) {
    let mut sent = load(genesis);
    sent.retain(|s| s.id != *id);
    save(genesis, sent);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn sent(from: u8, nonce: u64) -> Sent {
        Sent {
            id: Hash([nonce as u8; 32]),
            from: Address([from; 20]),
            nonce,
            spend: 10,
        }
    }

    #[test]
    fn the_next_nonce_counts_only_own_pending_transactions_above_the_proven_one() {
        let me = Address([1; 20]);
        let list = [sent(1, 4), sent(1, 5), sent(1, 6), sent(2, 5)];
        // Nonces 4 and 5 are in the proven state already: only 6 is pending.
        assert_eq!(
            plan(&list, &me, 6),
            Plan {
                next_nonce: 7,
                spend: 10,
                count: 1
            }
        );
        assert_eq!(plan(&list, &me, 4).next_nonce, 7);
        assert_eq!(plan(&list, &me, 4).spend, 30);
        assert_eq!(plan(&[], &me, 9).next_nonce, 9);
        assert_eq!(pending(&list, &me, 5).len(), 2);
    }

    #[test]
    fn a_gap_is_filled_not_skipped() {
        let me = Address([1; 20]);
        // 5 was dropped: the next transaction takes 5, not 7.
        let list = [sent(1, 4), sent(1, 6)];
        assert_eq!(plan(&list, &me, 4).next_nonce, 5);
        assert_eq!(plan(&list, &me, 5).next_nonce, 5);
    }
}
