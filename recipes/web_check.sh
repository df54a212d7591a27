#!/usr/bin/env bash
# A real-browser check of the studio outside the unit tests: start `multistyle serve`, drive the image tab in
# headless Chromium (Debian's `chromium`), screenshot each tab into docs/, stop the server.
# Usage: recipes/web_check.sh        (installs chromium with apt-get when missing and run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PORT=${PORT:-7861}
if ! command -v chromium >/dev/null; then
  [ "$(id -u)" = 0 ] && apt-get install -y -qq chromium >/dev/null
fi
"$PY" -c "import websockets" 2>/dev/null || "$PY" -m pip install --quiet websockets  # the DevTools client of web_check.py
"$PY" -m multistyle serve --port "$PORT" > /tmp/multistyle_serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/api/info" >/dev/null && break; sleep 1; done
"$PY" recipes/web_check.py --port "$PORT" --out docs
