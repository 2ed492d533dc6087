#!/usr/bin/env bash
# Builds the npm package smartmodules/origin-js/pkg: the origin codec compiled to
# wasm32-unknown-unknown, its Node.js glue and TypeScript types (wasm-bindgen
# --target nodejs), and a package.json.
#
# Installs wasm-bindgen-cli at the version Cargo.toml pins wasm-bindgen to, if the
# `wasm-bindgen` on PATH is missing or another version: the glue only works with
# the exact version the crate was built against.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")"
if [ -z "$version" ]; then
    echo "build.sh: no exact wasm-bindgen pin (wasm-bindgen = \"=X.Y.Z\") in $here/Cargo.toml" >&2
    exit 1
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
    echo "build.sh: installing wasm-bindgen-cli $version" >&2
    cargo install wasm-bindgen-cli --version "$version" --locked ||
        cargo install wasm-bindgen-cli --version "$version"
fi

rustup target add wasm32-unknown-unknown

# On its own: built together with other packages, cargo would unify their features.
# The workspace's `wasm` profile, but with symbols kept: `strip = true` also drops the
# `target_features` section wasm-bindgen reads to know which wasm features it may use.
# wasm-bindgen removes the name section afterwards.
cargo build --profile wasm --target wasm32-unknown-unknown -p origin-js \
    --config 'profile.wasm.strip="debuginfo"'

target_dir="$(cargo metadata --format-version 1 --no-deps |
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')"
wasm="$target_dir/wasm32-unknown-unknown/wasm/origin_js.wasm"

pkg="$here/pkg"
rm -rf "$pkg"
wasm-bindgen --target nodejs --remove-name-section --remove-producers-section --out-dir "$pkg" "$wasm"

crate_version="$(cargo metadata --format-version 1 --no-deps |
    node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
             process.stdout.write(m.packages.find((p) => p.name === "origin-js").version)')"
cat >"$pkg/package.json" <<EOF
{
  "name": "@mirror-safety/origin",
  "version": "$crate_version",
  "description": "Origin tags of Fluvio records: decode, strip, verify and make them (the origin crate, compiled to WebAssembly)",
  "license": "Apache-2.0",
  "private": true,
  "main": "origin_js.js",
  "types": "origin_js.d.ts",
  "files": ["origin_js.js", "origin_js.d.ts", "origin_js_bg.wasm", "origin_js_bg.wasm.d.ts", "README.md"],
  "engines": { "node": ">=20" },
  "sideEffects": false
}
EOF
cp "$here/README.md" "$pkg/README.md"

echo "build.sh: built $pkg ($(wc -c <"$pkg/origin_js_bg.wasm") bytes of wasm, wasm-bindgen $version)" >&2
