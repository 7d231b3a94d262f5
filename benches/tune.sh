#!/usr/bin/env bash
# Cross-validated grid search on MovieLens 100K, then the best settings' test
# figures. Usage: bash benches/tune.sh WORK_DIR   (WORK_DIR from benches/ml100k.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?the work directory of benches/ml100k.sh}
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
time "$g" tune -q -i "$work/rand_train.tsv" --explicit --folds 5 --factors 16,32,64,128 --reg 0.05,0.1,0.2,0.3 \
  --results "$work/tune-explicit.csv" --out "$work/tuned-explicit"
"$g" evaluate -m "$work/tuned-explicit" --train "$work/rand_train.tsv" --test "$work/rand_test.tsv"
time "$g" tune -q -i "$work/user_train.tsv" --implicit --mode per-user --folds 5 --factors 16,32,64,128 \
  --reg 10,20,30,50 --alpha 1,2,4 --results "$work/tune-implicit.csv" --out "$work/tuned-implicit"
"$g" evaluate -m "$work/tuned-implicit" --train "$work/user_train.tsv" --test "$work/user_test.tsv"
