//! The bridge's configuration: a YAML file, or flags for one link, resolved into a [`Plan`]
//! before any connection is made, so that every mistake is reported at start with its fix.
//!
//! A link is described as `harness simulate` describes one (`from`, `to`, `topic`, `to_topic`,
//! `name`, `batch`, `commit_ms`, and the simulation-only `latency_ms`, `jitter_ms`, `poll_ms`,
//! `inflight`, which are accepted and ignored), so links can be copied from a topology file or
//! named in one (`link: east->west` with `topology: FILE`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::topology::Topology;

/// Most records in one write to the target, unless the link says otherwise.
pub const DEFAULT_BATCH_RECORDS: usize = 10_000;
/// Most bytes of keys and values in one write to the target. Each write is stored as one
/// batch, and a consumer reads at most about 1 MiB a fetch by default: half of that keeps the
/// target's batches readable by any consumer, the next bridge of a chain included.
pub const DEFAULT_BATCH_BYTES: usize = 512 * 1024;
/// How often a link stores its committed offsets on the source cluster.
pub const DEFAULT_COMMIT: Duration = Duration::from_millis(1000);
/// How often a progress line is printed.
pub const DEFAULT_PROGRESS: Duration = Duration::from_secs(5);
/// How long the clusters may take to answer at start before the bridge gives up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// How to reach each cluster a link names.
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterDef>,
    /// A `harness simulate` topology whose links `links` may name.
    pub topology: Option<PathBuf>,
    #[serde(default)]
    pub links: Vec<LinkEntry>,
    /// Defaults for every link that does not set its own.
    pub chain: Option<ChainDef>,
    pub dead_letter: Option<String>,
    pub on_refusal: Option<OnRefusal>,
    pub start: Option<StartAt>,
    pub batch_bytes: Option<u64>,
    /// Seconds between two progress lines.
    pub progress_secs: Option<u64>,
}

/// How to reach one cluster: its SC's public endpoint, or a profile of a Fluvio config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDef {
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    /// The Fluvio config file holding `profile` [default: `$FLV_PROFILE_PATH`, else
    /// `~/.fluvio/config`].
    pub profile_file: Option<PathBuf>,
}

/// One link: the simulator's description plus what only a real bridge needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEntry {
    /// A link of the topology file, by name; the fields below override it.
    pub link: Option<String>,
    pub name: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub topic: Option<String>,
    pub to_topic: Option<String>,
    /// `bridge` (the default); a `native-mirror` is Fluvio's own and is refused here.
    pub kind: Option<String>,
    /// Most records per write to the target.
    pub batch: Option<u64>,
    /// How often the committed offsets are stored on the source, in milliseconds.
    pub commit_ms: Option<u64>,
    /// Simulation only: accepted so that a topology's link can be copied as is.
    pub latency_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub poll_ms: Option<u64>,
    pub inflight: Option<u64>,
    /// Partitions this process copies (`2`, `0-3`) [default: all].
    pub partitions: Option<String>,
    /// The consumer name its offsets are committed under.
    pub consumer: Option<String>,
    pub chain: Option<ChainDef>,
    pub dead_letter: Option<String>,
    pub on_refusal: Option<OnRefusal>,
    pub start: Option<StartAt>,
    pub batch_bytes: Option<u64>,
}

/// The chain run in the target's produce path: steps as in a Fluvio transforms file, or
/// `topology`: the target topic's `transforms` in the topology file.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ChainDef {
    Steps(Vec<ChainStepDef>),
    Named(String),
}

/// One step of a transforms file: `uses` (a registered module, or a path to a `.wasm`),
/// `with` (params), `lookback`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainStepDef {
    pub uses: String,
    #[serde(default)]
    pub with: BTreeMap<String, serde_yaml::Value>,
    pub lookback: Option<LookbackDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookbackDef {
    pub last: u64,
    /// A duration such as `1h` or `30m`.
    pub age: Option<String>,
}

/// A Fluvio transforms file: `transforms:` followed by the steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformsFile {
    pub transforms: Vec<ChainStepDef>,
}

/// What a link does with a record the target's chain refuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnRefusal {
    /// Count it, log it with the hint, write it to the dead-letter topic if there is one, go on.
    #[default]
    Skip,
    /// Stop the bridge (exit code 6) without committing past it.
    Stop,
}

