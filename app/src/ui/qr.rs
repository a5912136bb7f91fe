//! A QR code as SVG: one path of dark modules, with the quiet zone the standard asks for.

use leptos::prelude::*;
use qrcodegen::{QrCode as Code, QrCodeEcc};

/// Modules of blank border around the code (the standard's quiet zone).
const QUIET: i32 = 4;

/// The SVG path of `text`'s QR code and its side in modules (border included), or `None` if
/// the text is too long for a QR code.
pub fn qr_path(text: &str) -> Option<(String, i32)> {
    let code = Code::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = code.size();
    let mut d = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                d.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    Some((d, size + 2 * QUIET))
}

/// `text` as a scannable QR code, described to screen readers by `label`.
#[component]
pub fn QrCode(text: String, label: &'static str) -> impl IntoView {
    qr_path(&text).map(|(d, side)| {
        view! {
            <svg class="qr" viewBox=format!("0 0 {side} {side}") role="img" aria-label=label
                shape-rendering="crispEdges">
                <rect width=side.to_string() height=side.to_string() fill="#fff"/>
                <path d=d fill="#000"/>
            </svg>
        }
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn an_address_fits_a_small_code() {
        let (d, side) = qr_path("joule144hdpegnvmve9kgk85hwvmjk8h6y0zf04pfcz7").unwrap();
        // 44 bytes at medium correction: version 4 (33 modules) plus the quiet zones.
        assert_eq!(side, 33 + 8);
        assert!(d.starts_with("M4,4h1v1h-1z"), "the finder pattern's corner");
        assert!(qr_path(&"x".repeat(5_000)).is_none());
    }
}
