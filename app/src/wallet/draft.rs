//! Building a transfer to sign from proven values only: the chain id and fee from the genesis
//! the user's checkpoint pins, the nonce from the proven account state plus this wallet's own
//! pending transactions, and the balance check against that proven state, which must be
//! current. What cannot be proven is not signed.

use joule_light_client::units::format_amount;
use joule_light_client::{Address, Payload, ProvenAccount, PublicKey, Transaction};

use super::pending::{plan, Sent};
use crate::proofs::{check_fresh, Trust};

/// Why a transfer was not drafted: nothing is signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// The amount is more than the account can send (said in JOULE, with the most it can).
    #[error("{0}")]
    Amount(String),
    /// The proven state cannot be signed against (another account's, or out of date).
    #[error("{0}")]
    State(String),
}

/// The most `account` can send now: its proven balance less the fee and what its pending
/// transactions will spend.
pub fn max_amount(trust: &Trust, account: &ProvenAccount, sent: &[Sent]) -> u64 {
    let pending = plan(sent, &account.address(), account.nonce());
    account
        .balance()
        .saturating_sub(pending.spend)
        .saturating_sub(trust.genesis.min_fee)
}

/// The transfer of `amount` to `to` that `sender` (whose proven account is `account`) signs.
pub fn transfer(
    trust: &Trust,
    account: &ProvenAccount,
    sender: PublicKey,
    sent: &[Sent],
    to: Address,
    amount: u64,
    now_ms: u64,
) -> Result<Transaction, DraftError> {
    if account.address() != Address::from_public_key(&sender) {
        return Err(DraftError::State(
            "the proven account is not the sending account".into(),
        ));
    }
    check_fresh(trust, &account.at(), now_ms).map_err(|e| {
        DraftError::State(format!(
            "Nothing will be signed: your account's proven state is {e}."
        ))
    })?;
    let fee = trust.genesis.min_fee;
    let pending = plan(sent, &account.address(), account.nonce());
    let needed = u128::from(amount) + u128::from(fee) + u128::from(pending.spend);
    if needed > u128::from(account.balance()) {
        let held = if pending.count > 0 {
            format!(
                ", less {} JOULE held for your {} pending transaction(s)",
                format_amount(pending.spend),
                pending.count
            )
        } else {
            String::new()
        };
        return Err(DraftError::Amount(format!(
            "{} JOULE plus the {} JOULE fee is more than this account can send: {} JOULE (proven at block #{}){held}. At most {} JOULE.",
            format_amount(amount),
            format_amount(fee),
            format_amount(account.balance()),
            account.at().height,
            format_amount(max_amount(trust, account, sent)),
        )));
    }
    Ok(Transaction {
        chain_id: trust.genesis.chain_id.clone(),
        sender,
        nonce: pending.next_nonce,
        max_fee: fee,
        payload: Payload::Transfer { to, amount },
    })
}

/// A transaction carrying `payload` (a vote, a lock, …) that moves `amount` out of the
/// balance besides the fee, for `sender` to sign — from proven values, like [`transfer`].
pub fn action(
    trust: &Trust,
    account: &ProvenAccount,
    sender: PublicKey,
    sent: &[Sent],
    payload: Payload,
    amount: u64,
    now_ms: u64,
) -> Result<Transaction, DraftError> {
    let mut tx = transfer(
        trust,
        account,
        sender,
        sent,
        account.address(),
        amount,
        now_ms,
    )?;
    tx.payload = payload;
    Ok(tx)
}