/// Where a consumer without a committed offset starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    #[default]
    Beginning,
    End,
}

/// Everything the bridge runs, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub links: Vec<LinkPlan>,
    pub progress_every: Duration,
    pub until_caught_up: bool,
    pub connect_timeout: Duration,
}

/// One checked link.
#[derive(Debug, Clone)]
pub struct LinkPlan {
    pub name: String,
    pub source: ClusterPlan,
    pub target: ClusterPlan,
    pub topic: String,
    pub to_topic: String,
    pub partitions: Option<PartitionRange>,
    pub consumer: String,
    pub chain: Vec<ChainStep>,
    pub dead_letter: Option<String>,
    pub on_refusal: OnRefusal,
    pub start: StartAt,
    pub batch_records: usize,
    pub batch_bytes: usize,
    pub commit_every: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPlan {
    pub id: String,
    pub address: ClusterAddress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterAddress {
    Endpoint(String),
    Profile { name: String, file: Option<PathBuf> },
}

impl std::fmt::Display for ClusterAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterAddress::Endpoint(e) => write!(f, "{e}"),
            ClusterAddress::Profile { name, .. } => write!(f, "profile {name}"),
        }
    }
}

/// A checked chain step.
#[derive(Debug, Clone)]
pub struct ChainStep {
    pub module: ModuleRef,
    pub params: BTreeMap<String, String>,
    pub lookback: Option<(u64, Option<Duration>)>,
}

#[derive(Debug, Clone)]
pub enum ModuleRef {
    /// Registered on the target with `fluvio smartmodule create NAME`.
    Registered(String),
    /// A `.wasm` file sent with every write, as `fluvio produce --smartmodule-path` does.
    File { path: PathBuf, wasm: Vec<u8> },
}

impl ChainStep {
    /// `name(k=v, ...)`, for the start-up line.
    pub fn describe(&self) -> String {
        let name = match &self.module {
            ModuleRef::Registered(n) => n.clone(),
            ModuleRef::File { path, .. } => path.display().to_string(),
        };
        let params: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| k.as_str() != "secret")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{name}({})", params.join(", "))
    }
}

/// An inclusive range of partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionRange {
    pub first: u32,
    pub last: u32,
}

impl PartitionRange {
    /// `2` or `0-3`.
    pub fn parse(given: &str) -> Result<PartitionRange, ConfigError> {
        let bad = |problem: &str| ConfigError::BadPartitions {
            given: given.to_string(),
            problem: problem.to_string(),
        };
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("{:?} is not a partition number", s.trim())))
        };
        let (first, last) = match given.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let p = number(given)?;
                (p, p)
            }
        };
        if first > last {
            return Err(bad("the range ends before it starts"));
        }
        Ok(PartitionRange { first, last })
    }

    pub fn iter(self) -> impl Iterator<Item = u32> {
        self.first..=self.last
    }
}

impl std::fmt::Display for PartitionRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// What the command line changes in the file's links.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// Run only this link.
    pub link: Option<String>,
    pub clusters: Vec<(String, ClusterDef)>,
    pub partitions: Option<String>,
    pub consumer: Option<String>,
    pub chain: Option<ChainDef>,
    pub dead_letter: Option<String>,
    pub on_refusal: Option<OnRefusal>,
    pub start: Option<StartAt>,
    pub batch: Option<u64>,
    pub batch_bytes: Option<u64>,
    pub commit_ms: Option<u64>,
    pub progress_secs: Option<u64>,
    pub until_caught_up: bool,
    pub connect_timeout: Option<Duration>,
}

