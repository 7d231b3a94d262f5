#!/usr/bin/env bash
# Loading speed: the same 10M interactions as CSV, gzip CSV, one Parquet file
# and a Parquet folder partitioned 8 ways, read by `gramrec train` (its
# loadSeconds; 2 threads), ROUNDS rounds (default 3) with the formats interleaved.
# Needs pyarrow for the conversion: PYTHON=/path/to/venv/bin/python.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$g" generate --users 200000 --items 50000 --nnz 10000000 --out "$work/data.csv" 2>/dev/null
gzip -1 -c "$work/data.csv" > "$work/data.csv.gz"
"$py" "$(dirname "$0")/to_parquet.py" "$work"
echo "rows: $(($(wc -l < "$work/data.csv") - 1)); bytes: csv $(stat -c %s "$work/data.csv"), gzip $(stat -c %s "$work/data.csv.gz"), parquet $(stat -c %s "$work/data.parquet"), partitioned $(du -sb "$work/partitioned" | cut -f1)"
for round in $(seq "${ROUNDS:-3}"); do
  for input in data.csv data.csv.gz data.parquet partitioned; do
    "$g" train --threads 2 --factors 8 --iterations 1 --device cpu --json -q --input "$work/$input" --out "$work/m" |
      "$py" -c "import json,sys; r=json.load(sys.stdin); print(f'round $round $input: {r[\"read\"]} rows in {r[\"loadSeconds\"]:.2f} s, {r[\"read\"]/r[\"loadSeconds\"]/1e6:.2f} M rows/s, {r[\"loadMBps\"]:.0f} MB/s of the input')"
  done
done
