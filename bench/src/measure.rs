//! The measurements: cold start, throughput, module size and envelope overhead, taken
//! interleaved and kept as raw samples for the report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fluvio_smartengine::SmartEngine;
use host_harness::{Batch, ChainFailure, Engine};

use crate::engines::{harness_build, harness_spec, official_build, EngineKind, Reply, Runners};
use crate::inputs::{self, Cell, Shape, Tagging, BASE_OFFSET, BASE_TIMESTAMP};
use crate::machine::{load_avg, MachineInfo};
use fluvio_protocol::record::Record;

use crate::{subjects, Appends, Config, Role, Subject, CLUSTER, SECRET};

/// The three ways a one-module chain is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColdKind {
    /// `SmartModuleChainBuilder::initialize` on a `SmartEngine` made beforehand (the
    /// broker keeps one): compile + instantiate + init.
    Official,
    /// `Chain::new` on an `Engine::new()` made beforehand: a cache miss, so compile +
    /// instantiate + init.
    HarnessUncached,
    /// `Chain::new` on `Engine::shared()` after a first build: hash + cache hit +
    /// instantiate + init.
    HarnessCached,
}

impl ColdKind {
    pub const ALL: [ColdKind; 3] = [
        ColdKind::Official,
        ColdKind::HarnessUncached,
        ColdKind::HarnessCached,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ColdKind::Official => "official",
            ColdKind::HarnessUncached => "harness, uncached",
            ColdKind::HarnessCached => "harness, cached",
        }
    }
}

/// A module as the report shows it.
#[derive(Debug, Clone)]
pub struct SubjectInfo {
    pub name: &'static str,
    pub crate_name: &'static str,
    pub role: Role,
    /// `k=v, k=v`.
    pub params: String,
    /// Bytes of the .wasm.
    pub size: usize,
    /// Whether it links MAC code (see [`integration::has_mac_code`]).
    pub mac_code: bool,
    /// Whether it runs with a secret, so gets tagged records sealed with it.
    pub sealed: bool,
    /// For an append floor: the bytes it claims to prepend to each value (its params).
    pub appends: Option<Appends>,
}

/// Bytes a module added to the records of one batch (output key + value minus input key +
/// value, record by record), as the official engine returned them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    /// The least any record grew by (negative: shrank).
    pub min: i64,
    /// The most any record grew by.
    pub max: i64,
    /// Over the whole batch.
    pub total: i64,
}

impl Growth {
    /// The growth of `input` into `output`, record by record (the lists have the same length).
    pub fn of(input: &[Record], output: &[Record]) -> Self {
        let len = |r: &Record| (r.value.len() + r.key.as_ref().map_or(0, |k| k.len())) as i64;
        let mut g = Growth {
            min: i64::MAX,
            max: i64::MIN,
            total: 0,
        };
        for (i, o) in input.iter().zip(output) {
            let d = len(o) - len(i);
            g.min = g.min.min(d);
            g.max = g.max.max(d);
            g.total += d;
        }
        if input.is_empty() || output.is_empty() {
            g.min = 0;
            g.max = 0;
        }
        g
    }

    /// Whether the batch came back longer than it went in.
    pub fn grows(&self) -> bool {
        self.total > 0
    }

    /// `+27 B`, or `+0 to +27 B` when records grew by different amounts.
    pub fn per_record(&self) -> String {
        if self.min == self.max {
            format!("{:+} B", self.min)
        } else {
            format!("{:+} to {:+} B", self.min, self.max)
        }
    }
}

/// Checks that an append floor did what it claims: each record's key unchanged and its value
/// the input's with exactly the claimed number of bytes in front.
pub fn check_appended(claim: Appends, input: &[Record], output: &[Record]) -> Result<(), String> {
    for (i, (inp, out)) in input.iter().zip(output).enumerate() {
        let value: &[u8] = inp.value.as_ref();
        let n = claim.to(value);
        let got: &[u8] = out.value.as_ref();
        let kept = got.len() == value.len() + n && got.ends_with(value) && out.key == inp.key;
        if !kept {
            return Err(format!(
                "record {i}: {} B of value in, {} B out, where the floor claims +{n} B in front \
                 of the value and the key unchanged",
                value.len(),
                got.len()
            ));
        }
    }
    Ok(())
}

