#!/usr/bin/env python3
"""Takes docs/report-demo.png: the demo campaign's report page as a headless Chromium
renders it. Starts a fresh local server (its embedded store), sells a few dozen orders
through guides' links (some picked up, one returned, a group buy), closes the campaign
with no grace, waits for the report, and screenshots its HTML page.

Usage: scripts/report-screenshot.py [path/to/clearance-local]   (default target/debug)
"""
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/debug/clearance-local")
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
HOST = f"http://127.0.0.1:{port}"
B = f"{HOST}/v1/demo/south-china"


def call(method, url, body=None, token=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
    except urllib.error.HTTPError as e:
        raw = e.read()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()


def token(role, sub, tenants=None):
    body = {"role": role, "sub": sub}
    if tenants:
        body["tenants"] = tenants
    return call("POST", f"{HOST}/dev/token", body)["token"]


server = subprocess.Popen([binary, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    ops = token("ops", "ops-1", ["demo/south-china"])
    guides = [("gz-tianhe-g1", "gz-tianhe"), ("sz-futian-g1", "sz-futian"), ("fs-chancheng-g2", "fs-chancheng"),
              ("gz-tianhe-g2", "gz-tianhe")]
    skus = ["SD-1001", "SD-1002", "SD-1005", "PM-2001", "PM-2003", "PM-2006"]
    sold = []
    for i in range(36):
        guide, _ = guides[i % len(guides)]
        gt = token("guide", f"guide-{guide}", ["demo/south-china"])
        link = call("POST", f"{B}/guides/{guide}/share-links", {"campaign": "summer-clearance"}, gt)
        buyer = f"shot-{i}"
        bt = token("consumer", buyer)
        for size in ["36", "37", "38", "39"]:
            body = {"campaign": "summer-clearance", "coupon": "none", "share_token": link["token"],
                    "lines": [{"sku": skus[i % len(skus)], "size": size, "quantity": 1}]}
            placed = call("POST", f"{B}/orders", body, bt, {"idempotency-key": f"shot-{i}"})
            if isinstance(placed, dict) and "order" in placed:
                break
        else:
            continue
        order = placed["order"]["id"]
        call("POST", f"{HOST}/dev/orders/{order}/pay?tenant=demo/south-china")
        sold.append((bt, order))
    time.sleep(1)
    for n, (bt, order) in enumerate(sold):
        if n % 3 == 2:
            continue
        o = call("GET", f"{B}/orders/{order}", token=bt)
        for p in o.get("parcels", []):
            ct = token("store_manager", f"clerk-{p['store']}", ["demo/south-china"])
            call("POST", f"{B}/orders/{order}/pickup", {"code": p["pickup_code"], "parcel": p["id"]}, ct)
    bt, order = sold[0]
    o = call("GET", f"{B}/orders/{order}", token=bt)
    line = o["lines"][0]
    call("POST", f"{B}/orders/{order}/refunds",
         {"lines": [{"sku": line["sku"], "size": line["size"], "quantity": 1}], "reason": "wrong_size",
          "condition": {"unworn": True, "tags_on": True, "original_box": True}}, bt, {"idempotency-key": "shot-return"})
    call("POST", f"{B}/campaigns/summer-clearance/close", {"grace_minutes": 0}, ops)
    report = None
    for _ in range(150):
        state = call("GET", f"{B}/campaigns/summer-clearance/report", token=ops)
        if isinstance(state, dict) and state.get("links"):
            report = state
            break
        time.sleep(0.2)
    if not report:
        sys.exit(f"no report: {state}")
    with urllib.request.urlopen(report["links"]["html"]) as r:
        html = r.read()
    page = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    page.write_bytes(html)
    out = ROOT / "docs" / "report-demo.png"
    out.parent.mkdir(exist_ok=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,2200", f"--screenshot={out}", f"file://{page}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"wrote {out.relative_to(ROOT)} ({report['report']['edition']} report, {len(sold)} orders)")
finally:
    server.terminate()
    server.wait()
