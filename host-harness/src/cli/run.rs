//! `harness test`, second step: the input, cut in batches, through the chain, into a report
//! that says what became of every record. No formatting here: see [`super::render`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use host_harness::input::{self, InputRecord};
use host_harness::tag::Carrier;
use host_harness::{Batch, EngineError, Fate, Outcome, Record, TransformKind};

use super::load::Loaded;
use super::test::TestArgs;
use super::{EXIT_OK, EXIT_REFUSED};

/// One module of the chain, as the report shows it.
pub struct ModuleLine {
    pub name: String,
    pub kind: TransformKind,
    pub path: Option<PathBuf>,
    pub params: BTreeMap<String, String>,
}

/// What became of one input record.
pub struct RecordReport {
    /// Position in the input.
    pub index: usize,
    pub offset: i64,
    pub input: InputRecord,
    pub fate: Fate,
    /// The output records that came from it.
    pub outputs: Vec<Record>,
}

/// One batch (produce request).
pub struct BatchReport {
    pub base_offset: i64,
    pub base_timestamp: i64,
    pub records: Vec<RecordReport>,
    /// Outputs no input could be traced to.
    pub unattributed: Vec<Record>,
    /// A failure that concerns no module (the chain's own), if any.
    pub chain_failure: Option<EngineError>,
}

/// Everything `harness test` found.
pub struct TestReport {
    pub chain: Vec<ModuleLine>,
    pub version: i16,
    pub batch_size: usize,
    pub carrier: Carrier,
    pub batches: Vec<BatchReport>,
    pub exit: u8,
}

impl TestReport {
    /// Input records.
    pub fn records(&self) -> usize {
        self.batches.iter().map(|b| b.records.len()).sum()
    }
    /// Output records, attributed or not.
    pub fn outputs(&self) -> usize {
        self.batches
            .iter()
            .map(|b| {
                b.unattributed.len() + b.records.iter().map(|r| r.outputs.len()).sum::<usize>()
            })
            .sum()
    }
    /// How many records had the fate labelled `label`.
    pub fn count(&self, label: &str) -> usize {
        self.batches
            .iter()
            .flat_map(|b| &b.records)
            .filter(|r| r.fate.label() == label)
            .count()
    }
}

pub fn run(loaded: Loaded, args: &TestArgs) -> TestReport {
    let Loaded {
        mut chain,
        specs,
        inputs,
        now,
    } = loaded;
    let batch_size = if args.batch_size == 0 {
        inputs.len().max(1)
    } else {
        args.batch_size
    };
    let modules = chain
        .modules()
        .iter()
        .zip(&specs)
        .map(|(m, s)| ModuleLine {
            name: m.name().to_string(),
            kind: m.kind(),
            path: s.path.clone(),
            params: m.params().clone(),
        })
        .collect();
    let mut exit = EXIT_OK;
    let mut batches = Vec::new();
    for (b, chunk) in inputs.chunks(batch_size).enumerate() {
        let first = b * batch_size;
        let base_offset = args.base_offset + first as i64;
        let base_timestamp = chunk.first().and_then(|r| r.timestamp).unwrap_or(now);
        let batch = Batch {
            base_offset,
            base_timestamp,
            records: input::to_records(chunk, base_timestamp),
        };
        let run = chain.run(&batch);
        if !run.outcome.is_written() {
            exit = EXIT_REFUSED;
        }
        let records = run
            .fates
            .into_iter()
            .zip(chunk)
            .enumerate()
            .map(|(i, (rf, input))| RecordReport {
                index: first + i,
                offset: base_offset + i as i64,
                input: input.clone(),
                fate: rf.fate,
                outputs: rf.outputs,
            })
            .collect();
        let chain_failure = match run.outcome {
            Outcome::Failed(e) if e.module().is_none() => Some(e),
            _ => None,
        };
        batches.push(BatchReport {
            base_offset,
            base_timestamp,
            records,
            unattributed: run.unattributed,
            chain_failure,
        });
    }
    TestReport {
        chain: modules,
        version: args.version,
        batch_size,
        carrier: args.carrier.into(),
        batches,
        exit,
    }
}
