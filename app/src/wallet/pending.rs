//! The transactions this wallet sent, kept in browser storage per chain (the newest
//! [`KEPT`]): its activity list, and what is still pending — those not yet in the proven
//! account state. The next nonce is the proven nonce plus the pending ones, and the balance
//! they will spend is held back — never more because a node says so. A node can only make the
//! wallet stop counting one (by reporting it dropped or unknown), which at worst gets the next
//! transaction refused as a duplicate nonce, never parked behind a gap.

use joule_light_client::{Address, Hash};
use serde::{Deserialize, Serialize};

/// Where sent transactions are kept.
const STORAGE_KEY: &str = "joule.wallet.sent.v2";

/// Sent transactions kept, newest first.
pub const KEPT: usize = 100;

/// A transaction this wallet signed and the node accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// Its id.
    pub id: Hash,
    /// The sending account.
    pub from: Address,
    /// The recipient.
    pub to: Address,
    /// Tokens sent.
    pub amount: u64,
    /// Its nonce.
    pub nonce: u64,
    /// Amount plus the most fee: what it takes from the balance.
    pub spend: u64,
    /// When it was sent (ms since the epoch, this browser's clock).
    pub sent_ms: u64,
    /// Why the node says it was dropped, if it does (then it is not pending).
    pub dropped: Option<String>,
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
        .filter(|s| s.from == *from && s.nonce >= proven_nonce && s.dropped.is_none())
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
        .filter(|s| {
            s.from == *from
                && s.dropped.is_none()
                && (proven_nonce..proven_nonce + count).contains(&s.nonce)
        })
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

/// Records a sent transaction (the newest first; the oldest beyond [`KEPT`] are let go).
pub fn record(genesis: &Hash, s: Sent) {
    let mut sent = load(genesis);
    sent.retain(|o| o.id != s.id);
    sent.insert(0, s);
    sent.truncate(KEPT);
    save(genesis, sent);
}

/// Notes that the node reports `id` dropped (or does not know it): no longer pending.
pub fn mark_dropped(genesis: &Hash, id: &Hash, reason: &str) {
    let mut sent = load(genesis);
    for s in sent.iter_mut().filter(|s| s.id == *id) {
        s.dropped = Some(reason.to_owned());
    }
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
            to: Address([9; 20]),
            amount: 9,
            nonce,
            spend: 10,
            sent_ms: 0,
            dropped: None,
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
        let mut dropped = sent(1, 5);
        dropped.dropped = Some("nonce too high".into());
        assert_eq!(plan(&[sent(1, 4), dropped], &me, 4).next_nonce, 5);
    }
}
