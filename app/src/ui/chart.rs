//! The dashboard's live throughput chart: transactions per second of each recent block, as
//! SVG bars.

use joule_light_client::api::BlockSummary;
use leptos::prelude::*;

/// Chart size in SVG units (it scales to the card's width). Integers throughout: formatting
/// floats would add ten kilobytes of formatting code to the app.
const WIDTH: u64 = 6000;
const HEIGHT: u64 = 1200;

/// Transactions per second of each block (rounded), oldest first, from blocks listed newest
/// first: a block's transactions over the time since its parent. The oldest block (no parent
/// in the list) and blocks with a clock going backwards are left out.
pub fn tps_series(newest_first: &[BlockSummary]) -> Vec<(u64, u64)> {
    let mut series: Vec<(u64, u64)> = newest_first
        .windows(2)
        .filter(|w| w[0].height == w[1].height + 1 && w[0].timestamp_ms > w[1].timestamp_ms)
        .map(|w| {
            let ms = w[0].timestamp_ms - w[1].timestamp_ms;
            (w[0].height, (w[0].tx_count * 1000 + ms / 2) / ms)
        })
        .collect();
    series.reverse();
    series
}

/// Bars of [`tps_series`] over `blocks`, with the latest and peak rates in words.
#[component]
pub fn TpsChart(#[prop(into)] blocks: Signal<Vec<BlockSummary>>) -> impl IntoView {
    let series = Memo::new(move |_| blocks.with(|b| tps_series(b)));
    let summary = move || {
        series.with(|s| {
            let peak = s.iter().map(|p| p.1).max().unwrap_or(0);
            match s.last() {
                Some(&(h, now)) => format!(
                    "{now} tx/s in block #{h}; peak {peak} tx/s over the last {} blocks",
                    s.len()
                ),
                None => "waiting for blocks…".to_owned(),
            }
        })
    };
    let bars = move || {
        series.with(|s| {
            let peak = s.iter().map(|p| p.1).max().unwrap_or(0).max(1);
            let slot = WIDTH / (s.len() as u64).max(1);
            s.iter()
                .enumerate()
                .map(|(i, &(h, tps))| {
                    let bar = (tps * (HEIGHT - 40) / peak).max(10);
                    view! {
                        <rect x=(i as u64 * slot + 10).to_string() y=(HEIGHT - bar).to_string()
                            width=slot.saturating_sub(20).max(10).to_string() height=bar.to_string()>
                            <title>{format!("block #{h}: {tps} tx/s")}</title>
                        </rect>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <figure class="card chart" id="tps">
            <figcaption><span class="label">"Throughput (live, as the node lists its blocks)"</span>" "<span id="tps-now">{summary}</span></figcaption>
            <div class="chart-axis y" aria-hidden="true">{move || series.with(|s| format!("{} tx/s", s.iter().map(|p| p.1).max().unwrap_or(0)))}</div>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img"
                aria-label="Transactions per second of each recent block">
                {bars}
            </svg>
            <div class="chart-axis x" aria-hidden="true">
                <span>{move || series.with(|s| format!("← {} blocks ago", s.len()))}</span><span>"latest →"</span>
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use joule_light_client::Hash;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn summary(height: u64, timestamp_ms: u64, tx_count: u64) -> BlockSummary {
        BlockSummary {
            height,
            hash: Hash::ZERO,
            timestamp_ms,
            tx_count,
            shard_tx_counts: vec![],
        }
    }

    #[test]
    fn rates_are_per_block_over_the_time_since_its_parent() {
        let blocks = [
            summary(5, 3_000, 100),
            summary(4, 2_500, 1_000),
            summary(3, 2_000, 7),
            summary(1, 1_000, 0), // gap: block 3's parent is not listed
        ];
        assert_eq!(tps_series(&blocks), vec![(4, 2_000), (5, 200)]);
        assert!(tps_series(&blocks[..1]).is_empty());
        // A clock that went backwards gives no rate rather than a negative one.
        assert!(tps_series(&[summary(2, 10, 5), summary(1, 20, 0)]).is_empty());
    }
}
