//! Measured, not asserted: what a producer's round trip pays for each chain in the real
//! produce path.
//!
//! `fluvio produce TOPIC -f FILE` sends records of 64 B and waits for every acknowledgement,
//! with default batching (16 KB batches) and with large batches (`--batch-size 500000`), for
//! no chain, the two baselines (`passthrough`, the ABI floor, and `sdk-hello`, the official
//! SDK's hello filter), each policy module in its full and its lean build, origin-tag with a
//! `secret`, a three-module chain, and mirror-policy at the topic hook instead. The SPU builds
//! a producer-side chain for every batch it is sent, so the batches each produce stored are
//! counted in the partition's segment files; a one-record produce with the chain minus the
//! same without one is the chain's cost per request.
//!
//! The normal run measures every chain once on 1,000 records: it keeps the suite short and
//! checks the measurement itself (every produce stores every record, the batches on disk add
//! up to the records stored); its figures are printed, never written anywhere.
//! `BROKER_MEASURE=1` runs this scenario alone, in full (20,000 records, medians of 3, a few
//! minutes on 2 cores); with `BROKER_BLESS=1` as well it writes its tables into
//! bench/README.md and its advice into docs/POLICIES.md (marked blocks, rewritten whole; the
//! figures vary from run to run, so they are never compared). Only record and batch counts
//! are asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use broker_tests::{partition_dir, stored_batches, SegmentError, StoredBatch};
use integration::machine::{load_avg, MachineInfo};

use crate::figures::{self, Figures, Row, RowKind, StdinRow};
use crate::suite::{say, transform_spec, Suite};
use crate::topic_side::hook_config;

/// The scenario's name in the suite (`BROKER_MEASURE=1` runs it alone).
pub const SCENARIO: &str = "measured: producer round trip per chain";

/// Set to 1 for the full measurement.
pub const MEASURE: &str = "BROKER_MEASURE";

/// How much a run measures.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The full measurement, whose figures may be written into the docs.
    pub full: bool,
    /// Records per measured produce.
    pub records: usize,
    /// Runs of every produce of `records`; the median is kept.
    pub runs: usize,
    /// One-record produces per chain, for the cost per request; the median is kept.
    pub single_runs: usize,
    /// Lines produced from stdin, where every line waits for its acknowledgement (0: none).
    pub stdin_lines: usize,
}

/// The normal run: every chain once, on few records.
const QUICK: Plan = Plan {
    full: false,
    records: 1_000,
    runs: 1,
    single_runs: 1,
    stdin_lines: 0,
};

/// `BROKER_MEASURE=1`.
const FULL: Plan = Plan {
    full: true,
    records: 20_000,
    runs: 3,
    single_runs: 5,
    stdin_lines: 50,
};

/// Bytes of every record's value.
pub const VALUE_LEN: usize = 64;
/// `--batch-size` for large batches, in bytes.
pub const LARGE_BATCH: usize = 500_000;
/// The `secret` of the origin-tag variant that seals its tags.
const SECRET: &str = "broker-measure-secret-0123";

/// Whether `BROKER_MEASURE` asks for the full measurement: `1` yes; unset, empty or `0` no;
/// anything else is an error, so that a typo never runs the short variant silently.
pub fn full_measurement() -> Result<bool, String> {
    match std::env::var(MEASURE) {
        Err(std::env::VarError::NotPresent) => Ok(false),
        Ok(v) if v.is_empty() || v == "0" => Ok(false),
        Ok(v) if v == "1" => Ok(true),
        Ok(v) => Err(format!(
            "{MEASURE}={v:?}: set it to 1 for the full measurement, or unset it"
        )),
        Err(e) => Err(format!("{MEASURE}: {e}")),
    }
}

/// How a chain reaches the SPU.
enum Attach {
    /// Nothing: the produce without a chain.
    Nothing,
    /// `--transform` specs of registered modules, in the produce request.
    Producer(Vec<String>),
    /// The topic's hook (`deduplication.filter`) runs this registered module.
    Hook {
        uses: &'static str,
        with: Vec<(&'static str, &'static str)>,
    },
}

