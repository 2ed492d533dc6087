//! The wasmtime host of the SmartModule ABI: compiling (cached by content hash), the limits
//! every call runs under, and one module instance with its calls (`init`, the transform,
//! `look_back`).
//!
//! The calling convention follows the broker's engine (`fluvio-smartengine` 0.50.1): encode
//! the input with `fluvio-protocol` at the chain's version, `alloc(len)`, copy the bytes in,
//! call `f(ptr, len, version)`, read a negative return as an error status, else decode the
//! bytes the module last passed to `copy_records`.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use fluvio_protocol::record::Record;
use fluvio_protocol::{Decoder, Encoder};
use fluvio_smartmodule::dataplane::smartmodule::{
    Lookback, SmartModuleAggregateInput, SmartModuleAggregateOutput, SmartModuleExtraParams,
    SmartModuleInitErrorStatus, SmartModuleInitInput, SmartModuleInitOutput, SmartModuleInput,
    SmartModuleLookbackErrorStatus, SmartModuleLookbackOutput, SmartModuleOutput,
    SmartModuleTransformErrorStatus,
};
use sha2::{Digest, Sha256};
use wasmtime::{
    Caller, ExternType, FuncType, Instance, Linker, Memory, Module, ResourceLimiter, Store,
    TypedFunc, ValType,
};
use wasmtime_wasi::preview1::WasiP1Ctx;

use crate::error::EngineError;

/// Fuel a call may burn by default: 10^10 units (about one per wasm instruction), several
/// seconds of CPU. The official SDK's hello-world filter needs under 10^4 per record, so a
/// 10,000-record batch stays under 10^8; only a runaway loop gets near the default.
pub const DEFAULT_FUEL: u64 = 10_000_000_000;
/// Wall time a call may take by default, enforced by epoch interruption.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest linear memory a module may grow to by default: the broker's store limit (1 GB).
pub const DEFAULT_MEMORY: usize = 1_000_000_000;
/// Period of the epoch ticker thread: the resolution of the wall-time limit.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// What the broker tops fuel up to before each call (`i64::MAX / 2`): no real limit.
pub const BROKER_FUEL: u64 = i64::MAX as u64 / 2;

/// Resource limits applied to every call of a module (`alloc` plus the function).
///
/// `None` disables a limit. Fuel and time are reset before each call; memory is the
/// largest size any one linear memory may grow to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel budget per call.
    pub fuel: Option<u64>,
    /// Wall time per call.
    pub timeout: Option<Duration>,
    /// Largest linear memory, in bytes.
    pub memory: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: Some(DEFAULT_FUEL),
            timeout: Some(DEFAULT_TIMEOUT),
            memory: Some(DEFAULT_MEMORY),
        }
    }
}

impl Limits {
    /// The limits the broker applies: no fuel or time limit, 1 GB of memory.
    pub fn broker() -> Self {
        Self {
            fuel: None,
            timeout: None,
            memory: Some(DEFAULT_MEMORY),
        }
    }
}

/// The transform a module exports, found in the broker's probe order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransformKind {
    Filter,
    Map,
    FilterMap,
    ArrayMap,
    Aggregate,
}

impl TransformKind {
    /// Probe order of the broker's engine.
    pub const PROBE_ORDER: [TransformKind; 5] = [
        TransformKind::Filter,
        TransformKind::Map,
        TransformKind::FilterMap,
        TransformKind::ArrayMap,
        TransformKind::Aggregate,
    ];

    /// Name of the exported function.
    pub fn export_name(self) -> &'static str {
        match self {
            TransformKind::Filter => "filter",
            TransformKind::Map => "map",
            TransformKind::FilterMap => "filter_map",
            TransformKind::ArrayMap => "array_map",
            TransformKind::Aggregate => "aggregate",
        }
    }
}

impl std::fmt::Display for TransformKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.export_name())
    }
}

