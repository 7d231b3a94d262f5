#!/usr/bin/env bash
# `gramrec serve` under a real HTTP load generator (wrk, Debian's package):
# a model of 100,000 users × 100,000 items × 64 factors (implicit, seeded
# synthetic data, 2M interactions), on this machine, with wrk on the same
# cores. Known-user top-10, fold-in top-10 from 20-item histories, and
# durable events (each fsynced before its answer), at 1, 16 and 64
# connections; known-user top-10 also with micro-batching off (--batch 1).
# Usage: [WORK=dir to keep the model] [GRAMREC=binary] bash benches/serve.sh [SECONDS per run, default 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
work=${WORK:-$(mktemp -d)}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# GRAMREC=path runs another build (an older one, for a comparison in one session).
if [ -z "${GRAMREC:-}" ]; then cargo build --release --quiet --manifest-path "$root/Cargo.toml"; fi
g=${GRAMREC:-$root/target/release/gramrec}
cd "$work"
if [ ! -s model/items.gramrec ]; then
  "$g" generate --kind implicit --users 100000 --items 100000 --nnz 2000000 --seed 42 --out data.csv
  "$g" train -q --input data.csv --implicit --factors 64 --iterations 3 --out model
fi
port=18181
cat > user.lua <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/users/u" .. math.random(0, 99999) .. "/recommendations?k=10")
end
LUA
cat > foldin.lua <<'LUA'
math.randomseed(os.time())
request = function()
  local h = {}
  for i = 1, 20 do h[i] = '{"item":"i' .. math.random(0, 99999) .. '"}' end
  return wrk.format("POST", "/v1/recommendations", {["Content-Type"] = "application/json"},
    '{"history":[' .. table.concat(h, ",") .. '],"k":10}')
end
LUA
cat > events.lua <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("POST", "/v1/users/u" .. math.random(0, 99999) .. "/events",
    {["Content-Type"] = "application/json"}, '{"item":"i' .. math.random(0, 99999) .. '","weight":1}')
end
LUA
start() {
  rm -f events.jsonl
  "$g" serve -q --model model --events events.jsonl --listen 127.0.0.1:$port "$@" &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && return; sleep 0.2; done
  echo "the server did not start" >&2; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; }
# One wrk run: prints "requests/s p50 p99" (latencies in ms).
load() {
  local script=$1 conns=$2 threads=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency -s "$script" http://127.0.0.1:$port 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { printf "%9.0f %8.2f %8.2f%s\n", rps, p50, p99, bad ? "  non-2xx: " bad : "" }'
}
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $seconds s per run"
printf '%-34s %5s %9s %8s %8s\n' workload conns "req/s" "p50 ms" "p99 ms"
start
for c in 1 16 64; do printf '%-34s %5d ' "known-user top-10" "$c"; load user.lua "$c"; done
for c in 1 16 64; do printf '%-34s %5d ' "fold-in top-10 (20 items)" "$c"; load foldin.lua "$c"; done
for c in 1 16 64; do printf '%-34s %5d ' "events (durable)" "$c"; load events.lua "$c"; done
curl -s http://127.0.0.1:$port/metrics | awk '/^gramrec_(event_commits|events_accepted|scoring_batch)/ { print "  " $0 }'
stop
start --batch 1
for c in 16 64; do printf '%-34s %5d ' "known-user top-10, --batch 1" "$c"; load user.lua "$c"; done
stop
