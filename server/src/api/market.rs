//! The energy market's parameters and clock, its intervals and books, an account's market
//! objects, and any object in state by its key — each with its proof against the head (but
//! an open book's depth, an aggregate).

use axum::extract::State;
use axum::Json;
use joule_light_client::api::{
    BookDepth, DepthLevel, EventItem, IntervalItem, IntervalResponse, IntervalsPage,
    MarketResponse, ObjectProofAt, ObjectResponse, OwnedObject, OwnedObjects, Page,
    MAX_INTERVALS_PAGE, MAX_OWNED_OBJECTS,
};
use joule_light_client::codec::decode_exact;
use joule_light_client::event::{events_tree, Event};
use joule_light_client::market::{
    book_key, interval_key, params_key, Book, IntervalRecord, MarketParams,
};
use joule_light_client::market::{treasury, CertLot, Order, Side};
use joule_light_client::object::ObjectKind;
use joule_light_client::object::StateKey;
use joule_light_client::Address;
use joule_light_client::Hash;

use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::views::shard_inclusion;
use super::{AppState, PageQuery};

/// `GET /market`.
pub async fn market(State(node): State<AppState>) -> ApiResult<MarketResponse> {
    let key = params_key();
    let n = node.genesis.shard_count;
    let shard = key.shard(n);
    let (bytes, proof, height, context) = {
        let chain = node.chain();
        let state = &chain.shards[usize::from(shard)];
        let proof = proof_at(&chain, shard, &key)?;
        (
            state.object(&key).map(<[u8]>::to_vec),
            proof,
            chain.height(),
            node.market_context(&chain),
        )
    };
    // Genesis writes the parameters and nothing deletes them.
    let params: MarketParams = bytes
        .as_deref()
        .map(decode_exact)
        .transpose()
        .map_err(|e| ApiError::internal(format!("market parameters in state: {e}")))?
        .ok_or_else(|| ApiError::internal("market parameters missing from state"))?;
    let open_interval = params.first_open(height);
    let gate_height = params.gate(open_interval).unwrap_or(u64::MAX);
    let blocks_to_gate = gate_height.saturating_sub(height);
    Ok(Json(MarketResponse {
        params,
        proof,
        height,
        // After a schedule change, the previous schedule's intervals until the new anchor.
        delivering: context.interval_at(height),
        open_interval,
        gate_height,
        blocks_to_gate,
        ms_to_gate: blocks_to_gate.saturating_mul(node.genesis.block_interval_ms),
        treasury: treasury(),
    }))
}

/// `?before=&limit=`.
#[derive(Debug, serde::Deserialize)]
pub struct IntervalsQuery {
    before: Option<u64>,
    #[serde(default, deserialize_with = "super::page_limit")]
    limit: Option<u32>,
}

/// `GET /market/intervals?before=&limit=`: closed intervals, newest first.
pub async fn intervals(
    State(node): State<AppState>,
    ApiQuery(q): ApiQuery<IntervalsQuery>,
) -> ApiResult<IntervalsPage> {
    const _: () = assert!(MAX_INTERVALS_PAGE == super::MAX_PAGE_LIMIT as u64);
    let limit = u64::from(q.limit.unwrap_or(20));
    let chain = node.chain();
    let height = chain.height();
    let params = node.market_context(&chain).params;
    // Every interval whose gate has passed has a record, from the first gate this chain
    // reached: walk down from the newest until `limit` are found. One missing record at the
    // top is the gate being produced now; one further down is where this chain began.
    let newest = params.first_open(height).checked_sub(1);
    let mut next = match q.before {
        Some(b) => b.checked_sub(1).zip(newest).map(|(b, n)| b.min(n)),
        None => newest,
    };
    let mut intervals = Vec::new();
    let mut missed = false;
    while let Some(i) = next.filter(|i| *i >= params.anchor_interval) {
        if intervals.len() as u64 == limit {
            break;
        }
        let key = interval_key(i);
        match decode::<IntervalRecord>(chain.shards[0].object(&key), "interval record")? {
            Some(record) => intervals.push(IntervalItem {
                interval: i,
                record,
                proof: chain.shards[0].object_proof(&key),
            }),
            None if intervals.is_empty() && !missed => missed = true,
            None => {
                next = None;
                break;
            }
        }
        next = i.checked_sub(1);
    }
    let next_before = next
        .filter(|i| *i >= params.anchor_interval)
        .and_then(|_| intervals.last().map(|l| l.interval));
    Ok(Json(IntervalsPage {
        height,
        intervals,
        next_before,
    }))
}

