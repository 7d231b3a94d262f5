#!/usr/bin/env bash
# Two builds of gramrec side by side, interleaved, on the same machine and data:
# training speed (MovieLens 100K explicit and implicit; the 10M-interaction
# synthetic set of `gramrec bench`), and tune's cross-validation.
# Usage: bash benches/ab.sh BEFORE AFTER [u.data] [rounds]
# Prints per round the median seconds per iteration (train, bench) and the
# wall seconds of tune, for each build; compare the ratios within a round.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
before=$1; after=$2
data=${3:-$root/../shared/data/ml-100k/u.data}
rounds=${4:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/benches/ml100k_split.py" "$data" "$work" >/dev/null
median() { python3 -c 'import json,sys; it=sorted(x["seconds"] for x in json.load(sys.stdin)["iterations"]); print(f"{it[len(it)//2]:.4f}")'; }
bench() { python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["medianSecondsPerIteration"])'; }
for round in $(seq "$rounds"); do
  for build in before after; do
    g=${!build}
    expl=$("$g" train -q --json --device cpu -i "$work/rand_train.tsv" -o "$work/m-$build" --iterations 15 | median)
    impl=$("$g" train -q --json --device cpu --implicit -i "$work/user_train.tsv" -o "$work/m-$build" --iterations 15 | median)
    big=$("$g" bench --json --device cpu --users 200000 --items 50000 --nnz 10000000 --factors 64 --iterations 3 | bench)
    start=$(date +%s.%N)
    "$g" tune -q --device cpu -i "$work/rand_train.tsv" --factors 16,32 --reg 0.05,0.1 --iterations 10 --folds 3 \
      -o "$work/t-$build" --results "$work/t-$build.csv" >/dev/null
    tune=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
    echo "round $round $build: ml100k explicit $expl s/it, implicit $impl s/it; bench 10M $big s/it; tune ${tune} s"
  done
done
