//! What a Byzantine proposer forges in tests of what honest validators refuse.

use joule_light_client::{Address, Payload, Signature, SignedTransaction, Transaction};

use crate::devnet::{account_key, DEVNET_ACCOUNTS};
use crate::node::{ChainState, Node};

/// A funded account's transfer, valid in every way except its signature.
pub fn forged_transfer(node: &Node, chain: &ChainState) -> SignedTransaction {
    let key = account_key(DEVNET_ACCOUNTS - 1);
    let sender = Address::from_public_key(&key.public_key());
    let mut stx = Transaction {
        chain_id: node.genesis.chain_id.clone(),
        sender: key.public_key(),
        nonce: chain.account(&sender).nonce,
        max_fee: node.genesis.min_fee,
        payload: Payload::Transfer {
            to: sender,
            amount: 1,
        },
    }
    .sign(&key);
    stx.signature = Signature([7; 64]);
    stx
}