/// A wasmtime engine set up like the broker's (fuel metering on, WASI preview1 linked) plus
/// epoch interruption for wall-time limits, with a cache of compiled modules keyed by the
/// SHA-256 of their bytes. Cheap to clone; clones share the cache.
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
    pub fn new() -> Result<Self, EngineError> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
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

    /// Compiles `bytes` (or returns the cached compile of the same bytes) and checks it has
    /// what the broker needs: `memory`, `alloc`, a transform and the `copy_records` import.
    /// `name` is only used in errors.
    pub fn compile(&self, name: &str, bytes: &[u8]) -> Result<CompiledModule, EngineError> {
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(found) = lock(&self.inner.modules).get(&hash) {
            return Ok(found.clone());
        }
        if !bytes.starts_with(b"\0asm") {
            return Err(EngineError::NotWasm {
                module: name.to_string(),
            });
        }
        let module =
            Module::from_binary(&self.inner.wasmtime, bytes).map_err(|e| EngineError::Compile {
                module: name.to_string(),
                message: format!("{e:#}"),
            })?;
        let compiled = CompiledModule::check(name, module, hash, bytes.len())?;
        lock(&self.inner.modules).insert(hash, compiled.clone());
        Ok(compiled)
    }

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

    fn epoch_ticks(timeout: Option<Duration>) -> u64 {
        match timeout {
            // One more tick than the timeout holds: the first tick may come at once.
            Some(t) => (t.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) as u64).max(1) + 1,
            None => u64::MAX / 4,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A compiled, checked module. Cheap to clone.
#[derive(Clone)]
pub struct CompiledModule {
    inner: Arc<CompiledInner>,
}

struct CompiledInner {
    module: Module,
    hash: [u8; 32],
    size: usize,
    kind: TransformKind,
    has_init: bool,
    has_look_back: bool,
    copy_records_module: String,
    wasi: bool,
}

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("kind", &self.inner.kind)
            .field("size", &self.inner.size)
            .field("init", &self.inner.has_init)
            .field("look_back", &self.inner.has_look_back)
            .field("wasi", &self.inner.wasi)
            .finish()
    }
}

