//! The app's pages.

mod account;
mod block;
mod blocks;
mod dao;
mod dashboard;
mod energy;
mod interval;
mod market;
mod not_found;
mod power;
mod proposal;
pub(crate) mod propose;
mod rows;
mod shard_block;
mod transaction;
mod trust;
pub(crate) mod wallet;

pub use account::AccountPage;
pub use block::BlockPage;
pub use blocks::BlockListPage;
pub use dao::DaoPage;
pub use dashboard::Dashboard;
pub use energy::EnergyPage;
pub use interval::IntervalPage;
pub use market::MarketPage;
pub use not_found::NotFound;
pub use proposal::ProposalPage;
pub use shard_block::ShardBlockPage;
pub use transaction::TransactionPage;
pub use trust::TrustGate;
pub use wallet::WalletPage;
