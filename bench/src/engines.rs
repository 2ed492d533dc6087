//! The two engines, driven the way the broker drives a produce request's chain: the records
//! are encoded into a `SmartModuleInput` (base offset and timestamp set), the chain runs, and
//! its output records come back decoded.

use std::time::{Duration, Instant};

use fluvio_protocol::record::Record;
use fluvio_smartengine::{
    SmartEngine, SmartModuleChainBuilder, SmartModuleChainInstance, SmartModuleConfig,
    SmartModuleInitialData,
};
use fluvio_smartmodule::dataplane::smartmodule::{SmartModuleInput, SmartModuleOutput};
use host_harness::{Batch, Chain, ChainFailure, ChainOptions, Engine, ModuleSpec};

use crate::inputs::{Cell, BASE_OFFSET, BASE_TIMESTAMP};
use crate::{Subject, VERSION};

/// Where a throughput figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// `fluvio-smartengine`'s `SmartModuleChainInstance::process`.
    Official,
    /// The harness's public `Chain::process`, which also traces every record's fate.
    Harness,
    /// The harness's bare module call (`ModuleInstance::call_transform`), without the
    /// chain's bookkeeping: what the harness engine itself costs.
    HarnessCall,
}

impl EngineKind {
    pub const ALL: [EngineKind; 3] = [
        EngineKind::Official,
        EngineKind::Harness,
        EngineKind::HarnessCall,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EngineKind::Official => "official",
            EngineKind::Harness => "harness",
            EngineKind::HarnessCall => "harness call",
        }
    }
}

/// What one call gave back.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The records the broker would write.
    Records(Vec<Record>),
    /// The module refused the batch (a runtime error), with its hint.
    Refused(String),
}

/// Builds `subject` as a one-module chain of the official engine. Everything but
/// `initialize` (compile + instantiate + init) happens before the clock starts.
pub fn official_build(
    engine: &SmartEngine,
    subject: &Subject,
) -> Result<(SmartModuleChainInstance, Duration), String> {
    let mut config = SmartModuleConfig::builder();
    config
        .smartmodule_names(vec![subject.name.to_string()])
        .version(VERSION);
    for (k, v) in &subject.params {
        config.param(*k, *v);
    }
    if let Some(initial) = subject.initial {
        config.initial_data(SmartModuleInitialData::with_aggregate(initial.into()));
    }
    let config = config.build().map_err(|e| e.to_string())?;
    let mut builder = SmartModuleChainBuilder::default();
    builder.add_smart_module(config, subject.wasm.clone());
    let started = Instant::now();
    let chain = builder
        .initialize(engine)
        .map_err(|e| format!("{}: {e:#}", subject.name))?;
    Ok((chain, started.elapsed()))
}

/// The harness spec of `subject`.
pub fn harness_spec(subject: &Subject) -> ModuleSpec {
    let mut spec = subject.params.iter().fold(
        ModuleSpec::new(subject.name, subject.wasm.clone()),
        |s, (k, v)| s.param(*k, *v),
    );
    if let Some(initial) = subject.initial {
        spec.initial_accumulator = initial.into();
    }
    spec
}

/// Builds `subject` as a one-module harness chain on `engine` (compiling through its cache),
/// timing `Chain::new` alone.
pub fn harness_build(engine: &Engine, spec: &ModuleSpec) -> Result<(Chain, Duration), String> {
    let options = ChainOptions {
        version: VERSION,
        ..ChainOptions::default()
    };
    let started = Instant::now();
    let chain = Chain::new(engine, std::slice::from_ref(spec), &options)
        .map_err(|e| format!("{}: {e}", spec.name))?;
    Ok((chain, started.elapsed()))
}

/// One module, ready in every engine.
pub struct Runners {
    pub official: SmartModuleChainInstance,
    pub harness: Chain,
    /// Whether the module has a secret, so gets sealed tagged records.
    pub sealed: bool,
}

impl Runners {
    pub fn new(
        official_engine: &SmartEngine,
        engine: &Engine,
        subject: &Subject,
    ) -> Result<Self, String> {
        let (official, _) = official_build(official_engine, subject)?;
        let (harness, _) = harness_build(engine, &harness_spec(subject))?;
        Ok(Self {
            official,
            harness,
            sealed: subject.sealed(),
        })
    }

    /// Fuel the last harness call burnt.
    pub fn fuel_of_last_call(&self) -> u64 {
        self.harness.modules()[0].last_call().fuel
    }

    /// Runs `cell` once in `kind`; returns what came back and the time the call took
    /// (input encoding included, the cloning of the records the caller hands over not).
    pub fn call(&mut self, kind: EngineKind, cell: &Cell) -> Result<(Reply, Duration), String> {
        match kind {
            EngineKind::Official => {
                let records = cell.records(self.sealed).to_vec();
                let started = Instant::now();
                let input = input(records)?;
                let output = self.official.process(input).map_err(|e| format!("{e:#}"))?;
                let elapsed = started.elapsed();
                Ok((Reply::from(output), elapsed))
            }
            EngineKind::Harness => {
                let batch = Batch {
                    base_offset: BASE_OFFSET,
                    base_timestamp: BASE_TIMESTAMP,
                    records: cell.records(self.sealed).to_vec(),
                };
                let started = Instant::now();
                let result = self.harness.process(&batch);
                let elapsed = started.elapsed();
                match result {
                    Ok(records) => Ok((Reply::Records(records), elapsed)),
                    Err(ChainFailure::Refused(e)) => {
                        Ok((Reply::Refused(e.hint().to_string()), elapsed))
                    }
                    Err(ChainFailure::Failed(e)) => Err(e.to_string()),
                }
            }
            EngineKind::HarnessCall => {
                let records = cell.records(self.sealed).to_vec();
                let module = &mut self.harness.modules_mut()[0];
                let started = Instant::now();
                let input = input(records)?;
                let output = module.call_transform(input).map_err(|e| e.to_string())?;
                let elapsed = started.elapsed();
                Ok((Reply::from(output), elapsed))
            }
        }
    }
}

impl From<SmartModuleOutput> for Reply {
    fn from(output: SmartModuleOutput) -> Self {
        match output.error {
            Some(e) => Reply::Refused(e.hint),
            None => Reply::Records(output.successes),
        }
    }
}

/// The input the broker hands a chain.
fn input(records: Vec<Record>) -> Result<SmartModuleInput, String> {
    let mut input =
        SmartModuleInput::try_from_records(records, VERSION).map_err(|e| e.to_string())?;
    input.set_base_offset(BASE_OFFSET);
    input.set_base_timestamp(BASE_TIMESTAMP);
    Ok(input)
}
