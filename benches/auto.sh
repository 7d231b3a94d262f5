#!/usr/bin/env bash
# `train --auto` against the defaults and the popularity baseline on data of
# six shapes (BENCHMARKS.md "Quality without tuning"): MovieLens 100K
# (per-user split, implicit; random split, explicit), the seeded play-count
# set of benches/defaults.sh (heavy-tailed counts), a generated set with many
# items and few users, and sparse one-line-per-user lists on a wide
# catalogue, random and citation-like (benches/lists.py). Each shape is split 80/20 once per seed in SEEDS (`gramrec
# split --seed S`); every model is trained on the training part only
# (--auto carves its validation splits from it) and scored once on the
# held-out part. Prints a line per shape and seed, then each shape's mean ±
# standard deviation over the seeds.
# Usage: bash benches/auto.sh [path/to/u.data] [work dir]
#   BUDGET=10x (default)   SEEDS="1 2 3 4 5" (default)
#   GRAMREC=path/to/gramrec: a binary to measure instead of this tree's release build
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${1:-$root/../shared/data/ml-100k/u.data}")
work=$(realpath -m "${2:-$(mktemp -d)}")
budget=${BUDGET:-10x}
seeds=${SEEDS:-1 2 3 4 5}
mkdir -p "$work"
if [ -z "${GRAMREC:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  GRAMREC=$root/target/release/gramrec
fi
g=$(realpath "$GRAMREC")
cd "$work"
results=$work/results.tsv
: > "$results"
figures() { # model train test key -> "model popularity"
  "$g" evaluate --json -m "$1" --train "$2" --test "$3" |
    python3 -c "import json,sys; e=json.load(sys.stdin); print('%.4f %.4f' % (e['$4'], e['baseline']['$4']))"
}
compare() { # name data mode key [train flags…]
  local name=$1 input=$2 mode=$3 key=$4; shift 4
  local ext=${input##*.}
  for seed in $seeds; do
    local d=$name-$seed train=$name-$seed/train.$ext test=$name-$seed/test.$ext
    [ -s "$train" ] || "$g" split --input "$input" --out "$d" --mode "$mode" --seed "$seed" >/dev/null 2>&1
    "$g" train -q --device cpu -i "$train" -o "$d/defaults" "$@"
    local start=$SECONDS
    "$g" train --device cpu -i "$train" -o "$d/auto" --auto --budget "$budget" "$@" 2>"$d/auto.log"
    local wall=$((SECONDS - start))
    read -r defaults popularity < <(figures "$d/defaults" "$train" "$test" "$key")
    read -r auto _ < <(figures "$d/auto" "$train" "$test" "$key")
    local ratio chose
    ratio=$(sed -n 's/.*(\([0-9.]*\)x the flags.*/\1/p' "$d/auto.log" | tail -1)
    chose=$(python3 - "$d/auto.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
given = re.search(r"^ +\d+\. [0-9.]+  (.*)  \(the flags' settings\)$", log, re.M).group(1)
chosen = re.search(r"^--auto: chose (.*) \((?:NDCG|RMSE)", log, re.M).group(1)
print("kept the defaults" if chosen == given else "chose " + chosen)
PY
)
    echo "$name seed $seed: $key defaults $defaults, --auto $auto, popularity $popularity (--auto ${wall} s, ${ratio}x one training; $chose)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$defaults" "$auto" "$popularity" "$ratio" >> "$results"
  done
}
if [ -s "$data" ]; then
  compare ml100k-implicit "$data" per-user ndcg --implicit
  compare ml100k-explicit "$data" random rmse --explicit
fi
[ -s plays.csv ] || "$g" generate --kind implicit --counts --users 20000 --items 5000 --nnz 1000000 --seed 42 --out plays.csv
compare plays plays.csv per-user ndcg
[ -s wide.csv ] || "$g" generate --kind implicit --users 2000 --items 30000 --nnz 300000 --seed 7 --out wide.csv
compare wide wide.csv per-user ndcg
# Sparse lists, one line per user (a citation or reading list): benches/lists.py.
[ -s lists.csv ] || python3 "$root/benches/lists.py" lists lists.csv
compare lists lists.csv per-user ndcg
[ -s cites.csv ] || python3 "$root/benches/lists.py" cites cites.csv
compare cites cites.csv per-user ndcg
python3 - "$results" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    name, *values = line.split("\t")
    rows.setdefault(name, []).append([float(v) for v in values])
print("| shape | defaults | --auto | popularity | wall ratio |")
print("| --- | --- | --- | --- | --- |")
for name, r in rows.items():
    cols = list(zip(*r))
    cell = lambda c: "%.4f ± %.4f" % (st.mean(c), st.stdev(c) if len(c) > 1 else 0.0)
    print(f"| {name} ({len(r)} seeds) | {cell(cols[0])} | {cell(cols[1])} | {cell(cols[2])} | "
          f"{min(cols[3]):.1f}x–{max(cols[3]):.1f}x |")
PY
