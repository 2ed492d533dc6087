//! A chain of modules run like the broker runs a produce request's chain: each module's
//! successes, re-encoded, are the next module's input (base offset and base timestamp kept),
//! and a module's runtime error stops the chain and refuses the write.
//!
//! [`Chain::run`] also keeps every module's output and attributes a fate to each input
//! record (passed, changed, dropped by a module, refused by a module), matching records
//! between steps by offset delta and falling back to position.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use fluvio_protocol::record::{Record, RecordData};
use fluvio_protocol::Encoder;
use fluvio_smartmodule::dataplane::smartmodule::{Lookback, SmartModuleInput};

use crate::chain_file::{ChainFile, ModuleResolver};
use crate::engine::{Engine, InstanceConfig, Limits, ModuleInstance, TransformKind};
use crate::error::{EngineError, HarnessError, RuntimeError};

/// What a chain is built from; defined with the chain files that produce it.
pub use crate::chain_file::ModuleSpec;

/// Options of a whole chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// SmartModule API version the host encodes with (16..=25, default 22).
    pub version: i16,
    /// Limits of every call.
    pub limits: Limits,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            version: crate::DEFAULT_VERSION,
            limits: Limits::default(),
        }
    }
}

/// A batch of records as the broker hands it to a chain.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Offset of the first record; each record's offset is this plus its offset delta.
    pub base_offset: i64,
    /// Timestamp (ms) the records' timestamp deltas are relative to.
    pub base_timestamp: i64,
    /// The records, with their preambles.
    pub records: Vec<Record>,
}

impl Batch {
    /// A batch whose record `i` has offset delta `i` and timestamp delta 0.
    pub fn new(records: Vec<Record>, base_offset: i64, base_timestamp: i64) -> Self {
        let records = records
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.preamble.set_offset_delta(i as i64);
                r
            })
            .collect();
        Self {
            base_offset,
            base_timestamp,
            records,
        }
    }

    /// A batch of values without keys, offsets from 0.
    pub fn from_values<V: Into<Vec<u8>>>(values: impl IntoIterator<Item = V>) -> Self {
        Self::new(
            values
                .into_iter()
                .map(|v| Record::new(RecordData::from(v.into())))
                .collect(),
            0,
            0,
        )
    }

    /// Absolute offset of record `index`.
    pub fn offset_of(&self, index: usize) -> i64 {
        self.base_offset + self.records[index].preamble.offset_delta()
    }

    /// Encodes `records` as the input of `module`, with the batch's base offset and base
    /// timestamp. Encodes from the slice, so the records need not be cloned; the bytes are
    /// those of `SmartModuleInput::try_from_records`.
    fn to_input(
        &self,
        module: &str,
        records: &[Record],
        version: i16,
    ) -> Result<SmartModuleInput, EngineError> {
        let refs: Vec<&Record> = records.iter().collect();
        let mut raw = Vec::with_capacity(refs.write_size(version));
        refs.encode(&mut raw, version)
            .map_err(|e| EngineError::Encode {
                module: module.to_string(),
                message: e.to_string(),
            })?;
        Ok(SmartModuleInput::new(
            raw,
            self.base_offset,
            self.base_timestamp,
        ))
    }
}

/// What one module did to a batch.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// Module name.
    pub module: String,
    /// Its transform.
    pub kind: TransformKind,
    /// Records it was given.
    pub input: usize,
    /// Records it handed back (on a runtime error: those it handed back with the error).
    pub output: Vec<Record>,
    /// Fuel the call burnt.
    pub fuel: u64,
    /// Wall time of the call.
    pub elapsed: Duration,
}

/// How a batch ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every module ran; the output records would be written.
    Written,
    /// A module returned a runtime error: the broker refuses the write.
    Refused(RuntimeError),
    /// A call failed (trap, limit, bad status or output): the broker fails the write.
    Failed(EngineError),
}

impl Outcome {
    /// Whether the write goes through.
    pub fn is_written(&self) -> bool {
        matches!(self, Outcome::Written)
    }
}

/// What became of one input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Came out once, key and value unchanged.
    Passed,
    /// Came out changed, or as several records.
    Changed,
    /// A module handed back no record for it.
    Dropped { module: String },
    /// A module's runtime error refused the batch; `this_record` when the error names this
    /// record's offset (otherwise it was refused along with the batch).
    Refused {
        module: String,
        message: String,
        this_record: bool,
    },
    /// A call failed (trap, limit...) while the record was in the batch.
    Failed { module: String, message: String },
    /// A module renumbered and resized the batch, so its outputs cannot be traced back.
    Unattributed { module: String },
}

