#!/usr/bin/env python3
"""Writes events/: one API Gateway HTTP API (v2) event per route, with JWT authorizer
claims as API Gateway passes them. Run again after adding a route; the events test
replays every file through its function's router, in name order, over the demo seed."""
import hashlib
import hmac
import json
from urllib.parse import quote, unquote
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "events"
OPS = {"sub": "ops-1", "role": "ops", "tenants": "[demo/south-china]"}
BUYER = {"sub": "buyer-1", "role": "consumer"}
CLERK = {"sub": "clerk-fs-chancheng", "role": "store_manager", "tenants": "[demo/south-china]"}
# The local server's default payment secret (PAYMENT_WEBHOOK_SECRET).
PAYMENT_SECRET = b"clearance-local-payments"
# Stands for the order the earlier place-order event created; the events test swaps in
# the real id (and amount and pickup code) as it replays the files in order.
ORDER = "01JDEMOORDER00000000000000"
CODE = "424242"
BASE = "/v1/demo/south-china"


def event(method, route, path, body=None, claims=None, query="", headers=None):
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
        "headers": {"host": "api.clearance.example", "content-type": "application/json", **(headers or {})},
        "requestContext": ctx,
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway passes the raw string as sent and the parameters decoded
        e["queryStringParameters"] = {k: unquote(v) for k, v in (p.split("=", 1) for p in query.split("&"))}
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    return e


def scheduled(rule):
    """An EventBridge scheduled event, as a `Schedule` rule delivers it."""
    return {"version": "0", "id": "5b2c4a6e-0000-0000-0000-000000000001", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": "2026-11-23T03:20:00Z",
            "region": "ap-east-1", "resources": [f"arn:aws:events:ap-east-1:123456789012:rule/{rule}"],
            "detail": {}}


