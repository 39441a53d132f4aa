#!/usr/bin/env python3
"""Writes events/: one API Gateway HTTP API (v2) event per route, with JWT authorizer
claims as API Gateway passes them. Run again after adding a route; the events test
replays every file through its function's router, in name order, over the demo seed."""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "events"
OPS = {"sub": "ops-1", "role": "ops", "tenants": "[demo/south-china]"}
BASE = "/v1/demo/south-china"


def event(method, route, path, body=None, claims=None, query=""):
    ctx = {
        "accountId": "123456789012",
        "apiId": "clearance",
        "domainName": "clearance.execute-api.ap-east-1.amazonaws.com",
        "domainPrefix": "clearance",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.10", "userAgent": "mini-program/1.0"},
        "requestId": "req-" + path.replace("/", "-"),
        "routeKey": f"{method} {route}",
        "stage": "$default",
        "time": "23/Nov/2026:03:00:00 +0000",
        "timeEpoch": 1795402800000,
    }
    if claims:
        ctx["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.clearance.example", "content-type": "application/json"},
        "requestContext": ctx,
        "isBase64Encoded": False,
    }
    if query:
        e["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if body is not None:
        e["body"] = json.dumps(body)
    return e


CAMPAIGN = {
    "id": "autumn-clearance", "name": "Autumn clearance",
    "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-06T00:00:00+08:00",
    "slots": [{"id": "morning", "starts": "10:00", "ends": "16:00"}],
    "categories": [{"id": "boots", "name": "Boots"}],
    "stores": ["gz-tianhe", "sz-futian"],
}
C = f"{BASE}/campaigns/autumn-clearance"
MANAGE = [
    ("01-put-store", "PUT", "/v1/{brand}/{group}/stores/{store}", f"{BASE}/stores/zh-xiangzhou",
     {"name": "Zhuhai Xiangzhou", "address": {"province": "Guangdong", "city": "Zhuhai", "district": "Xiangzhou", "line": "1 Harbour Rd"},
      "phone": "+86 756 5555 0404", "clerks": ["clerk-zh-xiangzhou"]}),
    ("02-put-guide", "PUT", "/v1/{brand}/{group}/guides/{guide}", f"{BASE}/guides/zh-xiangzhou-g1",
     {"name": "Guide 1 of Zhuhai", "store": "zh-xiangzhou", "user": "guide-zh-xiangzhou-g1"}),
    ("03-create-campaign", "POST", "/v1/{brand}/{group}/campaigns", f"{BASE}/campaigns", CAMPAIGN),
    ("04-update-campaign", "PUT", "/v1/{brand}/{group}/campaigns/{campaign}", C,
     {k: v for k, v in CAMPAIGN.items() if k != "id"} | {"name": "Autumn clearance (extended)"}),
    ("05-put-slots", "PUT", "/v1/{brand}/{group}/campaigns/{campaign}/slots", f"{C}/slots",
     {"slots": [{"id": "morning", "starts": "10:00", "ends": "16:00"}, {"id": "night", "starts": "20:00", "ends": "10:00"}]}),
    ("06-put-listing", "PUT", "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}", f"{C}/listings/BT-3001",
     {"name": "Chelsea boot", "category": "boots", "sizes": ["37", "38", "39"], "list_price_fen": 99900,
      "clearance_price_fen": 49900, "slot_prices_fen": {"morning": 45900}, "group": {"price_fen": 42900, "size": 3},
      "per_buyer_limit": 2, "stock": [{"store": "gz-tianhe", "size": "38", "units": 6}, {"store": "sz-futian", "size": "39", "units": 3}],
      "shards": 2}),
    ("07-put-coupon", "PUT", "/v1/{brand}/{group}/campaigns/{campaign}/coupons/{template}", f"{C}/coupons/over-500-50",
     {"name": "50 off over 500", "off_fen": 5000, "min_spend_fen": 50000, "per_buyer": 1, "budget": 2000}),
    ("08-publish", "POST", "/v1/{brand}/{group}/campaigns/{campaign}/publish", f"{C}/publish", {}),
    ("09-read-campaign", "GET", "/v1/{brand}/{group}/campaigns/{campaign}", C, None),
    ("10-read-listing", "GET", "/v1/{brand}/{group}/campaigns/{campaign}/listings/{sku}", f"{C}/listings/BT-3001", None),
    ("11-list-coupons", "GET", "/v1/{brand}/{group}/campaigns/{campaign}/coupons", f"{C}/coupons", None),
    ("12-list-stores", "GET", "/v1/{brand}/{group}/stores", f"{BASE}/stores", None),
    ("13-list-guides", "GET", "/v1/{brand}/{group}/guides", f"{BASE}/guides", None),
]
S = f"{BASE}/campaigns/summer-clearance"
BROWSE = [
    ("01-live-campaigns", "GET", "/v1/{brand}/{group}/campaigns", f"{BASE}/campaigns", None, ""),
    ("02-products", "GET", "/v1/{brand}/{group}/campaigns/{campaign}/products", f"{S}/products", None, "limit=5"),
    ("03-products-by-category", "GET", "/v1/{brand}/{group}/campaigns/{campaign}/products", f"{S}/products", None, "category=sandals"),
    ("04-product", "GET", "/v1/{brand}/{group}/campaigns/{campaign}/products/{sku}", f"{S}/products/SD-1003", None, ""),
]

for name, method, route, path, body in MANAGE:
    out = ROOT / "manage-campaign" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, OPS), indent=2) + "\n")
for name, method, route, path, body, query in BROWSE:
    out = ROOT / "browse-catalog" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Browsing is public: no authorizer on these routes.
    out.write_text(json.dumps(event(method, route, path, body, None, query), indent=2) + "\n")
print(f"wrote {len(MANAGE) + len(BROWSE)} events under {ROOT}")
