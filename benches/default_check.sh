#!/usr/bin/env bash
# `train`'s check of an implicit model's default λ, α and factors
# (docs/ALGORITHM.md "The defaults, checked") against the unchecked
# defaults (--reg 30 --alpha 1 --factors 64) and
# the popularity baseline, on the implicit shapes of benches/auto.sh plus
# citation-like lists (benches/lists.py cites). Each shape is split 80/20
# per user once per seed in SEEDS (`gramrec split --seed S`); both models
# train on the training part and are scored once on the held-out part.
# Prints a line per shape and seed, then each shape's mean ± sd.
# Usage: bash benches/default_check.sh [path/to/u.data] [work dir]
#   SEEDS="1 2 3 4 5" (default)   GRAMREC=path/to/gramrec (default: this tree's release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${1:-$root/../shared/data/ml-100k/u.data}")
work=$(realpath -m "${2:-$(mktemp -d)}")
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
ndcg() { # model train test -> "model popularity"
  "$g" evaluate --json -m "$1" --train "$2" --test "$3" 2>/dev/null |
    python3 -c "import json,sys; e=json.load(sys.stdin); print('%.4f %.4f' % (e['ndcg'], e['baseline']['ndcg']))"
}
seconds() { python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['trainSeconds'])" "$1"; }
compare() { # name data [train flags…]
  local name=$1 input=$2; shift 2
  local ext=${input##*.}
  for seed in $seeds; do
    local d=$name-$seed train=$name-$seed/train.$ext test=$name-$seed/test.$ext
    [ -s "$train" ] || "$g" split --input "$input" --out "$d" --mode per-user --seed "$seed" >/dev/null 2>&1
    "$g" train -q --json --device cpu -i "$train" -o "$d/unchecked" --reg 30 --alpha 1 --factors 64 "$@" > "$d/unchecked.json"
    local start=$SECONDS
    "$g" train --json --device cpu -i "$train" -o "$d/checked" "$@" > "$d/checked.json" 2> "$d/checked.log"
    local wall=$((SECONDS - start))
    read -r unchecked popularity < <(ndcg "$d/unchecked" "$train" "$test")
    read -r checked _ < <(ndcg "$d/checked" "$train" "$test")
    local chosen check
    chosen=$(python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['params']; print('λ %g, α %g, %d factors' % (p['reg'], p['alpha'], p['factors']))" "$d/checked.json")
    check=$(python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['defaultsCheck']['seconds'])" "$d/checked.json")
    echo "$name seed $seed: NDCG@10 defaults $unchecked, checked $checked ($chosen; check ${check} s, training $(seconds "$d/checked.json") s), popularity $popularity"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$unchecked" "$checked" "$popularity" "$check" "$(seconds "$d/unchecked.json")" >> "$results"
  done
}
[ -s "$data" ] && compare ml100k "$data" --implicit
[ -s plays.csv ] || "$g" generate --kind implicit --counts --users 20000 --items 5000 --nnz 1000000 --seed 42 --out plays.csv
compare plays plays.csv
[ -s wide.csv ] || "$g" generate --kind implicit --users 2000 --items 30000 --nnz 300000 --seed 7 --out wide.csv
compare wide wide.csv
[ -s lists.csv ] || python3 "$root/benches/lists.py" lists lists.csv
compare lists lists.csv
[ -s cites.csv ] || python3 "$root/benches/lists.py" cites cites.csv
compare cites cites.csv
python3 - "$results" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    name, *values = line.split("\t")
    rows.setdefault(name, []).append([float(v) for v in values])
print("| shape | λ 30, α 1, 64 factors (unchecked) | checked | popularity | check / one training |")
print("| --- | --- | --- | --- | --- |")
for name, r in rows.items():
    cols = list(zip(*r))
    cell = lambda c: "%.4f ± %.4f" % (st.mean(c), st.stdev(c) if len(c) > 1 else 0.0)
    ratios = [c / t for c, t in zip(cols[3], cols[4])]
    print(f"| {name} ({len(r)} seeds) | {cell(cols[0])} | {cell(cols[1])} | {cell(cols[2])} | "
          f"{min(ratios):.1f}x–{max(ratios):.1f}x |")
PY
