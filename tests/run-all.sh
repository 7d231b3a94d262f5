#!/usr/bin/env bash
# Installs what the tests need, then runs every test. CI runs exactly this.
# Installs (each only when missing): rustfmt, clippy and the wasm32 target
# (rustup); wasm-bindgen-cli at the version in Cargo.lock (cargo install, a
# few minutes the first time); Chromium and Mesa's software Vulkan driver
# lavapipe, for the GPU tests (Debian's packages chromium and
# mesa-vulkan-drivers, apt-get); the npm packages of web/ (npm ci); a JRE
# and Python's venv for the interop tests (default-jre-headless,
# python3-venv), and the pinned pyspark, implicit, maturin and pytest of
# tests/interop/requirements.txt in target/interop-venv (pip, a few minutes
# the first time), into which the Python package (python/) is built.
set -euo pipefail
cd "$(dirname "$0")/.."

# Disk: a cold run needs about 5 GB beside the installs (target/ ~3.5 GB,
# the Python venv ~1 GB). Builds here are made once, so no incremental
# caches (they doubled target/debug), no pip download cache, and the no-GPU
# build's folder goes once its test has run. The free space is printed
# first, so that a run that fills the disk says so in its log.
export CARGO_INCREMENTAL=0
df -hP . | awk 'NR == 2 { print "disk: " $4 " free of " $2 " on " $6 }'

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust with rustup (https://rustup.rs)" >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy
  rustup target add wasm32-unknown-unknown
fi
missing=()
command -v chromium >/dev/null || missing+=(chromium)
ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
command -v java >/dev/null || missing+=(default-jre-headless)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"
fi
if ! command -v node >/dev/null; then
  echo "node is missing: install Node.js 20 or newer" >&2
  exit 1
fi

# The real Spark and implicit for tests/interop.rs, pinned; rebuilt when the
# pins change.
venv=target/interop-venv
requirements=tests/interop/requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
export GRAMREC_TEST_PYTHON="$PWD/$venv/bin/python"

# The GPU library tests open wgpu in-process, and the Wayland client library
# the Vulkan drivers load complains without this (the gramrec binary sets it
# itself; tests/cli.rs checks that with the variable removed).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The GPU tests are compiled in by these features (without them, `cargo test`
# passes on a machine with no Vulkan driver); here lavapipe runs them.
# The interop tests, likewise, are compiled in by interop-tests.
test_features=(--features gpu-tests,gramrec-als/gpu-tests,interop-tests)
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked "${test_features[@]}" -- -D warnings
cargo clippy -p gramrec-als --all-targets --no-default-features --locked -- -D warnings
# gramrec-core must stay free of threads and filesystem: it runs in browsers.
cargo build -p gramrec-core --target wasm32-unknown-unknown --release --locked
# A CLI built without the GPU backend (its own profile and folder, so the
# binary the web tests use below stays the full one; the folder, ~0.7 GB,
# is removed after).
cargo test --profile no-gpu --no-default-features --locked --test tests cli::a_build_without_gpu 2>&1 | tee -a "$log"
rm -rf target/no-gpu
cargo test --workspace --locked "${test_features[@]}" 2>&1 | tee -a "$log"

# The Python package, built into the venv as `pip install ./python` builds
# it, but with the dev profile the tests above compiled with (Cargo.toml)
# and their features (python/Cargo.toml's test-build): it reuses their
# compiled dependencies instead of an optimised build of its own. Its tests
# compare it with implicit and with the CLI binary built above.
PATH="$PWD/$venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile dev --locked --features test-build" \
  "$venv/bin/pip" install -q --no-build-isolation --disable-pip-version-check --no-cache-dir ./python
"$venv/bin/pytest" -q -p no:cacheprovider python/tests 2>&1 | tee -a "$log"

# The browser module: build it, test its API in Node, then the page in Chromium.
bash web/build.sh
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p gramrec-wasm --target wasm32-unknown-unknown --locked 2>&1 | tee -a "$log"
# The page tests run the binary `cargo test` built (optimised, all
# features) rather than a release build: the same code, one build less.
(cd web && npm ci --no-audit --no-fund && GRAMREC_BIN="$PWD/../target/debug/gramrec" npm test) 2>&1 | tee -a "$log"

# One closing line with the total over every test run above.
awk '/^test result:/ { passed += $4; failed += $6 }
     /^# pass / { passed += $3 } /^# fail / { failed += $3 }
     /^[0-9]+ (passed|failed)/ { for (i = 1; i < NF; i++) {
       if ($(i + 1) ~ /^passed/) passed += $i; if ($(i + 1) ~ /^failed/) failed += $i } }
     END { printf "all tests: %d passed, %d failed\n", passed, failed }' "$log"
