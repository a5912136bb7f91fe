//! The API's JSON types (the first byte picks which).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        joule_fuzz::checks::api_json(data);
    });
}
