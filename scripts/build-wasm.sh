#!/usr/bin/env bash
# Builds the app's wasm as split modules (trunk's post_build hook; see Trunk.toml): the pages
# marked `lazy_page!` in app/src/lazy.rs load their own module when first opened, so the
# module every visitor downloads holds only the explorer's spine.
#
# cargo (with --emit-relocs, which wasm-split reads to find each function's callees)
# → wasm-split-cli (main module, one module per lazy page, __wasm_split.js to load them)
# → wasm-bindgen on the main module → wasm-opt on every module (release only).
# The modules land in pkg-<hash>/ (a new name for new contents: no stale cache after a
# rebuild), and index.html's __JOULE_PKG__ becomes that path.
set -euo pipefail
cd "$(dirname "$0")/.."

staging=${TRUNK_STAGING_DIR:?run by trunk (make app)}
profile=dev
[[ "${TRUNK_PROFILE:-debug}" == "release" ]] && profile=wasm-release

cargo rustc --offline --locked -q -p joule-app --bin joule-app --features split \
  --target wasm32-unknown-unknown --profile "$profile" -- -C link-arg=--emit-relocs
dir=target/wasm32-unknown-unknown/$profile
work=target/app-split
rm -rf "$work"
mkdir -p "$work/pkg"

wasm-split-cli "$dir/joule-app.wasm" "$work/split" --out-name joule_app
# --keep-lld-exports: the split modules share the main module's function table, which
# wasm-bindgen otherwise stops exporting.
wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$work/pkg" --out-name joule_app \
  "$work/split/joule_app.wasm"
# split_<page>.wasm per lazy page, chunk_<n>.wasm for code that several lazy pages share.
find "$work/split" -name '*.wasm' ! -name joule_app.wasm -exec cp {} "$work/pkg/" \;
cp "$work/split/__wasm_split.js" "$work/pkg/"

if [[ $profile == wasm-release ]]; then
  pids=()
  for wasm in "$work/pkg"/*.wasm; do
    wasm-opt -Oz --converge --enable-reference-types --enable-bulk-memory \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      --enable-multivalue "$wasm" -o "$wasm" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
fi

hash=$(cat "$work/pkg"/* | sha256sum | cut -c1-16)
rm -rf "$staging"/pkg-*
mv "$work/pkg" "$staging/pkg-$hash"
sed -i "s|__JOULE_PKG__|/pkg-$hash|g" "$staging/index.html"
