#!/usr/bin/env bash
# The real-GPU figures of BENCHMARKS.md "GPU training" in one run of about
# 10 minutes (each command's limit bounds it) on a GPU machine (the `device` tool's, or any), with the release
# binary built beforehand (cargo build --release) and carried:
#   GRAMREC_BIN=target/release/gramrec bash benches/device.sh
# It prints, and appends to ${LOG:-device.log}: the adapter, the last.fm-360k
# shape at 64/128/256 factors (CG and Cholesky; 64 with f16 storage; the CPU
# backend beside it), the 10M-interaction CPU-bench shape, recommend --all
# at 1M users × 100k items × 64 factors on the GPU, and Bayesian PMF's
# sweeps beside Cholesky ALS iterations on 10M generated ratings (GPU and
# CPU). Each command has a time limit, so a slow one costs its limit and the
# rest still run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
g=${GRAMREC_BIN:-$root/target/release/gramrec}
log=${LOG:-device.log}
lastfm=(--users 358868 --items 292385 --nnz 17500000)
run() {
  local limit=$1
  shift
  echo "\$ gramrec $*" | tee -a "$log"
  timeout "$limit" "$g" "$@" 2>&1 | grep -v XDG_RUNTIME_DIR | tee -a "$log"
}
run 30 bench --users 2000 --items 1000 --nnz 20000 --factors 8 --iterations 1 --device gpu
for f in 64 128 256; do
  for solver in cg cholesky; do
    run 60 bench "${lastfm[@]}" --factors "$f" --solver "$solver" --iterations 3 --device gpu
  done
done
run 45 bench "${lastfm[@]}" --factors 64 --iterations 3 --device gpu --gpu-storage f16
run 60 bench "${lastfm[@]}" --factors 64 --iterations 2 --device cpu
run 45 bench --factors 64 --iterations 3 --device gpu
run 90 bench --recommend-all --users 1000000 --items 100000 --factors 64 --k 10 --device gpu
run 60 generate --kind explicit --users 200000 --items 50000 --nnz 10000000 --seed 1 --out big-ratings.csv
for device in gpu cpu; do
  run 90 train --explicit --solver cholesky --iterations 2 --device "$device" -i big-ratings.csv -o "big-als-$device"
  run 120 train --method bayes --burn-in 0 --samples 3 --device "$device" -i big-ratings.csv -o "big-bayes-$device"
done
