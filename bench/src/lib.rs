//! Benchmarks of the policy SmartModules against two baselines — the official SDK's
//! hello-world filter (`sdk-hello`) and a pass-through filter written straight against our
//! ABI (`passthrough`, the floor of the host's own encode/copy/decode) — in the official
//! engine (`fluvio-smartengine`) and in our harness (`host_harness`).
//!
//! Every figure is measured interleaved: each repetition goes once over every module (in a
//! rotated order) and every engine, and the report gives the median of the repetitions, so
//! that a noisy neighbour slows every module alike instead of one of them.
//!
//! `cargo run --release -p bench -- [--quick] [--svg FILE] [--markdown FILE]`

pub mod chart;
pub mod engines;
pub mod flood;
pub mod inputs;
pub use integration::machine;
pub mod measure;
pub mod report;

use std::time::Duration;

pub use measure::{run, Results};

/// The API version both engines encode with: the broker's.
pub const VERSION: i16 = host_harness::DEFAULT_VERSION;

/// The cluster the modules run on, and the one tagged inputs come from.
pub const CLUSTER: &str = "bench";
/// The upstream cluster of mirror-guard and mirror-policy; tagged inputs come from it.
pub const UPSTREAM: &str = "up";
/// The `secret` of the MAC variants.
pub const SECRET: &str = "bench-secret-0123456789";

/// What a run measures, and how long it tries.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repetitions of every measurement; the report gives their median.
    pub reps: usize,
    /// Records per batch.
    pub batch_sizes: Vec<usize>,
    /// Bytes of each record's value (before any origin tag).
    pub value_sizes: Vec<usize>,
    /// Batches larger than this (records x value bytes) are skipped.
    pub max_batch_bytes: usize,
    /// A throughput sample repeats its call until it has run this long.
    pub min_sample: Duration,
    /// ... or until it made this many calls.
    pub max_calls: usize,
    /// Builds averaged in one cached chain-build sample.
    pub cached_builds: usize,
    /// Whether this is the `--quick` configuration.
    pub quick: bool,
    /// Only these modules (by their names in the tables) besides the baselines; all when empty.
    pub only: Vec<String>,
}

impl Config {
    /// The full benchmark.
    pub fn full() -> Self {
        Self {
            reps: 7,
            batch_sizes: vec![1, 100, 10_000],
            value_sizes: vec![64, 1024, 16 * 1024],
            max_batch_bytes: 32 << 20,
            min_sample: Duration::from_millis(40),
            max_calls: 5_000,
            cached_builds: 10,
            quick: false,
            only: Vec::new(),
        }
    }

    /// A tiny configuration that runs in seconds, even in a debug build.
    pub fn quick() -> Self {
        Self {
            reps: 3,
            batch_sizes: vec![1, 100],
            value_sizes: vec![64],
            max_batch_bytes: 32 << 20,
            min_sample: Duration::from_millis(2),
            max_calls: 50,
            cached_builds: 2,
            quick: true,
            only: Vec::new(),
        }
    }
}

/// Whether a module is a baseline, one of the policy modules, or a variant of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `sdk-hello` or `passthrough`.
    Baseline,
    /// One of the shipped policy modules, with the benchmark's params.
    Policy,
    /// One of the shipped observing modules (origin-stats, origin-inspect), consumer side:
    /// held to the same goals as the policy modules.
    Observer,
    /// A policy module with other params (e.g. a `secret`): shown, not held to the goals.
    Variant,
    /// A policy module built without MAC code (`cargo build-modules-lean`): measured for size
    /// and cold start, the figures that build changes; its per-record work is the policy's.
    Lean,
}

/// A module under test: its wasm and its params.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Name in the tables.
    pub name: &'static str,
    /// The crate that builds it.
    pub crate_name: &'static str,
    /// Params given to `init`.
    pub params: Vec<(&'static str, &'static str)>,
    pub role: Role,
    /// The built `.wasm`.
    pub wasm: Vec<u8>,
    /// For an aggregate, the accumulator it starts from (`--aggregate-initial`).
    pub initial: Option<&'static str>,
}