impl Fate {
    /// Short name: passed, changed, dropped, refused, failed, unattributed.
    pub fn label(&self) -> &'static str {
        match self {
            Fate::Passed => "passed",
            Fate::Changed => "changed",
            Fate::Dropped { .. } => "dropped",
            Fate::Refused { .. } => "refused",
            Fate::Failed { .. } => "failed",
            Fate::Unattributed { .. } => "unattributed",
        }
    }
    /// The module the fate is about, if any.
    pub fn module(&self) -> Option<&str> {
        match self {
            Fate::Passed | Fate::Changed => None,
            Fate::Dropped { module }
            | Fate::Refused { module, .. }
            | Fate::Failed { module, .. }
            | Fate::Unattributed { module } => Some(module),
        }
    }
}

impl std::fmt::Display for Fate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fate::Passed => f.write_str("passed"),
            Fate::Changed => f.write_str("changed"),
            Fate::Dropped { module } => write!(f, "dropped by {module}"),
            Fate::Refused {
                module,
                message,
                this_record: true,
            } => write!(f, "refused by {module}: {message}"),
            Fate::Refused {
                module,
                message,
                this_record: false,
            } => write!(f, "refused by {module} with its batch: {message}"),
            Fate::Failed { module, message } => write!(f, "failed in {module}: {message}"),
            Fate::Unattributed { module } => {
                write!(f, "unattributed ({module} renumbered the records)")
            }
        }
    }
}

/// One input record's fate and the output records that came from it.
#[derive(Debug, Clone)]
pub struct RecordFate {
    pub fate: Fate,
    /// Output records traced back to this input (written only if the batch was).
    pub outputs: Vec<Record>,
}

/// Everything about one batch through the chain.
#[derive(Debug, Clone)]
pub struct ChainRun {
    /// The batch as given.
    pub batch: Batch,
    /// One entry per module that ran, in chain order.
    pub steps: Vec<StepRun>,
    /// How the batch ended.
    pub outcome: Outcome,
    /// One entry per input record.
    pub fates: Vec<RecordFate>,
    /// Output records no input could be traced to.
    pub unattributed: Vec<Record>,
}

impl ChainRun {
    /// The records the broker would write: the last module's output, if written.
    pub fn output(&self) -> &[Record] {
        match (&self.outcome, self.steps.last()) {
            (Outcome::Written, Some(last)) => &last.output,
            (Outcome::Written, None) => &self.batch.records,
            _ => &[],
        }
    }
}

/// A refused or failed batch, from [`Chain::process`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainFailure {
    #[error("write refused: {0}")]
    Refused(RuntimeError),
    #[error("write failed: {0}")]
    Failed(EngineError),
}

/// A chain of instantiated modules.
#[derive(Debug)]
pub struct Chain {
    modules: Vec<ModuleInstance>,
    version: i16,
}

impl Chain {
    /// Compiles (through the engine's cache), instantiates and initialises each module.
    pub fn new(
        engine: &Engine,
        specs: &[ModuleSpec],
        options: &ChainOptions,
    ) -> Result<Self, EngineError> {
        crate::check_version(options.version)?;
        let mut modules = Vec::with_capacity(specs.len());
        for spec in specs {
            let compiled = engine.compile(&spec.name, &spec.wasm)?;
            modules.push(ModuleInstance::new(
                engine,
                spec.name.clone(),
                compiled,
                InstanceConfig {
                    params: spec.params.clone(),
                    lookback: spec.lookback.clone(),
                    initial_accumulator: spec.initial_accumulator.clone(),
                    version: options.version,
                    limits: options.limits,
                },
            )?);
        }
        Ok(Self {
            modules,
            version: options.version,
        })
    }

    /// Reads a transforms file, resolves its modules and builds the chain.
    pub fn from_file(
        engine: &Engine,
        path: impl AsRef<Path>,
        resolver: &ModuleResolver,
        options: &ChainOptions,
    ) -> Result<Self, HarnessError> {
        let file = ChainFile::load(path)?;
        let specs = file.resolve(resolver)?;
        Ok(Self::new(engine, &specs, options)?)
    }

    /// The modules, in order.
    pub fn modules(&self) -> &[ModuleInstance] {
        &self.modules
    }

    /// Mutable access to the modules, in order.
    pub fn modules_mut(&mut self) -> &mut [ModuleInstance] {
        &mut self.modules
    }

    /// Module names, in order.
    pub fn names(&self) -> Vec<String> {
        self.modules.iter().map(|m| m.name().to_string()).collect()
    }