def sqs(body):
    """An SQS event with one record, as Lambda delivers it."""
    return {"Records": [{
        "messageId": "msg-1", "receiptHandle": "rh-1", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795402800000",
                       "SenderId": "AROAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795402800000"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(json.dumps(body).encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:ap-east-1:123456789012:clearance-queue",
        "awsRegion": "ap-east-1"}]}


CAMPAIGN = {
    "id": "autumn-clearance", "name": "Autumn clearance",
    "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2026-12-06T00:00:00+08:00",
    "slots": [{"id": "morning", "starts": "10:00", "ends": "16:00"}],
    "categories": [{"id": "boots", "name": "Boots"}],
    "stores": ["gz-tianhe", "sz-futian"],
}
C = f"{BASE}/campaigns/autumn-clearance"
MANAGE = [
    ("01-put-store", "PUT", "/v1/{brand}/{store_group}/stores/{store}", f"{BASE}/stores/zh-xiangzhou",
     {"name": "Zhuhai Xiangzhou", "address": {"province": "Guangdong", "city": "Zhuhai", "district": "Xiangzhou", "line": "1 Harbour Rd"},
      "phone": "+86 756 5555 0404", "clerks": ["clerk-zh-xiangzhou"]}),
    ("02-put-guide", "PUT", "/v1/{brand}/{store_group}/guides/{guide}", f"{BASE}/guides/zh-xiangzhou-g1",
     {"name": "Guide 1 of Zhuhai", "store": "zh-xiangzhou", "user": "guide-zh-xiangzhou-g1"}),
    ("03-create-campaign", "POST", "/v1/{brand}/{store_group}/campaigns", f"{BASE}/campaigns", CAMPAIGN),
    ("04-update-campaign", "PUT", "/v1/{brand}/{store_group}/campaigns/{campaign}", C,
     {k: v for k, v in CAMPAIGN.items() if k != "id"} | {"name": "Autumn clearance (extended)"}),
    ("05-put-slots", "PUT", "/v1/{brand}/{store_group}/campaigns/{campaign}/slots", f"{C}/slots",
     {"slots": [{"id": "morning", "starts": "10:00", "ends": "16:00"}, {"id": "night", "starts": "20:00", "ends": "10:00"}]}),
    ("06-put-listing", "PUT", "/v1/{brand}/{store_group}/campaigns/{campaign}/listings/{sku}", f"{C}/listings/BT-3001",
     {"name": "Chelsea boot", "category": "boots", "sizes": ["37", "38", "39"], "list_price_fen": 99900,
      "clearance_price_fen": 49900, "slot_prices_fen": {"morning": 45900}, "group_buy": {"price_fen": 42900, "size": 3},
      "per_buyer_limit": 2, "stock": [{"store": "gz-tianhe", "size": "38", "units": 6}, {"store": "sz-futian", "size": "39", "units": 3}],
      "shards": 2}),
    ("07-put-coupon", "PUT", "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons/{template}", f"{C}/coupons/over-500-50",
     {"name": "50 off over 500", "off_fen": 5000, "min_spend_fen": 50000, "per_buyer": 1, "budget": 2000}),
    ("08-publish", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/publish", f"{C}/publish", {}),
    ("09-read-campaign", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}", C, None),
    ("10-read-listing", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/listings/{sku}", f"{C}/listings/BT-3001", None),
    ("11-list-coupons", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons", f"{C}/coupons", None),
    ("12-list-stores", "GET", "/v1/{brand}/{store_group}/stores", f"{BASE}/stores", None),
    ("13-list-guides", "GET", "/v1/{brand}/{store_group}/guides", f"{BASE}/guides", None),
    ("14-put-search-terms", "PUT", "/v1/{brand}/{store_group}/search-terms", f"{BASE}/search-terms",
     {"synonyms": [{"word": "单鞋", "categories": ["pumps"]}, {"word": "凉拖", "categories": ["sandals"], "tags": ["拖鞋"]},
                   {"word": "上班", "tags": ["通勤"]}]}),
    ("15-read-search-terms", "GET", "/v1/{brand}/{store_group}/search-terms", f"{BASE}/search-terms", None),
    ("16-put-poster-copy", "PUT", "/v1/{brand}/{store_group}/poster-copy", f"{BASE}/poster-copy",
     {"lines": ["{group_size}人成团 ¥{group_price}", "{tier}", "清仓价 ¥{price}"], "version": 0}),
    ("17-read-poster-copy", "GET", "/v1/{brand}/{store_group}/poster-copy", f"{BASE}/poster-copy", None),
]
S = f"{BASE}/campaigns/summer-clearance"
BROWSE = [
    ("21-live-campaigns", "GET", "/v1/{brand}/{store_group}/campaigns", f"{BASE}/campaigns", None, ""),
    ("22-products", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/products", f"{S}/products", None, "limit=5"),
    ("23-products-by-category", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/products", f"{S}/products", None, "category=sandals"),
    ("24-product", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}", f"{S}/products/SD-1003", None, ""),
    ("25-search", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/search", f"{S}/search", None,
     "q=" + quote("400元内通勤单鞋 38码") + "&limit=10"),
    ("28-nearby-stores", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/stores", f"{S}/stores", None,
     "near=23.13,113.33&sku=SD-1001&size=36"),
]

CART = {"campaign": "summer-clearance", "lines": [{"sku": "PM-2006", "size": "38", "quantity": 1}]}
NOTICE = json.dumps({"tenant": "demo/south-china", "order": ORDER, "amount_fen": 56900, "payment_ref": "wx-4200000001"})
ORDERS = [
    ("31-claim-coupon", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/coupons/{template}/claim",
     f"{S}/coupons/over-500-50/claim", None, BUYER, {}),
    ("32-preview-order", "POST", "/v1/{brand}/{store_group}/orders/preview", f"{BASE}/orders/preview", CART, BUYER, {}),
    ("33-place-order", "POST", "/v1/{brand}/{store_group}/orders", f"{BASE}/orders", CART, BUYER,
     {"idempotency-key": "evt-order-1"}),
    ("34-read-order", "GET", "/v1/{brand}/{store_group}/orders/{order}", f"{BASE}/orders/{ORDER}", None, BUYER, {}),
    ("35-my-orders", "GET", "/v1/me/orders", "/v1/me/orders", None, BUYER, {}),
    ("36-my-coupons", "GET", "/v1/me/coupons", "/v1/me/coupons", None, BUYER, {}),
    ("37-payment-notify", "POST", "/v1/payments/notify", "/v1/payments/notify", NOTICE, None,
     {"x-clearance-signature": "sha256=" + hmac.new(PAYMENT_SECRET, NOTICE.encode(), hashlib.sha256).hexdigest()}),
    ("42-pickup", "POST", "/v1/{brand}/{store_group}/orders/{order}/pickup", f"{BASE}/orders/{ORDER}/pickup",
     {"code": CODE}, CLERK, {}),
]
GROUP = "G01JDEMOGROUP00000000000000"
BUYER2 = {"sub": "buyer-2", "role": "consumer"}
GROUP_SEAT = {"campaign": "summer-clearance", "lines": [{"sku": "SD-1003", "size": "38", "quantity": 1}], "coupon": "none"}
GROUPS = [
    ("71-open-group", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", f"{S}/group-buys", GROUP_SEAT, BUYER,
     {"idempotency-key": "evt-group-1"}, ""),
    ("72-read-group", "GET", "/v1/{brand}/{store_group}/group-buys/{group_buy}", f"{BASE}/group-buys/{GROUP}", None, None, {}, ""),
    ("73-join-group", "POST", "/v1/{brand}/{store_group}/group-buys/{group_buy}/join", f"{BASE}/group-buys/{GROUP}/join", GROUP_SEAT,
     BUYER2, {"idempotency-key": "evt-group-2"}, ""),
    ("74-open-groups", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", f"{S}/group-buys", None, None, {}, "sku=SD-1003"),
    ("75-my-groups", "GET", "/v1/me/group-buys", "/v1/me/group-buys", None, BUYER2, {}, ""),
]
GUIDE = {"sub": "guide-gz-tianhe-g1", "role": "guide", "tenants": "[demo/south-china]"}
ATTRIBUTION = [
    ("81-share-link", "POST", "/v1/{brand}/{store_group}/guides/{guide}/share-links", f"{BASE}/guides/gz-tianhe-g1/share-links",
     {"campaign": "summer-clearance", "sku": "SD-1001"}, GUIDE, ""),
    ("82-performance", "GET", "/v1/{brand}/{store_group}/guides/{guide}/performance", f"{BASE}/guides/gz-tianhe-g1/performance",
     None, GUIDE, "campaign=summer-clearance"),
    ("83-guide-orders", "GET", "/v1/{brand}/{store_group}/guides/{guide}/orders", f"{BASE}/guides/gz-tianhe-g1/orders",
     None, OPS, ""),
    ("84-leaderboard", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/leaderboard", f"{S}/leaderboard", None, OPS, ""),
]
CLOSE = [
    ("91-close-campaign", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/close", f"{S}/close", {"grace_minutes": 0}, OPS),
    ("94-read-report", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/report", f"{S}/report", None, OPS),
]
# The identity provider verified this buyer's phone (an SMS code at sign-in).
MEMBER = {**BUYER, "phone_number": "+8613812345678", "phone_number_verified": "true"}
MEMBERS = [
    ("88-bind-phone", "POST", "/v1/me/phone", "/v1/me/phone", None, MEMBER, ""),
    ("89-me", "GET", "/v1/me", "/v1/me", None, MEMBER, ""),
    ("90-my-points", "GET", "/v1/me/points", "/v1/me/points", None, MEMBER, "brand=demo"),
    ("90a-follow", "PUT", "/v1/me/follows", "/v1/me/follows",
     {"follows": [{"brand": "demo", "store_group": "south-china"}, {"brand": "demo"}]}, MEMBER, ""),
    ("90b-home", "GET", "/v1/me/home", "/v1/me/home", None, MEMBER, ""),
    ("90c-member-for-staff", "GET", "/v1/{brand}/{store_group}/members/{member}", f"{BASE}/members/buyer-1", None, OPS, ""),
    ("90e-start-assist", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/assist-offers/{offer}/assists",
     f"{S}/assist-offers/three-friends/assists", {}, MEMBER, ""),
    ("90f-my-assists", "GET", "/v1/me/assists", "/v1/me/assists", None, MEMBER, ""),
]
REFUND = ORDER + "-R01"
REFUND_NOTICE = json.dumps({"tenant": "demo/south-china", "refund": REFUND, "status": "succeeded", "amount_fen": 56900})
REFUNDS = [
    ("61-request-refund", "POST", "/v1/{brand}/{store_group}/orders/{order}/refunds", f"{BASE}/orders/{ORDER}/refunds",
     {"lines": [{"sku": "PM-2006", "size": "38", "quantity": 1}], "reason": "wrong_size",
      "condition": {"unworn": True, "tags_on": False, "original_box": True}}, BUYER, {"idempotency-key": "evt-refund-1"}),
    ("62-list-pending", "GET", "/v1/{brand}/{store_group}/refunds", f"{BASE}/refunds", None, OPS, {}, "status=pending_review"),
    ("63-decide", "POST", "/v1/{brand}/{store_group}/refunds/{refund}/decision", f"{BASE}/refunds/{REFUND}/decision",
     {"approve": True, "note": "tags in the box; resaleable"}, OPS, {}),
    ("64-read-refund", "GET", "/v1/{brand}/{store_group}/refunds/{refund}", f"{BASE}/refunds/{REFUND}", None, BUYER, {}),
    ("65-receive", "POST", "/v1/{brand}/{store_group}/refunds/{refund}/receive", f"{BASE}/refunds/{REFUND}/receive",
     {"units": [{"line": 0, "resaleable": 1, "damaged": 0}]}, CLERK, {}),
    ("67-refund-notify", "POST", "/v1/payments/refund-notify", "/v1/payments/refund-notify", REFUND_NOTICE, None,
     {"x-clearance-signature": "sha256=" + hmac.new(PAYMENT_SECRET, REFUND_NOTICE.encode(), hashlib.sha256).hexdigest()}),
]
WORKERS = [
    ("fulfillment-worker", "41-dispatch", {"tenant": "demo/south-china", "order": ORDER}),
    ("order-timeout-worker", "51-expire-unpaid",
     {"tenant": "demo/south-china", "order": ORDER, "deadline": "2026-11-23T03:15:00Z"}),
    # the try-on's slot end (41c): its holds come back then
    ("order-timeout-worker", "51b-visit-ends",
     {"tenant": "demo/south-china", "campaign": "summer-clearance", "buyer": "buyer-1",
      "due": "2026-11-23T03:30:00Z"}),
    ("refund-worker", "66-pay-refund", {"tenant": "demo/south-china", "refund": REFUND}),
    ("group-expiry-worker", "76-expire-group", {"tenant": "demo/south-china", "group": GROUP}),
    ("attribution-worker", "85-count-sale", {
        "type": "event", "id": ORDER + "-paid", "tenant": "demo/south-china", "order": ORDER,
        "campaign": "summer-clearance", "buyer": "buyer-1", "guide": "gz-tianhe-g1", "store": "gz-tianhe",
        "commission_bp": 300, "window_days": 7, "kind": "paid",
        "lines": [{"line": 0, "sku": "PM-2006", "size": "38", "units": 1, "amount_fen": 56900}],
        "amount_fen": 56900, "at": "2026-11-23T03:00:00Z"}),
    # The same sale's event, as the members queue receives it (the one publication).
    ("member-worker", "86-earn-points", {
        "type": "event", "id": ORDER + "-paid", "tenant": "demo/south-china", "order": ORDER,
        "campaign": "summer-clearance", "buyer": "buyer-1", "guide": "gz-tianhe-g1", "store": "gz-tianhe",
        "commission_bp": 300, "window_days": 7, "kind": "paid",
        "lines": [{"line": 0, "sku": "PM-2006", "size": "38", "units": 1, "amount_fen": 56900}],
        "amount_fen": 56900, "at": "2026-11-23T03:00:00Z"}),
    ("member-worker", "87-release-points", {"type": "release", "member": "buyer-1", "brand": "demo"}),
    # The first step of the close the 91 event began: fence a page of stock shards.
    ("close-worker", "92-close-step", {"tenant": "demo/south-china", "campaign": "summer-clearance", "step": 1}),
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
for name, method, route, path, body, claims, headers in ORDERS:
    out = ROOT / "place-order" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims, "", headers), indent=2) + "\n")
for name, method, route, path, body, claims, headers, *query in REFUNDS:
    out = ROOT / "validate-refund" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims, query[0] if query else "", headers), indent=2) + "\n")
for name, method, route, path, body, claims, headers, query in GROUPS:
    out = ROOT / "join-group" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Reading a group and listing open groups are public: no authorizer.
    out.write_text(json.dumps(event(method, route, path, body, claims, query, headers), indent=2) + "\n")
for name, method, route, path, body, claims, query in ATTRIBUTION:
    out = ROOT / "attribute-guide-sale" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims, query), indent=2) + "\n")
for name, method, route, path, body, claims, query in MEMBERS:
    out = ROOT / "member-center" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims, query), indent=2) + "\n")
