//! Fetching the node's API (relative URLs, so the same bundle works under any host).

use gloo_net::http::Request;
use joule_light_client::api::ApiErrorBody;
use serde::de::DeserializeOwned;

/// GETs `/api/v1{path}` and decodes the JSON, or returns a readable error.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let resp = Request::get(&format!("/api/v1{path}"))
        .send()
        .await
        .map_err(|e| format!("cannot reach the node: {e}"))?;
    if !resp.ok() {
        let status = resp.status();
        return Err(match resp.json::<ApiErrorBody>().await {
            Ok(e) => e.message,
            Err(_) => format!("the node answered {status}"),
        });
    }
    resp.json::<T>()
        .await
        .map_err(|e| format!("unexpected answer from the node: {e}"))
}
