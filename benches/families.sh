#!/usr/bin/env bash
# Issue 17's MovieLens 100K targets against what is within reach: the spread
# of gramrec's implicit defaults over seeds; another model family (EASE) and
# its blend with gramrec, chosen on a validation split of the training part
# and scored once on test; and, for the RMSE target, a NumPy prototype of
# Bayesian PMF beside gramrec's explicit defaults.
# Usage: bash benches/families.sh [path/to/u.data] [work dir]
# Needs the Python of tests/run-all.sh (target/interop-venv) for NumPy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/ml-100k/u.data}
work=${2:-$(mktemp -d)}
py=${PYTHON:-$root/target/interop-venv/bin/python}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
python3 "$root/benches/ml100k_split.py" "$data" "$work"
cd "$work"
ndcg() { "$g" evaluate --json -m "$1" --train user_train.tsv --test user_test.tsv |
  python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["ndcg"])'; }
echo "== implicit defaults, per-user split, seeds 1-10"
for seed in $(seq 1 10); do
  "$g" train -q --implicit --seed "$seed" -i user_train.tsv -o "seed-$seed"
  ndcg "seed-$seed"
done | python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin]; print(" ".join(f"{x:.4f}" for x in v)); print(f"mean {s.mean(v):.4f}, sd {s.stdev(v):.4f}, min {min(v):.4f}, max {max(v):.4f}")'
echo "== EASE and a blend, chosen on a per-user 10% validation split of user_train.tsv"
"$g" split --mode per-user --test-fraction 0.1 --seed 42 -i user_train.tsv -o validation >/dev/null
"$g" train -q --implicit -i validation/train.tsv -o model-fit
"$g" train -q --implicit -i user_train.tsv -o model-train
"$g" export -m model-fit --to npy -o npy-fit --overwrite >/dev/null
"$g" export -m model-train --to npy -o npy-train --overwrite >/dev/null
"$py" "$root/benches/families.py" validation/train.tsv validation/test.tsv user_train.tsv user_test.tsv npy-fit npy-train
echo "== explicit, random split: gramrec defaults, and Bayesian PMF (benches/bpmf.py) with seeds 1-3"
"$g" train -q -i rand_train.tsv -o explicit-rand
"$g" evaluate -m explicit-rand --train rand_train.tsv --test rand_test.tsv | grep RMSE
for seed in 1 2 3; do
  "$py" "$root/benches/bpmf.py" rand_train.tsv rand_test.tsv "$seed"
done
