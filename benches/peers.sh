#!/usr/bin/env bash
# gramrec's CPU training beside benfred/implicit 0.7.3 on the same file, the
# same objective and the same 2 threads, in one run: the shared peer
# harness's synthetic set (200,000 users × 50,000 items × 10M counts), at 64
# and 128 factors, CG (3 steps) and the exact solve, 3 iterations each.
# Seconds per iteration are the ALS half-steps alone on both sides (no
# loading; implicit's loss is not computed; gramrec sums its objective
# inside the item half-step, and that is counted in its time).
# Both use confidence 1 + α·r with α = 1 and λ = 0.05 unscaled. Then the
# loader's speed on the same CSV.
# Usage: bash benches/peers.sh [PEERS_DIR]   (default ../shared/peers)
# ROUNDS=N repeats the comparisons N times, interleaved (default 1): on a
# noisy machine each line's ratio is the figure, not either time alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=$(cd "${1:-$root/../shared/peers}" && pwd)
py=${PYTHON:-$root/target/interop-venv/bin/python}
work=${WORK:-$(mktemp -d)}
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
cd "$work"
[ -s s.npz ] || "$py" "$peers/synth.py" --users 200000 --items 50000 --nnz 10000000 --seed 42 --out s.npz --csv s.csv
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for round in $(seq "${ROUNDS:-1}"); do
  for factors in 64 128; do
    for solver in cg cholesky; do
      cg=$([ "$solver" = cg ] && echo --use-cg || echo --no-cg)
      implicit=$(OPENBLAS_NUM_THREADS=1 "$py" "$peers/bench_implicit.py" --train s.npz --factors "$factors" --iterations 3 \
        --regularization 0.05 --alpha 1.0 --confidence spark --threads 2 "$cg" --repeats 1 --label "$solver$factors" |
        tail -1 | "$py" -c 'import json, sys; print(json.load(sys.stdin)["fits"][0]["per_iter_median_s"])')
      ours=$("$g" train -q --json --input s.csv --implicit --factors "$factors" --iterations 3 --reg 0.05 --alpha 1 \
        --solver "$solver" --threads 2 --device cpu --out "m-$solver$factors" |
        "$py" -c 'import json, sys; print(*[i["seconds"] for i in json.load(sys.stdin)["iterations"]])' | tr ' ' '\n' | median)
      awk -v f="$factors" -v s="$solver" -v a="$ours" -v b="$implicit" \
        'BEGIN { printf "%s %d factors: gramrec %.3f s/iteration, implicit %.3f s/iteration, ratio %.2f\n", s, f, a, b, a / b }'
    done
  done
done
# The loader on the same CSV, three reads (the first may come from disk).
for run in 1 2 3; do
  "$g" train --input s.csv --implicit --factors 8 --iterations 1 --out m-load 2>&1 | grep '^read'
done
