#!/usr/bin/env bash
# GPU training speed beside the CPU backend, in one run.
#
# On a real GPU: the synthetic set shaped like last.fm-360k (358,868 users ×
# 292,385 items × 17.5M interactions, power law), implicit, 64/128/256
# factors, both solvers: SHAPE=lastfm bash benches/gpu.sh
# On a software driver (lavapipe, for the record only) the default is a small
# set: 20,000 users × 5,000 items × 200,000 interactions at 64 factors (its
# longest row stays within lavapipe's loop limit; see docs/GPU.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# GRAMREC_BIN: a release binary built elsewhere (on a machine without cargo).
if [ -z "${GRAMREC_BIN:-}" ]; then cargo build --release --quiet --manifest-path "$root/Cargo.toml"; fi
g=${GRAMREC_BIN:-$root/target/release/gramrec}
case "${SHAPE:-small}" in
  lastfm) shape=(--users 358868 --items 292385 --nnz 17500000); factors=${FACTORS:-64 128 256}; iters=5 ;;
  *) shape=(--users 20000 --items 5000 --nnz 200000); factors=${FACTORS:-64}; iters=2 ;;
esac
for f in $factors; do
  for solver in cg cholesky; do
    for device in gpu cpu; do
      "$g" bench "${shape[@]}" --factors "$f" --iterations "$iters" --solver "$solver" --device "$device" 2>&1 |
        grep -v XDG_RUNTIME_DIR
    done
  done
done
