#!/usr/bin/env bash
# Parquet loading, two builds side by side: the 10M interactions of
# benches/inputs.sh as one Parquet file and a partitioned folder, read by
# `gramrec train` (its loadSeconds; 2 threads) with binary A then B, ROUNDS
# rounds (default 3) interleaved. Usage: PYTHON=venv/bin/python
# bash benches/parquet_ab.sh OLD_BINARY NEW_BINARY
set -euo pipefail
a=$1 b=$2
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$b" generate --users 200000 --items 50000 --nnz 10000000 --out "$work/data.csv" 2>/dev/null
"$py" "$(dirname "$0")/to_parquet.py" "$work"
for round in $(seq "${ROUNDS:-3}"); do
  for input in data.parquet partitioned; do
    for bin in "$a" "$b"; do
      /usr/bin/time -f "%M" -o "$work/rss" "$bin" train --threads 2 --factors 8 --iterations 1 --device cpu --json -q --input "$work/$input" --out "$work/m" |
        "$py" -c "import json,sys; r=json.load(sys.stdin); print(f'round $round $input $bin: {r[\"read\"]} rows, load {r[\"loadSeconds\"]:.2f} s, peak RSS {int(open(\"$work/rss\").read())//1024} MB')"
    done
  done
done
