#!/usr/bin/env bash
# gramrec.spark beside Spark MLlib on local[2] (benches/spark.py): top 10
# per user of a 1M users × 100k items × 64 factors model against Spark's
# recommendForUserSubset, rules per store against FPGrowth per store, and
# fit from a 10M-row DataFrame. Builds the optimised package into the
# Python of tests/run-all.sh (target/interop-venv; tests/run-all.sh installs
# its own build again) and makes the model as benches/interop.sh does.
# Usage: bash benches/spark.sh [benches/spark.py flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/interop-venv
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
PATH="$venv/bin:$PATH" "$venv/bin/pip" install -q --no-build-isolation --disable-pip-version-check "$root/python"
g=$root/target/release/gramrec
cd "$work"
if [ ! -d spark ]; then
  "$venv/bin/python" "$root/benches/interop.py" make "${USERS:-1000000}" "${ITEMS:-100000}" "${FACTORS:-64}" implicit.npz
  "$g" import --from implicit implicit.npz --out model
  "$g" export --to spark --model model --out spark
fi
"$venv/bin/python" "$root/benches/spark.py" --model model --spark-model spark "$@"