fn describe(ty: &FuncType) -> String {
    let list = |it: &mut dyn Iterator<Item = ValType>| {
        it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    format!(
        "({}) -> ({})",
        list(&mut ty.params()),
        list(&mut ty.results())
    )
}

fn is_i32s(it: impl ExactSizeIterator<Item = ValType>, n: usize) -> bool {
    it.len() == n && it.into_iter().all(|t| matches!(t, ValType::I32))
}

impl CompiledModule {
    fn check(name: &str, module: Module, hash: [u8; 32], size: usize) -> Result<Self, EngineError> {
        let copy_records_module = module
            .imports()
            .find(|i| i.name() == "copy_records")
            .map(|i| i.module().to_string())
            .ok_or_else(|| EngineError::MissingCopyRecords {
                module: name.to_string(),
            })?;
        let wasi = module.imports().any(|i| {
            i.module().starts_with("wasi_snapshot_preview1") || i.module() == "wasi_unstable"
        });

        let export = |export: &str| module.get_export(export);
        let func_export = |export: &str, params: usize| -> Result<Option<()>, EngineError> {
            match module.get_export(export) {
                None => Ok(None),
                Some(ExternType::Func(ty)) => {
                    if is_i32s(ty.params(), params) && is_i32s(ty.results(), 1) {
                        Ok(Some(()))
                    } else {
                        Err(EngineError::BadSignature {
                            module: name.to_string(),
                            export: export.to_string(),
                            found: describe(&ty),
                            expected: format!("({}) -> (i32)", vec!["i32"; params].join(", ")),
                        })
                    }
                }
                Some(_) => Err(EngineError::BadSignature {
                    module: name.to_string(),
                    export: export.to_string(),
                    found: "a non-function export".to_string(),
                    expected: "a function".to_string(),
                }),
            }
        };

        match export("memory") {
            Some(ExternType::Memory(_)) => {}
            _ => {
                return Err(EngineError::MissingExport {
                    module: name.to_string(),
                    export: "memory".to_string(),
                    fix: "the host copies records through it; a Rust cdylib exports it unless \
                          the linker is told otherwise"
                        .to_string(),
                })
            }
        }
        if func_export("alloc", 1)?.is_none() {
            return Err(EngineError::MissingExport {
                module: name.to_string(),
                export: "alloc".to_string(),
                fix: "export `alloc(len: i32) -> i32` returning a pointer to `len` free bytes \
                      (the SDK provides it)"
                    .to_string(),
            });
        }
        let mut kind = None;
        for k in TransformKind::PROBE_ORDER {
            if func_export(k.export_name(), 3)?.is_some() {
                kind = Some(k);
                break;
            }
        }
        let kind = kind.ok_or_else(|| EngineError::NoTransform {
            module: name.to_string(),
        })?;
        let has_init = func_export("init", 3)?.is_some();
        let has_look_back = func_export("look_back", 3)?.is_some();
        Ok(Self {
            inner: Arc::new(CompiledInner {
                module,
                hash,
                size,
                kind,
                has_init,
                has_look_back,
                copy_records_module,
                wasi,
            }),
        })
    }

    /// The transform the module exports.
    pub fn kind(&self) -> TransformKind {
        self.inner.kind
    }
    /// Whether it exports `init`.
    pub fn has_init(&self) -> bool {
        self.inner.has_init
    }
    /// Whether it exports `look_back`.
    pub fn has_look_back(&self) -> bool {
        self.inner.has_look_back
    }
    /// Whether it imports WASI preview1 functions (built for `wasm32-wasip1`).
    pub fn uses_wasi(&self) -> bool {
        self.inner.wasi
    }
    /// Size of the .wasm, in bytes.
    pub fn size(&self) -> usize {
        self.inner.size
    }
    /// SHA-256 of the .wasm, the cache key.
    pub fn hash(&self) -> [u8; 32] {
        self.inner.hash
    }
}

/// Refuses growing a linear memory past the limit by failing the `memory.grow` with an
/// error (as the broker's limiter does), so the call ends with [`EngineError::MemoryLimit`].
struct MemoryLimiter {
    limit: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("memory growth to {requested} bytes refused (limit {limit} bytes)")]
struct MemoryLimitExceeded {
    requested: usize,
    limit: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        let over_limit = self.limit.is_some_and(|l| desired > l);
        let over_max = maximum.is_some_and(|m| desired > m);
        if over_limit || over_max {
            let limit = match (self.limit, maximum) {
                (Some(l), Some(m)) => l.min(m),
                (Some(l), None) => l,
                (None, Some(m)) => m,
                (None, None) => 0,
            };
            return Err(MemoryLimitExceeded {
                requested: desired,
                limit,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> anyhow::Result<bool> {
        Ok(true)
    }
}

/// Per-store host state.
pub(crate) struct HostState {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
    /// The `(ptr, len)` last passed to `copy_records` during the current call.
    copied: Option<(i32, i32)>,
}

type AbiFn = TypedFunc<(i32, i32, u32), i32>;

struct Live {
    store: Store<HostState>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    transform: AbiFn,
    init: Option<AbiFn>,
    look_back: Option<AbiFn>,
}

/// Cost of the last call of a module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Fuel burnt (alloc plus the function).
    pub fuel: u64,
    /// Wall time, including encoding and decoding.
    pub elapsed: Duration,
}

/// One module of a chain, instantiated in its own store. After a call fails (trap, limit,
/// bad output), the instance is dropped and the next call instantiates it afresh: `init`
/// runs again with the same params, `look_back` again with the same records, and an
/// aggregate keeps its accumulator (the host holds it).
pub struct ModuleInstance {
    name: String,
    engine: Engine,
    compiled: CompiledModule,
    params: BTreeMap<String, String>,
    lookback: Option<Lookback>,
    version: i16,
    limits: Limits,
    accumulator: Vec<u8>,
    lookback_records: Option<Vec<Record>>,
    live: Option<Live>,
    instantiations: u32,
    last_call: CallStats,
}

impl std::fmt::Debug for ModuleInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleInstance")
            .field("name", &self.name)
            .field("kind", &self.compiled.kind())
            .field("version", &self.version)
            .field("limits", &self.limits)
            .field("instantiations", &self.instantiations)
            .finish()
    }
}

/// What a module instance is built from, besides its compiled code.
#[derive(Debug, Clone, Default)]
pub struct InstanceConfig {
    /// Params handed to `init` (the transforms file's `with`).
    pub params: BTreeMap<String, String>,
    /// Lookback window, passed to `init` inside the params like the broker does.
    pub lookback: Option<Lookback>,
    /// Initial accumulator of an aggregate.
    pub initial_accumulator: Vec<u8>,
    /// SmartModule API version the host encodes with.
    pub version: i16,
    /// Limits of every call.
    pub limits: Limits,
}

impl ModuleInstance {
    /// Instantiates `compiled` and runs its `init` with the params.
    pub fn new(
        engine: &Engine,
        name: impl Into<String>,
        compiled: CompiledModule,
        config: InstanceConfig,
    ) -> Result<Self, EngineError> {
        crate::check_version(config.version)?;
        let mut instance = Self {
            name: name.into(),
            engine: engine.clone(),
            compiled,
            params: config.params,
            lookback: config.lookback,
            version: config.version,
            limits: config.limits,
            accumulator: config.initial_accumulator,
            lookback_records: None,
            live: None,
            instantiations: 0,
            last_call: CallStats::default(),
        };
        instance.instantiate()?;
        Ok(instance)
    }

    /// The module's name (as the chain names it).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its transform.
    pub fn kind(&self) -> TransformKind {
        self.compiled.kind()
    }
    /// Its compiled code.
    pub fn compiled(&self) -> &CompiledModule {
        &self.compiled
    }
    /// Its params.
    pub fn params(&self) -> &BTreeMap<String, String> {
        &self.params
    }
    /// Its lookback window, if configured.
    pub fn lookback(&self) -> Option<&Lookback> {
        self.lookback.as_ref()
    }
    /// Whether the broker would call its `look_back`: it exports one and has a window.
    pub fn wants_look_back(&self) -> bool {
        self.lookback.is_some() && self.compiled.has_look_back()
    }
    /// The API version it is called with.
    pub fn version(&self) -> i16 {
        self.version
    }
    /// Its limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }
    /// The aggregate accumulator (empty for other transforms).
    pub fn accumulator(&self) -> &[u8] {
        &self.accumulator
    }
    /// How many times the module was instantiated (1 + one per recovery from a failed call).
    pub fn instantiations(&self) -> u32 {
        self.instantiations
    }
    /// Cost of the last call.
    pub fn last_call(&self) -> CallStats {
        self.last_call
    }

    fn instantiate(&mut self) -> Result<(), EngineError> {
        self.live = None;
        self.instantiations += 1;
        let inner = &self.compiled.inner;
        let linker = self.engine.linker(&self.name, &inner.copy_records_module)?;
        let wasi = wasmtime_wasi::p2::WasiCtxBuilder::new()
            // The harness prints its report on stdout: module prints go to stderr.
            .stdout(wasmtime_wasi::p2::stderr())
            .inherit_stderr()
            .build_p1();
        let mut store = Store::new(
            &self.engine.inner.wasmtime,
            HostState {
                wasi,
                limiter: MemoryLimiter {
                    limit: self.limits.memory,
                },
                copied: None,
            },
        );
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        arm(&mut store, &self.limits);
        let instance: Instance = linker.instantiate(&mut store, &inner.module).map_err(|e| {
            match classify(&self.name, &self.limits, e) {
                EngineError::Trap {
                    module, message, ..
                } => EngineError::Instantiate { module, message },
                other => other,
            }
        })?;
        let missing = |what: &str| EngineError::Abi {
            module: self.name.clone(),
            problem: format!("lost its `{what}` export at instantiation"),
        };
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| missing("memory"))?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "alloc")
            .map_err(|_| missing("alloc"))?;
        let abi = |store: &mut Store<HostState>, export: &str| {
            instance
                .get_typed_func::<(i32, i32, u32), i32>(store, export)
                .map_err(|_| missing(export))
        };
        let transform = abi(&mut store, inner.kind.export_name())?;
        let init = if inner.has_init {
            Some(abi(&mut store, "init")?)
        } else {
            None
        };
        let look_back = if inner.has_look_back {
            Some(abi(&mut store, "look_back")?)
        } else {
            None
        };
        self.live = Some(Live {
            store,
            memory,
            alloc,
            transform,
            init,
            look_back,
        });
        self.call_init()?;
        if let Some(records) = self.lookback_records.clone() {
            self.run_look_back(records)?;
        }
        Ok(())
    }

    fn call_init(&mut self) -> Result<(), EngineError> {
        let Some(init) = self.live.as_ref().and_then(|l| l.init.clone()) else {
            return Ok(());
        };
        let input = SmartModuleInitInput {
            params: SmartModuleExtraParams::new(self.params.clone(), self.lookback.clone()),
        };
        let (status, copied) = self.call(&init, &input)?;
        if status >= 0 {
            return Ok(());
        }
        let meaning = SmartModuleInitErrorStatus::try_from(status)
            .unwrap_or(SmartModuleInitErrorStatus::UnknownError);
        if meaning == SmartModuleInitErrorStatus::InitError {
            let output: SmartModuleInitOutput = self.decode(copied, "SmartModuleInitOutput")?;
            return Err(EngineError::Init {
                module: self.name.clone(),
                hint: output.error.hint,
            });
        }
        Err(EngineError::InitStatus {
            module: self.name.clone(),
            status,
            meaning: meaning.to_string(),
        })
    }

    /// Calls the transform on `input`. A module's runtime error comes back inside the output
    /// (`error`), as the broker sees it; a failed call (trap, limit, negative status, bad
    /// output) is an [`EngineError`] and the instance is renewed for the next call.
    pub fn call_transform(
        &mut self,
        input: SmartModuleInput,
    ) -> Result<SmartModuleOutput, EngineError> {
        let result = self.transform_once(input);
        if result.is_err() {
            self.live = None;
        }
        result
    }

    fn transform_once(
        &mut self,
        input: SmartModuleInput,
    ) -> Result<SmartModuleOutput, EngineError> {
        if self.live.is_none() {
            self.instantiate()?;
        }
        let transform = self
            .live
            .as_ref()
            .map(|l| l.transform.clone())
            .ok_or_else(|| EngineError::Abi {
                module: self.name.clone(),
                problem: "has no live instance".to_string(),
            })?;
        let aggregate = self.compiled.kind() == TransformKind::Aggregate;
        let (status, copied) = if aggregate {
            let input = SmartModuleAggregateInput {
                base: input,
                accumulator: self.accumulator.clone(),
            };
            self.call(&transform, &input)?
        } else {
            self.call(&transform, &input)?
        };
        if status < 0 {
            let meaning = SmartModuleTransformErrorStatus::try_from(status)
                .unwrap_or(SmartModuleTransformErrorStatus::UnknownError);
            return Err(EngineError::Status {
                module: self.name.clone(),
                status,
                meaning: meaning.to_string(),
            });
        }
        if aggregate {
            let output: SmartModuleAggregateOutput =
                self.decode(copied, "SmartModuleAggregateOutput")?;
            self.accumulator = output.accumulator;
            Ok(output.base)
        } else {
            self.decode(copied, "SmartModuleOutput")
        }
    }

    /// Feeds `records` to the module's `look_back` (base offset 0, as the broker reads them
    /// from the partition) and remembers them for re-instantiations. Does nothing for a
    /// module without `look_back`.
    pub fn look_back(&mut self, records: Vec<Record>) -> Result<(), EngineError> {
        if !self.compiled.has_look_back() {
            return Ok(());
        }
        self.lookback_records = Some(records.clone());
        if self.live.is_none() {
            // instantiate() replays the remembered records.
            return self.instantiate();
        }
        let result = self.run_look_back(records);
        if result.is_err() {
            self.live = None;
        }
        result
    }

    fn run_look_back(&mut self, records: Vec<Record>) -> Result<(), EngineError> {
        let Some(look_back) = self.live.as_ref().and_then(|l| l.look_back.clone()) else {
            return Ok(());
        };
        let input = SmartModuleInput::try_from_records(records, self.version).map_err(|e| {
            EngineError::Encode {
                module: self.name.clone(),
                message: e.to_string(),
            }
        })?;
        let (status, copied) = self.call(&look_back, &input)?;
        if status >= 0 {
            return Ok(());
        }
        let meaning = SmartModuleLookbackErrorStatus::try_from(status)
            .unwrap_or(SmartModuleLookbackErrorStatus::UnknownError);
        if meaning == SmartModuleLookbackErrorStatus::PropagatedError {
            let output: SmartModuleLookbackOutput =
                self.decode(copied, "SmartModuleLookbackOutput")?;
            return Err(EngineError::LookBack {
                module: self.name.clone(),
                error: Box::new(output.error),
            });
        }
        Err(EngineError::Status {
            module: self.name.clone(),
            status,
            meaning: meaning.to_string(),
        })
    }

    /// One call: encode, `alloc`, copy in, call, and read what `copy_records` pointed at.
    /// Fuel and the epoch deadline are reset first.
    fn call<E: Encoder>(
        &mut self,
        func: &AbiFn,
        input: &E,
    ) -> Result<(i32, Option<Vec<u8>>), EngineError> {
        let started = Instant::now();
        let mut bytes = Vec::with_capacity(input.write_size(self.version));
        input
            .encode(&mut bytes, self.version)
            .map_err(|e| EngineError::Encode {
                module: self.name.clone(),
                message: e.to_string(),
            })?;
        let len = i32::try_from(bytes.len()).map_err(|_| EngineError::Encode {
            module: self.name.clone(),
            message: format!("input of {} bytes does not fit in wasm32", bytes.len()),
        })?;
        let name = self.name.clone();
        let limits = self.limits;
        let version = self.version as u32;
        let live = self.live.as_mut().ok_or_else(|| EngineError::Abi {
            module: name.clone(),
            problem: "has no live instance".to_string(),
        })?;
        let budget = arm(&mut live.store, &limits);
        live.store.data_mut().copied = None;

        let result = (|| {
            let ptr = live
                .alloc
                .call(&mut live.store, len)
                .map_err(|e| classify(&name, &limits, e))?;
            live.memory
                .write(&mut live.store, ptr as u32 as usize, &bytes)
                .map_err(|_| EngineError::Abi {
                    module: name.clone(),
                    problem: format!(
                        "returned pointer {ptr} from alloc({len}), outside its memory of {} bytes",
                        live.memory.data_size(&live.store)
                    ),
                })?;
            let status = func
                .call(&mut live.store, (ptr, len, version))
                .map_err(|e| classify(&name, &limits, e))?;
            let copied = match live.store.data().copied {
                None => None,
                Some((p, l)) => {
                    let mut out = vec![0u8; l as u32 as usize];
                    live.memory
                        .read(&live.store, p as u32 as usize, &mut out)
                        .map_err(|_| EngineError::Abi {
                            module: name.clone(),
                            problem: format!(
                                "passed copy_records({p}, {l}), a range outside its memory"
                            ),
                        })?;
                    Some(out)
                }
            };
            Ok((status, copied))
        })();
        let left = live.store.get_fuel().unwrap_or(0);
        self.last_call = CallStats {
            fuel: budget.saturating_sub(left),
            elapsed: started.elapsed(),
        };
        result
    }

    fn decode<D: Decoder + Default>(
        &self,
        copied: Option<Vec<u8>>,
        what: &'static str,
    ) -> Result<D, EngineError> {
        let bytes = copied.ok_or_else(|| EngineError::Abi {
            module: self.name.clone(),
            problem: format!("returned without calling copy_records, so there is no {what}"),
        })?;
        let mut out = D::default();
        out.decode(&mut Cursor::new(bytes), self.version)
            .map_err(|e| EngineError::Decode {
                module: self.name.clone(),
                what,
                message: e.to_string(),
            })?;
        Ok(out)
    }
}

