//! Signing and sending one action from the wallet's key (a vote, an order, a lock, …): drafted
//! from proven values only (`wallet::draft::action`), signed in this page, sent, and recorded
//! as pending so the next draft takes its nonce and spend into account.

use joule_light_client::api::{SubmitRequest, SubmitResponse};
use joule_light_client::{Address, Encode, Hash, Payload, SecretKey};

use super::send::proven_sender;
use crate::api;
use crate::live::LightClient;
use crate::now_ms;
use crate::wallet::draft;
use crate::wallet::pending::{self, Sent};

/// Signs `payload` with `key` and sends it; `out` is what it moves out of the balance besides
/// the fee (a bid's escrow, a lock). Returns the transaction's id.
pub(crate) async fn sign_and_send(
    lc: LightClient,
    key: SecretKey,
    payload: Payload,
    out: u64,
) -> Result<Hash, String> {
    let sender = Address::from_public_key(&key.public_key());
    let (trust, account, sent) = proven_sender(lc, sender).await?;
    let tx = draft::action(
        &trust,
        &account,
        key.public_key(),
        &sent,
        payload,
        out,
        now_ms(),
    )
    .map_err(|e| e.to_string())?;
    let stx = tx.sign(&key);
    let _: SubmitResponse = api::post(
        "/transactions",
        &SubmitRequest {
            tx: hex::encode(stx.encode()),
        },
    )
    .await?;
    pending::record(
        &trust.genesis.hash(),
        Sent {
            id: stx.id(),
            from: sender,
            to: sender,
            amount: out,
            nonce: stx.tx.nonce,
            spend: out + stx.tx.max_fee,
            sent_ms: now_ms(),
            dropped: None,
        },
    );
    Ok(stx.id())
}
