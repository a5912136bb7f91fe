//! The market's SVG charts: clearing price and volume per interval, a book's depth, and the
//! community's production and consumption with the forecast's band. The shapes are plain
//! path strings computed here (integers only: float formatting would add code to the module)
//! and one small component draws any of them.

use joule_light_client::api::{DepthLevel, ForecastPoint, IntervalTotals};
use leptos::prelude::*;

/// Chart size in SVG units (it scales to the card's width).
pub const W: u64 = 6000;
/// Height in SVG units.
pub const H: u64 = 1500;

/// One shape of a chart: an SVG path and the CSS class that colours it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `d` of the path.
    pub d: String,
    /// `series-…` class.
    pub class: &'static str,
}

/// Scales `v` of `max` onto the chart's height, top = max (SVG's y grows downwards).
fn y(v: u64, max: u64) -> u64 {
    H - (u128::from(v.min(max)) * u128::from(H - 60) / u128::from(max.max(1))) as u64
}

fn x(i: usize, n: usize) -> u64 {
    if n <= 1 {
        W / 2
    } else {
        i as u64 * W / (n as u64 - 1)
    }
}

/// A line through `values` (evenly spaced, scaled to `max`).
pub fn line(values: &[u64], max: u64) -> String {
    let mut d = String::new();
    for (i, v) in values.iter().enumerate() {
        d.push_str(&format!(
            "{}{} {} ",
            if i == 0 { 'M' } else { 'L' },
            x(i, values.len()),
            y(*v, max)
        ));
    }
    d
}

/// Clearing price (a line) and matched volume (bars) per interval, oldest first:
/// `(interval, price, volume_wh)`. Each is scaled to its own peak.
pub fn price_volume(points: &[(u64, u64, u64)]) -> Vec<Shape> {
    let n = points.len();
    let peak_volume = points.iter().map(|p| p.2).max().unwrap_or(0);
    let peak_price = points.iter().map(|p| p.1).max().unwrap_or(0);
    // Prices sit on a band of their own: from a tenth below the lowest to the highest.
    let floor = points
        .iter()
        .map(|p| p.1)
        .filter(|p| *p > 0)
        .min()
        .map_or(0, |lo| lo - (peak_price - lo).max(lo / 10) / 2)
        .min(peak_price.saturating_sub(1));
    let slot = W / (n as u64).max(1);
    let mut bars = String::new();
    for (i, p) in points.iter().enumerate() {
        let top = y(p.2, peak_volume);
        let left = i as u64 * slot + slot / 5;
        bars.push_str(&format!(
            "M{left} {H} V{top} H{} V{H} Z ",
            left + slot * 3 / 5
        ));
    }
    // An interval where nothing crossed has no price: the line breaks there.
    let mut price = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        if p.1 == 0 {
            pen_down = false;
            continue;
        }
        let cx = i as u64 * slot + slot / 2;
        // A tick across the interval's bar marks its price even where the line breaks.
        let t = slot / 6;
        price.push_str(&format!(
            "{}{cx} {} m-{t} 0 h{} m-{t} 0 ",
            if pen_down { 'L' } else { 'M' },
            y(p.1 - floor, peak_price - floor),
            2 * t
        ));
        pen_down = true;
    }
    vec![
        Shape {
            d: bars,
            class: "series-volume",
        },
        Shape {
            d: price,
            class: "series-price",
        },
    ]
}

