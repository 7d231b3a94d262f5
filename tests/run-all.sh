#!/usr/bin/env bash
# Installs what the tests need, then runs every test. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust with rustup (https://rustup.rs)" >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy
  rustup target add wasm32-unknown-unknown
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# gramrec-core must stay free of threads and filesystem: it runs in browsers.
cargo build -p gramrec-core --target wasm32-unknown-unknown --release --locked
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line with the total over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "all tests: %d passed, %d failed\n", passed, failed }' "$log"
