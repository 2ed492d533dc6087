//! Benchmarks of the policy SmartModules against baselines — the official SDK's hello-world
//! filter (`sdk-hello`), a pass-through filter written straight against our ABI
//! (`passthrough`, the floor of the host's own encode/copy/decode), and the append floors
//! (`append`, `append+mac`: the host's cost of records grown by as many bytes as a tagging
//! module adds) — in the official engine (`fluvio-smartengine`) and in our harness
//! (`host_harness`).
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

use std::sync::OnceLock;
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
    /// Only these modules (by their names in the tables) besides the baselines and floors,
    /// which always run; all when empty.
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
    /// `sdk-hello`, `passthrough` or an append floor.
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
    /// Whether it gets tagged inputs sealed with [`SECRET`]: it runs with a `secret`, or it is
    /// [`APPEND_MAC`], the floor of such a module, which gets the same records.
    pub fn sealed(&self) -> bool {
        self.params.iter().any(|(k, _)| *k == "secret") || self.name == APPEND_MAC
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
/// Name of the append floor of the modules that tag without a secret.
pub const APPEND: &str = "append";
/// Name of the append floor of a module that tags with a secret (a MAC in every tag).
pub const APPEND_MAC: &str = "append+mac";
/// The crate of the append floors (`tests/fixtures/append`).
pub const APPEND_CRATE: &str = "append";

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
        spec(APPEND, APPEND_CRATE, Role::Baseline, append_params(false)),
        spec(
            APPEND_MAC,
            APPEND_CRATE,
            Role::Baseline,
            append_params(true),
        ),
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

/// Bytes origin-tag at `cluster=`[`CLUSTER`] adds to a record of the benchmark's batches (its
/// timestamp [`inputs::BASE_TIMESTAMP`]), as the `origin` crate encodes the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagGrowth {
    /// A fresh tag on an untagged record.
    pub untagged: usize,
    /// A fresh tag sealed with a MAC.
    pub untagged_mac: usize,
    /// [`CLUSTER`] added as a hop to a tag written at [`UPSTREAM`] (with or without a MAC:
    /// a tag keeps its MAC's size when sealed again).
    pub tagged: usize,
}

/// Why the `origin` crate cannot build the benchmark's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagGrowthError {
    /// A cluster id of the benchmark is not one.
    Envelope(origin::EnvelopeError),
    /// The benchmark's secret is not one.
    Secret(origin::SecretError),
}

impl std::fmt::Display for TagGrowthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagGrowthError::Envelope(e) => write!(f, "the benchmark's tag: {e}"),
            TagGrowthError::Secret(e) => write!(f, "the benchmark's secret: {e}"),
        }
    }
}

impl std::error::Error for TagGrowthError {}

/// What origin-tag adds to the benchmark's records, from the `origin` crate.
pub fn tag_growth() -> Result<TagGrowth, TagGrowthError> {
    use origin::{Binding, Carrier, Envelope, SealKey};
    let ts = inputs::BASE_TIMESTAMP;
    let payload = inputs::value(0, 64);
    let tag = |cluster| Envelope::new_origin(cluster, ts, [0; 8]).map_err(TagGrowthError::Envelope);
    let fresh = tag(CLUSTER)?;
    let mut sealed = fresh.clone();
    let key = SealKey::new(SECRET.as_bytes(), "").map_err(TagGrowthError::Secret)?;
    sealed.seal(&key, &Binding::of(Carrier::Value, None, &payload), &payload);
    let upstream = tag(UPSTREAM)?;
    let hopped = upstream
        .with_hop(CLUSTER)
        .map_err(TagGrowthError::Envelope)?;
    Ok(TagGrowth {
        untagged: fresh.encoded_len(),
        untagged_mac: sealed.encoded_len(),
        tagged: hopped.encoded_len().saturating_sub(upstream.encoded_len()),
    })
}

/// The params of an append floor: `bytes` and `tagged_bytes` as origin-tag adds them, with a
/// MAC (`mac`) or without ([`tag_growth`]). Worked out once per process; should the `origin`
/// crate refuse the benchmark's own cluster ids, the floor gets no params, and
/// [`measure::run`] refuses to run with a floor that claims nothing.
fn append_params(mac: bool) -> Vec<(&'static str, &'static str)> {
    static PARAMS: OnceLock<Option<[String; 3]>> = OnceLock::new();
    let Some([untagged, untagged_mac, tagged]) = PARAMS
        .get_or_init(|| {
            tag_growth().ok().map(|g| {
                [
                    g.untagged.to_string(),
                    g.untagged_mac.to_string(),
                    g.tagged.to_string(),
                ]
            })
        })
        .as_ref()
    else {
        return Vec::new();
    };
    let bytes = if mac { untagged_mac } else { untagged };
    vec![("bytes", bytes.as_str()), ("tagged_bytes", tagged.as_str())]
}

/// What an append floor claims to add to each record: its params, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appends {
    /// Prepended to a value that does not start with the tag magic.
    pub untagged: usize,
    /// Prepended to one that does.
    pub tagged: usize,
}

impl Appends {
    /// The claim of a module of `crate_name` run with `params`: `None` unless it is an append
    /// floor with both counts given as numbers.
    pub fn of(crate_name: &str, params: &[(&str, &str)]) -> Option<Self> {
        if crate_name != APPEND_CRATE {
            return None;
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.parse().ok())
        };
        Some(Self {
            untagged: get("bytes")?,
            tagged: get("tagged_bytes")?,
        })
    }

    /// Bytes it prepends to `value`.
    pub fn to(&self, value: &[u8]) -> usize {
        if value.starts_with(&origin::MAGIC) {
            self.tagged
        } else {
            self.untagged
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_append_floors_add_what_the_origin_crate_says_a_tag_adds() {
        let g = tag_growth().unwrap();
        // FORMAT.md §1: 15 fixed bytes, a 6-byte timestamp varint, 1 + the id; a MAC 16 more;
        // a hop 1 + its id.
        assert_eq!(g.untagged, 15 + 6 + 1 + CLUSTER.len());
        assert_eq!(g.untagged_mac, g.untagged + origin::MAC_LEN);
        assert_eq!(g.tagged, 1 + CLUSTER.len());
        let specs = subject_specs(true);
        let claim = |name| {
            let s = specs.iter().find(|s| s.name == name).unwrap();
            assert_eq!(s.role, Role::Baseline);
            Appends::of(s.crate_name, &s.params).unwrap()
        };
        assert_eq!(
            claim(APPEND),
            Appends {
                untagged: g.untagged,
                tagged: g.tagged
            }
        );
        assert_eq!(
            claim(APPEND_MAC),
            Appends {
                untagged: g.untagged_mac,
                tagged: g.tagged
            }
        );
    }

    #[test]
    fn a_claim_is_read_only_from_an_append_floor_with_both_counts() {
        let p = [("bytes", "3"), ("tagged_bytes", "1")];
        assert_eq!(
            Appends::of(APPEND_CRATE, &p),
            Some(Appends {
                untagged: 3,
                tagged: 1
            })
        );
        assert_eq!(Appends::of("passthrough", &p), None);
        assert_eq!(Appends::of(APPEND_CRATE, &p[..1]), None);
        assert_eq!(
            Appends::of(APPEND_CRATE, &[("bytes", "x"), ("tagged_bytes", "1")]),
            None
        );
        let a = Appends::of(APPEND_CRATE, &p).unwrap();
        assert_eq!(a.to(b"plain"), 3);
        assert_eq!(a.to(&[0xff, 0x6f, 2]), 1);
        assert_eq!(a.to(&[0xff]), 3);
    }
}
