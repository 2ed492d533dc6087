#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs the wasm targets and binaryen's
# wasm-opt (the modules ship optimized by it), then the Rust tests (which build the wasm
# modules once and load them into the official engine), then the JavaScript package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown wasm32-wasip1
if ! command -v wasm-opt >/dev/null && [ -z "${WASM_OPT:-}" ]; then
    # Debian's binaryen when apt can install it, else the same tool from crates.io (slower:
    # it builds binaryen from source).
    if command -v apt-get >/dev/null && { apt-get install -y -q binaryen >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q binaryen >/dev/null 2>&1; }; }; then
        echo "installed binaryen: $(wasm-opt --version)"
    else
        cargo install wasm-opt --version 0.116.1
    fi
fi
cargo test
bash smartmodules/origin-js/test.sh