/// A book's depth: cumulative Wh bid at or above each price (falling to the right) and
/// offered at or below it (rising), as two step lines over the book's price range.
pub fn depth(bids: &[DepthLevel], asks: &[DepthLevel]) -> Vec<Shape> {
    let lo = bids.iter().chain(asks).map(|l| l.price).min().unwrap_or(0);
    let hi = bids.iter().chain(asks).map(|l| l.price).max().unwrap_or(0);
    let span = (hi - lo).max(1);
    let px = |p: u64| (u128::from(p - lo) * u128::from(W) / u128::from(span)) as u64;
    let total_bid: u64 = bids.iter().map(|l| l.qty_wh).sum();
    let total_ask: u64 = asks.iter().map(|l| l.qty_wh).sum();
    let peak = total_bid.max(total_ask);
    // Bids highest first: walking left from the highest price, the depth grows.
    let mut bid = format!("M{} {H} ", px(bids.first().map_or(lo, |l| l.price)));
    let mut acc = 0;
    for l in bids {
        acc += l.qty_wh;
        bid.push_str(&format!("H{} V{} ", px(l.price), y(acc, peak)));
    }
    bid.push_str("H0");
    let mut ask = format!("M{} {H} ", px(asks.first().map_or(hi, |l| l.price)));
    let mut acc = 0;
    for l in asks {
        acc += l.qty_wh;
        ask.push_str(&format!("H{} V{} ", px(l.price), y(acc, peak)));
    }
    ask.push_str(&format!("H{W}"));
    vec![
        Shape {
            d: bid,
            class: "series-bid",
        },
        Shape {
            d: ask,
            class: "series-ask",
        },
    ]
}

/// The community's production and consumption per settled interval, then the forecast's
/// expected values and its band, on one scale.
pub fn energy(history: &[IntervalTotals], forecast: &[ForecastPoint]) -> Vec<Shape> {
    let whole = |v: f64| {
        if v.is_finite() && v > 0.0 {
            v as u64
        } else {
            0
        }
    };
    let produced: Vec<u64> = history
        .iter()
        .map(|t| t.produced_wh)
        .chain(forecast.iter().map(|f| whole(f.production_wh[0])))
        .collect();
    let consumed: Vec<u64> = history
        .iter()
        .map(|t| t.consumed_wh)
        .chain(forecast.iter().map(|f| whole(f.consumption_wh[0])))
        .collect();
    let peak = produced
        .iter()
        .chain(&consumed)
        .copied()
        .chain(forecast.iter().map(|f| whole(f.production_wh[2])))
        .chain(forecast.iter().map(|f| whole(f.consumption_wh[2])))
        .max()
        .unwrap_or(0);
    let n = produced.len();
    let band = |lohi: &dyn Fn(&ForecastPoint) -> [f64; 3]| {
        if forecast.is_empty() {
            return String::new();
        }
        let first = n - forecast.len();
        let mut d = String::new();
        for (i, f) in forecast.iter().enumerate() {
            d.push_str(&format!(
                "{}{} {} ",
                if i == 0 { 'M' } else { 'L' },
                x(first + i, n),
                y(whole(lohi(f)[2]), peak)
            ));
        }
        for (i, f) in forecast.iter().enumerate().rev() {
            d.push_str(&format!(
                "L{} {} ",
                x(first + i, n),
                y(whole(lohi(f)[1]), peak)
            ));
        }
        d.push('Z');
        d
    };
    vec![
        Shape {
            d: band(&|f| f.production_wh),
            class: "series-band-production",
        },
        Shape {
            d: band(&|f| f.consumption_wh),
            class: "series-band-consumption",
        },
        Shape {
            d: line(&produced, peak),
            class: "series-production",
        },
        Shape {
            d: line(&consumed, peak),
            class: "series-consumption",
        },
    ]
}