impl ConfigFile {
    /// Reads and parses a config file; relative paths in it are taken from its directory.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file: ConfigFile = serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            what: "bridge config",
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        file.rebase(base);
        Ok(file)
    }

    /// Makes relative paths (topology, profile files, module files) relative to `base`.
    fn rebase(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(t) = self.topology.as_mut() {
            fix(t);
        }
        for c in self.clusters.values_mut() {
            if let Some(f) = c.profile_file.as_mut() {
                fix(f);
            }
        }
        let fix_chain = |chain: &mut Option<ChainDef>| {
            if let Some(ChainDef::Steps(steps)) = chain {
                for s in steps {
                    if is_module_path(&s.uses) && Path::new(&s.uses).is_relative() {
                        s.uses = base.join(&s.uses).to_string_lossy().into_owned();
                    }
                }
            }
        };
        fix_chain(&mut self.chain);
        for l in &mut self.links {
            fix_chain(&mut l.chain);
        }
    }

    /// Applies the command line and checks everything: the plan the bridge runs.
    pub fn resolve(mut self, overrides: Overrides) -> Result<Plan, ConfigError> {
        for (id, def) in &overrides.clusters {
            self.clusters.insert(id.clone(), def.clone());
        }
        let topology = match &self.topology {
            Some(path) => Some(Topology::load(path)?),
            None => None,
        };
        if self.links.is_empty() {
            return Err(ConfigError::NoLinks);
        }

        // Links as described, topology links filled in, names given.
        let mut described = Vec::new();
        for entry in &self.links {
            let merged = match &entry.link {
                Some(name) => {
                    let topo = topology
                        .as_ref()
                        .ok_or_else(|| ConfigError::NoTopology { link: name.clone() })?;
                    let base = topo.link(name)?;
                    let mut merged = entry.clone();
                    merged.name = merged.name.or(Some(name.clone()));
                    merged.from = merged.from.or(base.from.clone());
                    merged.to = merged.to.or(base.to.clone());
                    merged.topic = merged.topic.or(base.topic.clone());
                    merged.to_topic = merged.to_topic.or(base.to_topic.clone());
                    merged.kind = merged.kind.or(base.kind.clone());
                    merged.batch = merged.batch.or(base.batch);
                    merged.commit_ms = merged.commit_ms.or(base.commit_ms);
                    merged
                }
                None => entry.clone(),
            };
            described.push(merged);
        }
        let names = default_names(&described);

        let selected: Vec<(String, LinkEntry)> = match &overrides.link {
            Some(want) => {
                let found: Vec<(String, LinkEntry)> = names
                    .iter()
                    .zip(&described)
                    .filter(|(n, _)| *n == want)
                    .map(|(n, l)| (n.clone(), l.clone()))
                    .collect();
                if found.is_empty() {
                    return Err(ConfigError::UnknownLink {
                        name: want.clone(),
                        source_file: "the config".into(),
                        known: names.join(", "),
                    });
                }
                found
            }
            None => names.into_iter().zip(described).collect(),
        };
        let one_link_flags: [(&'static str, bool); 2] = [
            ("--partitions", overrides.partitions.is_some()),
            ("--consumer", overrides.consumer.is_some()),
        ];
        for (flag, given) in one_link_flags {
            if given && selected.len() > 1 {
                return Err(ConfigError::FlagNeedsOneLink {
                    flag,
                    count: selected.len(),
                });
            }
        }

        let mut links = Vec::new();
        for (name, entry) in selected {
            links.push(self.resolve_link(name, entry, &overrides, topology.as_ref())?);
        }
        let mut seen = std::collections::BTreeSet::new();
        for l in &links {
            if !seen.insert(l.name.clone()) {
                return Err(ConfigError::DuplicateLink {
                    name: l.name.clone(),
                });
            }
        }
        let progress_secs = overrides.progress_secs.or(self.progress_secs).unwrap_or(0);
        Ok(Plan {
            links,
            progress_every: if progress_secs == 0 {
                DEFAULT_PROGRESS
            } else {
                Duration::from_secs(progress_secs)
            },
            until_caught_up: overrides.until_caught_up,
            connect_timeout: overrides.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        })
    }

    fn resolve_link(
        &self,
        name: String,
        entry: LinkEntry,
        o: &Overrides,
        topology: Option<&Topology>,
    ) -> Result<LinkPlan, ConfigError> {
        let missing = |field: &'static str, meaning: &'static str| ConfigError::MissingField {
            link: name.clone(),
            field,
            meaning,
        };
        if let Some(kind) = &entry.kind {
            if kind != "bridge" {
                return Err(ConfigError::NotABridge {
                    link: name.clone(),
                    kind: kind.clone(),
                });
            }
        }
        let from = entry
            .from
            .clone()
            .ok_or_else(|| missing("from", "cluster the records are read from"))?;
        let to = entry
            .to
            .clone()
            .ok_or_else(|| missing("to", "cluster the records are written to"))?;
        let topic = entry
            .topic
            .clone()
            .ok_or_else(|| missing("topic", "topic read on `from`"))?;
        let to_topic = entry.to_topic.clone().unwrap_or_else(|| topic.clone());
        let source = self.cluster(&name, &from)?;
        let target = self.cluster(&name, &to)?;
        if source.address == target.address && topic == to_topic {
            return Err(ConfigError::SelfLink { link: name });
        }

        let partitions = match o.partitions.as_ref().or(entry.partitions.as_ref()) {
            Some(p) => Some(PartitionRange::parse(p)?),
            None => None,
        };
        let positive = |field: &'static str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(ConfigError::NotPositive {
                link: name.clone(),
                field,
                value: 0,
            }),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        let batch_records = positive(
            "batch",
            o.batch.or(entry.batch),
            DEFAULT_BATCH_RECORDS as u64,
        )?;
        let batch_bytes = positive(
            "batch_bytes",
            o.batch_bytes.or(entry.batch_bytes).or(self.batch_bytes),
            DEFAULT_BATCH_BYTES as u64,
        )?;
        let commit_ms = positive(
            "commit_ms",
            o.commit_ms.or(entry.commit_ms),
            DEFAULT_COMMIT.as_millis() as u64,
        )?;

        let chain_def = o
            .chain
            .as_ref()
            .or(entry.chain.as_ref())
            .or(self.chain.as_ref());
        let chain = match chain_def {
            None => Vec::new(),
            Some(ChainDef::Steps(steps)) => check_steps(&name, steps)?,
            Some(ChainDef::Named(word)) if word == "topology" => {
                let no_chain = || ConfigError::NoTopologyChain {
                    link: name.clone(),
                    cluster: to.clone(),
                    topic: to_topic.clone(),
                };
                let steps = topology
                    .ok_or_else(no_chain)?
                    .transforms(&to, &to_topic)
                    .ok_or_else(no_chain)??;
                check_steps(&name, &steps)?
            }
            Some(ChainDef::Named(word)) => {
                return Err(ConfigError::BadChainStep {
                    link: name,
                    index: 0,
                    problem: format!("`chain: {word}` is neither a list of steps nor `topology`"),
                })
            }
        };
        let consumer = o
            .consumer
            .clone()
            .or(entry.consumer.clone())
            .unwrap_or_else(|| default_consumer(&from, &to, &to_topic));
        Ok(LinkPlan {
            name,
            source,
            target,
            topic,
            to_topic,
            partitions,
            consumer,
            chain,
            dead_letter: o
                .dead_letter
                .clone()
                .or(entry.dead_letter)
                .or(self.dead_letter.clone()),
            on_refusal: o
                .on_refusal
                .or(entry.on_refusal)
                .or(self.on_refusal)
                .unwrap_or_default(),
            start: o.start.or(entry.start).or(self.start).unwrap_or_default(),
            batch_records: batch_records as usize,
            batch_bytes: batch_bytes as usize,
            commit_every: Duration::from_millis(commit_ms),
        })
    }

    fn cluster(&self, link: &str, id: &str) -> Result<ClusterPlan, ConfigError> {
        let def = self
            .clusters
            .get(id)
            .ok_or_else(|| ConfigError::UnknownCluster {
                link: link.to_string(),
                cluster: id.to_string(),
            })?;
        let bad = |problem: &str| ConfigError::BadCluster {
            cluster: id.to_string(),
            problem: problem.to_string(),
        };
        let address = match (&def.endpoint, &def.profile) {
            (Some(e), None) if def.profile_file.is_none() => {
                if e.trim().is_empty() {
                    return Err(bad("`endpoint` is empty"));
                }
                ClusterAddress::Endpoint(e.trim().to_string())
            }
            (Some(_), None) => {
                return Err(bad("`profile_file` goes with `profile`, not `endpoint`"))
            }
            (None, Some(p)) => ClusterAddress::Profile {
                name: p.clone(),
                file: def.profile_file.clone(),
            },
            (Some(_), Some(_)) => return Err(bad("both `endpoint` and `profile` are given")),
            (None, None) => return Err(bad("neither `endpoint` nor `profile` is given")),
        };
        Ok(ClusterPlan {
            id: id.to_string(),
            address,
        })
    }
}

