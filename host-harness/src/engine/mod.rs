//! The wasmtime host of the SmartModule ABI, by concern, the way wasmtime's own crates split:
//!
//! - [`limits`]: the limits every module runs under, as data, and the `ResourceLimiter`;
//! - [`compile`]: compiling (.wasm or WAT), the cache by content hash, the export checks;
//! - [`instance`]: one module instance and its calls, each under one budget;
//! - [`output`]: reading what a module hands back, bounded by the bytes it handed;
//! - [`traps`]: wasmtime's errors turned into typed [`EngineError`]s.
//!
//! This file holds the [`Engine`]: the wasmtime engine set up like the broker's, the epoch
//! ticker behind the wall-time limit, and the linker of the host functions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{Caller, Linker};

use crate::error::EngineError;

pub mod compile;
pub mod instance;
pub mod limits;
pub(crate) mod output;
pub(crate) mod traps;

pub use compile::{looks_like_wat, CompiledModule, TransformKind};
pub use instance::{CallStats, InstanceConfig, ModuleInstance};
pub use limits::{
    Limits, Resource, BROKER_FUEL, DEFAULT_FUEL, DEFAULT_INSTANCES, DEFAULT_MEMORIES,
    DEFAULT_MEMORY, DEFAULT_TABLES, DEFAULT_TABLE_ELEMENTS, DEFAULT_TIMEOUT, MAX_WASM_STACK,
    WASMTIME_COUNT_LIMIT,
};

use instance::HostState;
use traps::HostRefusal;

/// Period of the epoch ticker thread: the resolution of the wall-time limit.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A wasmtime engine set up like the broker's (fuel metering on, WASI preview1 linked, the
/// same wasm proposals), plus epoch interruption for wall-time limits, with a cache of
/// compiled modules keyed by the SHA-256 of their bytes. Cheap to clone; clones share the
/// cache.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    wasmtime: wasmtime::Engine,
    modules: Mutex<HashMap<[u8; 32], CompiledModule>>,
    linkers: Mutex<HashMap<String, Linker<HostState>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("cached_modules", &self.cached_modules())
            .finish()
    }
}

impl Engine {
    /// A new engine with its own module cache and its own epoch ticker thread (which stops
    /// when the last clone of the engine is dropped).
    ///
    /// The wasm proposals are wasmtime 34's defaults, as in the broker's engine: multi-memory
    /// and memory64 stay on so the harness compiles every module the broker compiles; what
    /// they could cost is capped by [`Limits`] (memory over all memories, counts). Threads
    /// (shared memory, atomic waits) are off: a wait could block the host for ever.
    pub fn new() -> Result<Self, EngineError> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(MAX_WASM_STACK);
        // Threads are the one proposal turned off: `memory.atomic.wait` on a shared memory
        // parks the thread in host code, out of reach of fuel and of the deadline, and a
        // SmartModule is single-threaded (the Fluvio ABI has no use for shared memory).
        config.wasm_threads(false);
        let wasmtime = wasmtime::Engine::new(&config).map_err(|e| EngineError::Setup {
            message: format!("{e:#}"),
        })?;
        let weak = wasmtime.weak();
        std::thread::Builder::new()
            .name("harness-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            })
            .map_err(|e| EngineError::Setup {
                message: format!("cannot start the epoch ticker thread: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(EngineInner {
                wasmtime,
                modules: Mutex::new(HashMap::new()),
                linkers: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The process-wide engine: every chain built on it shares one compile per module.
    pub fn shared() -> Result<Self, EngineError> {
        static SHARED: OnceLock<Result<Engine, EngineError>> = OnceLock::new();
        SHARED.get_or_init(Engine::new).clone()
    }

    /// Number of distinct modules compiled so far.
    pub fn cached_modules(&self) -> usize {
        lock(&self.inner.modules).len()
    }

    /// The linker of a module importing `copy_records` from `import_module`: WASI preview1,
    /// `copy_records` (which only records the range; it is checked after the call), and a
    /// `poll_oneoff` that refuses to block.
    fn linker(&self, module: &str, import_module: &str) -> Result<Linker<HostState>, EngineError> {
        if let Some(found) = lock(&self.inner.linkers).get(import_module) {
            return Ok(found.clone());
        }
        let setup = |e: anyhow::Error| EngineError::Instantiate {
            module: module.to_string(),
            message: format!("{e:#}"),
        };
        let mut linker = Linker::new(&self.inner.wasmtime);
        linker.allow_shadowing(true);
        wasmtime_wasi::preview1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)
            .map_err(setup)?;
        // A clock subscription sleeps in host code, where neither fuel nor the epoch
        // deadline reach: a SmartModule has no business sleeping, so the call ends instead.
        linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "poll_oneoff",
                |_: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32| -> anyhow::Result<i32> {
                    Err(HostRefusal::Blocking {
                        call: "poll_oneoff",
                    }
                    .into())
                },
            )
            .map_err(setup)?;
        linker
            .func_wrap(
                import_module,
                "copy_records",
                |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
                    caller.data_mut().copied = Some((ptr, len));
                },
            )
            .map_err(setup)?;
        lock(&self.inner.linkers).insert(import_module.to_string(), linker.clone());
        Ok(linker)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
