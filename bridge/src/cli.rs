//! The command line: a config file, a topology link, or one link described with flags; the
//! flags that tune a run apply to whichever is given.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{
    cluster_def, id_from_address, load_transforms_file, parse_cluster_flag, parse_transform_flag,
    ChainDef, ConfigFile, LinkEntry, OnRefusal, Overrides, Plan, StartAt,
};
use crate::error::ConfigError;

const EXIT_CODES: &str = "\
Exit codes:
  0  stopped cleanly (SIGINT or SIGTERM: the write in flight finished, offsets committed), or
     caught up with --until-caught-up
  1  another failure (a dead-letter write that could not be made); a second SIGINT or SIGTERM
     exits at once with 1
  2  bad command line
  3  bad config: unreadable or invalid file, unknown cluster or link, bad partition range,
     unreadable module file, a profile that is missing
  4  the link cannot run: a cluster unreachable at start, a topic missing, partition counts
     that differ, a target topic that refuses every producer
  5  the target refused the chain: a module not registered, params refused at init, a trap
  6  a record was refused and the link says on_refusal: stop

Examples:
  origin-bridge --source 127.0.0.1:9003 --target 127.0.0.1:9103 --topic orders
  origin-bridge --config bridge.yaml
  origin-bridge --topology examples/topologies/active-active.yaml --link east->west \\
      --cluster east=127.0.0.1:9003 --cluster west=profile:west --until-caught-up";

/// Copies topics between Fluvio clusters: consumes on one cluster with a named consumer and
/// produces to the same partition of another through the target's SmartModule chain, at least
/// once and in order, committing offsets only after the target acknowledged the records.
#[derive(Debug, Parser)]
#[command(name = "origin-bridge", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Bridge config (YAML): clusters, links, chain, dead letters.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A `harness simulate` topology file whose links --link (or the config's `link:`) names.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Run only this link: its `name`, or FROM->TO (FROM->TO:TOPIC when two links join the
    /// same clusters).
    #[arg(long, value_name = "NAME")]
    pub link: Option<String>,
    /// How to reach a cluster a link names (repeatable).
    #[arg(long = "cluster", value_name = "ID=HOST:PORT|ID=profile:NAME")]
    pub clusters: Vec<String>,

    /// Source cluster of a link given by flags.
    #[arg(long, value_name = "HOST:PORT|profile:NAME")]
    pub source: Option<String>,
    /// Target cluster of a link given by flags.
    #[arg(long, value_name = "HOST:PORT|profile:NAME")]
    pub target: Option<String>,
    /// Topic read on the source.
    #[arg(long)]
    pub topic: Option<String>,
    /// Topic written on the target [default: --topic].
    #[arg(long)]
    pub to_topic: Option<String>,
    /// The source cluster's id, in names and messages [default: from --source].
    #[arg(long, value_name = "ID")]
    pub source_id: Option<String>,
    /// The target cluster's id [default: from --target].
    #[arg(long, value_name = "ID")]
    pub target_id: Option<String>,

    /// A step of the chain run in the target's produce path, as Fluvio's CLI takes it
    /// (repeatable, in order): '{"uses":"mirror-policy","with":{"cluster":"west"}}'; `uses`
    /// is a registered module or a path to a .wasm.
    #[arg(long = "transform", value_name = "JSON")]
    pub transforms: Vec<String>,
    /// The chain from a Fluvio transforms file (`transforms:` and its steps).
    #[arg(long, value_name = "FILE", conflicts_with = "transforms")]
    pub transforms_file: Option<PathBuf>,
    /// The chain is the target topic's `transforms` in the topology file.
    #[arg(long, conflicts_with_all = ["transforms", "transforms_file"])]
    pub chain_from_topology: bool,

    /// Topic on the source cluster that refused records are written to, with the hint.
    #[arg(long, value_name = "TOPIC")]
    pub dead_letter: Option<String>,
    /// What a refused record does: skip it (counted, logged, dead-lettered) or stop.
    #[arg(long, value_enum)]
    pub on_refusal: Option<OnRefusal>,
    /// The consumer name offsets are committed under [default: origin-bridge-FROM-TO-TOPIC].
    #[arg(long, value_name = "NAME")]
    pub consumer: Option<String>,
    /// Partitions this process copies: 2, or 0-3 (several processes can share a link).
    #[arg(long, value_name = "RANGE")]
    pub partitions: Option<String>,
    /// Where a consumer without a committed offset starts.
    #[arg(long, value_enum)]
    pub start: Option<StartAt>,
    /// Most records per write to the target [default: 10000].
    #[arg(long, value_name = "N")]
    pub batch: Option<u64>,
    /// Most bytes of keys and values per write [default: 524288].
    #[arg(long, value_name = "BYTES")]
    pub batch_bytes: Option<u64>,
    /// How often committed offsets are stored on the source, in ms [default: 1000].
    #[arg(long, value_name = "MS")]
    pub commit_ms: Option<u64>,
    /// Seconds between progress lines [default: 5].
    #[arg(long, value_name = "SECS")]
    pub progress_secs: Option<u64>,
    /// Copy what the source holds now, then exit 0.
    #[arg(long)]
    pub until_caught_up: bool,
    /// How long the clusters may take to answer at start [default: 30].
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
}

