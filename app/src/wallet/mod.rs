//! The wallet's logic, free of view code: keys from a BIP-39 mnemonic, the password vault that
//! keeps the mnemonic in browser storage, the transactions it sent that are still pending,
//! and building and signing transfers. Nothing here sends
//! anything anywhere: keys never leave the browser.

pub mod backup;
pub mod bip39;
pub mod draft;
pub mod keys;
pub mod order;
pub mod pending;
pub mod session;
pub mod vault;
