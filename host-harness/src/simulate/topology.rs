//! The topology file: clusters with their topics and write-path chains, the links between
//! them, the producers, and the faults. [`TopologyFile`] is the file as written (it reads and
//! writes YAML); [`Topology`] is the checked model the simulator runs, with every chain's
//! modules resolved.
//!
//! ```yaml
//! name: pair
//! clusters:
//!   - id: east
//!     secret: a-long-random-string        # optional: added to every policy step below
//!     topics:
//!       - name: orders
//!         transforms:                      # the topic's write path, a transforms file's list
//!           - uses: mirror-policy
//!             with: { cluster: east, dedup: "10000" }
//!             lookback: { last: 10000 }
//!   - id: west
//!     ...
//! links:
//!   - { from: east, to: west, topic: orders, kind: bridge }
//! producers:
//!   - { cluster: east, topic: orders, records: 20, size: 64, rate: 200 }
//! faults:
//!   - { kind: link-down, link: east->west, at_ms: 40, for_ms: 100 }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use policy::params::{CARRIER, CLUSTER, SECRET};
use policy::{GuardConfig, ParamError};
use serde::{Deserialize, Serialize};

use crate::chain::ModuleSpec;
use crate::chain_file::doc::Kind;
use crate::chain_file::{ChainFile, ModuleResolver, StepsDoc};
use crate::error::ChainFileError;
use crate::policies::{self, PolicyModule};

/// Default `max_time_ms`: simulated time after which a run that has not settled stops.
pub const DEFAULT_MAX_TIME_MS: u64 = 600_000;
/// Default link latency.
pub const DEFAULT_LATENCY_MS: u64 = 5;
/// Default records per link fetch.
pub const DEFAULT_LINK_BATCH: usize = 10;
/// Default interval between a link's fetches.
pub const DEFAULT_POLL_MS: u64 = 5;
/// Default interval between a bridge's offset commits.
pub const DEFAULT_COMMIT_MS: u64 = 50;
/// Default number of fetched batches a link may have in flight.
pub const DEFAULT_INFLIGHT: usize = 4;
/// Default producer rate, records per second.
pub const DEFAULT_RATE: f64 = 100.0;
/// Default record size in bytes (the value, before any tag).
pub const DEFAULT_SIZE: usize = 64;
/// Largest record a producer may be given.
pub const MAX_SIZE: usize = 1 << 20;
/// Hops a record may make when no step of a write path limits them: an origin path holds
/// 16 clusters, so 15 hops.
pub const PATH_HOPS: u8 = 15;

/// A topology file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    /// Name shown in reports [default: the file's stem].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seed used when the command line gives none [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Simulated time after which a run that is still moving records stops and fails
    /// [default: 600000].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_ms: Option<u64>,
    pub clusters: Vec<ClusterDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub producers: Vec<ProducerDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultDef>,
}

/// A cluster.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDef {
    /// Cluster id: 1 to 64 bytes of `[A-Za-z0-9._-]`.
    pub id: String,
    /// Shared secret, added as the `secret` param to every step of this cluster's chains
    /// that takes one (origin-tag, loop-guard, mirror-guard, mirror-policy) and sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub topics: Vec<TopicDef>,
}

/// A topic of a cluster and its write path.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub name: String,
    /// The chain every write to this topic goes through: a transforms file's list
    /// (`uses`, `with`, `lookback`), checked as a chain file's. None: records are stored as
    /// written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transforms: Option<StepsDoc>,
}

/// How a link moves records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A consumer on `from` producing into `to`'s write path; it commits its offset every
    /// `commit_ms` and, after an outage, resumes from the last commit (re-sending records).
    #[default]
    Bridge,
    /// Fluvio's home/remote mirroring: `to` (home) keeps a copy aligned offset for offset
    /// with `from` (the remote); producers cannot write to the target, a batch is appended
    /// only at the target's mirrored position, and nothing on that path may be dropped.
    NativeMirror,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Bridge => "bridge",
            LinkKind::NativeMirror => "native-mirror",
        }
    }
}