/// The samples of one module x engine x batch.
#[derive(Debug, Clone)]
pub enum Samples {
    /// Time per call, one per repetition.
    Times(Vec<Duration>),
    /// The module refused the batch (its runtime error's hint): no throughput.
    Refused(String),
    /// The call failed.
    Failed(String),
}

/// What a module did to one record's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Output key + value bytes minus input key + value bytes.
    Bytes(i64),
    Dropped,
    Refused(String),
    Failed(String),
}

/// Envelope bytes one module adds per record.
#[derive(Debug, Clone)]
pub struct EnvelopeRow {
    pub module: &'static str,
    /// Run with `secret` (tags sealed, and checked, with a MAC).
    pub secret: bool,
    /// On a 64 B untagged value.
    pub untagged: Added,
    /// On a 64 B value tagged by the upstream cluster (sealed with the secret when `secret`).
    pub tagged: Added,
}

/// The size of a fresh tag (one cluster id) for an id length.
#[derive(Debug, Clone)]
pub struct TagSize {
    pub id_len: usize,
    pub without_mac: usize,
    pub with_mac: usize,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Results {
    pub config: Config,
    pub machine: MachineInfo,
    pub subjects: Vec<SubjectInfo>,
    /// Batch shapes measured, in table order.
    pub shapes: Vec<Shape>,
    /// Key + value bytes of each shape's batch, unsealed and sealed.
    pub shape_bytes: BTreeMap<(Shape, bool), usize>,
    /// Shapes left out, with why.
    pub skipped: Vec<String>,
    /// Cold-start time per (subject index, kind), one per repetition.
    pub cold: BTreeMap<(usize, ColdKind), Vec<Duration>>,
    /// Throughput samples per (subject index, engine, shape).
    pub throughput: BTreeMap<(usize, EngineKind, Shape), Samples>,
    /// Fuel (about one unit per wasm instruction) one harness call burnt, per (subject
    /// index, shape): the work done inside the module, alloc included.
    pub fuel: BTreeMap<(usize, Shape), u64>,
    /// Bytes each module added to each batch, per (subject index, shape), from the output
    /// checked before the clocks ran (the same in every engine, or the cell failed).
    pub growth: BTreeMap<(usize, Shape), Growth>,
    pub envelope: Vec<EnvelopeRow>,
    pub tag_sizes: Vec<TagSize>,
    /// Modules whose chains were built again during the throughput samples, after a call
    /// failed (a module whose memory grows over repeated calls reaches the memory limit): how
    /// many times, and the first failure.
    pub rebuilt: BTreeMap<&'static str, (u32, String)>,
    /// The dedup window under a flood of colliding ids, against random ones.
    pub flood: crate::flood::Flood,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Results {
    /// Index of the subject named `name`.
    pub fn subject(&self, name: &str) -> Option<usize> {
        self.subjects.iter().position(|s| s.name == name)
    }
}

/// The median of `v` (mean of the middle two for an even count).
pub fn median(v: &[Duration]) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort();
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    })
}

/// `v` rotated left by `by`: each repetition starts with another module.
fn rotated(n: usize, by: usize) -> Vec<usize> {
    (0..n).map(|i| (i + by) % n.max(1)).collect()
}