/// Whether `uses` names a file rather than a registered module.
fn is_module_path(uses: &str) -> bool {
    uses.ends_with(".wasm") || uses.contains('/')
}

/// Checks the steps and reads the module files they name.
pub fn check_steps(link: &str, steps: &[ChainStepDef]) -> Result<Vec<ChainStep>, ConfigError> {
    let mut out = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let bad = |problem: String| ConfigError::BadChainStep {
            link: link.to_string(),
            index,
            problem,
        };
        if step.uses.trim().is_empty() {
            return Err(bad(
                "`uses` is empty; name a registered module or a .wasm file".into(),
            ));
        }
        let module = if is_module_path(&step.uses) {
            let path = PathBuf::from(&step.uses);
            let wasm = std::fs::read(&path).map_err(|source| ConfigError::ModuleFile {
                link: link.to_string(),
                path: path.clone(),
                source,
            })?;
            ModuleRef::File { path, wasm }
        } else {
            ModuleRef::Registered(step.uses.clone())
        };
        let mut params = BTreeMap::new();
        for (k, v) in &step.with {
            let text = match v {
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(bad(format!(
                        "param '{k}' is {}; params are strings (quote it)",
                        yaml_kind(other)
                    )))
                }
            };
            params.insert(k.clone(), text);
        }
        let lookback = match &step.lookback {
            None => None,
            Some(lb) => {
                let age = match &lb.age {
                    None => None,
                    Some(a) => Some(parse_duration(a).ok_or_else(|| {
                        bad(format!(
                            "lookback age {a:?} is not a duration (e.g. 30s, 15m, 1h)"
                        ))
                    })?),
                };
                Some((lb.last, age))
            }
        };
        out.push(ChainStep {
            module,
            params,
            lookback,
        });
    }
    Ok(out)
}