/// A chain under test.
struct Chain {
    label: String,
    kind: RowKind,
    attach: Attach,
    /// The bytes of the modules it runs.
    wasm_bytes: Option<u64>,
}

/// Each policy module's params and row label: params that let every record through (the
/// guards in audit mode, so an untagged local write is stored, flagged).
fn module_params(name: &str) -> (&'static str, Vec<(&'static str, &'static str)>) {
    let audit = vec![
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("mode", "audit"),
    ];
    match name {
        "origin-tag" => ("origin-tag", vec![("cluster", "edge-1")]),
        "loop-guard" => ("loop-guard", vec![("cluster", "home")]),
        "mirror-guard" => ("mirror-guard (audit)", audit),
        "origin-strip" => ("origin-strip", vec![]),
        "mirror-policy" => ("mirror-policy (audit)", audit),
        other => panic!("no measured params for module {other}"),
    }
}

/// The name a lean build is registered under, beside the full build's crate name.
fn lean_name(module: &str) -> String {
    format!("{module}-lean")
}

fn size_of(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .len()
}

/// Registers the baselines and the lean builds (the full builds are registered under their
/// crate names when the cluster starts) and lists every chain to measure, with its size.
fn chains(s: &Suite) -> Vec<Chain> {
    let mut sizes = std::collections::HashMap::new();
    for fixture in ["passthrough", "sdk-hello"] {
        let path = integration::wasm_path(fixture);
        s.home
            .register_module(fixture, &path)
            .unwrap_or_else(|e| panic!("cannot register {fixture}: {e}"));
        sizes.insert(fixture.to_string(), size_of(&path));
    }
    for module in integration::PRODUCE_PATH_MODULES {
        sizes.insert(module.to_string(), size_of(&integration::wasm_path(module)));
        let lean = integration::lean_wasm(module);
        let name = lean_name(module);
        let file = s
            .home
            .write_file(&format!("{name}.wasm"), &lean)
            .unwrap_or_else(|e| panic!("{e}"));
        s.home
            .register_module(&name, &file)
            .unwrap_or_else(|e| panic!("cannot register {name}: {e}"));
        sizes.insert(name, lean.len() as u64);
    }
    let size = |name: &str| sizes[name];

    let mut chains = vec![
        Chain {
            label: "no chain".into(),
            kind: RowKind::NoChain,
            attach: Attach::Nothing,
            wasm_bytes: None,
        },
        Chain {
            label: "passthrough (ABI floor)".into(),
            kind: RowKind::Passthrough,
            attach: Attach::Producer(vec![transform_spec("passthrough", &[])]),
            wasm_bytes: Some(size("passthrough")),
        },
        Chain {
            label: "sdk-hello (official SDK)".into(),
            kind: RowKind::SdkHello,
            attach: Attach::Producer(vec![transform_spec("sdk-hello", &[])]),
            wasm_bytes: Some(size("sdk-hello")),
        },
    ];
    for lean in [false, true] {
        for &module in integration::PRODUCE_PATH_MODULES {
            let (label, params) = module_params(module);
            let registered = if lean {
                lean_name(module)
            } else {
                module.to_string()
            };
            chains.push(Chain {
                label: if lean {
                    format!("{label}, lean")
                } else {
                    label.to_string()
                },
                kind: RowKind::Module { name: module, lean },
                attach: Attach::Producer(vec![transform_spec(&registered, &params)]),
                wasm_bytes: Some(size(&registered)),
            });
        }
    }
    chains.push(Chain {
        label: "origin-tag + secret".into(),
        kind: RowKind::Secret,
        attach: Attach::Producer(vec![transform_spec(
            "origin-tag",
            &[("cluster", "edge-1"), ("secret", SECRET)],
        )]),
        wasm_bytes: Some(size("origin-tag")),
    });
    let (_, guard) = module_params("mirror-guard");
    chains.push(Chain {
        label: "loop-guard | mirror-guard | origin-tag".into(),
        kind: RowKind::Chain,
        attach: Attach::Producer(vec![
            transform_spec("loop-guard", &[("cluster", "home")]),
            transform_spec("mirror-guard", &guard),
            transform_spec("origin-tag", &[("cluster", "home")]),
        ]),
        wasm_bytes: Some(size("loop-guard") + size("mirror-guard") + size("origin-tag")),
    });
    let (_, policy) = module_params("mirror-policy");
    chains.push(Chain {
        label: "mirror-policy (audit) at the topic hook".into(),
        kind: RowKind::Hook,
        attach: Attach::Hook {
            uses: "mirror-policy",
            with: policy,
        },
        wasm_bytes: Some(size("mirror-policy")),
    });
    chains
}