/// Runs the benchmark of `config`, reporting progress through `progress` (one line each).
pub fn run(config: &Config, progress: &mut dyn FnMut(&str)) -> Result<Results, String> {
    let started = Instant::now();
    // The append floors' params come from the `origin` crate: refuse to run without them.
    crate::tag_growth().map_err(|e| e.to_string())?;
    let mut machine = MachineInfo::now();
    progress("building the modules (cargo build --profile wasm)");
    let subjects: Vec<_> = subjects(true)
        .into_iter()
        .filter(|s| {
            s.role == Role::Baseline
                || config.only.is_empty()
                || config.only.iter().any(|o| o == s.name)
        })
        .collect();
    let infos = subjects
        .iter()
        .map(|s| SubjectInfo {
            name: s.name,
            crate_name: s.crate_name,
            role: s.role,
            params: s
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            size: s.wasm.len(),
            mac_code: integration::has_mac_code(&s.wasm),
            sealed: s.sealed(),
            appends: Appends::of(s.crate_name, &s.params),
        })
        .collect::<Vec<SubjectInfo>>();
    if let Some(s) = infos
        .iter()
        .find(|s| s.crate_name == crate::APPEND_CRATE && s.appends.is_none())
    {
        return Err(format!(
            "the floor {} has no `bytes` and `tagged_bytes` params: {:?}",
            s.name, s.params
        ));
    }

    let mut shapes = Vec::new();
    let mut skipped = Vec::new();
    for &records in &config.batch_sizes {
        for &value in &config.value_sizes {
            if records.saturating_mul(value) > config.max_batch_bytes {
                skipped.push(format!(
                    "{} x {} ({} MiB of values per batch, over the {} MiB cap)",
                    inputs::group(records as u64),
                    inputs::bytes_label(value),
                    (records * value) >> 20,
                    config.max_batch_bytes >> 20,
                ));
                continue;
            }
            for tagging in [Tagging::Untagged, Tagging::Tagged] {
                shapes.push(Shape {
                    records,
                    value,
                    tagging,
                });
            }
        }
    }
    progress("making the batches");
    let cells: Vec<Cell> = shapes.iter().map(|s| inputs::cell(*s)).collect();
    let shape_bytes = cells
        .iter()
        .flat_map(|c| {
            [
                ((c.shape, false), c.bytes(false)),
                ((c.shape, true), c.bytes(true)),
            ]
        })
        .collect();

    let official_engine = SmartEngine::new();
    let shared = Engine::shared().map_err(|e| e.to_string())?;
    progress("building one chain per module and engine");
    let mut runners = subjects
        .iter()
        .map(|s| Runners::new(&official_engine, &shared, s))
        .collect::<Result<Vec<_>, _>>()?;

    // One call of every module x engine x batch, before any clock runs: it warms the caches
    // and memories, and tells which combinations refuse (so are not timed).
    // Every output is measured for the bytes it adds (the same in every engine), and an
    // append floor's checked against its claim.
    progress("checking every module's output");
    let mut throughput: BTreeMap<(usize, EngineKind, Shape), Samples> = BTreeMap::new();
    let mut fuel = BTreeMap::new();
    let mut growth: BTreeMap<(usize, Shape), Growth> = BTreeMap::new();
    for (si, runner) in runners.iter_mut().enumerate() {
        // A build without MAC code runs the same policy: only its size and start-up differ.
        if subjects[si].role == Role::Lean {
            continue;
        }
        let claim = infos[si].appends;
        for cell in &cells {
            let input = cell.records(runner.sealed);
            for kind in EngineKind::ALL {
                let expected = subjects[si].outputs(cell.shape.records);
                let samples = match runner.call(kind, cell) {
                    Ok((Reply::Records(out), _)) if out.len() == expected => {
                        // An aggregate's summary is not its input grown: no growth to check.
                        if expected != cell.shape.records {
                            Samples::Times(Vec::new())
                        } else {
                            let g = Growth::of(input, &out);
                            let checked = claim.map_or(Ok(()), |c| check_appended(c, input, &out));
                            match (checked, growth.get(&(si, cell.shape))) {
                                (Err(e), _) => Samples::Failed(e),
                                (Ok(()), Some(first)) if *first != g => Samples::Failed(format!(
                                    "records grew by {} here, by {} in the {} engine",
                                    g.per_record(),
                                    first.per_record(),
                                    EngineKind::Official.label()
                                )),
                                (Ok(()), _) => {
                                    if kind == EngineKind::Official {
                                        growth.insert((si, cell.shape), g);
                                    }
                                    Samples::Times(Vec::new())
                                }
                            }
                        }
                    }
                    Ok((Reply::Records(out), _)) => Samples::Failed(format!(
                        "{} records out of {} ({expected} expected: every module keeps them \
                         all, an aggregate gives one summary)",
                        out.len(),
                        cell.shape.records
                    )),
                    Ok((Reply::Refused(hint), _)) => Samples::Refused(hint),
                    Err(e) => Samples::Failed(e),
                };
                if kind == EngineKind::HarnessCall && matches!(samples, Samples::Times(_)) {
                    fuel.insert((si, cell.shape), runner.fuel_of_last_call());
                }
                throughput.insert((si, kind, cell.shape), samples);
            }
        }
    }

    let specs: Vec<_> = subjects.iter().map(harness_spec).collect();
    let mut cold: BTreeMap<(usize, ColdKind), Vec<Duration>> = BTreeMap::new();
    let mut rebuilt = BTreeMap::new();
    for rep in 0..config.reps {
        progress(&format!(
            "repetition {}/{}: cold starts",
            rep + 1,
            config.reps
        ));
        for si in rotated(subjects.len(), rep) {
            let subject = &subjects[si];
            let (chain, t) = official_build(&official_engine, subject)?;
            drop(chain);
            cold.entry((si, ColdKind::Official)).or_default().push(t);

            let fresh = Engine::new().map_err(|e| e.to_string())?;
            let (chain, t) = harness_build(&fresh, &specs[si])?;
            drop(chain);
            drop(fresh);
            cold.entry((si, ColdKind::HarnessUncached))
                .or_default()
                .push(t);

            // The shared engine compiled the module when the runners were built.
            let mut total = Duration::ZERO;
            for _ in 0..config.cached_builds.max(1) {
                let (chain, t) = harness_build(&shared, &specs[si])?;
                drop(chain);
                total += t;
            }
            cold.entry((si, ColdKind::HarnessCached))
                .or_default()
                .push(total / config.cached_builds.max(1) as u32);
        }

        progress(&format!(
            "repetition {}/{}: throughput",
            rep + 1,
            config.reps
        ));
        for cell in &cells {
            for si in rotated(subjects.len(), rep) {
                let mut kinds = EngineKind::ALL.to_vec();
                if rep % 2 == 1 {
                    kinds.reverse();
                }
                for kind in kinds {
                    let key = (si, kind, cell.shape);
                    if !matches!(throughput.get(&key), Some(Samples::Times(_))) {
                        continue;
                    }
                    let t = match sample(&mut runners[si], kind, cell, config) {
                        Ok(t) => t,
                        // A fresh chain, as a broker builds one per produce request; a
                        // second failure in a row is the module's, not its history's.
                        Err(e) => {
                            runners[si] = Runners::new(&official_engine, &shared, &subjects[si])?;
                            let entry = rebuilt.entry(subjects[si].name).or_insert((0, e));
                            entry.0 += 1;
                            sample(&mut runners[si], kind, cell, config)?
                        }
                    };
                    if let Some(Samples::Times(v)) = throughput.get_mut(&key) {
                        v.push(t);
                    }
                }
            }
        }
    }

    progress("the dedup window under a flood of colliding ids");
    let flood = crate::flood::run(config, &official_engine)?;
    progress("envelope overhead");
    let envelope = envelope_rows(&shared, &subjects)?;
    let tag_sizes = tag_sizes();
    machine.load_end = load_avg();
    Ok(Results {
        config: config.clone(),
        machine,
        subjects: infos,
        shapes,
        shape_bytes,
        skipped,
        cold,
        throughput,
        fuel,
        growth,
        envelope,
        tag_sizes,
        rebuilt,
        flood,
        elapsed: started.elapsed(),
    })
}

