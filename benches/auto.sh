#!/usr/bin/env bash
# `train --auto` against the defaults on data of four shapes (BENCHMARKS.md
# "Quality without tuning"): MovieLens 100K (per-user split, implicit; random
# split, explicit), the seeded play-count set of benches/defaults.sh (heavy-
# tailed counts), a generated set with many items and few users, and sparse
# one-line-per-user lists on a wide catalogue. Every
# model is trained on the training part only (--auto carves its validation
# split from it) and scored once on the held-out part.
# Usage: bash benches/auto.sh [path/to/u.data] [work dir]   (BUDGET=10x by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${1:-$root/../shared/data/ml-100k/u.data}")
work=$(realpath -m "${2:-$(mktemp -d)}")
budget=${BUDGET:-10x}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
cd "$work"
figure() { # model train test key
  "$g" evaluate --json -m "$1" --train "$2" --test "$3" | python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['$4'])"
}
compare() { # name train test key [train flags…]
  local name=$1 train=$2 test=$3 key=$4; shift 4
  "$g" train -q --device cpu -i "$train" -o "$name-defaults" "$@"
  local start=$SECONDS
  "$g" train --device cpu -i "$train" -o "$name-auto" --auto --budget "$budget" "$@" 2>"$name-auto.log"
  local wall=$((SECONDS - start))
  echo "$name: defaults $key $(figure "$name-defaults" "$train" "$test" "$key"), --auto $key $(figure "$name-auto" "$train" "$test" "$key") (whole --auto run ${wall} s)"
  grep -E "^--auto: chose" "$name-auto.log" | sed 's/^/  /'
}
if [ -s "$data" ]; then
  python3 "$root/benches/ml100k_split.py" "$data" "$work"
  compare ml100k-implicit user_train.tsv user_test.tsv ndcg --implicit
  compare ml100k-explicit rand_train.tsv rand_test.tsv rmse
fi
[ -s plays.csv ] || "$g" generate --kind implicit --counts --users 20000 --items 5000 --nnz 1000000 --seed 42 --out plays.csv
[ -s plays/train.csv ] || "$g" split --input plays.csv --out plays --mode per-user --seed 42 >/dev/null
compare plays plays/train.csv plays/test.csv ndcg
[ -s wide.csv ] || "$g" generate --kind implicit --users 2000 --items 30000 --nnz 300000 --seed 7 --out wide.csv
[ -s wide/train.csv ] || "$g" split --input wide.csv --out wide --mode per-user --seed 42 >/dev/null
compare wide wide/train.csv wide/test.csv ndcg
# Sparse lists, one line per user (a citation or reading list): 5,500 users
# × 17,000 items, ~16 items each (log-normal), half from a power law over
# the catalogue and half from one of 50 topics of 340 items.
[ -s lists.csv ] || python3 - <<'PY'
import math, random
rng = random.Random(1)
users, items = 5500, 17000
weights = [1 / (i + 1) ** 0.8 for i in range(items)]
with open("lists.csv", "w") as f:
    f.write("user,item\n")
    for u in range(users):
        n = max(1, int(rng.lognormvariate(2.5, 0.8)))
        topic = rng.randrange(50)
        chosen = set(rng.choices(range(items), weights, k=n // 2))
        chosen.update((topic * 340 + rng.randrange(340)) % items for _ in range(n - n // 2))
        f.writelines(f"u{u},i{i}\n" for i in sorted(chosen))
PY
[ -s lists/train.csv ] || "$g" split --input lists.csv --out lists --mode per-user --seed 42 >/dev/null
compare lists lists/train.csv lists/test.csv ndcg
