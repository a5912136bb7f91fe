//! The app's pages.

mod account;
mod block;
mod dashboard;
mod not_found;
mod transaction;

pub use account::AccountPage;
pub use block::BlockPage;
pub use dashboard::Dashboard;
pub use not_found::NotFound;
pub use transaction::TransactionPage;
