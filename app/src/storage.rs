//! The browser's `localStorage`, as fallible calls (storage can be disabled or full).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = getItem)]
    fn storage_get(key: &str) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = setItem)]
    fn storage_set(key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = removeItem)]
    fn storage_remove(key: &str) -> Result<(), JsValue>;
}

/// The value at `key`, if storage works and holds one.
pub fn get(key: &str) -> Option<String> {
    storage_get(key).ok().flatten()
}

/// Stores `value` at `key`; false if the browser refused.
pub fn set(key: &str, value: &str) -> bool {
    storage_set(key, value).is_ok()
}

/// Removes the value at `key` (best effort).
pub fn remove(key: &str) {
    let _ = storage_remove(key);
}