/// A link between two clusters, for one topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDef {
    /// Name faults refer to [default: `FROM->TO`, or `FROM->TO:TOPIC` when that is ambiguous].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub from: String,
    pub to: String,
    /// Topic read on `from`.
    pub topic: String,
    /// Topic written on `to` [default: `topic`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_topic: Option<String>,
    #[serde(default)]
    pub kind: LinkKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Random extra latency per batch, 0 to this many ms (batches still arrive in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<u64>,
    /// Most records per fetch, and so per write to the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_ms: Option<u64>,
    /// Bridges: how often the consumer commits the offset it has delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_ms: Option<u64>,
    /// Most fetched batches on their way at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflight: Option<usize>,
}

/// Record size: a number of bytes, or `[min, max]` drawn per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SizeDef {
    Fixed(usize),
    Range([usize; 2]),
}

impl Default for SizeDef {
    fn default() -> Self {
        SizeDef::Fixed(DEFAULT_SIZE)
    }
}

impl SizeDef {
    fn bounds(self) -> (usize, usize) {
        match self {
            SizeDef::Fixed(n) => (n, n),
            SizeDef::Range([a, b]) => (a, b),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A producer writing to one topic of one cluster.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerDef {
    /// Name in reports; record values start with `NAME#SEQ:` [default: `CLUSTER.TOPIC.N`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub cluster: String,
    pub topic: String,
    /// How many records it writes.
    pub records: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeDef>,
    /// Records per second [default: 100].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    /// Records per produce batch [default: 1]; a refusal refuses the whole batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Give every record a key (`k-SEQ`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub keys: bool,
    /// Write records that already carry an origin tag claiming another origin.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forge: bool,
    /// The origin a forged tag claims [default: another cluster of the topology].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// The secret the forger seals its tags with [default: none, the tag has no MAC].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge_secret: Option<String>,
    /// This producer writes to a mirror topic on purpose, to check such writes are refused.
    #[serde(default, skip_serializing_if = "is_false")]
    pub local_writes_to_mirror: bool,
}

/// A fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultDef {
    /// The link is down from `at_ms` for `for_ms`: batches on their way are lost and, when it
    /// is back, it replays from its last committed offset.
    LinkDown {
        link: String,
        at_ms: u64,
        for_ms: u64,
    },
    /// The cluster stops at `at_ms` and is back `for_ms` later: its modules are
    /// instantiated and initialised again, and the look-back of each topic's chain is fed
    /// with that topic's last stored records. Links to and from it resume from their last
    /// committed offset; producers wait.
    Restart {
        cluster: String,
        at_ms: u64,
        #[serde(default)]
        for_ms: u64,
    },
    /// Between `from_ms` and `until_ms` each batch on the link gets a random extra delay of
    /// up to `jitter_ms`, so batches overtake each other; a bridge also shuffles the records
    /// inside each batch.
    Reorder {
        link: String,
        #[serde(default)]
        from_ms: u64,
        until_ms: u64,
        jitter_ms: u64,
    },
}

/// A topology file that cannot be simulated.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file cannot be read.
    #[error("cannot read topology file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Not YAML, or not shaped like a topology (an unknown field, a missing one, a wrong type).
    #[error(transparent)]
    Syntax(#[from] serde_yaml::Error),

    /// An error in the file at `path`.
    #[error("{}: {error}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        error: Box<TopologyError>,
    },

    /// A topic's `transforms` is not a list.
    #[error("{topic}: `transforms` must be a list of steps (uses, with, lookback)")]
    TransformsNotAList { topic: String },

    /// A topic's write path is not a valid transforms list, or names a module that cannot be
    /// found or read. The chain-file message is shown without its file, which `topic` names.
    #[error("{topic}: {}", .source.detail())]
    Chain {
        topic: String,
        #[source]
        source: ChainFileError,
    },

    /// A policy step refuses its params, as its `init` would.
    #[error("{topic}: step {step}: {error}")]
    Params {
        topic: String,
        step: String,
        error: ParamError,
    },

    /// The file reads, but describes something that cannot be simulated; the message says
    /// what and where.
    #[error("{0}")]
    Invalid(String),
}

impl TopologyError {
    /// Whether a step names a module that is not there (perhaps none is built).
    pub fn is_module_not_found(&self) -> bool {
        match self {
            TopologyError::InFile { error, .. } => error.is_module_not_found(),
            TopologyError::Chain { source, .. } => {
                matches!(source, ChainFileError::ModuleNotFound { .. })
            }
            TopologyError::Read { .. }
            | TopologyError::Syntax(_)
            | TopologyError::TransformsNotAList { .. }
            | TopologyError::Params { .. }
            | TopologyError::Invalid(_) => false,
        }
    }
}

/// A step of a write path, as the simulator reads it.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// The name the chain reports for it (the `uses`).
    pub uses: String,
    /// The policy module it is, when it is one of this project's.
    pub module: Option<PolicyModule>,
    pub params: BTreeMap<String, String>,
}