fn yaml_kind(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "empty",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a map",
        _ => "not a string",
    }
}

/// `250ms`, `30s`, `15m`, `1h`, `2d`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(n.checked_mul(ms)?))
}

/// `FROM->TO`, or `FROM->TO:TOPIC` when two links join the same clusters, as the simulator
/// names its links; a link's own `name` wins.
pub fn default_names(links: &[LinkEntry]) -> Vec<String> {
    links
        .iter()
        .map(|l| {
            if let Some(n) = &l.name {
                return n.clone();
            }
            let from = l.from.clone().unwrap_or_default();
            let to = l.to.clone().unwrap_or_default();
            let shared = links
                .iter()
                .filter(|o| o.from.as_deref() == Some(&from) && o.to.as_deref() == Some(&to))
                .count()
                > 1;
            if shared {
                format!("{from}->{to}:{}", l.topic.clone().unwrap_or_default())
            } else {
                format!("{from}->{to}")
            }
        })
        .collect()
}

/// `origin-bridge-FROM-TO-TOPIC`: distinct for two links that read the same source topic, so
/// their committed offsets never mix.
pub fn default_consumer(from: &str, to: &str, to_topic: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "origin-bridge-{}-{}-{}",
        clean(from),
        clean(to),
        clean(to_topic)
    )
}

/// `ID=HOST:PORT` or `ID=profile:NAME`, as `--cluster` takes it.
pub fn parse_cluster_flag(given: &str) -> Result<(String, ClusterDef), ConfigError> {
    let (id, address) = given
        .split_once('=')
        .filter(|(id, a)| !id.trim().is_empty() && !a.trim().is_empty())
        .ok_or_else(|| ConfigError::BadClusterFlag {
            given: given.to_string(),
        })?;
    Ok((id.trim().to_string(), cluster_def(address.trim())))
}

/// `HOST:PORT` or `profile:NAME`.
pub fn cluster_def(address: &str) -> ClusterDef {
    match address.strip_prefix("profile:") {
        Some(profile) => ClusterDef {
            profile: Some(profile.to_string()),
            ..ClusterDef::default()
        },
        None => ClusterDef {
            endpoint: Some(address.to_string()),
            ..ClusterDef::default()
        },
    }
}

