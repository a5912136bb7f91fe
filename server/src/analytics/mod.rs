//! Predictive analytics on the community's energy: a seasonal forecast of production and
//! consumption with its band ([`forecast`]), and anomaly flags on meters ([`anomaly`]). Both
//! are measured, on held-back simulated days, by `joule bench forecast`.

pub mod anomaly;
pub mod forecast;
pub mod tracker;