/// A topic of a cluster: a node of the topology graph.
#[derive(Debug, Clone)]
pub struct Node {
    pub cluster: usize,
    pub cluster_id: String,
    pub topic: String,
    /// The write path; empty: stored as written.
    pub specs: Vec<ModuleSpec>,
    pub steps: Vec<StepInfo>,
    /// Where tags travel (the steps' `carrier`).
    pub carrier: crate::tag::Carrier,
    /// The guard of the step with `mirror_of`, as that step parsed it.
    pub guard: Option<GuardConfig>,
    /// Hops a record may have made when it arrives (the smallest `max_hops` of a loop check
    /// on the path; 15 without one).
    pub max_hops: u8,
    /// Whether a step verifies tags (`secret`).
    pub has_secret: bool,
    /// Whether a step de-duplicates (`dedup` > 0 on mirror-policy).
    pub dedup: bool,
    /// Whether it is a native mirror's target (home): only mirror sync writes to it.
    pub native_target: bool,
}

impl Node {
    /// `cluster/topic`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.cluster_id, self.topic)
    }

    /// Whether producers writing here write to a mirror topic.
    pub fn is_mirror(&self) -> bool {
        self.native_target || self.guard.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: String,
    pub secret: Option<String>,
    /// Its nodes, in file order.
    pub nodes: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    pub from: usize,
    pub to: usize,
    /// Source and target node.
    pub src: usize,
    pub dst: usize,
    pub kind: LinkKind,
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub batch: usize,
    pub poll_ms: u64,
    pub commit_ms: u64,
    pub inflight: usize,
}

#[derive(Debug, Clone)]
pub struct Producer {
    pub name: String,
    pub cluster: usize,
    pub node: usize,
    pub records: u64,
    pub size: (usize, usize),
    /// Milliseconds between two records.
    pub interval_ms: f64,
    pub start_ms: u64,
    pub batch: usize,
    pub keys: bool,
    /// The origin forged tags claim, when this producer forges.
    pub forge: Option<String>,
    pub forge_secret: Option<String>,
    pub local_writes_to_mirror: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    LinkDown {
        link: usize,
        at_ms: u64,
        for_ms: u64,
    },
    Restart {
        cluster: usize,
        at_ms: u64,
        for_ms: u64,
    },
    Reorder {
        link: usize,
        from_ms: u64,
        until_ms: u64,
        jitter_ms: u64,
    },
}

impl Fault {
    /// When the fault's effect is over.
    pub fn end_ms(&self) -> u64 {
        match *self {
            Fault::LinkDown { at_ms, for_ms, .. } | Fault::Restart { at_ms, for_ms, .. } => {
                at_ms.saturating_add(for_ms)
            }
            Fault::Reorder { until_ms, .. } => until_ms,
        }
    }
}

/// A checked topology, ready to simulate.
#[derive(Debug, Clone)]
pub struct Topology {
    pub name: String,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub description: Option<String>,
    pub seed: u64,
    pub max_time_ms: u64,
    pub clusters: Vec<Cluster>,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub producers: Vec<Producer>,
    pub faults: Vec<Fault>,
    /// Things that are allowed but look like mistakes.
    pub warnings: Vec<String>,
    /// The file as read (or generated).
    pub file: TopologyFile,
}

impl TopologyFile {
    /// Parses YAML text.
    pub fn parse(text: &str) -> Result<Self, TopologyError> {
        Ok(serde_yaml::from_str(text)?)
    }

    /// The file as YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).unwrap_or_default()
    }
}

