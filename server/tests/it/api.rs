//! The API surface: JSON errors, body limits, search, faucet, stream, pagination, OpenAPI, and
//! the app served with SPA fallback. Router-only checks use `oneshot`; the rest real sockets.

use std::io::{BufRead, BufReader};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use joule_light_client::api::{
    AccountResponse, BlockList, FaucetRequest, FaucetResponse, SearchResult, ShardBlockResponse,
    Stats, TxResponse,
};
use joule_light_client::SecretKey;
use tower::ServiceExt;

use super::support::*;

async fn oneshot(node: &TestNode, req: Request<Body>) -> (StatusCode, String) {
    let app = joule_server::api::router(node.running.as_ref().unwrap().node.clone(), &node.dist);
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn unknown_api_route_is_a_json_404_not_the_app() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>joule app</html>").unwrap();
    let node = TestNode::start_with_dist(dist.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (s, body) = rt.block_on(oneshot(&node, get("/api/v1/no-such-thing")));
    assert_eq!(s, StatusCode::NOT_FOUND);
    let err: joule_light_client::api::ApiErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(err.code, "not_found");
    let (s, _) = rt.block_on(oneshot(&node, get("/api/elsewhere")));
    assert_eq!(s, StatusCode::NOT_FOUND);
    // `/api`, `/api/` and any method under /api: JSON, never the app.
    for (method, uri, status, code) in [
        ("GET", "/api", StatusCode::NOT_FOUND, "not_found"),
        ("GET", "/api/", StatusCode::NOT_FOUND, "not_found"),
        ("POST", "/api", StatusCode::NOT_FOUND, "not_found"),
        (
            "DELETE",
            "/api/v1/chain",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "PUT",
            "/api/v1/transactions",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let (s, body) = rt.block_on(oneshot(&node, req));
        assert_eq!(s, status, "{method} {uri}");
        let err: joule_light_client::api::ApiErrorBody = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {uri}: not JSON ({e}): {body:?}"));
        assert_eq!(err.code, code, "{method} {uri}");
    }
    // Deep links of the app get index.html.
    let (s, body) = rt.block_on(oneshot(&node, get("/blocks/12")));
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::OK, "<html>joule app</html>")
    );
    let (s, body) = rt.block_on(oneshot(&node, get("/")));
    assert_eq!((s, body.contains("joule app")), (StatusCode::OK, true));
}