/// Time per call of `cell` in `kind`: calls repeat until `min_sample` has passed (or
/// `max_calls` were made).
fn sample(
    runner: &mut Runners,
    kind: EngineKind,
    cell: &Cell,
    config: &Config,
) -> Result<Duration, String> {
    let mut total = Duration::ZERO;
    let mut calls = 0u32;
    while calls == 0 || (total < config.min_sample && (calls as usize) < config.max_calls) {
        let (reply, t) = runner.call(kind, cell)?;
        drop(reply);
        total += t;
        calls += 1;
    }
    Ok(total / calls)
}

/// Runs one record through `subject` (with `secret` added when asked) in the harness and
/// tells how many bytes its key and value grew by.
fn added(
    engine: &Engine,
    subject: &Subject,
    secret: bool,
    value: Vec<u8>,
) -> Result<Added, String> {
    let mut spec = harness_spec(subject);
    if secret {
        spec = spec.param("secret", SECRET);
    }
    let (mut chain, _) = harness_build(engine, &spec)?;
    let input_len = value.len() as i64;
    let batch = Batch {
        base_offset: BASE_OFFSET,
        base_timestamp: BASE_TIMESTAMP,
        records: vec![inputs::record(value, 0)],
    };
    Ok(match chain.process(&batch) {
        Ok(out) => match out.first() {
            None => Added::Dropped,
            Some(r) => Added::Bytes(
                (r.value.len() + r.key.as_ref().map_or(0, |k| k.len())) as i64 - input_len,
            ),
        },
        Err(ChainFailure::Refused(e)) => Added::Refused(e.hint().to_string()),
        Err(ChainFailure::Failed(e)) => Added::Failed(e.to_string()),
    })
}