impl Topology {
    /// Reads, parses and checks a topology file; module names resolve against `resolver`
    /// and relative `.wasm` paths against the file's folder.
    pub fn load(path: impl AsRef<Path>, resolver: &ModuleResolver) -> Result<Self, TopologyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let in_file = |error| TopologyError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        };
        let file = TopologyFile::parse(&text).map_err(in_file)?;
        let name = file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "topology".into())
        });
        Self::build(file, name, Some(path), resolver).map_err(in_file)
    }

    /// Checks a parsed topology. `path` is where relative module paths are resolved from.
    pub fn from_file(
        file: TopologyFile,
        path: Option<&Path>,
        resolver: &ModuleResolver,
    ) -> Result<Self, TopologyError> {
        let name = file.name.clone().unwrap_or_else(|| "topology".into());
        Self::build(file, name, path, resolver)
    }

    fn build(
        file: TopologyFile,
        name: String,
        path: Option<&Path>,
        resolver: &ModuleResolver,
    ) -> Result<Self, TopologyError> {
        let err = |m: String| Err(TopologyError::Invalid(m));
        let mut warnings = Vec::new();
        if file.clusters.is_empty() {
            return err("`clusters` is empty: a topology needs at least one cluster".into());
        }
        let chain_path = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(format!("{name}.yaml")));

        let mut clusters: Vec<Cluster> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        for (ci, c) in file.clusters.iter().enumerate() {
            if let Err(e) = origin::validate_cluster_id(&c.id) {
                return err(format!("cluster #{} id {:?}: {}", ci + 1, c.id, e.as_str()));
            }
            if clusters.iter().any(|o| o.id == c.id) {
                return err(format!("cluster id {:?} is used twice", c.id));
            }
            if c.secret.as_deref() == Some("") {
                return err(format!("cluster {}: `secret` is empty", c.id));
            }
            if c.topics.is_empty() {
                return err(format!("cluster {} has no topics", c.id));
            }
            let mut mine = Vec::new();
            for t in &c.topics {
                if t.name.trim().is_empty() {
                    return err(format!("cluster {}: a topic has an empty name", c.id));
                }
                if mine.iter().any(|&n: &usize| nodes[n].topic == t.name) {
                    return err(format!(
                        "cluster {}: topic {:?} is listed twice",
                        c.id, t.name
                    ));
                }
                let node = build_node(ci, c, t, &chain_path, resolver, &mut warnings)?;
                mine.push(nodes.len());
                nodes.push(node);
            }
            clusters.push(Cluster {
                id: c.id.clone(),
                secret: c.secret.clone(),
                nodes: mine,
            });
        }
        let cluster_of = |id: &str, what: &str| -> Result<usize, TopologyError> {
            clusters.iter().position(|c| c.id == id).ok_or_else(|| {
                TopologyError::Invalid(format!(
                    "{what}: no cluster {id:?} (clusters: {})",
                    clusters
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        };
        fn node_of(
            clusters: &[Cluster],
            nodes: &[Node],
            cluster: usize,
            topic: &str,
            what: &str,
        ) -> Result<usize, TopologyError> {
            clusters[cluster]
                .nodes
                .iter()
                .copied()
                .find(|&n| nodes[n].topic == topic)
                .ok_or_else(|| {
                    TopologyError::Invalid(format!(
                        "{what}: cluster {} has no topic {topic:?}",
                        clusters[cluster].id
                    ))
                })
        }

        // Links.
        let mut links: Vec<Link> = Vec::new();
        for (i, l) in file.links.iter().enumerate() {
            let what = format!("link #{} ({} -> {})", i + 1, l.from, l.to);
            let from = cluster_of(&l.from, &what)?;
            let to = cluster_of(&l.to, &what)?;
            if from == to {
                return err(format!(
                    "{what}: a link joins two clusters; `from` and `to` are the same"
                ));
            }
            let src = node_of(&clusters, &nodes, from, &l.topic, &what)?;
            let dst = node_of(
                &clusters,
                &nodes,
                to,
                l.to_topic.as_deref().unwrap_or(&l.topic),
                &what,
            )?;
            if links.iter().any(|o| o.src == src && o.dst == dst) {
                return err(format!("{what}: the same link is listed twice"));
            }
            let positive = |v: Option<u64>, default: u64, field: &str| match v {
                Some(0) => Err(TopologyError::Invalid(format!(
                    "{what}: `{field}` must be at least 1"
                ))),
                Some(v) => Ok(v),
                None => Ok(default),
            };
            let batch = positive(
                l.batch.map(|b| b as u64),
                DEFAULT_LINK_BATCH as u64,
                "batch",
            )? as usize;
            let inflight = positive(
                l.inflight.map(|b| b as u64),
                DEFAULT_INFLIGHT as u64,
                "inflight",
            )? as usize;
            links.push(Link {
                name: l.name.clone().unwrap_or_default(),
                from,
                to,
                src,
                dst,
                kind: l.kind,
                latency_ms: l.latency_ms.unwrap_or(DEFAULT_LATENCY_MS),
                jitter_ms: l.jitter_ms.unwrap_or(0),
                batch,
                poll_ms: positive(l.poll_ms, DEFAULT_POLL_MS, "poll_ms")?,
                commit_ms: positive(l.commit_ms, DEFAULT_COMMIT_MS, "commit_ms")?,
                inflight,
            });
        }
        // Default names: FROM->TO, or FROM->TO:TOPIC when two links join the same clusters.
        for i in 0..links.len() {
            if !links[i].name.is_empty() {
                continue;
            }
            let (from, to) = (links[i].from, links[i].to);
            let shared = links
                .iter()
                .filter(|o| o.from == from && o.to == to)
                .count()
                > 1;
            let base = format!("{}->{}", clusters[from].id, clusters[to].id);
            links[i].name = if shared {
                format!("{base}:{}", nodes[links[i].src].topic)
            } else {
                base
            };
        }
        let mut names = BTreeSet::new();
        for l in &links {
            if !names.insert(l.name.clone()) {
                return err(format!("link name {:?} is used twice", l.name));
            }
        }
        for l in &links {
            if l.kind == LinkKind::NativeMirror {
                nodes[l.dst].native_target = true;
            }
        }
        for l in &links {
            if l.kind == LinkKind::Bridge && nodes[l.dst].native_target {
                return err(format!(
                    "link {}: {} is the target of a native mirror (a home mirror topic), which \
                     refuses every write but mirror sync; a bridge cannot write to it",
                    l.name,
                    nodes[l.dst].label()
                ));
            }
        }

        // Producers.
        let mut producers: Vec<Producer> = Vec::new();
        let mut counter: BTreeMap<usize, usize> = BTreeMap::new();
        for (i, p) in file.producers.iter().enumerate() {
            let what = format!("producer #{} ({}/{})", i + 1, p.cluster, p.topic);
            let cluster = cluster_of(&p.cluster, &what)?;
            let node = node_of(&clusters, &nodes, cluster, &p.topic, &what)?;
            let n = counter.entry(node).or_default();
            *n += 1;
            let name = p
                .name
                .clone()
                .unwrap_or_else(|| format!("{}.{}.{}", p.cluster, p.topic, n));
            if name.is_empty() || name.contains(['#', ':']) {
                return err(format!(
                    "{what}: name {name:?} is empty or holds '#' or ':'"
                ));
            }
            if producers.iter().any(|o| o.name == name) {
                return err(format!("{what}: producer name {name:?} is used twice"));
            }
            let (min, max) = p.size.unwrap_or_default().bounds();
            if min == 0 || min > max || max > MAX_SIZE {
                return err(format!(
                    "{what}: `size` must be 1 to {MAX_SIZE} bytes, or [min, max] with min <= max"
                ));
            }
            let rate = p.rate.unwrap_or(DEFAULT_RATE);
            if !(rate.is_finite() && rate > 0.0) {
                return err(format!(
                    "{what}: `rate` must be a positive number of records per second"
                ));
            }
            let batch = p.batch.unwrap_or(1);
            if batch == 0 {
                return err(format!("{what}: `batch` must be at least 1"));
            }
            let mirror = nodes[node].is_mirror();
            if mirror && !p.local_writes_to_mirror {
                return err(format!(
                    "{what}: {} is a mirror topic ({}); producers there are refused. Set \
                     `local_writes_to_mirror: true` if the point is to check that they are",
                    nodes[node].label(),
                    if nodes[node].native_target {
                        "the target of a native mirror"
                    } else {
                        "its write path has `mirror_of`"
                    }
                ));
            }
            if !mirror && p.local_writes_to_mirror {
                return err(format!(
                    "{what}: `local_writes_to_mirror` is set but {} is not a mirror topic (no \
                     native mirror writes to it and no step of its write path has `mirror_of`)",
                    nodes[node].label()
                ));
            }
            let forge = if p.forge {
                let claim = match &p.claim {
                    Some(c) => c.clone(),
                    None => clusters
                        .iter()
                        .find(|c| c.id != p.cluster)
                        .map(|c| c.id.clone())
                        .unwrap_or_else(|| "elsewhere".into()),
                };
                if let Err(e) = origin::validate_cluster_id(&claim) {
                    return err(format!("{what}: `claim` {claim:?}: {}", e.as_str()));
                }
                Some(claim)
            } else {
                if p.claim.is_some() || p.forge_secret.is_some() {
                    return err(format!(
                        "{what}: `claim` and `forge_secret` need `forge: true`"
                    ));
                }
                None
            };
            if p.forge_secret.as_deref() == Some("") {
                return err(format!("{what}: `forge_secret` is empty"));
            }
            producers.push(Producer {
                name,
                cluster,
                node,
                records: p.records,
                size: (min, max),
                interval_ms: 1000.0 / rate,
                start_ms: p.start_ms.unwrap_or(0),
                batch,
                keys: p.keys,
                forge,
                forge_secret: p.forge_secret.clone(),
                local_writes_to_mirror: p.local_writes_to_mirror,
            });
        }

        // Faults.
        let link_of = |name: &str, what: &str| -> Result<usize, TopologyError> {
            if let Some(i) = links.iter().position(|l| l.name == name) {
                return Ok(i);
            }
            let known: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
            Err(TopologyError::Invalid(format!(
                "{what}: no link named {name:?} (links: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )))
        };
        let mut faults = Vec::new();
        for (i, f) in file.faults.iter().enumerate() {
            let what = format!("fault #{}", i + 1);
            faults.push(match f {
                FaultDef::LinkDown {
                    link,
                    at_ms,
                    for_ms,
                } => {
                    if *for_ms == 0 {
                        return err(format!("{what} (link-down): `for_ms` must be at least 1"));
                    }
                    Fault::LinkDown {
                        link: link_of(link, &what)?,
                        at_ms: *at_ms,
                        for_ms: *for_ms,
                    }
                }
                FaultDef::Restart {
                    cluster,
                    at_ms,
                    for_ms,
                } => Fault::Restart {
                    cluster: cluster_of(cluster, &what)?,
                    at_ms: *at_ms,
                    for_ms: *for_ms,
                },
                FaultDef::Reorder {
                    link,
                    from_ms,
                    until_ms,
                    jitter_ms,
                } => {
                    if until_ms <= from_ms || *jitter_ms == 0 {
                        return err(format!(
                            "{what} (reorder): needs `until_ms` after `from_ms` and `jitter_ms` > 0"
                        ));
                    }
                    Fault::Reorder {
                        link: link_of(link, &what)?,
                        from_ms: *from_ms,
                        until_ms: *until_ms,
                        jitter_ms: *jitter_ms,
                    }
                }
            });
        }

        for l in &links {
            if let Some(g) = &nodes[l.dst].guard {
                let from = &clusters[l.from].id;
                if !g.is_upstream(from) {
                    warnings.push(format!(
                        "link {}: {} is a mirror of {} but {from} is not; the guard refuses (or \
                         drops) every record it brings whose origin is not upstream",
                        l.name,
                        nodes[l.dst].label(),
                        g.mirror_of().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }

        // Tags must travel in the same place everywhere records go.
        for l in &links {
            let (a, b) = (&nodes[l.src], &nodes[l.dst]);
            if a.carrier != b.carrier && !a.steps.is_empty() && !b.steps.is_empty() {
                warnings.push(format!(
                    "link {}: {} carries tags in the {} but {} in the {}",
                    l.name,
                    a.label(),
                    a.carrier.as_str(),
                    b.label(),
                    b.carrier.as_str()
                ));
            }
        }

        Ok(Topology {
            name,
            path: path.map(Path::to_path_buf),
            description: file.description.clone(),
            seed: file.seed.unwrap_or(0),
            max_time_ms: file.max_time_ms.unwrap_or(DEFAULT_MAX_TIME_MS),
            clusters,
            nodes,
            links,
            producers,
            faults,
            warnings,
            file,
        })
    }

    /// The node of `cluster`'s `topic`.
    pub fn node(&self, cluster: &str, topic: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.cluster_id == cluster && n.topic == topic)
    }

    /// `n clusters, n links, ...` for headers.
    pub fn summary(&self) -> String {
        format!(
            "{} cluster(s), {} topic(s), {} link(s), {} producer(s), {} fault(s)",
            self.clusters.len(),
            self.nodes.len(),
            self.links.len(),
            self.producers.len(),
            self.faults.len()
        )
    }
}

fn build_node(
    ci: usize,
    c: &ClusterDef,
    t: &TopicDef,
    chain_path: &Path,
    resolver: &ModuleResolver,
    warnings: &mut Vec<String>,
) -> Result<Node, TopologyError> {
    let label = format!("cluster {}, topic {}", c.id, t.name);
    let chain_err = |source| TopologyError::Chain {
        topic: label.clone(),
        source,
    };
    let mut specs = match &t.transforms {
        None | Some(StepsDoc::Not(Kind::Empty)) => Vec::new(),
        Some(StepsDoc::List(list)) if list.is_empty() => Vec::new(),
        Some(StepsDoc::List(list)) => {
            let mut found = Vec::new();
            let transforms =
                ChainFile::steps(list.clone(), chain_path, &mut found).map_err(chain_err)?;
            warnings.extend(found.into_iter().map(|w| format!("{label}: {w}")));
            let file = ChainFile {
                path: chain_path.to_path_buf(),
                transforms,
                warnings: Vec::new(),
            };
            file.resolve(resolver).map_err(chain_err)?
        }
        Some(StepsDoc::Not(_)) => return Err(TopologyError::TransformsNotAList { topic: label }),
    };
    let mut steps = Vec::new();
    let mut carrier = None;
    let mut guard = None;
    let mut max_hops = PATH_HOPS;
    let mut has_secret = false;
    let mut dedup = false;
    for spec in &mut specs {
        let module = policies::find(&spec.name);
        if let Some(m) = module {
            if let Some(secret) = &c.secret {
                if m.takes(SECRET.name) {
                    spec.params
                        .entry(SECRET.name.into())
                        .or_insert_with(|| secret.clone());
                }
            }
            let params_err = |error| TopologyError::Params {
                topic: label.clone(),
                step: spec.name.clone(),
                error,
            };
            // The module's own parse of its params: what it will run with.
            let policy = m.build(&spec.params).map_err(params_err)?;
            let summary = policy.summary();
            // What the step's `with` says, as the module reads it.
            let given = m.given(&spec.params).map_err(params_err)?;
            if let Some(cluster) = given.get(&CLUSTER) {
                if cluster != c.id {
                    warnings.push(format!(
                        "{label}: step {} has cluster={cluster}, not {}",
                        spec.name, c.id
                    ));
                }
            }
            has_secret |= summary.verifies;
            if given.get(&CARRIER).is_some() {
                if carrier.is_some_and(|c| c != summary.carrier) {
                    warnings.push(format!("{label}: steps disagree on `carrier`"));
                }
                carrier.get_or_insert(summary.carrier);
            }
            if let Some(lc) = summary.loop_check {
                max_hops = max_hops.min(lc.max_hops());
            }
            dedup |= summary.dedup.is_some();
            if let Some(g) = summary.guard {
                guard = Some(g.clone());
            }
        }
        steps.push(StepInfo {
            uses: spec.name.clone(),
            module,
            params: spec.params.clone(),
        });
    }
    Ok(Node {
        cluster: ci,
        cluster_id: c.id.clone(),
        topic: t.name.clone(),
        specs,
        steps,
        carrier: carrier.unwrap_or_default(),
        guard,
        max_hops,
        has_secret,
        dedup,
        native_target: false,
    })
}
