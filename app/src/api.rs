//! Fetching the node's API (relative URLs, so the same bundle works under any host).
//!
//! One request function for every call, not one per answer type: only the JSON decoding is
//! generic, which keeps each new kind of answer from adding a copy of the fetch code to the
//! app's wasm.

use joule_light_client::api::ApiErrorBody;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// What the node answered.
struct Answer {
    status: u16,
    text: String,
}

const UNREACHABLE: &str = "cannot reach the node";

/// One request to `/api/v1{path}`, with a JSON body when given.
#[inline(never)]
async fn fetch(method: &str, path: &str, body: Option<String>) -> Result<Answer, String> {
    let window = web_sys::window().ok_or(UNREACHABLE)?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = &body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(&format!("/api/v1{path}"), &init)
        .map_err(|_| format!("cannot make a request for {path}"))?;
    if body.is_some() {
        let _ = request.headers().set("Content-Type", "application/json");
    }
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or(UNREACHABLE)?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    }
    .ok_or(UNREACHABLE)?;
    Ok(Answer {
        status: response.status(),
        text,
    })
}

/// The node's `{code, message}` reason for a refused request, or its status.
#[inline(never)]
fn refusal(a: &Answer) -> String {
    serde_json::from_str::<ApiErrorBody>(&a.text)
        .map(|e| e.message)
        .unwrap_or_else(|_| format!("the node answered {}", a.status))
}

/// The answer's JSON, or the node's reason, or what went wrong.
fn decode<T: DeserializeOwned>(a: Answer) -> Result<T, String> {
    if !(200..300).contains(&a.status) {
        return Err(refusal(&a));
    }
    serde_json::from_str(&a.text).map_err(|e| format!("unexpected answer from the node: {e}"))
}

/// GETs `/api/v1{path}` and decodes the JSON, or returns a readable error.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    decode(fetch("GET", path, None).await?)
}

/// Like [`get`], but a 404 is `Ok(None)`: the node does not know the thing.
pub async fn get_optional<T: DeserializeOwned>(path: &str) -> Result<Option<T>, String> {
    let a = fetch("GET", path, None).await?;
    if a.status == 404 {
        return Ok(None);
    }
    decode(a).map(Some)
}

/// POSTs `body` as JSON to `/api/v1{path}` and decodes the answer, or returns the node's reason.
pub async fn post<B: serde::Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, String> {
    let body =
        serde_json::to_string(body).map_err(|e| format!("cannot encode the request: {e}"))?;
    decode(fetch("POST", path, Some(body)).await?)
}
