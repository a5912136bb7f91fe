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
    decode(resp).await
}

/// Like [`get`], but a 404 is `Ok(None)`: the node does not know the thing.
pub async fn get_optional<T: DeserializeOwned>(path: &str) -> Result<Option<T>, String> {
    let resp = Request::get(&format!("/api/v1{path}"))
        .send()
        .await
        .map_err(|e| format!("cannot reach the node: {e}"))?;
    if resp.status() == 404 {
        return Ok(None);
    }
    decode(resp).await.map(Some)
}

/// The answer's JSON, or the node's `{code, message}` reason, or what went wrong.
async fn decode<T: DeserializeOwned>(resp: gloo_net::http::Response) -> Result<T, String> {
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

/// POSTs `body` as JSON to `/api/v1{path}` and decodes the answer, or returns the node's reason.
pub async fn post<B: serde::Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, String> {
    let resp = Request::post(&format!("/api/v1{path}"))
        .json(body)
        .map_err(|e| format!("cannot encode the request: {e}"))?
        .send()
        .await
        .map_err(|e| format!("cannot reach the node: {e}"))?;
    decode(resp).await
}
