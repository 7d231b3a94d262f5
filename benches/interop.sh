#!/usr/bin/env bash
# Import and export of a 1M users × 100k items × 64 factors model (time and
# peak memory), and Spark's ALSModel.load + recommendForAllUsers beside
# gramrec recommend --all on the same model, one after the other.
# Needs the Python of tests/run-all.sh (target/interop-venv) and a JRE.
# SPARK_USERS=N gives Spark the first N users only (recommendForUserSubset).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/target/interop-venv/bin/python}
users=${USERS:-1000000} items=${ITEMS:-100000} factors=${FACTORS:-64}
spark_users=${SPARK_USERS:-$users}
work=${WORK:-$(mktemp -d)}
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
g=$root/target/release/gramrec
timed() {
  local what=$1; shift
  /usr/bin/time -f "$what: %e s, peak %M KB" "$@" 2>&1 >/dev/null | grep -E "^$what:|error" || true
}
cd "$work"
"$py" "$root/benches/interop.py" make "$users" "$items" "$factors" implicit.npz
ls -l implicit.npz | awk '{print "implicit.npz: " $5 " bytes"}'
timed "import --from implicit" "$g" import --from implicit implicit.npz --out model
timed "export --to spark" "$g" export --to spark --model model --out spark --overwrite
timed "export --to implicit" "$g" export --to implicit --model model --out again.npz
timed "export --to npy" "$g" export --to npy --model model --out arrays --overwrite
timed "import --from spark" "$g" import --from spark spark --out from-spark
du -sb spark | awk '{print "Spark folder: " $1 " bytes"}'
timed "recommend --all" "$g" recommend --model model --all --k 10 --out top10.jsonl
/usr/bin/time -f "spark (python + JVM): %e s, peak %M KB" "$py" "$root/benches/interop.py" spark spark "$spark_users" 2>&1 |
  grep -E "spark: load|^spark \(python"
