#!/usr/bin/env bash
# Builds the browser module into web/pkg/: the wasm32 library, then the
# wasm-bindgen glue (target web). Installs the wasm32 target and the
# wasm-bindgen CLI at the version pinned in Cargo.lock when they are missing
# (built from crates.io: no prebuilt downloads).
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$web/.." && pwd)
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  echo "installing wasm-bindgen-cli $version (a few minutes, once)" >&2
  cargo install wasm-bindgen-cli --version "$version"
fi
cargo build --manifest-path "$root/Cargo.toml" -p gramrec-wasm --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$web/pkg"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$web/pkg" \
  "$root/target/wasm32-unknown-unknown/wasm-release/gramrec_wasm.wasm"
ls -l "$web/pkg"
