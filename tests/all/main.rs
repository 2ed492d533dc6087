//! One integration-test binary; a module per concern.

mod abi_walker;
mod aggregate_abi;
mod chains;
mod common;
mod conformance;
mod engine_roundtrip;
mod hostile;
mod lean;
mod native;
mod origin_inspect;
mod origin_stats;
mod packaging;
mod policies;
mod provenance;
