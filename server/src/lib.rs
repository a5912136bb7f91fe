//! Joule's full node: mempool, execution, storage, block production, HTTP API, and serving the
//! web app. The binary `joule` (see `main.rs`) wires these together.
#![warn(missing_docs)]

pub mod analytics;
pub mod api;
pub mod bench;
pub mod chain;
pub mod consensus;
pub mod devnet;
pub mod faucet;
pub mod genesis;
pub mod http;
pub mod janitor;
pub mod journal;
pub mod load;
pub mod mempool;
pub mod network;
pub mod node;
pub mod priority;
pub mod server;
pub mod sigverify;
pub mod sim;
pub mod store;

pub use node::{Node, NodeConfig, NodeError};
