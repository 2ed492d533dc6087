#!/usr/bin/env bash
# Builds the JS package (build.sh), writes the corpus with the Rust decoder, and
# runs the Node tests against the package.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

bash "$here/build.sh"

cd "$root"
target_dir="$(cargo metadata --format-version 1 --no-deps |
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')"
corpus="$target_dir/origin-js/corpus.jsonl"
cargo run -p origin-js --example corpus --release -- "$corpus"

cd "$here"
ORIGIN_JS_CORPUS="$corpus" node --test test/*.test.mjs