    /// The API version the chain encodes with.
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Feeds look-back records to every module that has a lookback window and exports
    /// `look_back`, each getting the records its window selects (see [`select_lookback`]).
    /// `records` stand for the partition's tail, oldest first: record `i` gets offset `i`
    /// (base offset 0); timestamp deltas are taken as absolute timestamps (base 0), as the
    /// broker hands stored records back. Returns the names of the modules fed.
    pub fn look_back(
        &mut self,
        records: &[Record],
        now_ms: i64,
    ) -> Result<Vec<String>, EngineError> {
        let records: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                r.preamble.set_offset_delta(i as i64);
                r
            })
            .collect();
        let records = records.as_slice();
        let mut fed = Vec::new();
        for module in &mut self.modules {
            if !module.wants_look_back() {
                continue;
            }
            let Some(window) = module.lookback().cloned() else {
                continue;
            };
            module.look_back(select_lookback(records, &window, now_ms))?;
            fed.push(module.name().to_string());
        }
        Ok(fed)
    }

    /// Runs a batch and returns what the broker would write, or why it would not: the lean
    /// path of [`Chain::run`], which feeds each module's successes to the next without
    /// keeping the steps or tracing any record.
    pub fn process(&mut self, batch: &Batch) -> Result<Vec<Record>, ChainFailure> {
        // The next module's input: the batch's records, then each module's successes.
        let mut current: Option<Vec<Record>> = None;
        for module in &mut self.modules {
            let records = current.as_deref().unwrap_or(&batch.records);
            let input = batch
                .to_input(module.name(), records, self.version)
                .map_err(ChainFailure::Failed)?;
            let output = module.call_transform(input).map_err(ChainFailure::Failed)?;
            if let Some(error) = output.error {
                return Err(ChainFailure::Refused(RuntimeError {
                    module: module.name().to_string(),
                    error: Box::new(error),
                }));
            }
            current = Some(output.successes);
        }
        Ok(current.unwrap_or_else(|| batch.records.clone()))
    }

    /// Runs a batch module by module, keeping each module's output and each record's fate.
    /// Never fails: a refusal or failure is the run's [`Outcome`]; a failed module is
    /// re-instantiated on its next call.
    pub fn run(&mut self, batch: &Batch) -> ChainRun {
        let n = batch.records.len();
        // The records fed to the next module are the batch's until a module hands back its
        // successes, then those of the last step: `fed_by` is that step's index.
        let mut fed_by: Option<usize> = None;
        // lineage[j]: which input record current[j] came from, if known.
        let mut lineage: Vec<Option<usize>> = (0..n).map(Some).collect();
        // alive[i]: whether some current record traces back to input record i.
        let mut alive = vec![true; n];
        let mut dropped: Vec<Option<String>> = vec![None; n];
        let mut lost_at: Option<String> = None;
        let mut steps: Vec<StepRun> = Vec::with_capacity(self.modules.len());
        let mut outcome = Outcome::Written;

        for module in &mut self.modules {
            let name = module.name().to_string();
            let current = match fed_by {
                Some(k) => steps[k].output.as_slice(),
                None => batch.records.as_slice(),
            };
            let input = match batch.to_input(&name, current, self.version) {
                Ok(input) => input,
                Err(e) => {
                    outcome = Outcome::Failed(e);
                    break;
                }
            };
            let result = module.call_transform(input);
            let stats = module.last_call();
            let output = match result {
                Ok(output) => output,
                Err(e) => {
                    outcome = Outcome::Failed(e);
                    break;
                }
            };
            let new_lineage = attribute(current, &lineage, &output.successes);
            let given = current.len();
            let handed_back = output.successes.len();
            steps.push(StepRun {
                module: name.clone(),
                kind: module.kind(),
                input: given,
                output: output.successes,
                fuel: stats.fuel,
                elapsed: stats.elapsed,
            });
            if let Some(error) = output.error {
                outcome = Outcome::Refused(RuntimeError {
                    module: name,
                    error: Box::new(error),
                });
                break;
            }
            match new_lineage {
                Some(new_lineage) => {
                    let now_alive = origins_alive(&new_lineage, n);
                    for ((d, was), now) in dropped.iter_mut().zip(&alive).zip(&now_alive) {
                        if d.is_none() && *was && !*now {
                            *d = Some(name.clone());
                        }
                    }
                    alive = now_alive;
                    lineage = new_lineage;
                }
                None => {
                    if lost_at.is_none() && lineage.iter().any(Option::is_some) {
                        lost_at = Some(name.clone());
                    }
                    alive.fill(false);
                    lineage = vec![None; handed_back];
                }
            }
            fed_by = Some(steps.len() - 1);
        }

        let current = match fed_by {
            Some(k) => steps[k].output.as_slice(),
            None => batch.records.as_slice(),
        };
        let written = outcome.is_written();
        // The fate of a record that was neither dropped nor written, the same for all.
        let batch_fate = match &outcome {
            Outcome::Written => None,
            Outcome::Refused(e) => Some(Fate::Refused {
                module: e.module.clone(),
                message: e.hint().to_string(),
                this_record: false,
            }),
            Outcome::Failed(e) => Some(Fate::Failed {
                module: e.module().unwrap_or("the chain").to_string(),
                message: e.to_string(),
            }),
        };
        let refused_offset = match &outcome {
            Outcome::Refused(e) => Some(e.offset()),
            _ => None,
        };
        let by_origin = if written {
            OutputsByOrigin::new(&lineage, n)
        } else {
            OutputsByOrigin::default()
        };

        let mut fates = Vec::with_capacity(n);
        for (i, input) in batch.records.iter().enumerate() {
            let outs: &[usize] = if written { by_origin.of(i) } else { &[] };
            let fate = if let Some(module) = &dropped[i] {
                Fate::Dropped {
                    module: module.clone(),
                }
            } else if let Some(fate) = &batch_fate {
                let mut fate = fate.clone();
                if let Fate::Refused { this_record, .. } = &mut fate {
                    *this_record = refused_offset == Some(batch.offset_of(i));
                }
                fate
            } else if !alive[i] && lost_at.is_some() {
                Fate::Unattributed {
                    module: lost_at.clone().unwrap_or_default(),
                }
            } else if let [only] = outs {
                let out = &current[*only];
                if out.key == input.key && out.value.as_ref() == input.value.as_ref() {
                    Fate::Passed
                } else {
                    Fate::Changed
                }
            } else {
                Fate::Changed
            };
            let outputs = outs.iter().map(|&j| current[j].clone()).collect();
            fates.push(RecordFate { fate, outputs });
        }
        let unattributed = if written {
            lineage
                .iter()
                .zip(current)
                .filter(|(l, _)| l.is_none())
                .map(|(_, r)| r.clone())
                .collect()
        } else {
            Vec::new()
        };

        ChainRun {
            batch: batch.clone(),
            steps,
            outcome,
            fates,
            unattributed,
        }
    }
}