impl Subject {
    /// Whether it runs with a `secret`: its tagged inputs must then be sealed with it.
    pub fn sealed(&self) -> bool {
        self.params.iter().any(|(k, _)| *k == "secret")
    }

    /// The records it gives back for a batch of `records`: all of them, or one summary for
    /// an aggregate.
    pub fn outputs(&self, records: usize) -> usize {
        match self.initial {
            Some(_) => records.min(1),
            None => records,
        }
    }
}

/// Name of the SDK baseline.
pub const SDK_HELLO: &str = "sdk-hello";
/// Name of the floor baseline.
pub const PASSTHROUGH: &str = "passthrough";

/// A module to measure, before its wasm is built: name, crate, role and params.
#[derive(Debug, Clone)]
pub struct SubjectSpec {
    pub name: &'static str,
    pub crate_name: &'static str,
    pub role: Role,
    pub params: Vec<(&'static str, &'static str)>,
    pub initial: Option<&'static str>,
}

/// The modules, with the benchmark's params. `with_secret` adds origin-tag with a `secret`
/// (tags sealed with a MAC) as a variant.
pub fn subject_specs(with_secret: bool) -> Vec<SubjectSpec> {
    let spec = |name, crate_name, role, params| SubjectSpec {
        name,
        crate_name,
        role,
        params,
        initial: None,
    };
    let mirror = vec![
        ("cluster", CLUSTER),
        ("mirror_of", UPSTREAM),
        ("mode", "audit"),
    ];
    let mut v = vec![
        spec(SDK_HELLO, "sdk-hello", Role::Baseline, vec![]),
        spec(PASSTHROUGH, "passthrough", Role::Baseline, vec![]),
        spec(
            "origin-tag",
            "origin-tag",
            Role::Policy,
            vec![("cluster", CLUSTER)],
        ),
        spec(
            "loop-guard",
            "loop-guard",
            Role::Policy,
            vec![("cluster", CLUSTER)],
        ),
        spec("mirror-guard", "mirror-guard", Role::Policy, mirror.clone()),
        spec("origin-strip", "origin-strip", Role::Policy, vec![]),
        spec("mirror-policy", "mirror-policy", Role::Policy, mirror),
        SubjectSpec {
            initial: Some("{}"),
            ..spec("origin-stats", "origin-stats", Role::Observer, vec![])
        },
        spec("origin-inspect", "origin-inspect", Role::Observer, vec![]),
    ];
    if with_secret {
        v.push(spec(
            "origin-tag+secret",
            "origin-tag",
            Role::Variant,
            vec![("cluster", CLUSTER), ("secret", SECRET)],
        ));
    }
    let lean: Vec<SubjectSpec> = v
        .iter()
        .filter(|s| matches!(s.role, Role::Policy | Role::Observer))
        .map(|s| SubjectSpec {
            name: lean_name(s.name),
            role: Role::Lean,
            ..s.clone()
        })
        .collect();
    v.extend(lean);
    v
}

/// The table name of a module's build without MAC code.
fn lean_name(name: &str) -> &'static str {
    match name {
        "origin-tag" => "origin-tag (no MAC)",
        "loop-guard" => "loop-guard (no MAC)",
        "mirror-guard" => "mirror-guard (no MAC)",
        "origin-strip" => "origin-strip (no MAC)",
        "mirror-policy" => "mirror-policy (no MAC)",
        "origin-stats" => "origin-stats (no MAC)",
        "origin-inspect" => "origin-inspect (no MAC)",
        _ => "(no MAC)",
    }
}

/// The modules, built (once per process, with the `wasm` profile) by the `integration` crate.
pub fn subjects(with_secret: bool) -> Vec<Subject> {
    subject_specs(with_secret)
        .into_iter()
        .map(|s| Subject {
            name: s.name,
            crate_name: s.crate_name,
            params: s.params,
            role: s.role,
            wasm: match s.role {
                Role::Lean => integration::lean_wasm(s.crate_name),
                _ => integration::wasm(s.crate_name),
            },
            initial: s.initial,
        })
        .collect()
}
