//! The de-duplication window under a flood: mirror-policy (a window of 20,000) given 10,000
//! tagged records whose ids are random, then 10,000 whose ids are equal in their low 16 bits
//! (so that under an unkeyed slot function they would all share one probe run). Each sample
//! builds a fresh chain, untimed, and times one call: every record is new to the window, so
//! each is looked up and inserted. The report gives both as records per second and the ratio.

use std::time::{Duration, Instant};

use fluvio_protocol::record::Record;
use fluvio_smartengine::SmartEngine;
use host_harness::{Batch, Chain, ChainOptions, Engine, ModuleSpec};

use crate::engines::official_build;
use crate::inputs::{self, BASE_OFFSET, BASE_TIMESTAMP};
use crate::{Config, Role, Subject, CLUSTER, UPSTREAM};

/// Records per flood batch.
pub const RECORDS: usize = 10_000;
/// The window: larger than a batch, so that every record is inserted.
pub const WINDOW: &str = "20000";

/// Which ids a flood batch carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    Random,
    /// Equal in their low 16 bits.
    Colliding,
}

impl Ids {
    pub fn label(self) -> &'static str {
        match self {
            Ids::Random => "random ids",
            Ids::Colliding => "ids equal in their low 16 bits",
        }
    }
}

/// What the flood measured.
#[derive(Debug, Clone)]
pub struct Flood {
    /// Official-engine time of one batch, per repetition: random, then colliding.
    pub official: [Vec<Duration>; 2],
    /// Fuel the harness burnt per record: random, then colliding.
    pub fuel_per_record: [f64; 2],
}

/// The batch of `ids`: 64 B values tagged at the upstream cluster (no secret).
pub fn batch(ids: Ids) -> Vec<Record> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..RECORDS as u64)
        .map(|i| {
            let id = match ids {
                Ids::Random => {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                }
                Ids::Colliding => i << 16 | 0xBEEF,
            };
            let env = origin::Envelope::new_origin(UPSTREAM, BASE_TIMESTAMP, id.to_le_bytes())
                .expect("a valid cluster id");
            inputs::record(origin::wrap(&env, &inputs::value(i as usize, 64)), i as i64)
        })
        .collect()
}

fn subject() -> Subject {
    Subject {
        name: "mirror-policy (dedup)",
        crate_name: "mirror-policy",
        params: vec![("cluster", CLUSTER), ("dedup", WINDOW)],
        role: Role::Variant,
        wasm: integration::wasm("mirror-policy"),
        initial: None,
    }
}

/// Measures both batches, interleaved, `config.reps` times.
pub fn run(config: &Config, engine: &SmartEngine) -> Result<Flood, String> {
    let subject = subject();
    let batches = [batch(Ids::Random), batch(Ids::Colliding)];
    let mut official: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for rep in 0..config.reps {
        for k in [rep % 2, 1 - rep % 2] {
            let (mut chain, _) = official_build(engine, &subject)?;
            let mut raw = Vec::new();
            fluvio_protocol::Encoder::encode(&batches[k], &mut raw, crate::VERSION)
                .map_err(|e| e.to_string())?;
            let input = fluvio_smartmodule::dataplane::smartmodule::SmartModuleInput::new(
                raw,
                BASE_OFFSET,
                BASE_TIMESTAMP,
            );
            let started = Instant::now();
            let out = chain.process(input).map_err(|e| format!("{e:#}"))?;
            official[k].push(started.elapsed());
            if out.successes.len() != RECORDS || out.error.is_some() {
                return Err(format!(
                    "the flood batch kept {} of {RECORDS} records",
                    out.successes.len()
                ));
            }
        }
    }
    let mut fuel_per_record = [0.0; 2];
    for (k, records) in batches.into_iter().enumerate() {
        let spec = subject.params.iter().fold(
            ModuleSpec::new(subject.name, subject.wasm.clone()),
            |s, (k, v)| s.param(*k, *v),
        );
        let engine = Engine::shared().map_err(|e| e.to_string())?;
        let mut chain =
            Chain::new(&engine, &[spec], &ChainOptions::default()).map_err(|e| e.to_string())?;
        let run = chain.run(&Batch {
            base_offset: BASE_OFFSET,
            base_timestamp: BASE_TIMESTAMP,
            records,
        });
        let fuel = run.steps.first().map_or(0, |s| s.fuel);
        fuel_per_record[k] = fuel as f64 / RECORDS as f64;
    }
    Ok(Flood {
        official,
        fuel_per_record,
    })
}