/// Which input records (of `n`) some record of a lineage traces back to.
fn origins_alive(lineage: &[Option<usize>], n: usize) -> Vec<bool> {
    let mut alive = vec![false; n];
    for &origin in lineage.iter().flatten() {
        alive[origin] = true;
    }
    alive
}

/// The positions of the current records grouped by the input record they trace back to,
/// each group in output order: built once, in linear time (a counting sort).
#[derive(Debug, Default)]
struct OutputsByOrigin {
    /// Group `i` is `positions[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    positions: Vec<usize>,
}

impl OutputsByOrigin {
    fn new(lineage: &[Option<usize>], n: usize) -> Self {
        let mut starts = vec![0usize; n + 1];
        for &origin in lineage.iter().flatten() {
            starts[origin + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut positions = vec![0usize; starts[n]];
        for (j, origin) in lineage.iter().enumerate() {
            if let Some(origin) = *origin {
                positions[next[origin]] = j;
                next[origin] += 1;
            }
        }
        Self { starts, positions }
    }

    /// Positions of the records that came from input record `i`.
    fn of(&self, i: usize) -> &[usize] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.positions[start..end],
            _ => &[],
        }
    }
}

/// Traces each output record to an input record of the same step: by offset delta when
/// every output's delta names an input (modules keep preambles), by position when the
/// counts match and the deltas do not tell (all reset to 0, or unknown), else not at all.
fn attribute(
    inputs: &[Record],
    lineage: &[Option<usize>],
    outputs: &[Record],
) -> Option<Vec<Option<usize>>> {
    // delta -> the origin of the inputs with that delta; `None` when they disagree (after a
    // split, the pieces share their parent's delta and origin, so that stays usable).
    let mut by_delta: HashMap<i64, Option<usize>> = HashMap::with_capacity(inputs.len());
    for (r, origin) in inputs.iter().zip(lineage) {
        by_delta
            .entry(r.preamble.offset_delta())
            .and_modify(|o| {
                if *o != *origin {
                    *o = None;
                }
            })
            .or_insert(*origin);
    }
    let mapped: Option<Vec<Option<usize>>> = outputs
        .iter()
        .map(|o| by_delta.get(&o.preamble.offset_delta()).copied())
        .collect();
    if let Some(mapped) = mapped {
        // A module that builds new records with default preambles gives every output delta
        // 0; with as many outputs as inputs, position tells more (a map keeps order).
        let reset = inputs.len() > 1
            && outputs.len() == inputs.len()
            && outputs.iter().all(|o| o.preamble.offset_delta() == 0);
        if !reset && mapped.iter().all(Option::is_some) {
            return Some(mapped);
        }
    }
    if outputs.len() == inputs.len() {
        return Some(lineage.to_vec());
    }
    None
}

