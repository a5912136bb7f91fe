#!/usr/bin/env python3
"""Times GET /transactions/{id} on a running node for the transactions of its largest shard
block (sequential, one keep-alive connection); prints JSON. Usage: scripts/tx-reads.py PORT [N]
e.g. after `joule node --block-interval-ms 2000` and `joule load --tps 10000 --duration 10`
(docs/performance.md#proofs-of-a-large-blocks-transactions)."""
import http.client, json, sys, time, statistics
port = int(sys.argv[1]); n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
c = http.client.HTTPConnection("127.0.0.1", port)
def get(path):
    c.request("GET", "/api/v1" + path); r = c.getresponse(); b = r.read()
    if r.status != 200: raise SystemExit(f"{path}: {r.status} {b[:200]}")
    return json.loads(b)
head = get("/chain")["head_height"]
best = None
for h in range(1, head + 1):
    for s in range(4):
        t = get(f"/blocks/{h}/shards/{s}?limit=1")["transactions"]["total"]
        if best is None or t > best[2]: best = (h, s, t)
h, s, total = best
ids = []
page = 0
while len(ids) < min(n, total):
    items = get(f"/blocks/{h}/shards/{s}?limit=100&page={page}")["transactions"]["items"]
    if not items: break
    ids += [i["id"] for i in items]; page += 1
ids = ids[:n]
lat = []
t0 = time.perf_counter()
for i in ids:
    a = time.perf_counter(); get(f"/transactions/{i}"); lat.append(time.perf_counter() - a)
wall = time.perf_counter() - t0
lat.sort()
print(json.dumps({"block": h, "shard": s, "shard_txs": total, "requests": len(ids),
  "req_per_s": round(len(ids) / wall), "p50_ms": round(lat[len(lat)//2] * 1e3, 3),
  "p99_ms": round(lat[int(len(lat) * .99)] * 1e3, 3)}))