fn envelope_rows(engine: &Engine, subjects: &[Subject]) -> Result<Vec<EnvelopeRow>, String> {
    let payload = inputs::value(0, 64);
    let mut rows = Vec::new();
    for subject in subjects.iter().filter(|s| s.role == Role::Policy) {
        for secret in [false, true] {
            let accepts_secret =
                host_harness::policies::find(subject.crate_name).is_some_and(|m| m.takes("secret"));
            if secret && !accepts_secret {
                continue;
            }
            let sealed_with = secret.then_some(SECRET.as_bytes());
            let tagged = inputs::tagged_value(&payload, BASE_TIMESTAMP, 0, sealed_with);
            rows.push(EnvelopeRow {
                module: subject.name,
                secret,
                untagged: added(engine, subject, secret, payload.clone())?,
                tagged: added(engine, subject, secret, tagged)?,
            });
        }
    }
    Ok(rows)
}

/// Sizes of a fresh tag for several cluster-id lengths, as the `origin` crate encodes it.
pub fn tag_sizes() -> Vec<TagSize> {
    let ids = [
        "a".to_string(),
        crate::UPSTREAM.to_string(),
        CLUSTER.to_string(),
        "us-east".to_string(),
        "x".repeat(16),
        "x".repeat(64),
    ];
    ids.iter()
        .map(|id| {
            let payload = inputs::value(0, 64);
            let mut tag =
                origin::Envelope::new_origin(id, BASE_TIMESTAMP, [7; 8]).expect("valid cluster id");
            let without_mac = tag.encoded_len();
            let key = origin::SealKey::new(SECRET.as_bytes(), "").expect("a long secret");
            let bind = origin::Binding::of(origin::Carrier::Value, None, &payload);
            tag.seal(&key, &bind, &payload);
            TagSize {
                id_len: id.len(),
                without_mac,
                with_mac: tag.encoded_len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), Some(ms(2)));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            Some(Duration::from_micros(2500))
        );
    }

    #[test]
    fn rotations_cover_every_module() {
        assert_eq!(rotated(4, 1), vec![1, 2, 3, 0]);
        assert_eq!(rotated(4, 6), vec![2, 3, 0, 1]);
    }

    #[test]
    fn tag_sizes_follow_the_format() {
        // 15 fixed bytes + a 6-byte timestamp + (1 + id) ; +16 with a MAC.
        for t in tag_sizes() {
            assert_eq!(t.without_mac, 15 + 6 + 1 + t.id_len);
            assert_eq!(t.with_mac, t.without_mac + 16);
        }
    }
}