#[test]
fn bad_requests_get_json_errors() {
    let node = TestNode::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = |uri: &str, ct: &str, body: Vec<u8>| {
        Request::post(uri)
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    let cases = [
        (
            post(
                "/api/v1/transactions",
                "application/json",
                b"{not json".to_vec(),
            ),
            400,
            "invalid_json",
        ),
        (
            post("/api/v1/transactions", "text/plain", b"{}".to_vec()),
            415,
            "unsupported_media_type",
        ),
        (
            post(
                "/api/v1/transactions",
                "application/json",
                vec![b' '; 2 << 20],
            ),
            413,
            "payload_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let (s, body) = rt.block_on(oneshot(&node, req));
        let err: joule_light_client::api::ApiErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!((s.as_u16(), err.code.as_str()), (status, code), "{body}");
    }
    assert_eq!(
        node.get_err("/blocks/not-a-block").1.code,
        "invalid_block_id"
    );
    assert_eq!(node.get_err("/blocks/99999999").0, 404);
    assert_eq!(node.get_err("/transactions/abc").1.code, "invalid_hash");
    assert_eq!(
        node.get_err(&format!("/transactions/{}", "ab".repeat(32)))
            .0,
        404
    );
    assert_eq!(
        node.get_err("/accounts/joule1qqqq").1.code,
        "invalid_address"
    );
    assert_eq!(node.get_err("/blocks?limit=abc").1.code, "invalid_query");
    let big = vec!["00".to_string(); 257];
    let err = node
        .post::<serde_json::Value>(
            "/transactions/batch",
            &joule_light_client::api::BatchSubmitRequest { txs: big },
        )
        .unwrap_err();
    assert_eq!((err.0, err.1.code.as_str()), (413, "batch_too_large"));
}

#[test]
fn search_resolves_heights_hashes_and_addresses() {
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let id = node
        .submit(&transfer(&chain, &key, 0, address(&key), 3))
        .unwrap();
    let b2 = node.block(2);
    assert_eq!(
        node.get::<SearchResult>("/search?q=2"),
        SearchResult::Block {
            height: 2,
            hash: b2.hash
        }
    );
    assert_eq!(
        node.get::<SearchResult>(&format!("/search?q={}", b2.hash)),
        SearchResult::Block {
            height: 2,
            hash: b2.hash
        }
    );
    assert_eq!(
        node.get::<SearchResult>(&format!("/search?q={id}")),
        SearchResult::Transaction { id }
    );
    let a = address(&key);
    assert_eq!(
        node.get::<SearchResult>(&format!("/search?q={a}")),
        SearchResult::Account { address: a }
    );
    // A typo in an address names the checksum; nonsense says what is accepted.
    let mut typo = a.to_string();
    let last = typo.pop().unwrap();
    typo.push(if last == 'q' { 'p' } else { 'q' });
    let (s, e) = node.get_err(&format!("/search?q={typo}"));
    assert_eq!((s, e.code.as_str()), (400, "invalid_address"));
    assert!(e.message.contains("checksum"), "{}", e.message);
    assert_eq!(node.get_err("/search?q=hello").1.code, "invalid_query");
    assert_eq!(node.get_err("/search?q=99999999").0, 404);
    // A hex string too short to search by is told so, not that a checksum is wrong.
    let (s, e) = node.get_err("/search?q=deadb");
    assert_eq!((s, e.code.as_str()), (400, "invalid_query"));
    assert!(e.message.contains("this has 5"), "{}", e.message);
}

#[test]
fn search_by_the_first_digits_of_a_hash_goes_to_its_page_or_lists_the_matches() {
    let node = TestNode::start();
    node.wait_until("block 2", |n| n.chain().head_height >= 2);
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    // Two transactions of one sender whose ids share their first 3 bytes (6 digits): found by
    // trying amounts, ~16 such pairs expected among 16,384 × 16,384.
    let to = address(&SecretKey::from_seed(&[4; 32]));
    // Ids are hashes of the unsigned transaction: no signing while searching.
    let id_of = |nonce, amount| {
        joule_light_client::Transaction {
            chain_id: chain.genesis.chain_id.clone(),
            sender: key.public_key(),
            nonce,
            max_fee: chain.genesis.min_fee,
            payload: joule_light_client::Payload::Transfer { to, amount },
        }
        .id()
    };
    let mut firsts = std::collections::HashMap::new();
    for amount in 1..=16_384u64 {
        let id = id_of(0, amount);
        firsts
            .entry(<[u8; 3]>::try_from(&id.0[..3]).unwrap())
            .or_insert(amount);
    }
    let (a, b) = (1..=16_384u64)
        .find_map(|amount| {
            let id = id_of(1, amount);
            let first = <[u8; 3]>::try_from(&id.0[..3]).unwrap();
            firsts.get(&first).map(|&a| (a, amount))
        })
        .expect("a shared 3-byte prefix");
    let (ta, tb) = (
        transfer(&chain, &key, 0, to, a),
        transfer(&chain, &key, 1, to, b),
    );
    let (ia, ib) = (node.submit(&ta).unwrap(), node.submit(&tb).unwrap());
    node.wait_included(&ia);
    node.wait_included(&ib);
    // Enough digits to tell one apart: its page (odd lengths too).
    for digits in [12, 7] {
        assert_eq!(
            node.get::<SearchResult>(&format!("/search?q={}", &ia.to_hex()[..digits])),
            SearchResult::Transaction { id: ia }
        );
    }
    let head = node.block(2).hash;
    assert_eq!(
        node.get::<SearchResult>(&format!("/search?q=0x{}", &head.to_hex()[..9])),
        SearchResult::Block {
            height: 2,
            hash: head
        }
    );
    // Six shared digits: both, for the user to pick.
    let SearchResult::Several { transactions, .. } =
        node.get::<SearchResult>(&format!("/search?q={}", &ia.to_hex()[..6]))
    else {
        panic!("several matches expected");
    };
    for id in [ia, ib] {
        assert!(transactions.contains(&id), "{transactions:?}");
    }
    // A pending transaction (its nonce leaves a gap, so no block takes it) is found too.
    let next: joule_light_client::api::AccountResponse =
        node.get(&format!("/accounts/{}", address(&key)));
    let waiting = transfer(&chain, &key, next.next_nonce + 1, to, 1);
    let pending = node.submit(&waiting).unwrap();
    assert_eq!(
        node.get::<SearchResult>(&format!("/search?q={}", &pending.to_hex()[..10])),
        SearchResult::Transaction { id: pending }
    );
    // Digits nothing starts with (all decimal: past the head, read as the start of a hash).
    let (s, e) = node.get_err("/search?q=0123456789");
    assert_eq!((s, e.code.as_str()), (404, "not_found"));
    assert!(e.message.contains("starting with"), "{}", e.message);
}

#[test]
fn faucet_funds_a_new_account_and_is_rate_limited() {
    let node = TestNode::start();
    let fresh = address(&SecretKey::from_seed(&[77; 32]));
    let (s, r) = node
        .post::<FaucetResponse>(
            "/faucet",
            &FaucetRequest {
                address: fresh.to_string(),
            },
        )
        .unwrap();
    assert_eq!(s, 202);
    node.wait_included(&r.id);
    node.wait_until("receipt applied", |n| {
        n.get::<AccountResponse>(&format!("/accounts/{fresh}"))
            .account
            .balance
            == r.amount
    });
    let err = node
        .post::<FaucetResponse>(
            "/faucet",
            &FaucetRequest {
                address: fresh.to_string(),
            },
        )
        .unwrap_err();
    assert_eq!((err.0, err.1.code.as_str()), (429, "rate_limited"));
    // A 429 says when to come back.
    match ureq::post(&format!("{}/api/v1/faucet", node.base)).send_json(&FaucetRequest {
        address: fresh.to_string(),
    }) {
        Err(ureq::Error::Status(429, resp)) => {
            let wait: u64 = resp.header("Retry-After").unwrap().parse().unwrap();
            assert!((1..=3600).contains(&wait), "{wait}");
        }
        other => panic!("expected a 429: {other:?}"),
    }
    let err = node
        .post::<FaucetResponse>(
            "/faucet",
            &FaucetRequest {
                address: "joule1nope".into(),
            },
        )
        .unwrap_err();
    assert_eq!((err.0, err.1.code.as_str()), (400, "invalid_address"));
}

#[test]
fn stream_sends_each_new_block() {
    let node = TestNode::start();
    let resp = ureq::get(&node.url("/stream")).call().unwrap();
    assert_eq!(resp.content_type(), "text/event-stream");
    let mut lines = BufReader::new(resp.into_reader()).lines();
    let mut heights = Vec::new();
    while heights.len() < 2 {
        let line = lines.next().expect("stream open").unwrap();
        if let Some(data) = line.strip_prefix("data:") {
            let block: joule_light_client::api::BlockResponse =
                serde_json::from_str(data.trim()).unwrap();
            assert_eq!(block.hash, block.header.hash());
            heights.push(block.header.height);
        }
    }
    assert_eq!(heights[1], heights[0] + 1, "consecutive blocks");
}

#[test]
fn lists_paginate_and_stats_count() {
    let node = TestNode::start();
    let chain = node.chain();
    let (_, key) = devnet_key_where(chain.genesis.shard_count, |_| true);
    let to = address(&SecretKey::from_seed(&[5; 32]));
    let ids: Vec<_> = (0..7)
        .map(|n| node.submit(&transfer(&chain, &key, n, to, 1)).unwrap())
        .collect();
    let last: TxResponse = node.wait_included(ids.last().unwrap());
    let acc: AccountResponse = node.get(&format!("/accounts/{}?page=1&limit=3", address(&key)));
    assert_eq!(acc.transactions.total, 7);
    let page1: Vec<_> = acc.transactions.items.iter().map(|t| t.id).collect();
    assert_eq!(
        page1,
        vec![ids[3], ids[2], ids[1]],
        "newest first, second page"
    );
    let inc = last.inclusion.unwrap();
    let sb: ShardBlockResponse = node.get(&format!(
        "/blocks/{}/shards/{}?limit=2",
        inc.at.height, inc.at.shard_header.shard
    ));
    assert_eq!(sb.transactions.total, u64::from(sb.shard.tx_count));
    // The page holds min(limit, total) items, and the included transaction's block has it.
    assert_eq!(
        sb.transactions.items.len() as u64,
        sb.transactions.total.min(2)
    );
    assert!(sb.transactions.total >= 1);
    node.wait_until("six blocks", |n| n.chain().head_height >= 6);
    let list: BlockList = node.get("/blocks?limit=3");
    assert_eq!(list.blocks.len(), 3);
    assert!(list.blocks[0].height > list.blocks[1].height);
    let older: BlockList = node.get(&format!(
        "/blocks?limit=3&before={}",
        list.next_before.unwrap()
    ));
    assert_eq!(older.blocks[0].height, list.blocks[2].height - 1);
    let stats: Stats = node.get("/stats");
    assert!(stats.total_transactions >= 7);
    assert!(stats.tps > 0.0);
    // 256 funded accounts, the faucet and this test's recipients; the fees of every
    // transaction so far burned.
    assert!(stats.accounts > 256, "{}", stats.accounts);
    assert_eq!(
        stats.burned,
        stats.total_transactions * node.chain().genesis.min_fee
    );
    assert_eq!(
        stats.supply + stats.burned,
        node.node().genesis.total_supply()
    );
    // The latest transactions, newest first: this test's last one leads.
    let latest: joule_light_client::api::TxList = node.get("/transactions?limit=3");
    assert_eq!(latest.transactions.len(), 3);
    assert_eq!(latest.transactions[0].id, ids[6]);
    assert!(latest.transactions[0].height >= latest.transactions[2].height);
}

#[test]
fn openapi_documents_every_route() {
    let node = TestNode::start();
    let doc: serde_json::Value = node.get("/openapi.json");
    let paths = doc["paths"].as_object().unwrap();
    let routes = [
        "/chain",
        "/stats",
        "/search",
        "/openapi.json",
        "/blocks",
        "/blocks/{id}",
        "/blocks/{id}/shards/{shard}",
        "/transactions",
        "/transactions/batch",
        "/transactions/{id}",
        "/accounts/{address}",
        "/accounts/{address}/objects",
        "/accounts/{address}/trades",
        "/faucet",
        "/stream",
        "/market",
        "/governance",
        "/governance/proposals",
        "/governance/proposals/{id}",
        "/governance/proposals/{id}/votes",
        "/accounts/{address}/power",
        "/market/intervals",
        "/market/intervals/{interval}",
        "/market/intervals/{interval}/book",
        "/market/intervals/{interval}/trades",
        "/market/orders/{id}",
        "/market/forecast",
        "/market/anomalies",
        "/state/{key}",
    ];
    for r in routes {
        assert!(
            paths.contains_key(&format!("/api/v1{r}")),
            "{r} is not documented"
        );
    }
    assert_eq!(
        paths.len(),
        routes.len(),
        "documented routes that do not exist"
    );
}

#[test]
fn a_page_limit_outside_the_documented_range_is_refused_not_clamped() {
    let node = TestNode::start();
    for path in [
        "/blocks?limit=0",
        "/blocks?limit=101",
        "/transactions?limit=500",
        "/market/intervals?limit=0",
        "/governance/proposals?limit=101",
    ] {
        let (status, err) = node.get_err(path);
        assert_eq!(status, 400, "{path}");
        assert_eq!(err.code, "invalid_query", "{path}");
        assert!(
            err.message.contains("limit must be 1 to 100"),
            "{path}: {}",
            err.message
        );
    }
    let list: joule_light_client::api::BlockList = node.get("/blocks?limit=100");
    assert!(list.blocks.len() <= 100);
}

#[test]
fn a_block_id_of_64_decimal_digits_is_read_as_a_hash() {
    let node = TestNode::start();
    let (status, err) = node.get_err(&format!("/blocks/{}", "5".repeat(64)));
    assert_eq!(
        (status, err.code.as_str()),
        (404, "not_found"),
        "{}",
        err.message
    );
}

#[test]
fn the_openapi_document_is_relative_and_requires_what_is_required() {
    let node = TestNode::start();
    let doc: serde_json::Value = node.get("/openapi.json");
    assert_eq!(doc["servers"][0]["url"], "/");
    let schemas = &doc["components"]["schemas"];
    for (name, field) in [
        ("SubmitRequest", "tx"),
        ("BatchSubmitRequest", "txs"),
        ("FaucetRequest", "address"),
        ("ApiError", "code"),
        ("ApiError", "message"),
    ] {
        let required = schemas[name]["required"].as_array().unwrap();
        assert!(required.iter().any(|r| r == field), "{name}.{field}");
    }
    // The example address is a real one.
    let example = schemas["Address"]["example"].as_str().unwrap();
    joule_light_client::Address::parse(example).unwrap();
}
