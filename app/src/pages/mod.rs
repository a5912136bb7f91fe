//! The app's pages.

mod block;
mod dashboard;
mod not_found;

pub use block::BlockPage;
pub use dashboard::Dashboard;
pub use not_found::NotFound;
