#!/usr/bin/env bash
# Issue 34: `train --method bayes` (Bayesian PMF by Gibbs sampling) against
# ALS's explicit defaults on MovieLens 100K, by RMSE with default settings:
# random 80/20 splits with seeds 1-3 and per-user splits with seeds 1-3
# (`gramrec split`), each model trained with its seed 42 defaults; then the
# sampler's seeds 1-3 on the first random split beside benches/bpmf.py's
# (NumPy, the reference) on the same split, with the wall time of both; the
# chain's length (--samples 50, 100, 200); and the wall time of a sweep
# beside an ALS iteration there and, with BIG=1 (minutes), on 10M generated
# ratings.
# Usage: [GRAMREC=binary] bash benches/bayes.sh [path/to/u.data] [work dir]
# Needs the Python of tests/run-all.sh (target/interop-venv) for NumPy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath "${1:-$root/../shared/data/ml-100k/u.data}")
work=${2:-$(mktemp -d)}
py=${PYTHON:-$root/target/interop-venv/bin/python}
mkdir -p "$work"
# GRAMREC: a gramrec binary to measure instead of building this checkout's.
g=${GRAMREC:-}
if [ -z "$g" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  g=$root/target/release/gramrec
fi
cd "$work"
rmse() { "$g" evaluate --json -m "$1" --train "$2" --test "$3" |
  python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["rmse"])'; }
# Seconds of a command's wall time.
timed() { local s; s=$(date +%s.%N); "$@"; python3 -c "import sys; print('%.2f' % ($(date +%s.%N) - $s))"; }
mean() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(" / ".join(f"{x:.4f}" for x in v), f"mean {s.mean(v):.4f}")' "$@"; }
for mode in random per-user; do
  als=(); bayes=()
  for seed in 1 2 3; do
    "$g" split --mode "$mode" --seed "$seed" -i "$data" -o "split-$mode-$seed" >/dev/null
    s=split-$mode-$seed
    "$g" train -q --explicit -i "$s/train.data" -o "$s/als"
    "$g" train -q --method bayes -i "$s/train.data" -o "$s/bayes"
    als+=("$(rmse "$s/als" "$s/train.data" "$s/test.data")")
    bayes+=("$(rmse "$s/bayes" "$s/train.data" "$s/test.data")")
  done
  echo "== $mode splits, seeds 1-3: RMSE"
  echo "ALS defaults:        $(mean "${als[@]}")"
  echo "--method bayes:      $(mean "${bayes[@]}")"
done
s=split-random-1
echo "== the sampler's seeds 1-3 on random split 1, and benches/bpmf.py's (10 factors, 200 sweeps, NumPy)"
for seed in 1 2 3; do
  t=$(timed "$g" train -q --method bayes --seed "$seed" -i "$s/train.data" -o "$s/bayes-$seed")
  echo "gramrec --method bayes, seed $seed: RMSE $(rmse "$s/bayes-$seed" "$s/train.data" "$s/test.data"), ${t} s"
  t=$(timed "$g" train -q --method bayes --factors 10 --samples 180 --seed "$seed" -i "$s/train.data" -o "$s/bayes10-$seed")
  echo "gramrec --method bayes --factors 10 --samples 180, seed $seed: RMSE $(rmse "$s/bayes10-$seed" "$s/train.data" "$s/test.data"), ${t} s"
  cut -f1-3 "$s/train.data" > bpmf_train.tsv
  cut -f1-3 "$s/test.data" > bpmf_test.tsv
  t=$(timed sh -c "\"$py\" \"$root/benches/bpmf.py\" bpmf_train.tsv bpmf_test.tsv $seed > bpmf.out")
  echo "bpmf.py: $(cat bpmf.out), ${t} s"
done
echo "== chain length on random split 1: RMSE of seeds 1-3 (burn-in 20)"
for samples in 50 100 200; do
  r=()
  for seed in 1 2 3; do
    "$g" train -q --method bayes --samples "$samples" --seed "$seed" -i "$s/train.data" -o "$s/len-$samples-$seed"
    r+=("$(rmse "$s/len-$samples-$seed" "$s/train.data" "$s/test.data")")
  done
  echo "--samples $samples: $(mean "${r[@]}")"
done
echo "== wall time: ALS iterations and sampler sweeps on random split 1 (--json history)"
per_round() { python3 -c 'import json,sys; h=json.load(sys.stdin)["iterations"]; print("%.4f" % (sum(r["seconds"] for r in h) / len(h)))'; }
echo "ALS defaults (CG): $("$g" train -q --json --explicit -i "$s/train.data" -o als-t | per_round) s per iteration"
echo "ALS --solver cholesky: $("$g" train -q --json --explicit --solver cholesky -i "$s/train.data" -o chol-t | per_round) s per iteration"
echo "--method bayes: $("$g" train -q --json --method bayes -i "$s/train.data" -o bayes-t | per_round) s per sweep"
if [ -n "${BIG:-}" ]; then
  echo "== wall time on 10M generated ratings (200,000 users x 50,000 items; 64 factors; 2 iterations / sweeps)"
  [ -f big.csv ] || "$g" generate --kind explicit --users 200000 --items 50000 --nnz 10000000 --seed 1 --out big.csv
  echo "ALS defaults (CG): $("$g" train -q --json --explicit --iterations 2 -i big.csv -o big-als | per_round) s per iteration"
  echo "ALS --solver cholesky: $("$g" train -q --json --explicit --solver cholesky --iterations 2 -i big.csv -o big-chol | per_round) s per iteration"
  echo "--method bayes: $("$g" train -q --json --method bayes --burn-in 0 --samples 2 -i big.csv -o big-bayes | per_round) s per sweep"
fi
