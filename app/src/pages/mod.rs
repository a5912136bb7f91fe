//! The app's pages.

mod account;
mod block;
mod blocks;
mod dashboard;
mod not_found;
mod rows;
mod shard_block;
mod transaction;
mod trust;
mod wallet;

pub use account::AccountPage;
pub use block::BlockPage;
pub use blocks::BlockListPage;
pub use dashboard::Dashboard;
pub use not_found::NotFound;
pub use shard_block::ShardBlockPage;
pub use transaction::TransactionPage;
pub use trust::TrustGate;
pub use wallet::WalletPage;
