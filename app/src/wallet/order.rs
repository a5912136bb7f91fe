//! An order as a person writes it (kWh, JOULE per kWh) turned into exactly what is signed
//! (Wh, token units per Wh) and what it will cost, checked against the proven market
//! parameters before anything is signed.

use joule_light_client::market::{bid_escrow, market_fee, price_on_grid, MarketParams, Side};
use joule_light_client::units::parse_amount;
use joule_light_client::{Address, Payload};

/// Why an order was not drafted: nothing is signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The quantity is not a number of kWh with at most three decimals, or too small.
    #[error("{0}")]
    Quantity(String),
    /// The price is not a price in JOULE per kWh the market takes.
    #[error("{0}")]
    Price(String),
    /// The interval's book does not take orders now.
    #[error("{0}")]
    Interval(String),
    /// An offer needs one of the seller's meters that can produce.
    #[error("an offer is delivered by one of your meters that produces: register one first")]
    NoMeter,
}

/// "3.2" kWh → 3,200 Wh (at most three decimals: Wh are the chain's unit).
pub fn parse_kwh(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 3
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: u64 = format!("{frac:0<3}").parse().ok()?;
    whole.checked_mul(1_000)?.checked_add(frac)
}

/// "0.11" JOULE/kWh → 110,000 token units per Wh (exact, or `None`).
pub fn parse_price_per_kwh(text: &str) -> Option<u64> {
    let per_kwh = parse_amount(text.trim())?;
    (per_kwh % 1_000 == 0).then_some(per_kwh / 1_000)
}

/// An order ready to sign and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    /// The delivery interval.
    pub interval: u64,
    /// Bid or offer.
    pub side: Side,
    /// Wh.
    pub qty_wh: u64,
    /// Token units per Wh.
    pub price: u64,
    /// The delivering meter (offers).
    pub meter: Option<Address>,
    /// What a bid holds in escrow until settlement (price × Wh + the market fee); 0 for an
    /// offer.
    pub escrow: u64,
    /// The market fee at the proven rate on the full quantity.
    pub market_fee: u64,
}

impl OrderDraft {
    /// The transaction's payload.
    pub fn payload(&self) -> Payload {
        Payload::PlaceOrder {
            interval: self.interval,
            side: self.side,
            price: self.price,
            qty_wh: self.qty_wh,
            meter: self.meter,
        }
    }
}

/// Drafts an order from the form's text against the proven `params` at the verified
/// `head`: the interval must take orders, the quantity reach the minimum, the price sit on
/// the market's price grid.
pub fn draft_order(
    params: &MarketParams,
    head: u64,
    side: Side,
    interval: u64,
    kwh: &str,
    price_per_kwh: &str,
    meter: Option<Address>,
) -> Result<OrderDraft, OrderError> {
    let qty_wh = parse_kwh(kwh).ok_or_else(|| {
        OrderError::Quantity(format!(
            "“{kwh}” is not an amount of kWh (at most three decimals: 1 Wh = 0.001 kWh)"
        ))
    })?;
    if qty_wh < params.min_order_wh {
        return Err(OrderError::Quantity(format!(
            "the smallest order is {} Wh",
            params.min_order_wh
        )));
    }
    let price = parse_price_per_kwh(price_per_kwh)
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            OrderError::Price(format!(
                "“{price_per_kwh}” is not a price in JOULE per kWh (for example 0.11)"
            ))
        })?;
    if !price_on_grid(price) {
        return Err(OrderError::Price(
            "prices have at most three significant digits (0.115 or 0.12 JOULE/kWh, not 0.1155)"
                .into(),
        ));
    }
    params.order_window(interval, head).map_err(|e| {
        OrderError::Interval(format!(
            "interval {interval} does not take orders at block #{head}: {e}"
        ))
    })?;
    if side == Side::Ask && meter.is_none() {
        return Err(OrderError::NoMeter);
    }
    let value = u128::from(price) * u128::from(qty_wh);
    let fee = market_fee(u64::try_from(value).unwrap_or(u64::MAX), params.fee_bps);
    let escrow = match side {
        Side::Bid => bid_escrow(price, qty_wh, params.fee_bps)
            .ok_or_else(|| OrderError::Price("price × quantity is too large".into()))?,
        Side::Ask => 0,
    };
    Ok(OrderDraft {
        interval,
        side,
        qty_wh,
        price,
        meter: if side == Side::Ask { meter } else { None },
        escrow,
        market_fee: fee,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn params() -> MarketParams {
        // Interval 5 starts at block 100, its gate at 96.
        MarketParams::DEVNET
    }

    #[test]
    fn kwh_and_prices_parse_exactly() {
        assert_eq!(parse_kwh("3.2"), Some(3_200));
        assert_eq!(parse_kwh("0.001"), Some(1));
        assert_eq!(parse_kwh("12"), Some(12_000));
        assert_eq!(parse_kwh(".5"), Some(500));
        for bad in ["", ".", "1.2345", "-1", "1e3", "3,2", "x"] {
            assert_eq!(parse_kwh(bad), None, "{bad}");
        }
        assert_eq!(parse_price_per_kwh("0.11"), Some(110_000));
        assert_eq!(
            parse_price_per_kwh("0.000000001"),
            None,
            "below a unit per Wh"
        );
    }

    #[test]
    fn a_bid_escrows_its_value_and_the_fee_at_the_proven_rate() {
        let d = draft_order(&params(), 100, Side::Bid, 7, "3.2", "0.11", None).unwrap();
        assert_eq!((d.qty_wh, d.price), (3_200, 110_000));
        // 3,200 Wh × 110,000 = 352,000,000 units; 0.5 % fee = 1,760,000.
        assert_eq!(d.market_fee, 1_760_000);
        assert_eq!(d.escrow, 353_760_000);
        assert_eq!(d.meter, None);
    }

    #[test]
    fn what_the_market_would_refuse_is_refused_before_signing() {
        let p = params();
        let meter = Some(Address::from_public_key(
            &joule_light_client::SecretKey::from_seed(&[1; 32]).public_key(),
        ));
        assert!(matches!(
            draft_order(&p, 100, Side::Bid, 7, "3.2", "0.1155", None),
            Err(OrderError::Price(_))
        ));
        assert!(matches!(
            draft_order(&p, 100, Side::Ask, 7, "3.2", "0.11", None),
            Err(OrderError::NoMeter)
        ));
        // Interval 5 starts at block 100: its gate (96) has passed.
        assert!(matches!(
            draft_order(&p, 100, Side::Bid, 5, "1", "0.11", None),
            Err(OrderError::Interval(_))
        ));
        let offer = draft_order(&p, 100, Side::Ask, 7, "1", "0.11", meter).unwrap();
        assert_eq!((offer.escrow, offer.meter), (0, meter));
    }
}