/// `GET /market/intervals/{interval}/book`: the book's depth, summed over every shard.
pub async fn book(
    State(node): State<AppState>,
    ApiPath(interval): ApiPath<String>,
) -> ApiResult<BookDepth> {
    let interval = parse_interval(&interval)?;
    let chain = node.chain();
    let height = chain.height();
    let params = node.market_context(&chain).params;
    let mut levels: [std::collections::BTreeMap<u64, DepthLevel>; 2] = Default::default();
    for state in &chain.shards {
        for (_, o) in state.orders_of(interval) {
            let side = usize::from(o.side == Side::Ask);
            let level = levels[side].entry(o.price).or_insert(DepthLevel {
                price: o.price,
                qty_wh: 0,
                orders: 0,
            });
            level.qty_wh = level.qty_wh.saturating_add(o.qty_wh);
            level.orders = level.orders.saturating_add(1);
        }
    }
    let [bids, asks] = levels;
    Ok(Json(BookDepth {
        interval,
        height,
        open: params.order_window(interval, height + 1).is_ok(),
        bids: bids.into_values().rev().collect(),
        asks: asks.into_values().collect(),
    }))
}

/// `GET /market/intervals/{interval}/trades?page=&limit=`: every order's fill (at the gate)
/// and settlement (at the readings' deadline), each with its event proof.
pub async fn interval_trades(
    State(node): State<AppState>,
    ApiPath(interval): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Page<EventItem>> {
    let interval = parse_interval(&interval)?;
    let (params, head) = {
        let chain = node.chain();
        (node.market_context(&chain).params, chain.height())
    };
    // The interval's events are in two heights' shard blocks: each one's tree proves them.
    let mut trees = Vec::new();
    let mut all = Vec::new();
    let heights = [params.gate(interval), params.deadline(interval)];
    for height in heights.into_iter().flatten().filter(|h| *h <= head) {
        for shard in 0..node.genesis.shard_count {
            let events = node.store.events_at(height, shard)?;
            for (i, e) in events.iter().enumerate() {
                let Event::Trade(t) = e;
                if t.interval == interval {
                    all.push((height, shard, *e, i as u64, trees.len()));
                }
            }
            trees.push(events_tree(&events));
        }
    }
    let total = all.len() as u64;
    let items = all
        .into_iter()
        .skip(page.skip() as usize)
        .take(page.limit() as usize)
        .map(|(height, shard, event, i, t)| event_item(height, shard, event, &trees[t], i))
        .collect::<Result<_, _>>()?;
    Ok(Json(Page {
        items,
        page: page.page,
        limit: page.limit(),
        total,
    }))
}

/// `GET /accounts/{address}/trades?page=&limit=`: the account's trades' fills and
/// settlements, newest first, each with its event proof.
pub async fn account_trades(
    State(node): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Page<EventItem>> {
    let address = Address::parse(&address)
        .map_err(|e| ApiError::bad_request("invalid_address", e.to_string()))?;
    let (positions, total) =
        node.store
            .account_events(&address, page.skip(), u64::from(page.limit()))?;
    let mut items = Vec::with_capacity(positions.len());
    for at in positions {
        let events = node.store.events_at(at.height, at.shard)?;
        let tree = events_tree(&events);
        let event = *events
            .get(at.index as usize)
            .ok_or_else(|| ApiError::internal("an indexed event is missing from its block"))?;
        items.push(event_item(
            at.height,
            at.shard,
            event,
            &tree,
            u64::from(at.index),
        )?);
    }
    Ok(Json(Page {
        items,
        page: page.page,
        limit: page.limit(),
        total,
    }))
}

fn event_item(
    height: u64,
    shard: u16,
    event: Event,
    tree: &joule_light_client::MerkleTree,
    index: u64,
) -> Result<EventItem, ApiError> {
    let proof = tree
        .proof(index)
        .ok_or_else(|| ApiError::internal("an event's proof is out of range"))?;
    Ok(EventItem {
        height,
        shard,
        event,
        proof,
    })
}

fn parse_interval(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request("invalid_interval", "an interval is a whole number"))
}

/// `GET /market/intervals/{interval}`.
pub async fn interval(
    State(node): State<AppState>,
    ApiPath(interval): ApiPath<String>,
) -> ApiResult<IntervalResponse> {
    let interval = parse_interval(&interval)?;
    let chain = node.chain();
    let height = chain.height();
    if height == 0 {
        return Err(ApiError::not_found(
            "no block yet: nothing to prove against",
        ));
    }
    let params = node.market_context(&chain).params;
    let record: Option<IntervalRecord> = decode(
        chain.shards[0].object(&interval_key(interval)),
        "interval record",
    )?;
    let mut books = Vec::new();
    let mut book_proofs = Vec::new();
    if record.is_some() {
        for (s, state) in chain.shards.iter().enumerate() {
            let key = book_key(s as u16, interval);
            let book: Option<Book> = decode(state.object(&key), "book")?;
            books.extend(book);
            book_proofs.push(state.object_proof(&key));
        }
    }
    Ok(Json(IntervalResponse {
        interval,
        start_height: params.start(interval),
        gate_height: params.gate(interval),
        deadline_height: params.deadline(interval),
        height,
        record,
        books,
        record_proof: chain.shards[0].object_proof(&interval_key(interval)),
        book_proofs,
    }))
}

/// The head's proof of `key` on `shard` (`None` before the first block).
pub(super) fn proof_at(
    chain: &crate::node::ChainState,
    shard: u16,
    key: &StateKey,
) -> Result<Option<ObjectProofAt>, ApiError> {
    let Some(head) = &chain.head else {
        return Ok(None);
    };
    Ok(Some(ObjectProofAt {
        at: shard_inclusion(head, shard)?,
        proof: chain.shards[usize::from(shard)].object_proof(key),
    }))
}

/// An object from state, decoded (a failure is the node's, not the caller's).
fn decode<T: joule_light_client::Decode>(
    bytes: Option<&[u8]>,
    what: &str,
) -> Result<Option<T>, ApiError> {
    bytes
        .map(decode_exact)
        .transpose()
        .map_err(|e| ApiError::internal(format!("{what} in state: {e}")))
}

/// `?kind=`.
#[derive(Debug, serde::Deserialize)]
pub struct KindQuery {
    kind: ObjectKind,
}

/// `GET /accounts/{address}/objects?kind=order|cert_lot|meter|power|power_checkpoint|proposal|weight|vote`:
/// the account's objects of that kind — its orders, certificate lots, governance lock and its
/// history, its proposals, its weights on proposals and its votes (under its address as their
/// home), the meters it owns (each under its own address,
/// found through the owner index) — each with its proof.
pub async fn owned(
    State(node): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(KindQuery { kind }): ApiQuery<KindQuery>,
) -> ApiResult<OwnedObjects> {
    let address = Address::parse(&address)
        .map_err(|e| ApiError::bad_request("invalid_address", e.to_string()))?;
    if !matches!(
        kind,
        ObjectKind::Order
            | ObjectKind::CertLot
            | ObjectKind::Meter
            | ObjectKind::Power
            | ObjectKind::PowerCheckpoint
            | ObjectKind::Proposal
            | ObjectKind::Weight
            | ObjectKind::Vote
    ) {
        return Err(ApiError::bad_request(
            "invalid_kind",
            "an account's objects are its orders (order), certificate lots (cert_lot), meters (meter), governance lock (power) or its history (power_checkpoint), proposals (proposal), weights on proposals (weight) or votes (vote)",
        ));
    }
    let chain = node.chain();
    let shard = address.shard(node.genesis.shard_count);
    let state = &chain.shards[usize::from(shard)];
    let listed = |(k, v): (&StateKey, &[u8])| OwnedObject {
        key: *k,
        value: hex::encode(v),
        proof: state.object_proof(k),
    };
    if kind == ObjectKind::Meter {
        let objects = state
            .meters_of(&address)
            .take(MAX_OWNED_OBJECTS)
            .map(listed)
            .collect();
        return Ok(Json(OwnedObjects {
            address,
            kind,
            height: chain.height(),
            objects,
        }));
    }
    // Keys are home (the address's first 8 bytes) ‖ kind ‖ id: one range of the tree.
    let mut low = [0u8; 32];
    low[..8].copy_from_slice(&address.0[..8]);
    low[8] = kind as u8;
    let mut high = low;
    high[9..].fill(0xff);
    let objects = state
        .objects_in(StateKey(low)..=StateKey(high))
        .filter(|(_, v)| owner_of(kind, v) == Some(address))
        .take(MAX_OWNED_OBJECTS)
        .map(|(k, v)| listed((k, v)))
        .collect();
    Ok(Json(OwnedObjects {
        address,
        kind,
        height: chain.height(),
        objects,
    }))
}

/// Whose object an encoding is (another address can share the first 8 bytes of a home).
fn owner_of(kind: ObjectKind, value: &[u8]) -> Option<Address> {
    match kind {
        ObjectKind::Order => decode_exact::<Order>(value).ok().map(|o| o.owner),
        ObjectKind::CertLot => decode_exact::<CertLot>(value).ok().map(|l| l.holder),
        ObjectKind::Power => decode_exact::<joule_light_client::dao::Power>(value)
            .ok()
            .map(|p| p.member),
        ObjectKind::PowerCheckpoint => {
            decode_exact::<joule_light_client::dao::PowerCheckpoint>(value)
                .ok()
                .map(|c| c.member)
        }
        ObjectKind::Proposal => decode_exact::<joule_light_client::dao::Proposal>(value)
            .ok()
            .map(|p| p.proposer),
        ObjectKind::Weight => decode_exact::<joule_light_client::dao::Weight>(value)
            .ok()
            .map(|w| w.member),
        ObjectKind::Vote => decode_exact::<joule_light_client::dao::Vote>(value)
            .ok()
            .map(|v| v.voter),
        _ => None,
    }
}

/// `GET /market/orders/{tx_id}`: the order a transaction placed, by the transaction's id —
/// in state with its proof while open, proven absent once cancelled or settled.
pub async fn order(
    State(node): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ObjectResponse> {
    let id = Hash::from_hex(&id).map_err(|e| {
        ApiError::bad_request(
            "invalid_hash",
            format!("an order is named by its transaction's id, 64 hex digits: {e}"),
        )
    })?;
    let stx = match node.store.tx(&id)? {
        Some(t) => t.stx,
        None if node.pending(&id).is_some() => {
            return Err(ApiError::not_found(
                "the order's transaction is pending: it is in state once its block is made",
            ))
        }
        None => return Err(ApiError::not_found("no transaction with that id")),
    };
    if !matches!(
        stx.tx.payload,
        joule_light_client::Payload::PlaceOrder { .. }
    ) {
        return Err(ApiError::not_found("that transaction placed no order"));
    }
    let key = joule_light_client::market::order_key(&stx.tx.sender_address(), &id);
    object_at(&node, key)
}

/// `GET /state/{key}`: a state key (64 hex digits) and what it holds.
pub async fn object(
    State(node): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<ObjectResponse> {
    let key = Hash::from_hex(&key).map(|h| StateKey(h.0)).map_err(|e| {
        ApiError::bad_request("invalid_key", format!("a state key is 64 hex digits: {e}"))
    })?;
    object_at(&node, key)
}

/// What `key` holds at the head, with its proof.
fn object_at(node: &AppState, key: StateKey) -> ApiResult<ObjectResponse> {
    let shard = key.shard(node.genesis.shard_count);
    let chain = node.chain();
    let state = &chain.shards[usize::from(shard)];
    let proof = proof_at(&chain, shard, &key)?;
    Ok(Json(ObjectResponse {
        key,
        shard,
        kind: key.kind(),
        value: state.object(&key).map(hex::encode),
        proof,
    }))
}