/// Resets fuel and the epoch deadline before entering wasm; returns the fuel given.
fn arm(store: &mut Store<HostState>, limits: &Limits) -> u64 {
    let fuel = limits.fuel.unwrap_or(BROKER_FUEL);
    // Fuel is on in the engine config, so this cannot fail.
    let _ = store.set_fuel(fuel);
    store.set_epoch_deadline(Engine::epoch_ticks(limits.timeout));
    fuel
}

/// Turns a wasmtime error from a call into the typed error naming the module.
fn classify(module: &str, limits: &Limits, err: anyhow::Error) -> EngineError {
    let module = module.to_string();
    if let Some(m) = err.downcast_ref::<MemoryLimitExceeded>() {
        return EngineError::MemoryLimit {
            module,
            requested: m.requested,
            limit: m.limit,
        };
    }
    let backtrace = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string())
        .unwrap_or_default();
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        match trap {
            wasmtime::Trap::OutOfFuel => {
                return EngineError::OutOfFuel {
                    module,
                    fuel: limits.fuel.unwrap_or(BROKER_FUEL),
                }
            }
            wasmtime::Trap::Interrupt => {
                return EngineError::Timeout {
                    module,
                    timeout: limits.timeout.unwrap_or(Duration::MAX),
                }
            }
            other => {
                return EngineError::Trap {
                    module,
                    message: other.to_string(),
                    backtrace,
                }
            }
        }
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return EngineError::Trap {
            module,
            message: format!("the module called proc_exit({})", exit.0),
            backtrace,
        };
    }
    // Host function errors and the like: the innermost cause says what happened.
    let message = err.root_cause().to_string();
    EngineError::Trap {
        module,
        message,
        backtrace,
    }
}
