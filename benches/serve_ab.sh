#!/usr/bin/env bash
# Durable events and fold-in at 64 connections, two builds alternating
# (wrk, 5 s each, ROUNDS rounds, default 3), on the model benches/serve.sh
# builds in WORK. Usage: WORK=dir bash benches/serve_ab.sh OLD NEW
# (run `WORK=dir bash benches/serve.sh` once first to make the model and
# the request scripts).
set -euo pipefail
cd "${WORK:?WORK names the folder of benches/serve.sh}"
for round in $(seq "${ROUNDS:-3}"); do
  for bin in "$1" "$2"; do
    rm -f events.jsonl
    "$bin" serve -q --model model --events events.jsonl --listen 127.0.0.1:18282 &
    pid=$!
    for _ in $(seq 100); do curl -sf http://127.0.0.1:18282/healthz >/dev/null && break; sleep 0.2; done
    events=$(wrk -t2 -c64 -d5s -s events.lua http://127.0.0.1:18282 | awk '/^Requests\/sec/ {print $2}')
    foldin=$(wrk -t2 -c64 -d5s -s foldin.lua http://127.0.0.1:18282 | awk '/^Requests\/sec/ {print $2}')
    echo "round $round $bin: events/s $events, fold-in/s $foldin"
    kill -TERM "$pid"
    wait "$pid" || true
  done
done
