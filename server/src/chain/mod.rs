//! The chain's core: shard state, execution of shard blocks, and block production.

pub mod exec;
pub mod producer;
pub mod state;

pub use exec::{Executor, SequentialExecutor, ShardBlockInput, ShardBlockOutput};
pub use state::ShardState;
