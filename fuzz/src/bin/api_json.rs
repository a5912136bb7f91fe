//! The API's JSON, as the app parses a node's answers and the node parses requests (the first
//! byte picks the type).
use joule_fuzz::json;
use joule_light_client::api::{
    AccountResponse, BatchSubmitRequest, BlockResponse, ChainInfo, ObjectResponse, SubmitRequest,
    TxResponse,
};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some((k, rest)) = data.split_first() {
            match k % 7 {
                0 => json::<BlockResponse>(rest),
                1 => json::<TxResponse>(rest),
                2 => json::<AccountResponse>(rest),
                3 => json::<ChainInfo>(rest),
                4 => json::<ObjectResponse>(rest),
                5 => json::<SubmitRequest>(rest),
                _ => json::<BatchSubmitRequest>(rest),
            }
        }
    });
}
