//! The integration tests of `host-harness`: one binary (wasmtime's `tests/all` layout), a
//! module per concern, the helpers they share in [`support`].
//!
//! `cargo test -p host-harness --test all NAME` runs the tests whose path holds NAME (e.g.
//! `simulate_random`).

mod chain;
mod chain_large;
mod cli;
mod demo;
mod engine;
mod inspect;
mod limits;
mod simulate;
mod simulate_random;
mod support;
