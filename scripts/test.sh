#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs the wasm targets, then the Rust
# tests (which build the wasm modules once and load them into the official engine).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown wasm32-wasip1
cargo test
bash smartmodules/origin-js/test.sh
