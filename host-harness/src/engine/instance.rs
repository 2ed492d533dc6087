//! One module instance and its calls (`init`, the transform, `look_back`), each under one
//! budget of the module's [`Limits`].
//!
//! The calling convention follows the broker's engine (`fluvio-smartengine` 0.50.1): encode
//! the input with `fluvio-protocol` at the chain's version, `alloc(len)`, copy the bytes in,
//! call `f(ptr, len, version)`, read a negative return as an error status, else decode the
//! bytes the module last passed to `copy_records`. Unlike the broker, every pointer and range
//! the module gives is checked against its memory before the host touches a byte, and the
//! output is decoded in place, bounded by the range (see [`super::output`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fluvio_protocol::record::Record;
use fluvio_protocol::{Decoder, Encoder};
use fluvio_smartmodule::dataplane::smartmodule::{
    Lookback, SmartModuleAggregateInput, SmartModuleAggregateOutput, SmartModuleExtraParams,
    SmartModuleInitErrorStatus, SmartModuleInitInput, SmartModuleInitOutput, SmartModuleInput,
    SmartModuleLookbackErrorStatus, SmartModuleLookbackOutput, SmartModuleOutput,
    SmartModuleTransformErrorStatus,
};
use wasmtime::{Instance, Memory, Store, TypedFunc};
use wasmtime_wasi::preview1::WasiP1Ctx;

use crate::error::EngineError;

use super::compile::{CompiledModule, TransformKind};
use super::limits::{arm, Limiter, Limits, Resource};
use super::output::{scan, Malformed, OutputType};
use super::traps::{classify, classify_instantiation};
use super::Engine;

/// Per-store host state.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: Limiter,
    /// The `(ptr, len)` last passed to `copy_records` during the current call.
    pub(crate) copied: Option<(i32, i32)>,
}

type AbiFn = TypedFunc<(i32, i32, u32), i32>;

/// A live instance: its store and the exports the host calls.
struct Live {
    store: Store<HostState>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    transform: AbiFn,
    init: Option<AbiFn>,
    look_back: Option<AbiFn>,
    /// Fuel given to the current call.
    fuel_given: u64,
}

/// Cost of the last call of a module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Fuel burnt (re-instantiation, `alloc` and the function).
    pub fuel: u64,
    /// Wall time, including encoding and decoding.
    pub elapsed: Duration,
}