impl Cli {
    /// The plan this command line asks for.
    pub fn plan(&self) -> Result<Plan, ConfigError> {
        let mut overrides = Overrides {
            link: self.link.clone(),
            partitions: self.partitions.clone(),
            consumer: self.consumer.clone(),
            dead_letter: self.dead_letter.clone(),
            on_refusal: self.on_refusal,
            start: self.start,
            batch: self.batch,
            batch_bytes: self.batch_bytes,
            commit_ms: self.commit_ms,
            progress_secs: self.progress_secs,
            until_caught_up: self.until_caught_up,
            connect_timeout: self.connect_timeout.map(Duration::from_secs),
            ..Overrides::default()
        };
        for c in &self.clusters {
            overrides.clusters.push(parse_cluster_flag(c)?);
        }
        if !self.transforms.is_empty() {
            let steps = self
                .transforms
                .iter()
                .map(|t| parse_transform_flag(t))
                .collect::<Result<Vec<_>, _>>()?;
            overrides.chain = Some(ChainDef::Steps(steps));
        }
        if let Some(file) = &self.transforms_file {
            overrides.chain = Some(ChainDef::Steps(load_transforms_file(file)?));
        }
        if self.chain_from_topology {
            overrides.chain = Some(ChainDef::Named("topology".into()));
        }

        let flag_link = self.source.is_some() || self.target.is_some() || self.topic.is_some();
        let file = match &self.config {
            Some(path) => {
                for (flag, given) in [
                    ("source", self.source.is_some()),
                    ("target", self.target.is_some()),
                    ("topic", self.topic.is_some()),
                    ("to-topic", self.to_topic.is_some()),
                    ("topology", self.topology.is_some()),
                ] {
                    if given {
                        return Err(ConfigError::FlagWithConfig { flag });
                    }
                }
                ConfigFile::load(path)?
            }
            None if flag_link => self.flag_link()?,
            None => match (&self.topology, &self.link) {
                (Some(topology), Some(link)) => ConfigFile {
                    topology: Some(topology.clone()),
                    links: vec![LinkEntry {
                        link: Some(link.clone()),
                        ..LinkEntry::default()
                    }],
                    ..ConfigFile::default()
                },
                _ => return Err(ConfigError::NothingToRun),
            },
        };
        file.resolve(overrides)
    }