/// What a produce reads.
enum Input<'a> {
    /// `-f FILE`, with `--batch-size` when given.
    File {
        path: &'a str,
        batch_size: Option<usize>,
    },
    /// Lines on stdin.
    Stdin(&'a [u8]),
}

/// One chain's topic and what was measured on it.
struct Measured {
    chain: Chain,
    topic: String,
    /// Records and batches the topic holds.
    stored: i64,
    batches: usize,
    default: Vec<(Duration, usize)>,
    large: Vec<(Duration, usize)>,
    single: Vec<Duration>,
}

impl Measured {
    fn new(s: &mut Suite, chain: Chain) -> Measured {
        let topic = match &chain.attach {
            Attach::Hook { uses, with } => {
                let topic = s.home.unique_topic("round-trip-hook");
                let mut with: Vec<(&str, &str)> = with.clone();
                with.push(("topic", topic.as_str()));
                let yaml = hook_config(&topic, uses, 1, None, &with);
                s.home
                    .create_topic_from_config(&topic, &yaml)
                    .unwrap_or_else(|e| panic!("cannot create {topic} with a topic hook: {e}"));
                topic
            }
            _ => s.create_topic("round-trip"),
        };
        Measured {
            chain,
            topic,
            stored: 0,
            batches: 0,
            default: Vec::new(),
            large: Vec::new(),
            single: Vec::new(),
        }
    }

    /// Runs one produce of `records` records through the chain; checks that every record was
    /// stored and returns how long the CLI took and how many batches the SPU stored.
    fn produce(&mut self, s: &Suite, input: Input<'_>, records: usize) -> (Duration, usize) {
        let mut args: Vec<String> = vec!["produce".into(), self.topic.clone()];
        if let Attach::Producer(specs) = &self.chain.attach {
            for spec in specs {
                args.push("--transform".into());
                args.push(spec.clone());
            }
        }
        let stdin = match input {
            Input::File { path, batch_size } => {
                args.extend(["-f".into(), path.to_string()]);
                if let Some(size) = batch_size {
                    args.extend(["--batch-size".into(), size.to_string()]);
                }
                None
            }
            Input::Stdin(bytes) => Some(bytes),
        };
        let name = &self.chain.label;
        let out = s
            .home
            .fluvio(&args, stdin)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out.success(), "{name}: {}", out.describe());
        self.stored += records as i64;
        assert_eq!(
            s.stored(&self.topic),
            self.stored,
            "{name}: every record is stored"
        );
        let batches = batches_holding(s, &self.topic, self.stored);
        let new = batches.len() - self.batches;
        assert!(
            new >= 1 && new <= records,
            "{name}: {records} record(s) stored in {new} batch(es)"
        );
        self.batches = batches.len();
        (out.elapsed, new)
    }
}

