#!/usr/bin/env bash
# Do the defaults read the data well? A seeded synthetic "play counts" set
# (`gramrec generate --kind implicit --counts`: log-normal counts, median
# about 100, a tail into the hundreds of thousands), split per user 80/20,
# trained with the defaults (which read the values) and scored once on the
# held-out part, beside a grid of held-out figures over factors, λ, α and
# both confidence curves. The grid is scored on the test part itself, so its
# best cell is an upper bound no default could be tuned to.
# Usage: bash benches/defaults.sh [work dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
cd "$work"
[ -s plays.csv ] || "$g" generate --kind implicit --counts --users 20000 --items 5000 --nnz 1000000 --seed 42 --out plays.csv
[ -s split/train.csv ] || "$g" split --input plays.csv --out split --mode per-user --test-fraction 0.2 --seed 42
ndcg() { "$g" evaluate --json -m "$1" --train split/train.csv --test split/test.csv | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["ndcg"])'; }
echo "== defaults (the log says what was read from the values)"
"$g" train -i split/train.csv -o defaults 2>&1 | grep -E "^--"
echo "defaults: NDCG@10 $(ndcg defaults)"
"$g" train -q -i split/train.csv --confidence linear -o linear
echo "linear confidence, otherwise defaults: NDCG@10 $(ndcg linear)"
echo "== grid (held-out NDCG@10)"
for confidence in linear log; do
  for factors in 32 64 128; do
    for reg in 10 30 100 200 400; do
      for alpha in 1 3; do
        "$g" train -q -i split/train.csv --confidence $confidence --factors $factors --reg $reg --alpha $alpha -o cell
        echo "$confidence factors $factors reg $reg alpha $alpha: $(ndcg cell)"
      done
    done
  done
done | tee grid.txt
sort -t: -k2 -g grid.txt | tail -1 | sed 's/^/best cell: /'