    /// The one link described by --source, --target and --topic.
    fn flag_link(&self) -> Result<ConfigFile, ConfigError> {
        let missing = |field: &'static str, meaning: &'static str| ConfigError::MissingField {
            link: "given by flags".into(),
            field,
            meaning,
        };
        let source = self
            .source
            .clone()
            .ok_or_else(|| missing("--source", "source cluster, HOST:PORT or profile:NAME"))?;
        let target = self
            .target
            .clone()
            .ok_or_else(|| missing("--target", "target cluster, HOST:PORT or profile:NAME"))?;
        let topic = self
            .topic
            .clone()
            .ok_or_else(|| missing("--topic", "topic read on the source"))?;
        let source_id = self
            .source_id
            .clone()
            .unwrap_or_else(|| id_from_address(&source));
        let mut target_id = self
            .target_id
            .clone()
            .unwrap_or_else(|| id_from_address(&target));
        if target_id == source_id {
            target_id.push_str("-target");
        }
        let mut clusters = std::collections::BTreeMap::new();
        clusters.insert(source_id.clone(), cluster_def(&source));
        clusters.insert(target_id.clone(), cluster_def(&target));
        Ok(ConfigFile {
            clusters,
            topology: self.topology.clone(),
            links: vec![LinkEntry {
                from: Some(source_id),
                to: Some(target_id),
                topic: Some(topic),
                to_topic: self.to_topic.clone(),
                ..LinkEntry::default()
            }],
            ..ConfigFile::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClusterAddress, ModuleRef};

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("origin-bridge").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn one_link_from_flags() {
        let plan = cli(&[
            "--source",
            "127.0.0.1:9003",
            "--target",
            "profile:west",
            "--topic",
            "orders",
            "--transform",
            r#"{"uses":"mirror-policy","with":{"cluster":"west","dedup":"100"}}"#,
            "--partitions",
            "0-1",
            "--until-caught-up",
        ])
        .plan()
        .unwrap();
        let l = &plan.links[0];
        assert_eq!(l.name, "127.0.0.1-9003->west");
        assert_eq!(
            l.source.address,
            ClusterAddress::Endpoint("127.0.0.1:9003".into())
        );
        assert_eq!(l.to_topic, "orders");
        assert!(matches!(&l.chain[0].module, ModuleRef::Registered(n) if n == "mirror-policy"));
        assert_eq!(l.chain[0].params["dedup"], "100");
        assert!(plan.until_caught_up);
        assert_eq!(l.consumer, "origin-bridge-127.0.0.1-9003-west-orders");
    }

    #[test]
    fn a_topology_link_with_cluster_flags_and_its_chain() {
        let topo = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/topologies/diamond.yaml"
        );
        let plan = cli(&[
            "--topology",
            topo,
            "--link",
            "src->left",
            "--cluster",
            "src=127.0.0.1:1",
            "--cluster",
            "left=127.0.0.1:2",
            "--chain-from-topology",
        ])
        .plan()
        .unwrap();
        let l = &plan.links[0];
        assert_eq!(l.name, "src->left");
        let modules: Vec<String> = l.chain.iter().map(|s| s.describe()).collect();
        assert_eq!(
            modules,
            ["loop-guard(cluster=left)", "origin-tag(cluster=left)"]
        );
    }

    #[test]
    fn flags_that_cannot_go_together_are_refused() {
        let err = cli(&["--config", "x.yaml", "--topic", "t"])
            .plan()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::FlagWithConfig { flag: "topic" }),
            "{err}"
        );
        let err = cli(&[]).plan().unwrap_err();
        assert!(matches!(err, ConfigError::NothingToRun), "{err}");
        let err = cli(&["--source", "a:1", "--topic", "t"])
            .plan()
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::MissingField {
                    field: "--target",
                    ..
                }
            ),
            "{err}"
        );
        let err = cli(&[
            "--source",
            "a:1",
            "--target",
            "b:1",
            "--topic",
            "t",
            "--cluster",
            "x",
        ])
        .plan()
        .unwrap_err();
        assert!(matches!(err, ConfigError::BadClusterFlag { .. }), "{err}");
        let err = cli(&[
            "--source",
            "a:1",
            "--target",
            "b:1",
            "--topic",
            "t",
            "--transform",
            "{",
        ])
        .plan()
        .unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        assert!(Cli::try_parse_from([
            "origin-bridge",
            "--transform",
            "{}",
            "--transforms-file",
            "f"
        ])
        .is_err());
    }

    #[test]
    fn help_documents_every_exit_code() {
        let help = <Cli as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  6 "] {
            assert!(
                help.contains(code),
                "exit code {code:?} missing from --help"
            );
        }
        // The defaults --help states are the ones the plan uses.
        use crate::config::{DEFAULT_BATCH_BYTES, DEFAULT_BATCH_RECORDS, DEFAULT_COMMIT};
        for default in [
            format!("[default: {DEFAULT_BATCH_RECORDS}]"),
            format!("[default: {DEFAULT_BATCH_BYTES}]"),
            format!("[default: {}]", DEFAULT_COMMIT.as_millis()),
        ] {
            assert!(help.contains(&default), "{default} missing from --help");
        }
    }
}
