//! The node's analytics: the community's forecast and the meters its anomaly rules flagged —
//! the node's opinion, computed from its chain, not proven (each answer says so).

use axum::extract::State;
use axum::Json;
use joule_light_client::api::{
    AnomaliesResponse, AnomalyFlag, ForecastError, ForecastPoint, ForecastResponse,
};

use super::error::ApiResult;
use super::AppState;
use crate::analytics::tracker::RunningError;

/// Intervals forecast.
const AHEAD: usize = 8;

fn error(e: &RunningError) -> ForecastError {
    ForecastError {
        mape: e.mape,
        naive_mape: e.naive_mape,
        scored: e.scored,
    }
}

/// `GET /market/forecast`.
pub async fn forecast(State(node): State<AppState>) -> ApiResult<ForecastResponse> {
    let t = node.analytics.lock().unwrap_or_else(|p| p.into_inner());
    let forecast = t
        .forecast(AHEAD)
        .into_iter()
        .map(|(interval, p, c)| ForecastPoint {
            interval,
            production_wh: [p.value, p.low, p.high],
            consumption_wh: [c.value, c.low, c.high],
        })
        .collect();
    Ok(Json(ForecastResponse {
        computed_by: "node".into(),
        season_intervals: t.season() as u64,
        history: t.history().to_vec(),
        forecast,
        production_error: error(&t.production_error),
        consumption_error: error(&t.consumption_error),
        price_forecast: t
            .price_forecast(AHEAD)
            .into_iter()
            .map(|(i, f)| (i, [f.value, f.low, f.high]))
            .collect(),
        price_error: error(&t.price_error),
    }))
}

/// `GET /market/anomalies`.
pub async fn anomalies(State(node): State<AppState>) -> ApiResult<AnomaliesResponse> {
    let t = node.analytics.lock().unwrap_or_else(|p| p.into_inner());
    let flags = t
        .flags()
        .into_iter()
        .map(|(meter, a, interval)| AnomalyFlag {
            meter,
            anomaly: match a {
                crate::analytics::anomaly::Anomaly::Underproducing => "underproducing",
                crate::analytics::anomaly::Anomaly::Overreporting => "overreporting",
                crate::analytics::anomaly::Anomaly::Stuck => "stuck",
            }
            .into(),
            interval,
        })
        .collect();
    Ok(Json(AnomaliesResponse { flags }))
}
