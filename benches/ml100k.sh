#!/usr/bin/env bash
# Quality and speed on MovieLens 100K against the peers' figures (BENCHMARKS.md).
# Usage: bash benches/ml100k.sh [path/to/u.data] [work dir]
# DEVICE=gpu (or cpu; default auto) chooses where every model here trains, and
# GPU_STORAGE=f16 (default f32) how the GPU stores the factors.
# The data is research-use only: it is read from ../shared and never copied into the repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/ml-100k/u.data}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
device=(--device "${DEVICE:-auto}" --gpu-storage "${GPU_STORAGE:-f32}")

# Seeded 80/20 splits: random over ratings, and per user (20% of each user's ratings).
python3 "$root/benches/ml100k_split.py" "$data" "$work"
(cd "$work" && sha256sum ./*.tsv)

median() { python3 -c 'import json,sys; it=sorted(x["seconds"] for x in json.load(sys.stdin)["iterations"]); print(f"median {it[len(it)//2]:.4f} s per iteration")'; }
for solver in cg cholesky; do
  echo "== explicit, random split, defaults, --solver $solver"
  "$g" train "${device[@]}" -q --json --solver "$solver" -i "$work/rand_train.tsv" -o "$work/explicit-rand" | median
  "$g" evaluate -m "$work/explicit-rand" --train "$work/rand_train.tsv" --test "$work/rand_test.tsv"
  echo "== explicit, per-user split, defaults, --solver $solver"
  "$g" train "${device[@]}" -q --json --solver "$solver" -i "$work/user_train.tsv" -o "$work/explicit-user" | median
  "$g" evaluate -m "$work/explicit-user" --train "$work/user_train.tsv" --test "$work/user_test.tsv"
  echo "== implicit, per-user split, defaults, --solver $solver"
  "$g" train "${device[@]}" -q --json --implicit --solver "$solver" -i "$work/user_train.tsv" -o "$work/implicit-user" | median
  "$g" evaluate -m "$work/implicit-user" --train "$work/user_train.tsv" --test "$work/user_test.tsv"
done
echo "== implicit, per-user split, Spark's settings (rank 64, regParam 0.1 scaled by count, alpha 1)"
"$g" train "${device[@]}" -q --implicit --reg 0.1 --reg-scaling count -i "$work/user_train.tsv" -o "$work/implicit-spark"
"$g" evaluate -m "$work/implicit-spark" --train "$work/user_train.tsv" --test "$work/user_test.tsv" | grep NDCG
for dtype in f32 f16 i8; do
  "$g" train "${device[@]}" -q --implicit --dtype $dtype -i "$work/user_train.tsv" -o "$work/implicit-$dtype"
  echo "items.gramrec as $dtype: $(stat -c %s "$work/implicit-$dtype/items.gramrec") bytes, $("$g" evaluate -m "$work/implicit-$dtype" --train "$work/user_train.tsv" --test "$work/user_test.tsv" | grep NDCG)"
done