/// One module of a chain, instantiated in its own store.
///
/// **Budgets.** Each public call ([`ModuleInstance::new`], [`ModuleInstance::look_back`],
/// [`ModuleInstance::call_transform`]) gets one budget of fuel and wall time, and everything
/// done on its behalf draws on that one budget. After a call fails (trap, limit, bad output),
/// the instance is dropped and renewed lazily, at the start of the next call and under that
/// call's budget: the start function, `init` with the same params and `look_back` with the
/// same records run first, then the transform, all together within one budget. So no call's
/// work ever gets more than one budget, and a module that fails every call cannot make the
/// host work more than one budget per call. An aggregate keeps its accumulator (the host
/// holds it).
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
    /// Instantiates `compiled` and runs its `init` with the params, under one budget.
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
        instance.budgeted(|_| Ok(()))?;
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

    /// Calls the transform on `input`. A module's runtime error comes back inside the output
    /// (`error`), as the broker sees it; a failed call (trap, limit, negative status, bad
    /// output) is an [`EngineError`] and the instance is renewed at the next call.
    pub fn call_transform(
        &mut self,
        input: SmartModuleInput,
    ) -> Result<SmartModuleOutput, EngineError> {
        self.budgeted(|m| m.transform(input))
    }

    /// Feeds `records` to the module's `look_back` (base offset 0, as the broker reads them
    /// from the partition) and remembers them for re-instantiations. Does nothing for a
    /// module without `look_back`.
    pub fn look_back(&mut self, records: Vec<Record>) -> Result<(), EngineError> {
        if !self.compiled.has_look_back() {
            return Ok(());
        }
        self.lookback_records = Some(records.clone());
        // A fresh instance replays the remembered records as it is set up.
        let fresh = self.live.is_none();
        self.budgeted(|m| {
            if fresh {
                Ok(())
            } else {
                m.run_look_back(records)
            }
        })
    }

    /// Runs `work` as one call: arms the budget (renewing the instance first if the last
    /// call failed, under the same budget), records the call's cost, and drops the instance
    /// if anything failed.
    fn budgeted<R>(
        &mut self,
        work: impl FnOnce(&mut Self) -> Result<R, EngineError>,
    ) -> Result<R, EngineError> {
        let started = Instant::now();
        let result = match self.live.as_mut() {
            Some(live) => {
                live.fuel_given = arm(&mut live.store, &self.limits);
                Ok(())
            }
            None => self.instantiate(),
        }
        .and_then(|()| work(self));
        let fuel = self.live.as_ref().map_or(0, |l| {
            l.fuel_given.saturating_sub(l.store.get_fuel().unwrap_or(0))
        });
        self.last_call = CallStats {
            fuel,
            elapsed: started.elapsed(),
        };
        if result.is_err() {
            self.live = None;
        }
        result
    }

    /// Checks the module's counts of memories and tables before anything is allocated.
    fn check_counts(&self) -> Result<(), EngineError> {
        for (resource, count, limit) in [
            (Resource::Instances, 1, self.limits.instances),
            (
                Resource::Memories,
                self.compiled.memories(),
                self.limits.memories,
            ),
            (Resource::Tables, self.compiled.tables(), self.limits.tables),
        ] {
            if count > limit {
                return Err(EngineError::ResourceCount {
                    module: self.name.clone(),
                    resource,
                    count,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// Sets up a fresh instance, arms the budget of the current call, and runs the start
    /// function, `init` and the `look_back` replay on it.
    fn instantiate(&mut self) -> Result<(), EngineError> {
        self.live = None;
        self.instantiations += 1;
        self.check_counts()?;
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
                limiter: Limiter::new(self.limits),
                copied: None,
            },
        );
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        let fuel_given = arm(&mut store, &self.limits);
        let instance: Instance = linker
            .instantiate(&mut store, &inner.module)
            .map_err(|e| classify_instantiation(&self.name, &self.limits, e))?;
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
        let init = if self.compiled.has_init() {
            Some(abi(&mut store, "init")?)
        } else {
            None
        };
        let look_back = if self.compiled.has_look_back() {
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
            fuel_given,
        });
        self.call_init()?;
        if let Some(records) = self.lookback_records.clone() {
            self.run_look_back(records)?;
        }
        Ok(())
    }

    fn live(&self) -> Result<&Live, EngineError> {
        self.live.as_ref().ok_or_else(|| EngineError::Abi {
            module: self.name.clone(),
            problem: "has no live instance".to_string(),
        })
    }

    fn call_init(&mut self) -> Result<(), EngineError> {
        let Some(init) = self.live()?.init.clone() else {
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
            let output: SmartModuleInitOutput = self.decode(copied, OutputType::Init)?;
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

    fn transform(&mut self, input: SmartModuleInput) -> Result<SmartModuleOutput, EngineError> {
        let transform = self.live()?.transform.clone();
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
            let output: SmartModuleAggregateOutput = self.decode(copied, OutputType::Aggregate)?;
            self.accumulator = output.accumulator;
            Ok(output.base)
        } else {
            self.decode(copied, OutputType::Transform)
        }
    }

    fn run_look_back(&mut self, records: Vec<Record>) -> Result<(), EngineError> {
        let Some(look_back) = self.live()?.look_back.clone() else {
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
            let output: SmartModuleLookbackOutput = self.decode(copied, OutputType::LookBack)?;
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

    /// One wasm call under the current budget: encode, `alloc`, copy in (the pointer checked
    /// against the memory first), call, and check the range the module last passed to
    /// `copy_records` against its memory. Returns the status and that range.
    fn call<E: Encoder>(
        &mut self,
        func: &AbiFn,
        input: &E,
    ) -> Result<(i32, Option<(usize, usize)>), EngineError> {
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
        let name = self.name.as_str();
        let limits = self.limits;
        let version = self.version as u32;
        let live = self.live.as_mut().ok_or_else(|| EngineError::Abi {
            module: name.to_string(),
            problem: "has no live instance".to_string(),
        })?;
        live.store.data_mut().copied = None;

        let ptr = live
            .alloc
            .call(&mut live.store, len)
            .map_err(|e| classify(name, &limits, e))?;
        let memory_size = live.memory.data_size(&live.store);
        let target = usize::try_from(ptr)
            .ok()
            .and_then(|start| Some(start..start.checked_add(bytes.len())?))
            .and_then(|range| live.memory.data_mut(&mut live.store).get_mut(range));
        match target {
            Some(target) => target.copy_from_slice(&bytes),
            None => {
                return Err(EngineError::AllocOutOfBounds {
                    module: name.to_string(),
                    ptr,
                    len,
                    memory: memory_size,
                })
            }
        }
        drop(bytes);
        let status = func
            .call(&mut live.store, (ptr, len, version))
            .map_err(|e| classify(name, &limits, e))?;
        let copied = match live.store.data().copied {
            None => None,
            Some((p, l)) => {
                let memory_size = live.memory.data_size(&live.store);
                let range = usize::try_from(p)
                    .ok()
                    .zip(usize::try_from(l).ok())
                    .filter(|(p, l)| p.checked_add(*l).is_some_and(|end| end <= memory_size));
                match range {
                    Some(range) => Some(range),
                    None => {
                        return Err(EngineError::CopyRecordsRange {
                            module: name.to_string(),
                            ptr: p,
                            len: l,
                            memory: memory_size,
                        })
                    }
                }
            }
        };
        Ok((status, copied))
    }

    /// Decodes the range a call handed back as `ty`, in place in the module's memory: the
    /// bytes are scanned first, so no length the module wrote is allocated before it is
    /// checked against the bytes actually there, and the decoded records count against the
    /// memory limit together with the module's memories.
    fn decode<D: Decoder + Default>(
        &self,
        copied: Option<(usize, usize)>,
        ty: OutputType,
    ) -> Result<D, EngineError> {
        let module = || self.name.clone();
        let (ptr, len) = copied.ok_or_else(|| EngineError::NoOutput {
            module: module(),
            what: ty.name(),
        })?;
        let live = self.live()?;
        let bytes = live
            .memory
            .data(&live.store)
            .get(ptr..ptr.saturating_add(len))
            .ok_or_else(|| EngineError::CopyRecordsRange {
                module: module(),
                ptr: ptr as i32,
                len: len as i32,
                memory: live.memory.data_size(&live.store),
            })?;
        let footprint = scan(bytes, ty, self.version).map_err(|m| match m {
            Malformed::Length {
                field,
                claimed,
                left,
            } => EngineError::OutputLength {
                module: module(),
                what: ty.name(),
                field,
                claimed,
                left,
            },
            Malformed::Shape { field, problem } => EngineError::Decode {
                module: module(),
                what: ty.name(),
                message: format!("{field} {problem}"),
            },
        })?;
        if let Some(limit) = self.limits.memory {
            let memories = live.store.data().limiter.memory_in_use();
            if memories.saturating_add(footprint.bytes) > limit {
                return Err(EngineError::OutputLimit {
                    module: module(),
                    records: footprint.records,
                    bytes: footprint.bytes,
                    memories,
                    limit,
                });
            }
        }
        let mut out = D::default();
        out.decode(&mut &bytes[..], self.version)
            .map_err(|e| EngineError::Decode {
                module: module(),
                what: ty.name(),
                message: e.to_string(),
            })?;
        Ok(out)
    }
}