/// The batches of `topic`, once their records add up to `records` (the SPU may still be
/// writing the last one when the producer has its acknowledgement).
fn batches_holding(s: &Suite, topic: &str, records: i64) -> Vec<StoredBatch> {
    let started = Instant::now();
    loop {
        let why = match partition_dir(s.home.dir(), topic, 0).and_then(|d| stored_batches(&d)) {
            Ok(batches) => {
                let held: i64 = batches.iter().map(|b| b.records).sum();
                let contiguous = batches
                    .windows(2)
                    .all(|w| w[0].base_offset + w[0].records == w[1].base_offset);
                if held == records && contiguous {
                    return batches;
                }
                format!(
                    "{} batches holding {held} records (contiguous: {contiguous}), {records} \
                     expected",
                    batches.len()
                )
            }
            Err(e @ SegmentError::Truncated { .. }) => e.to_string(),
            Err(e) => panic!("cannot read the batches of {topic}: {e}"),
        };
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the segment files of {topic}: {why}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

/// A value of [`VALUE_LEN`] bytes holding `a`s, so that sdk-hello (which keeps the records
/// whose value holds an `a`, and refuses values that are not UTF-8) stores every one.
fn value(i: usize) -> String {
    let head = format!("order {i:06}: ");
    format!("{head}{}", "a".repeat(VALUE_LEN - head.len()))
}

pub fn producer_round_trip(s: &mut Suite) {
    let full = full_measurement().unwrap_or_else(|e| panic!("{e}"));
    let plan = if full { FULL } else { QUICK };
    let mut machine = MachineInfo::now();
    let began = Instant::now();
    say!(
        "broker-tests: {} measurement: {} records of {VALUE_LEN} B per produce, {}{}",
        if full { "full" } else { "short" },
        figures::thousands(plan.records as u64),
        if plan.runs == 1 {
            "one run".to_string()
        } else {
            format!("medians of {} runs", plan.runs)
        },
        if full {
            String::new()
        } else {
            format!("; {MEASURE}=1 measures in full, alone (a few minutes)")
        }
    );

    let lines: String = (0..plan.records).map(|i| value(i) + "\n").collect();
    let file = s
        .home
        .write_file("round-trip.txt", lines.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let file = file.to_string_lossy().into_owned();
    let one = value(0) + "\n";

    let mut measured: Vec<Measured> = chains(s)
        .into_iter()
        .map(|chain| Measured::new(s, chain))
        .collect();

    // Interleaved: each run goes once over every chain, in a rotated order, so that a busy
    // neighbour slows every chain alike.
    let n = measured.len();
    for run in 0..plan.runs {
        for k in 0..n {
            let m = &mut measured[(k + run) % n];
            let default = m.produce(
                s,
                Input::File {
                    path: &file,
                    batch_size: None,
                },
                plan.records,
            );
            m.default.push(default);
            let large = m.produce(
                s,
                Input::File {
                    path: &file,
                    batch_size: Some(LARGE_BATCH),
                },
                plan.records,
            );
            m.large.push(large);
        }
    }
    for run in 0..plan.single_runs {
        for k in 0..n {
            let m = &mut measured[(k + run) % n];
            let (took, batches) = m.produce(s, Input::Stdin(one.as_bytes()), 1);
            assert_eq!(batches, 1, "{}: one record, one batch", m.chain.label);
            m.single.push(took);
        }
    }

    // From stdin the CLI waits for each line's acknowledgement before it reads the next one,
    // so every line is a produce request of its own.
    let mut stdin = Vec::new();
    if plan.stdin_lines > 0 {
        let text: String = (0..plan.stdin_lines).map(|i| value(i) + "\n").collect();
        for m in measured.iter_mut().filter(|m| {
            matches!(
                m.chain.kind,
                RowKind::NoChain
                    | RowKind::Module {
                        name: "origin-tag",
                        lean: false
                    }
            )
        }) {
            let (took, batches) = m.produce(s, Input::Stdin(text.as_bytes()), plan.stdin_lines);
            stdin.push(StdinRow {
                label: m.chain.label.clone(),
                lines: plan.stdin_lines,
                took,
                batches,
            });
        }
    }
    machine.load_end = load_avg();

    let rows: Vec<Row> = measured
        .into_iter()
        .map(|m| Row {
            label: m.chain.label,
            kind: m.chain.kind,
            wasm_bytes: m.chain.wasm_bytes,
            default: median(m.default.iter().map(|d| d.0).collect()),
            default_batches: median(m.default.iter().map(|d| d.1).collect()),
            large: median(m.large.iter().map(|d| d.0).collect()),
            large_batches: median(m.large.iter().map(|d| d.1).collect()),
            single: median(m.single),
        })
        .collect();
    let fluvio = s
        .bins
        .version()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", s.bins.run.display()));
    let figures = Figures {
        records: plan.records,
        value_len: VALUE_LEN,
        large_batch: LARGE_BATCH,
        runs: plan.runs,
        single_runs: plan.single_runs,
        rows,
        stdin,
        machine,
        fluvio,
        took: began.elapsed(),
    };
    figures::report(&figures, plan.full);
}
