//! The energy market's rules that a browser re-runs: the clock of delivery intervals and the
//! auction's clearing and fills.

pub mod clearing;
pub mod schedule;

pub use clearing::{
    clear, fill_orders, split, BookOrder, Clearing, ClearingError, Curve, Level, Margin, Side,
};
pub use schedule::{MarketParams, ParamError, WindowError};
