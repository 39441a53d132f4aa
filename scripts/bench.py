#!/usr/bin/env python3
"""One table of the product's performance on this machine (scripts/bench runs it).

Builds every function, the bare lambda_runtime binary and the local server in release
mode; measures each function's stripped size and cold start (scripts/coldstart.py on a
moto_server); then, against a fresh release local server on its embedded store: browse
(wrk, a products page and a product, 1 and 32 connections), place-order (1 and 32
clients), group joins and refund decisions (32 clients), each with the DynamoDB calls
per operation the server counted. Prints a Markdown table (and the machine).

With --arm64 it also builds the deployed artefacts (cargo-lambda, zig as the linker,
for Graviton) and adds their sizes; that installs the aarch64 target and cargo-lambda.
"""
import os
import pathlib
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import json
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"
VENV = ROOT / ".venv" / "bin"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listening on {port}")


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def functions():
    return sorted(p.stem for p in (ROOT / "functions" / "src" / "bin").glob("*.rs"))


def wrk(url, conns):
    out = run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", "8s", "--latency", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    return rps, pct(50), pct(99)


def load(port, n, conc, *flags):
    out = run([str(REL / "load"), "--url", f"http://127.0.0.1:{port}", "--orders", str(n),
               "--concurrency", str(conc), *flags])
    return out