/// The node's price forecast for the next intervals: the expected price as a line inside its
/// band (low to high), on the band's own scale. `(interval, [expected, low, high])`.
pub fn price_band(forecast: &[(u64, [f64; 3])]) -> Vec<Shape> {
    let whole = |v: f64| {
        if v.is_finite() && v > 0.0 {
            v as u64
        } else {
            0
        }
    };
    let pts: Vec<[u64; 3]> = forecast
        .iter()
        .map(|(_, p)| [whole(p[0]), whole(p[1]), whole(p[2])])
        .collect();
    let lo = pts.iter().map(|p| p[1]).min().unwrap_or(0);
    let hi = pts.iter().map(|p| p[2]).max().unwrap_or(0).max(lo + 1);
    let n = pts.len();
    let at = |v: u64| y(v.saturating_sub(lo), hi - lo);
    let mut band = String::new();
    for (i, p) in pts.iter().enumerate() {
        band.push_str(&format!(
            "{}{} {} ",
            if i == 0 { 'M' } else { 'L' },
            x(i, n),
            at(p[2])
        ));
    }
    for (i, p) in pts.iter().enumerate().rev() {
        band.push_str(&format!("L{} {} ", x(i, n), at(p[1])));
    }
    if !pts.is_empty() {
        band.push('Z');
    }
    let expected: Vec<u64> = pts.iter().map(|p| p[0].saturating_sub(lo)).collect();
    vec![
        Shape {
            d: band,
            class: "series-band-price",
        },
        Shape {
            d: line(&expected, hi - lo),
            class: "series-price",
        },
    ]
}

/// A chart card: `shapes` in one SVG, a caption and a legend line under it.
#[component]
pub fn ShapeChart(
    #[prop(into)] id: String,
    #[prop(into)] caption: String,
    #[prop(into)] label: String,
    shapes: Vec<Shape>,
    #[prop(into)] legend: String,
) -> impl IntoView {
    let paths = shapes
        .into_iter()
        .map(|s| view! { <path d=s.d class=s.class/> })
        .collect_view();
    view! {
        <figure class="card chart" id=id>
            <figcaption><span class="label">{caption}</span></figcaption>
            <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=label>
                {paths}
            </svg>
            <p class="muted legend">{legend}</p>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn a_line_spans_the_width_and_scales_to_its_peak() {
        assert_eq!(line(&[0, 10], 10), "M0 1500 L6000 60 ");
        assert_eq!(line(&[5], 10), "M3000 780 ");
        assert_eq!(line(&[], 10), "");
    }

    #[test]
    fn the_price_forecast_is_a_line_inside_its_band() {
        let shapes = price_band(&[(7, [110.0, 100.0, 120.0]), (8, [115.0, 105.0, 130.0])]);
        // Band from 100 (bottom) to 130 (top); the line at 110 then 115.
        assert_eq!(shapes[0].d, "M0 540 L6000 60 L6000 1260 L0 1500 Z");
        assert_eq!(shapes[1].d, "M0 1020 L6000 780 ");
        assert!(price_band(&[]).iter().all(|s| s.d.is_empty()));
    }

    #[test]
    fn depth_accumulates_each_side_away_from_the_middle() {
        let level = |price, qty_wh| DepthLevel {
            price,
            qty_wh,
            orders: 1,
        };
        let shapes = depth(&[level(200, 5), level(100, 5)], &[level(150, 10)]);
        // Bids: 5 Wh at 200 (the right edge), 10 Wh from 100 (the left edge) down.
        assert_eq!(shapes[0].d, "M6000 1500 H6000 V780 H0 V60 H0");
        assert_eq!(shapes[1].d, "M3000 1500 H3000 V60 H6000");
    }

    #[test]
    fn volume_bars_and_price_points_sit_in_their_interval_slot() {
        let shapes = price_volume(&[(1, 100, 50), (2, 200, 100)]);
        assert_eq!(
            shapes[0].d,
            "M600 1500 V780 H2400 V1500 Z M3600 1500 V60 H5400 V1500 Z "
        );
        assert_eq!(
            shapes[1].d,
            "M1500 1020 m-500 0 h1000 m-500 0 L4500 60 m-500 0 h1000 m-500 0 "
        );
        // No cross, no price: the line breaks instead of dropping to zero.
        let shapes = price_volume(&[(1, 100, 5), (2, 0, 0), (3, 100, 5)]);
        assert_eq!(
            shapes[1].d,
            "M1000 60 m-333 0 h666 m-333 0 M5000 60 m-333 0 h666 m-333 0 "
        );
    }
}
