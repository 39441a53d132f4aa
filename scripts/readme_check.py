#!/usr/bin/env python3
"""Keeps the README's how-tos true.

1. Every file the README's command blocks name (events/..., scripts/..., infra/...)
   exists.
2. Every block preceded by `<!-- readme-check: run -->` runs as written, in order, in
   one bash session (`set -euo pipefail`), against a fresh local server on a free port
   (the README's 127.0.0.1:3000 is rewritten to it). `curl` fails the run on a 5xx or a
   connection error; the blocks' own checks (python3 asserts) fail it otherwise.

Usage: readme_check.py PATH_TO_CLEARANCE_LOCAL_BINARY
"""
import pathlib
import re
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

blocks = re.findall(r"(<!-- readme-check: run -->\n)?```(?:sh|bash)\n(.*?)```", README, re.S)
missing = []
for _, code in blocks:
    for path in re.findall(r"(?<![\w/.-])((?:events|scripts|infra|bench)/[\w./-]+)", code):
        if not (ROOT / path).exists():
            missing.append(path)
if missing:
    sys.exit(f"README names files that do not exist: {sorted(set(missing))}")

runnable = [code for marker, code in blocks if marker]
if not runnable:
    sys.exit("no README block is marked `<!-- readme-check: run -->`")

binary = str(pathlib.Path(sys.argv[1]).resolve())
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
log = open(ROOT / "target" / "readme-check-server.log", "w")
server = subprocess.Popen([binary, "--port", str(port)], cwd=ROOT / "target", stdout=log, stderr=log)
try:
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                sys.exit("the local server did not start; see target/readme-check-server.log")
            time.sleep(0.2)
    prelude = r"""
set -euo pipefail
curl() {
  local out code
  out=$(command curl -sS -w '\n%{http_code}' "$@") || { echo "curl failed: $*" >&2; return 1; }
  code=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
  if [ "$code" -ge 500 ]; then echo "HTTP $code from: $*" >&2; return 1; fi
}
"""
    script = prelude + "\n".join(runnable).replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        print(result.stdout[-4000:])
        print(result.stderr[-4000:], file=sys.stderr)
        sys.exit(f"a README walk-through failed (exit {result.returncode})")
    print(f"README: {len(runnable)} walk-through blocks ran; the files named in all {len(blocks)} blocks exist")
finally:
    server.terminate()
    server.wait()