def call(method, url, body=None, token=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        return r.status, json.loads(r.read())


def posters(port):
    """A guide's poster against the local server: the first request draws it, the next
    ones find it by its content hash. Returns (drawn ms, cached p50, cached p99, calls of
    a cached one, PNG bytes)."""
    host = f"http://127.0.0.1:{port}"
    _, tok = call("POST", f"{host}/dev/token", {"role": "guide", "sub": "guide-gz-tianhe-g1", "tenants": ["demo/south-china"]})
    url = f"{host}/v1/demo/south-china/guides/gz-tianhe-g1/posters"
    ask = {"campaign": "summer-clearance", "sku": "SD-1002"}
    t = time.perf_counter()
    status, first = call("POST", url, ask, tok["token"])
    drawn = (time.perf_counter() - t) * 1e3
    assert status == 201 and not first["cached"], first
    _, before = call("GET", f"{host}/dev/stats")
    status, again = call("POST", url, ask, tok["token"])
    _, after = call("GET", f"{host}/dev/stats")
    assert status == 200 and again["cached"], again
    s3 = {k: after["s3"][k] - before["s3"][k] for k in ("get", "head", "put")}
    dynamo = after["total"] - before["total"]
    times = []
    for _ in range(300):
        t = time.perf_counter()
        call("POST", url, ask, tok["token"])
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    calls = f"{dynamo} DynamoDB (GetItem, BatchGetItem); S3: {s3['head']} ranged GetObject (is it there), {s3['get']} GetObject, {s3['put']} PutObject"
    return drawn, times[len(times) // 2], times[len(times) * 99 // 100], calls, first["bytes"]


def arm64_sizes(pkgs):
    """The sizes of what `sam build` deploys: cargo-lambda's arm64 bootstraps."""
    print("==> cargo lambda build --release --arm64", file=sys.stderr)
    subprocess.run(["rustup", "target", "add", "aarch64-unknown-linux-gnu"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([str(VENV / "pip"), "install", "--quiet", "--disable-pip-version-check",
                    "cargo-lambda==1.9.2", "ziglang==0.17.1"], check=True)
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}")
    subprocess.run([str(VENV / "cargo-lambda"), "lambda", "build", "--release", "--arm64", "--locked", *pkgs],
                   check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return {f: (ROOT / "target" / "lambda" / f / "bootstrap").stat().st_size / 2**20
            for f in functions() + ["bare-lambda"]}


def main():
    if not shutil.which("wrk"):
        print("==> installing wrk from Debian's packages", file=sys.stderr)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    print("==> cargo build --release (every function, bare-lambda, clearance-local)", file=sys.stderr)
    pkgs = ["-p", "clearance-functions", "-p", "bare-lambda", "-p", "clearance-local"]
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", *pkgs], check=True, cwd=ROOT)

    arm = {}
    if "--arm64" in sys.argv[1:]:
        arm = arm64_sizes(["-p", "clearance-functions", "-p", "bare-lambda"])

    rows = []
    # Cold start and size, on moto_server.
    moto_port = free_port()
    moto = subprocess.Popen([str(VENV / "python"), "scripts/moto_serial.py", "127.0.0.1", str(moto_port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(moto_port)
        print("==> cold starts (15 each)", file=sys.stderr)
        cold = run([sys.executable, "scripts/coldstart.py", str(REL), f"http://127.0.0.1:{moto_port}",
                    f"bench-{int(time.time())}"])
    finally:
        moto.terminate()
    starts = {}
    for line in cold.splitlines():
        parts = line.split()
        if len(parts) == 5 and re.match(r"[\d.]+$", parts[1]):
            starts[parts[0]] = (float(parts[1]), float(parts[2]), float(parts[3]), float(parts[4]))

    # Throughput against the release local server.
    port = free_port()
    server = subprocess.Popen([str(REL / "clearance-local"), "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        base = f"http://127.0.0.1:{port}/v1/demo/south-china/campaigns/summer-clearance"
        print("==> browse (wrk)", file=sys.stderr)
        for conns in (1, 32):
            rps, p50, p99 = wrk(f"{base}/products?limit=20", conns)
            rows.append(("browse: products page", conns, f"{rps:,.0f}/s", p50, p99, "1 Query per page per second"))
        rps, p50, p99 = wrk(f"{base}/products/SD-1003", 32)
        rows.append(("browse: one product", 32, f"{rps:,.0f}/s", p50, p99, "1 Query per product per second"))
        # Search: uncached per request (parse + rank over the catalogue snapshot).
        query = urllib.parse.quote("400元内通勤单鞋 38码")
        for conns in (1, 32):
            rps, p50, p99 = wrk(f"{base}/search?q={query}", conns)
            rows.append(("browse: search 400元内通勤单鞋 38码", conns, f"{rps:,.0f}/s", p50, p99,
                         "none per request (catalogue: 1 Query + 1 GetItem per second)"))
        print("==> place-order, joins, refund decisions (load)", file=sys.stderr)
        for conc, n in ((1, 1000), (32, 5000)):
            out = load(port, n, conc)
            rate = float(re.search(r"([\d.]+) orders/s", out).group(1))
            p50, p99 = (float(x) for x in re.search(r"p50 ([\d.]+) ms, p95 [\d.]+ ms, p99 ([\d.]+) ms", out).groups())
            calls = re.search(r"per order \(counted by the server\): ([\d.]+) total", out).group(1)
            rows.append(("place-order", conc, f"{rate:,.0f}/s", p50, p99, f"{calls} (BatchGetItem + TransactWriteItems)"))
        out = load(port, 3000, 32, "--groups")
        m = re.findall(r"concurrency 32: ([\d.]+)/s over [\d.]+ s; latency p50 ([\d.]+) ms, p95 [\d.]+ ms, p99 ([\d.]+) ms", out)
        calls = re.search(r"per join \(counted by the server\): ([\d.]+) total", out).group(1)
        rate, p50, p99 = m[-1]
        rows.append(("join a group", 32, f"{float(rate):,.0f}/s", float(p50), float(p99), calls))
        out = load(port, 2000, 32, "--refunds")
        m = re.findall(r"concurrency 32: ([\d.]+)/s over [\d.]+ s; latency p50 ([\d.]+) ms, p95 [\d.]+ ms, p99 ([\d.]+) ms", out)
        calls = re.search(r"per decision \(counted by the server\): ([\d.]+) total", out).group(1)
        rate, p50, p99 = m[-1]
        rows.append(("refund: request to decision", 32, f"{float(rate):,.0f}/s", float(p50), float(p99), calls))
        print("==> posters (local server)", file=sys.stderr)
        drawn, p50, p99, calls, png = posters(port)
        rows.append((f"poster: first request (drawn, {png:,} B PNG; font read once) {drawn:.1f} ms", 1, "-", p50, p99,
                     "cached, p50/p99 of 300: " + calls))
    finally:
        server.terminate()

    print("==> cargo bench -p poster-bench (drawing, warm)", file=sys.stderr)
    out = run(["cargo", "bench", "--locked", "-p", "poster-bench", "--bench", "posters"])
    m = re.search(r"poster: p50 ([\d.]+) ms, p99 ([\d.]+) ms over 300 draws; PNG (\d+) bytes", out)
    rows.append((f"poster: drawn and encoded, warm ({int(m.group(3)):,} B PNG)", 1, "-", float(m.group(1)),
                 float(m.group(2)), "none (drawing only)"))

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {os.cpu_count()} x {cpu}, {platform.system()} {platform.release()}\n")
    print("| operation | clients | throughput | p50 ms | p99 ms | DynamoDB calls per operation |")
    print("|---|---|---|---|---|---|")
    for what, c, rate, p50, p99, calls in rows:
        print(f"| {what} | {c} | {rate} | {p50:.2f} | {p99:.2f} | {calls} |")
    print()
    arm_head = " arm64 size MiB |" if arm else ""
    print(f"| function | x86_64 size MiB |{arm_head} init ms | init x bare | first answer ms |")
    print("|---|---|" + ("---|" if arm else "") + "---|---|---|")
    for name, (init, ratio, first, size) in starts.items():
        arm_cell = f" {arm[name]:.2f} |" if name in arm else (" |" if arm else "")
        print(f"| {name} | {size:.2f} |{arm_cell} {init:.2f} | {ratio:.2f} | {first:.2f} |")


if __name__ == "__main__":
    main()