# A member's own search ("my size") and size advice: behind the JWT authorizer.
for name, route, path, query in [
    ("26-my-search", "/v1/{brand}/{store_group}/campaigns/{campaign}/search/mine", f"{S}/search/mine", "q=" + quote("我的尺码 单鞋")),
    ("27-size-advice", "/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}/size-advice", f"{S}/products/PM-2005/size-advice", ""),
]:
    out = ROOT / "browse-catalog" / f"{name}.json"
    out.write_text(json.dumps(event("GET", route, path, None, BUYER, query), indent=2) + "\n")
ADJUST = {"points": 50, "reason": "sorry for the late parcel"}
out = ROOT / "member-center" / "90d-adjust-points.json"
out.write_text(json.dumps(event("POST", "/v1/{brand}/{store_group}/members/{member}/points", f"{BASE}/members/buyer-1/points",
                                ADJUST, OPS, "", {"idempotency-key": "goodwill-1"}), indent=2) + "\n")
for name, method, route, path, body, claims in CLOSE:
    out = ROOT / "close-campaign" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims), indent=2) + "\n")
for function, name, body in WORKERS:
    out = ROOT / function / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(sqs(body), indent=2) + "\n")
# Store visits: the sample order's parcel, dispatched (41), booked into a pickup slot
# before it is collected (42); a store's day of bookings; a try-on of a pair at Tianhe
# in the 11:00 slot, the buyer's view of it (with its code), and the guide checking the
# visitor in (the visit's id and code are swapped in from the try-on's answer).
VISIT = "V202611231100DEMOVISIT0000000000"
VISITS = [
    ("41a-book-pickup", "PUT", "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/appointment",
     f"{BASE}/orders/{ORDER}/parcels/1/appointment", {"date": "2026-11-23", "start": "12:00"}, BUYER, ""),
    ("41b-day-bookings", "GET", "/v1/{brand}/{store_group}/stores/{store}/appointments",
     f"{BASE}/stores/gz-tianhe/appointments", None, OPS, "date=2026-11-23"),
    ("41c-try-on", "POST", "/v1/{brand}/{store_group}/campaigns/{campaign}/visits",
     f"{BASE}/campaigns/summer-clearance/visits",
     {"store": "gz-tianhe", "date": "2026-11-23", "start": "11:00", "items": [{"sku": "SD-1001", "size": "36"}]},
     BUYER, ""),
    ("41d-my-visit", "GET", "/v1/{brand}/{store_group}/campaigns/{campaign}/visit",
     f"{BASE}/campaigns/summer-clearance/visit", None, BUYER, ""),
    ("41e-check-in", "POST", "/v1/{brand}/{store_group}/stores/{store}/visits/{visit}/check-in",
     f"{BASE}/stores/gz-tianhe/visits/{VISIT}/check-in", {"code": "737373", "guide": "gz-tianhe-g1"}, GUIDE, ""),
]
for name, method, route, path, body, claims, query in VISITS:
    out = ROOT / "store-visits" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims, query), indent=2) + "\n")
