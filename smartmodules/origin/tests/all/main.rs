//! The integration tests of `origin`: one binary (wasmtime's `tests/all` layout), a module per
//! concern.

mod postcard;
mod props;
mod vectors;
