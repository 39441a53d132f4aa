#!/usr/bin/env python3
"""Cold start of each function against a bare lambda_runtime binary, on this machine.

A minimal Lambda Runtime API on loopback hands each freshly started process one event
and measures (1) init: process start to its first `GET /runtime/invocation/next`, and
(2) first invocation: from handing over the event to the posted response. Each function
runs against moto_server (AWS_ENDPOINT_URL), so its first invocation makes real
DynamoDB calls. Figures are medians of N runs, also as ratios to the bare binary, since
absolute times depend on the machine.

Usage: coldstart.py TARGET_DIR MOTO_URL TABLE [RUNS]
(build first: cargo build --release with every function, bare-lambda and clearance-local;
scripts/bench does).
The table is created and seeded with the demo tenant first (clearance-local
--seed-only), so a fresh moto_server is all it needs.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Runtime(BaseHTTPRequestHandler):
    event = b"{}"
    first_next = None
    handed = None
    done = None
    served = False

    def log_message(self, *a):
        pass

    def do_GET(self):
        cls = type(self)
        if cls.first_next is None:
            cls.first_next = time.perf_counter()
        if cls.served:
            time.sleep(30)  # hold the second poll; the process is killed before
            return
        cls.served = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(cls.event)))
        self.end_headers()
        self.wfile.write(cls.event)
        cls.handed = time.perf_counter()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        type(self).done = (time.perf_counter(), self.path, body[:200])
        self.send_response(202)
        self.end_headers()


def once(binary, event, env):
    Runtime.event, Runtime.first_next, Runtime.handed, Runtime.done, Runtime.served = event, None, None, None, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while Runtime.done is None and time.time() < deadline:
        time.sleep(0.0005)
    proc.kill()
    proc.wait()
    server.shutdown()
    if Runtime.done is None or Runtime.first_next is None:
        raise SystemExit(f"{binary}: no response (is moto_server up?)")
    if "/error" in Runtime.done[1]:
        raise SystemExit(f"{binary}: the invocation failed: {Runtime.done[2]!r}")
    return (Runtime.first_next - start) * 1e3, (Runtime.done[0] - Runtime.handed) * 1e3


def main():
    target, moto, table = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    env = dict(os.environ, AWS_ENDPOINT_URL=moto, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="local",
               AWS_SECRET_ACCESS_KEY="local", TABLE_NAME=table, RUST_LOG="error",
               AWS_LAMBDA_FUNCTION_NAME="f", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
               AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_LOG_STREAM_NAME="s", AWS_LAMBDA_LOG_GROUP_NAME="g",
               BUCKET_NAME="clearance-coldstart", PAYMENT_WEBHOOK_SECRET="x", SHARE_LINK_SECRET="x",
               PAYMENT_API_URL="https://pay.example.invalid",
               # the partners' adapters are built at init but call nobody until used
               COURIER_API_URL="https://couriers.example.invalid", CRM_API_URL="https://crm.example.invalid",
               MEMBER_PHONE_KEY="coldstart-phone-key-of-32-bytes-or-more",
               **{f"{q.upper().replace('-', '_')}_QUEUE_URL": f"{moto}/123456789012/{q}"
                  for q in ["fulfillment", "refunds", "order-timeouts", "group-expiry", "attribution",
                            "close-campaign"]})
    # The functions read real items: create and seed the table they are pointed at.
    subprocess.run([str(target / "clearance-local"), "--dynamodb-endpoint", moto, "--table", table, "--seed-only"],
                   check=True, stdout=subprocess.DEVNULL)
    ev = lambda p: (ROOT / "events" / p).read_bytes()
    cases = [
        ("bare-lambda", b'{"hello": "world"}'),
        ("browse-catalog", ev("browse-catalog/22-products.json")),
        ("manage-campaign", ev("manage-campaign/12-list-stores.json")),
        ("place-order", ev("place-order/35-my-orders.json")),
        ("join-group", ev("join-group/74-open-groups.json")),
        ("validate-refund", ev("validate-refund/62-list-pending.json")),
        ("attribute-guide-sale", ev("attribute-guide-sale/84-leaderboard.json")),
        ("close-campaign", ev("close-campaign/94-read-report.json")),
        ("fulfillment-worker", ev("fulfillment-worker/41-dispatch.json")),
        ("order-timeout-worker", ev("order-timeout-worker/51-expire-unpaid.json")),
        ("group-expiry-worker", ev("group-expiry-worker/76-expire-group.json")),
        ("refund-worker", ev("refund-worker/66-pay-refund.json")),
        ("attribution-worker", ev("attribution-worker/85-count-sale.json")),
        ("close-worker", ev("close-worker/93-sweep-campaigns.json")),
        ("ship-parcels", ev("ship-parcels/44-parcels-attention.json")),
        ("member-center", ev("member-center/89-me.json")),
        ("store-visits", ev("store-visits/41d-my-visit.json")),
    ]
    results = {}
    for name, event in cases:
        samples = [once(str(target / name), event, env) for _ in range(runs)]
        results[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    base_init = results["bare-lambda"][0]
    print(f"{'function':<22} {'init ms':>8} {'x bare':>7} {'1st invoke ms':>14} {'size MiB':>9}")
    for name, (init, first) in results.items():
        size = (target / name).stat().st_size / 1048576
        print(f"{name:<22} {init:8.2f} {init / base_init:7.2f} {first:14.2f} {size:9.2f}")
    print(f"(medians of {runs} cold starts each; init = exec to first poll of the runtime API)")


if __name__ == "__main__":
    main()