# A guide's poster of a product: drawn once, then served from the bucket.
out = ROOT / "guide-posters" / "85-poster.json"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(event("POST", "/v1/{brand}/{store_group}/guides/{guide}/posters",
                                f"{BASE}/guides/gz-tianhe-g1/posters", {"campaign": "summer-clearance", "sku": "SD-1001"},
                                GUIDE, ""), indent=2) + "\n")
# Parcels: the sample order is collected at its store, so its parcel's track is read
# after pickup; staff list parcels needing a person; a waybill is followed.
PARCELS = [
    ("43-parcel-track", "GET", "/v1/{brand}/{store_group}/orders/{order}/parcels/{parcel}/track",
     f"{BASE}/orders/{ORDER}/parcels/1/track", None, BUYER),
    ("44-parcels-attention", "GET", "/v1/{brand}/{store_group}/parcels/attention", f"{BASE}/parcels/attention", None, OPS),
]
for name, method, route, path, body, claims in PARCELS:
    out = ROOT / "ship-parcels" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(event(method, route, path, body, claims), indent=2) + "\n")
out = ROOT / "courier-worker" / "45-follow-waybill.json"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(sqs({"subscribe": {"carrier": "sf", "waybill": "SF1234567890", "tenant": "demo/south-china",
                                              "order": ORDER, "parcel": 1}}), indent=2) + "\n")
SCHEDULES = [("order-timeout-worker", "52-sweep-unpaid", "clearance-sweep-unpaid"),
             ("close-worker", "93-sweep-campaigns", "clearance-sweep-campaigns")]
for function, name, rule in SCHEDULES:
    out = ROOT / function / f"{name}.json"
    out.write_text(json.dumps(scheduled(rule), indent=2) + "\n")
print(f"wrote {len(MANAGE) + len(BROWSE) + len(ORDERS) + len(REFUNDS) + len(GROUPS) + len(ATTRIBUTION) + len(MEMBERS) + 3 + len(CLOSE) + len(WORKERS) + len(SCHEDULES) + len(PARCELS) + 2 + len(VISITS)} events under {ROOT}")
