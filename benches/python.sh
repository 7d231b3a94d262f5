#!/usr/bin/env bash
# The Python package (an optimised build, as `pip install ./python` makes
# it) beside implicit 0.7.3 and the gramrec CLI on the shared peer harness's
# synthetic set (200,000 users × 50,000 items × 10M counts): fit speed at 64
# and 128 factors, Python's overhead over the CLI, top 10 for every user,
# and peak memory of a fit from a pandas frame. See benches/python.py.
# Usage: bash benches/python.sh [PEERS_DIR]   (default ../shared/peers)
# Leaves the optimised package in target/interop-venv (tests/run-all.sh
# installs its own build again).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=$(cd "${1:-$root/../shared/peers}" && pwd)
venv=$root/target/interop-venv
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
PATH="$venv/bin:$PATH" "$venv/bin/pip" install -q --no-build-isolation --disable-pip-version-check "$root/python"
cd "$work"
[ -s s.npz ] || "$venv/bin/python" "$peers/synth.py" --users 200000 --items 50000 --nnz 10000000 --seed 42 \
  --out s.npz --csv s.csv
OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$root/benches/python.py" --npz s.npz --csv s.csv \
  --gramrec "$root/target/release/gramrec"
