//! A local wasmtime host of the Fluvio SmartModule ABI that runs modules exactly as the
//! broker does (same encodings, same calling convention, WASI preview1 linked), plus limits
//! that hold (fuel, wall time and memory per call), Fluvio's transforms files, and a
//! per-record account of what a chain did.
//!
//! ```no_run
//! use host_harness::{Batch, Chain, ChainOptions, Engine, ModuleResolver};
//!
//! let engine = Engine::shared()?;
//! let mut chain = Chain::from_file(
//!     &engine,
//!     "examples/chain.yaml",
//!     &ModuleResolver::default(),
//!     &ChainOptions::default(),
//! )?;
//! let run = chain.run(&Batch::from_values(["hello", "world"]));
//! for (i, f) in run.fates.iter().enumerate() {
//!     println!("record {i}: {}", f.fate);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chain;
pub mod chain_file;
pub mod demo;
pub mod engine;
pub mod error;
pub mod input;
pub mod inspect;
pub mod policies;
pub mod report;
pub mod simulate;
pub mod tag;

pub use chain::{
    select_lookback, Batch, Chain, ChainFailure, ChainOptions, ChainRun, Fate, ModuleSpec, Outcome,
    RecordFate, StepRun,
};
pub use chain_file::{default_modules_dir, ChainFile, ModuleResolver, TransformStep};
pub use engine::{
    CallStats, CompiledModule, Engine, InstanceConfig, Limits, ModuleInstance, Resource,
    TransformKind, DEFAULT_FUEL, DEFAULT_MEMORIES, DEFAULT_MEMORY, DEFAULT_TABLES,
    DEFAULT_TABLE_ELEMENTS, DEFAULT_TIMEOUT, EPOCH_TICK,
};
pub use error::{ChainFileError, EngineError, HarnessError, InputError, RuntimeError};
pub use fluvio_protocol::record::{Record, RecordData};
pub use fluvio_smartmodule::dataplane::smartmodule::Lookback;

/// The SmartModule API version the broker uses (`SMARTMODULE_TIMESTAMPS_VERSION`).
pub const DEFAULT_VERSION: i16 = fluvio_smartmodule::SMARTMODULE_TIMESTAMPS_VERSION;
/// Oldest API version the harness encodes.
pub const MIN_VERSION: i16 = 16;
/// Newest API version the harness encodes.
pub const MAX_VERSION: i16 = 25;
/// Cargo profile the workspace builds modules with.
pub const WASM_PROFILE: &str = "wasm";

/// Checks `version` is one the harness supports.
pub fn check_version(version: i16) -> Result<(), EngineError> {
    if (MIN_VERSION..=MAX_VERSION).contains(&version) {
        Ok(())
    } else {
        Err(EngineError::UnsupportedVersion { version })
    }
}
