#!/usr/bin/env bash
# Association rules on 1M generated baskets (50,000 items, power-law
# popularity, mean 10 items): gramrec rules, then Spark's FPGrowth
# (local[2]) on the same file and thresholds, one after the other.
# Needs the Python of tests/run-all.sh (target/interop-venv) and a JRE.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/target/interop-venv/bin/python}
baskets=${BASKETS:-1000000} items=${ITEMS:-50000}
support=${SUPPORT:-0.0005} confidence=${CONFIDENCE:-0.1}
work=${WORK:-$(mktemp -d)}
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
cd "$work"
[ -s baskets.txt ] || "$py" "$root/benches/rules.py" make "$baskets" "$items" baskets.txt
ls -l baskets.txt | awk '{print "baskets.txt: " $5 " bytes"}'
/usr/bin/time -f "gramrec rules: %e s, peak %M KB" "$root/target/release/gramrec" rules --format baskets \
  --input baskets.txt --min-support "$support" --min-confidence "$confidence" --out rules.jsonl --itemsets itemsets.jsonl
/usr/bin/time -f "spark (python + JVM): %e s, peak %M KB" "$py" "$root/benches/rules.py" spark baskets.txt "$support" "$confidence" 2>&1 |
  grep -E "spark FPGrowth|^spark \(python"
