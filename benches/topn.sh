#!/usr/bin/env bash
# Top-N for every user at the issue's scale: 1M users × 100k items × 64 factors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
/usr/bin/time -v "$root/target/release/gramrec" bench --recommend-all --users 1000000 --items 100000 --factors 64 \
  2>&1 | grep -E "^top|Elapsed|Maximum resident"