/// The records a lookback window selects from `records` (oldest first), as the broker reads
/// them back from the partition: without an age, the last `last`; with an age, those whose
/// timestamp (the delta: records read back have base timestamp 0) is at most `age` before
/// `now_ms`, then the last `last` of them when `last` > 0.
pub fn select_lookback(records: &[Record], window: &Lookback, now_ms: i64) -> Vec<Record> {
    if window.age.is_none() && window.last == 0 {
        return Vec::new();
    }
    let mut selected: Vec<Record> = match window.age {
        Some(age) => {
            let oldest = now_ms.saturating_sub(age.as_millis().min(i64::MAX as u128) as i64);
            records
                .iter()
                .filter(|r| r.preamble.get_timestamp_delta() >= oldest)
                .cloned()
                .collect()
        }
        None => records.to_vec(),
    };
    if window.last > 0 && selected.len() as u64 > window.last {
        selected.drain(..selected.len() - window.last as usize);
    }
    selected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: &str, delta: i64) -> Record {
        let mut r = Record::new(value);
        r.preamble.set_offset_delta(delta);
        r
    }

    #[test]
    fn attribute_by_offset_delta_sees_drops_and_splits() {
        let inputs = vec![rec("a", 0), rec("b", 1), rec("c", 2)];
        let lineage = vec![Some(0), Some(1), Some(2)];
        // b dropped, c split in two.
        let outputs = vec![rec("a", 0), rec("c1", 2), rec("c2", 2)];
        assert_eq!(
            attribute(&inputs, &lineage, &outputs),
            Some(vec![Some(0), Some(2), Some(2)])
        );
    }

    #[test]
    fn attribute_falls_back_to_position_when_deltas_are_reset() {
        let inputs = vec![rec("a", 0), rec("b", 1)];
        let lineage = vec![Some(4), Some(7)];
        let outputs = vec![rec("A", 0), rec("B", 0)];
        assert_eq!(
            attribute(&inputs, &lineage, &outputs),
            Some(vec![Some(4), Some(7)])
        );
    }

    #[test]
    fn attribute_follows_split_pieces_through_the_next_step() {
        // After a split, the pieces of input 1 share delta 1.
        let inputs = vec![rec("a", 0), rec("b1", 1), rec("b2", 1)];
        let lineage = vec![Some(0), Some(1), Some(1)];
        let outputs = vec![rec("b2", 1)];
        assert_eq!(attribute(&inputs, &lineage, &outputs), Some(vec![Some(1)]));
    }

    #[test]
    fn attribute_gives_up_on_renumbered_and_resized_output() {
        let inputs = vec![rec("a", 0), rec("b", 1)];
        let lineage = vec![Some(0), Some(1)];
        let outputs = vec![rec("x", 5), rec("y", 6), rec("z", 7)];
        assert_eq!(attribute(&inputs, &lineage, &outputs), None);
    }

    fn stamped(value: &str, ts: i64) -> Record {
        let mut r = Record::new(value);
        r.preamble.set_timestamp_delta(ts);
        r
    }

    #[test]
    fn lookback_window_selects_last_and_age() {
        let records: Vec<Record> = (0..5).map(|i| stamped(&i.to_string(), i * 1000)).collect();
        let values = |v: Vec<Record>| -> Vec<String> {
            v.iter()
                .map(|r| r.value.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            values(select_lookback(&records, &Lookback::last(2), 0)),
            ["3", "4"]
        );
        assert!(select_lookback(&records, &Lookback::last(0), 0).is_empty());
        // now = 5000, age 2.5 s: records at 3000 and 4000.
        let age = Lookback::age(Duration::from_millis(2500), None);
        assert_eq!(values(select_lookback(&records, &age, 5000)), ["3", "4"]);
        let both = Lookback::age(Duration::from_millis(4500), Some(1));
        assert_eq!(values(select_lookback(&records, &both, 5000)), ["4"]);
    }

    #[test]
    fn batch_offsets_follow_the_base() {
        let b = Batch::new(vec![Record::new("a"), Record::new("b")], 40, 0);
        assert_eq!(b.offset_of(0), 40);
        assert_eq!(b.offset_of(1), 41);
    }
}
