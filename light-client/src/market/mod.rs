//! The energy market's rules that a browser re-runs — the clock of delivery intervals, the
//! auction's clearing and fills — and the market's objects in state.

pub mod clearing;
pub mod interval;
pub mod objects;
pub mod schedule;

pub use clearing::{
    clear, fill_orders, price_on_grid, split, BookOrder, Clearing, ClearingError, Curve, Level,
    Margin, Side,
};
pub use interval::{
    book_key, interval_key, verify_clearing, Book, ClearingCheckError, IntervalRecord, Settlement,
};
pub use objects::{
    bid_escrow, cert_lot_key, market_fee, meter_key, order_key, params_key, previous_params_key,
    treasury, CertLot, Meter, MeterKind, Order,
};
pub use schedule::{MarketParams, ParamError, WindowError};