/// A cluster id made from an address given on the command line (`127.0.0.1:9003` ->
/// `127.0.0.1-9003`, `profile:west` -> `west`).
pub fn id_from_address(address: &str) -> String {
    let raw = address.strip_prefix("profile:").unwrap_or(address);
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Parses a transforms file (`transforms:` and its steps).
pub fn load_transforms_file(path: &Path) -> Result<Vec<ChainStepDef>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: TransformsFile = serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        what: "transforms file",
        message: e.to_string(),
    })?;
    Ok(file.transforms)
}

/// Parses one `--transform` JSON step (`{"uses":"NAME","with":{...}}`).
pub fn parse_transform_flag(given: &str) -> Result<ChainStepDef, ConfigError> {
    serde_yaml::from_str(given).map_err(|e| ConfigError::Parse {
        path: PathBuf::from("--transform"),
        what: "transform step ({\"uses\":\"NAME\",\"with\":{\"k\":\"v\"}})",
        message: format!("{e}: {given}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> ConfigFile {
        serde_yaml::from_str(yaml).unwrap()
    }

    const TWO: &str = "
clusters:
  east: { endpoint: 127.0.0.1:9003 }
  west: { profile: west }
links:
  - { from: east, to: west, topic: orders }
  - { from: west, to: east, topic: orders, latency_ms: 12, jitter_ms: 4, batch: 8, commit_ms: 40 }
chain:
  - uses: mirror-policy
    with: { cluster: west, dedup: 1000 }
    lookback: { last: 1000 }
dead_letter: orders-refused
";

    #[test]
    fn links_take_the_simulators_description_and_its_names() {
        let plan = parse(TWO).resolve(Overrides::default()).unwrap();
        assert_eq!(plan.links.len(), 2);
        let [a, b] = [&plan.links[0], &plan.links[1]];
        assert_eq!(a.name, "east->west");
        assert_eq!(b.name, "west->east");
        assert_eq!(
            a.source.address,
            ClusterAddress::Endpoint("127.0.0.1:9003".into())
        );
        assert_eq!(
            a.target.address,
            ClusterAddress::Profile {
                name: "west".into(),
                file: None
            }
        );
        assert_eq!(a.to_topic, "orders");
        assert_eq!(a.batch_records, DEFAULT_BATCH_RECORDS);
        assert_eq!(b.batch_records, 8);
        assert_eq!(b.commit_every, Duration::from_millis(40));
        assert_eq!(a.consumer, "origin-bridge-east-west-orders");
        assert_eq!(a.chain[0].params["dedup"], "1000");
        assert_eq!(a.chain[0].lookback, Some((1000, None)));
        assert_eq!(a.dead_letter.as_deref(), Some("orders-refused"));
        assert_eq!(a.on_refusal, OnRefusal::Skip);
    }

    #[test]
    fn a_flag_selects_a_link_and_overrides_it() {
        let plan = parse(TWO)
            .resolve(Overrides {
                link: Some("west->east".into()),
                partitions: Some("0-3".into()),
                on_refusal: Some(OnRefusal::Stop),
                ..Overrides::default()
            })
            .unwrap();
        assert_eq!(plan.links.len(), 1);
        assert_eq!(
            plan.links[0].partitions,
            Some(PartitionRange { first: 0, last: 3 })
        );
        assert_eq!(plan.links[0].on_refusal, OnRefusal::Stop);
    }

    #[test]
    fn mistakes_are_named_with_their_fix() {
        let err = parse(TWO)
            .resolve(Overrides {
                partitions: Some("1".into()),
                ..Overrides::default()
            })
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::FlagNeedsOneLink { count: 2, .. }),
            "{err}"
        );

        let err = parse("links: [ { from: east, to: nowhere, topic: t } ]\nclusters: { east: { endpoint: a:1 } }")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(
            matches!(&err, ConfigError::UnknownCluster { cluster, .. } if cluster == "nowhere"),
            "{err}"
        );
        assert!(err.to_string().contains("--cluster nowhere="), "{err}");

        let err = parse("links: [ { from: a, topic: t } ]\nclusters: { a: { endpoint: a:1 } }")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::MissingField { field: "to", .. }),
            "{err}"
        );

        let err = parse("links: [ { from: a, to: b, topic: t, kind: native-mirror } ]")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(matches!(err, ConfigError::NotABridge { .. }), "{err}");

        let err = parse("links: [ { from: a, to: b, topic: t, batch: 0 } ]\nclusters: { a: { endpoint: x:1 }, b: { endpoint: y:1 } }")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::NotPositive { field: "batch", .. }),
            "{err}"
        );

        let err = parse("links: [ { from: a, to: b, topic: t } ]\nclusters: { a: { endpoint: x:1 }, b: { endpoint: x:1 } }")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(matches!(err, ConfigError::SelfLink { .. }), "{err}");

        let err = parse("links: [ { link: a->b } ]")
            .resolve(Overrides::default())
            .unwrap_err();
        assert!(matches!(err, ConfigError::NoTopology { .. }), "{err}");

        assert!(serde_yaml::from_str::<ConfigFile>("links: [ { form: a } ]").is_err());
    }

    #[test]
    fn params_are_strings_and_a_map_is_refused() {
        let steps: Vec<ChainStepDef> =
            serde_yaml::from_str("[ { uses: m, with: { a: 1, b: true, c: x } } ]").unwrap();
        let chain = check_steps("l", &steps).unwrap();
        assert_eq!(chain[0].params["a"], "1");
        assert_eq!(chain[0].params["b"], "true");
        let steps: Vec<ChainStepDef> =
            serde_yaml::from_str("[ { uses: m, with: { a: { b: 1 } } } ]").unwrap();
        let err = check_steps("l", &steps).unwrap_err();
        assert!(
            matches!(err, ConfigError::BadChainStep { index: 0, .. }),
            "{err}"
        );
        let steps: Vec<ChainStepDef> =
            serde_yaml::from_str("[ { uses: /no/such/module.wasm } ]").unwrap();
        assert!(matches!(
            check_steps("l", &steps).unwrap_err(),
            ConfigError::ModuleFile { .. }
        ));
    }

    /// The example configs in bridge/examples resolve, topology links and all.
    #[test]
    fn the_example_configs_resolve() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let plan = ConfigFile::load(&dir.join("active-active.yaml"))
            .unwrap()
            .resolve(Overrides::default())
            .unwrap();
        let names: Vec<&str> = plan.links.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["east->west", "west->east"]);
        assert_eq!(plan.links[0].dead_letter.as_deref(), Some("orders-refused"));

        let plan = ConfigFile::load(&dir.join("bridge.yaml"))
            .unwrap()
            .resolve(Overrides::default())
            .unwrap();
        let [a, b] = [&plan.links[0], &plan.links[1]];
        assert_eq!(a.name, "east-orders");
        assert_eq!(a.partitions, Some(PartitionRange { first: 0, last: 3 }));
        assert_eq!(a.chain[0].params["mirror_of"], "east");
        assert_eq!(b.name, "west->east");
        assert_eq!(b.source.id, "west");
        assert_eq!(b.batch_records, 8, "from the topology's link");
        assert_eq!(
            b.chain[0].describe(),
            "mirror-policy(cluster=east, dedup=10000, max_hops=4)"
        );
        assert_eq!(plan.progress_every, Duration::from_secs(5));
    }

    #[test]
    fn partition_ranges() {
        assert_eq!(
            PartitionRange::parse("0-3").unwrap(),
            PartitionRange { first: 0, last: 3 }
        );
        assert_eq!(
            PartitionRange::parse("2").unwrap(),
            PartitionRange { first: 2, last: 2 }
        );
        for bad in ["3-1", "x", "1-", "-1", ""] {
            assert!(
                matches!(
                    PartitionRange::parse(bad),
                    Err(ConfigError::BadPartitions { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn cluster_flags() {
        let (id, def) = parse_cluster_flag("east=127.0.0.1:9003").unwrap();
        assert_eq!(id, "east");
        assert_eq!(def.endpoint.as_deref(), Some("127.0.0.1:9003"));
        let (_, def) = parse_cluster_flag("west=profile:w").unwrap();
        assert_eq!(def.profile.as_deref(), Some("w"));
        assert!(parse_cluster_flag("east").is_err());
        assert!(parse_cluster_flag("=x:1").is_err());
        assert_eq!(id_from_address("127.0.0.1:9003"), "127.0.0.1-9003");
        assert_eq!(id_from_address("profile:west"), "west");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}
