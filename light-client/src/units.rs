//! The token's units: amounts are integers of the smallest unit; display uses 9 decimals.

/// Ticker of the native token.
pub const TOKEN_SYMBOL: &str = "JOULE";
/// Decimal places: 1 JOULE = 10^9 smallest units.
pub const TOKEN_DECIMALS: u8 = 9;
/// Smallest units in one token.
pub const UNITS_PER_TOKEN: u64 = 1_000_000_000;

/// Formats an amount of smallest units as tokens, without trailing zeros (`12.5`, `3`).
pub fn format_amount(units: u64) -> String {
    let whole = units / UNITS_PER_TOKEN;
    let frac = units % UNITS_PER_TOKEN;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Parses a decimal token amount (`12.5`) into smallest units; `None` if malformed, with more
/// than 9 decimals, or too large.
pub fn parse_amount(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !ok(whole) || !ok(frac) || frac.len() > TOKEN_DECIMALS as usize {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_units: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    whole.checked_mul(UNITS_PER_TOKEN)?.checked_add(frac_units)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn format_and_parse() {
        assert_eq!(format_amount(12_500_000_000), "12.5");
        assert_eq!(format_amount(3 * UNITS_PER_TOKEN), "3");
        assert_eq!(format_amount(1), "0.000000001");
        assert_eq!(parse_amount("12.5"), Some(12_500_000_000));
        assert_eq!(parse_amount(".5"), Some(500_000_000));
        assert_eq!(parse_amount("0.0000000001"), None);
        assert_eq!(parse_amount("1e5"), None);
        assert_eq!(parse_amount("-1"), None);
        assert_eq!(parse_amount(""), None);
        assert_eq!(parse_amount("99999999999999999999"), None);
    }
}
