//! Small building blocks shared by the pages.

mod chart;
mod copy;
mod download;
mod links;
mod loaded;
mod market_chart;
mod pager;
mod qr;
mod theme;
mod verdict;

pub use chart::{tps_series, TpsChart};
pub use copy::CopyButton;
pub use download::download_text;
pub use links::{AccountLink, BlockLink, TxLink};
pub use loaded::{loaded, Loading};
pub use market_chart::{depth, energy, line, price_band, price_volume, Shape, ShapeChart};
pub use pager::{page_param, Pager};
pub use qr::{qr_path, QrCode};
pub use theme::{apply_stored_theme, ThemeToggle};
pub use verdict::{Claimed, NotVerified, VerifiedMark};
