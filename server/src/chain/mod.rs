//! The chain's core: shard state and its tree, execution of shard blocks, and block
//! production.

pub mod blockstm;
pub mod declared;
pub mod exec;
pub mod governance;
pub mod indexes;
pub mod market;
pub mod parallel;
pub mod producer;
pub mod state;
pub mod tree;
pub mod vm;

pub use exec::{Executor, SequentialExecutor, ShardBlockInput, ShardBlockOutput};
pub use parallel::ParallelExecutor;
pub use state::{NextTrees, ObjectWrite, Replaced, ShardState};
pub use vm::{GovContext, MarketContext};
