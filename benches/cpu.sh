#!/usr/bin/env bash
# CPU training speed on the synthetic set shaped like the issue's race
# (200,000 users × 50,000 items × 10M interactions, power law), both solvers
# in one run so their ratio is measured under the same conditions; then the
# loader's throughput on a 10M-line CSV.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
for f in ${FACTORS:-64}; do
  for solver in cg cholesky; do
    "$g" bench --users 200000 --items 50000 --nnz 10000000 --factors "$f" --iterations 3 --solver "$solver"
  done
done
csv=$(mktemp --suffix=.csv)
"$g" generate --users 200000 --items 50000 --nnz 10000000 --out "$csv"
load() { "$g" train --input "$1" --factors 8 --iterations 1 --out "$(mktemp -d)" 2>&1 | grep '^read'; }
for run in 1 2 3; do load "$csv"; done
gzip -1 -c "$csv" > "$csv.gz"
load "$csv.gz"
rm -f "$csv" "$csv.gz"
