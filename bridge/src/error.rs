//! Every way the bridge can fail, each naming the thing that failed and the fix, and the exit
//! code it ends the process with. Codes are chosen by variant, never by message text.

use std::path::PathBuf;

use thiserror::Error;

/// The exit codes, as `--help` documents them.
pub mod exit {
    /// Stopped cleanly (SIGINT, SIGTERM) or, with `--until-caught-up`, caught up.
    pub const OK: i32 = 0;
    /// An unexpected failure: a dead-letter write that could not be made, an I/O error.
    pub const OTHER: i32 = 1;
    /// Bad command line (clap's own code for usage errors).
    pub const USAGE: i32 = 2;
    /// Bad config: unreadable or invalid file, unknown cluster or link, bad partition range,
    /// a module file that cannot be read.
    pub const CONFIG: i32 = 3;
    /// The link cannot run: a cluster unreachable at start, a topic missing, partition counts
    /// that differ, a target that refuses every producer (a native mirror's home topic).
    pub const LINK: i32 = 4;
    /// The target refused the chain itself: a module not registered, params refused at init.
    pub const CHAIN: i32 = 5;
    /// A record was refused and the link says `on_refusal: stop`.
    pub const REFUSED: i32 = 6;
}

/// A problem in the configuration (file or flags), found before any connection.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid {what}: {message}")]
    Parse {
        path: PathBuf,
        what: &'static str,
        message: String,
    },
    #[error(
        "link {link}: cluster '{cluster}' is not described; add it under `clusters:` in the config \
         (endpoint: HOST:PORT, or profile: NAME) or pass --cluster {cluster}=HOST:PORT"
    )]
    UnknownCluster { link: String, cluster: String },
    #[error("cluster '{cluster}': {problem}; give `endpoint: HOST:PORT` or `profile: NAME`")]
    BadCluster { cluster: String, problem: String },
    #[error("--cluster {given:?}: expected ID=HOST:PORT or ID=profile:NAME")]
    BadClusterFlag { given: String },
    #[error("link {link}: missing `{field}` (the {meaning})")]
    MissingField {
        link: String,
        field: &'static str,
        meaning: &'static str,
    },
    #[error(
        "link '{name}' is not in {source_file}; its links are: {known} (a link is named FROM->TO, \
         or FROM->TO:TOPIC when two links join the same clusters, unless it sets `name`)"
    )]
    UnknownLink {
        name: String,
        source_file: String,
        known: String,
    },
    #[error("link {link} names a topology link, but no `topology:` file (or --topology) is given")]
    NoTopology { link: String },
    #[error(
        "link {link} is a {kind} in the topology: Fluvio mirrors it natively; only bridge links \
         run here"
    )]
    NotABridge { link: String, kind: String },
    #[error("link {link}: {field} must be at least 1 (got {value})")]
    NotPositive {
        link: String,
        field: &'static str,
        value: u64,
    },
    #[error("two links are named '{name}'; give one of them another `name`")]
    DuplicateLink { name: String },
    #[error("link {link}: chain: `topology` needs a topology file that describes cluster '{cluster}' topic '{topic}'")]
    NoTopologyChain {
        link: String,
        cluster: String,
        topic: String,
    },
    #[error("link {link}: chain step {index}: {problem}")]
    BadChainStep {
        link: String,
        index: usize,
        problem: String,
    },
    #[error("link {link}: cannot read the module file {path}: {source}")]
    ModuleFile {
        link: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "partitions {given:?}: {problem}; write one partition (2) or an inclusive range (0-3)"
    )]
    BadPartitions { given: String, problem: String },
    #[error("link {link}: the source and target are the same cluster and topic; the bridge would copy a topic into itself")]
    SelfLink { link: String },
    #[error("the config has no links; add one under `links:` (from, to, topic)")]
    NoLinks,
    #[error("{flag} applies to one link, but the config has {count}; choose one with --link NAME")]
    FlagNeedsOneLink { flag: &'static str, count: usize },
    #[error(
        "--{flag} cannot be combined with --config; set it in the config file (or drop --config \
         and describe the link with flags)"
    )]
    FlagWithConfig { flag: &'static str },
    #[error("nothing to run: give --config FILE, or --topology FILE --link NAME, or --source, --target and --topic")]
    NothingToRun,
}

/// Why the bridge stopped with an error.
#[derive(Debug, Error)]
pub enum BridgeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "cannot reach cluster '{cluster}' ({address}) within {waited_secs} s: {detail}; is it \
         running, and is the address right?"
    )]
    Unreachable {
        cluster: String,
        address: String,
        waited_secs: u64,
        detail: String,
    },
    #[error("cluster '{cluster}': {detail}")]
    Connect { cluster: String, detail: String },
    #[error("link {link}: topic '{topic}' does not exist on cluster '{cluster}'; create it first")]
    TopicMissing {
        link: String,
        cluster: String,
        topic: String,
    },
    #[error(
        "link {link}: '{source_topic}' has {source_count} partition(s) on '{source_cluster}' but \
         '{target_topic}' has {target_count} on '{target_cluster}'; partition i is copied to \
         partition i, so create the target with {source_count} partition(s)"
    )]
    PartitionCountsDiffer {
        link: String,
        source_cluster: String,
        source_topic: String,
        source_count: u32,
        target_cluster: String,
        target_topic: String,
        target_count: u32,
    },
    #[error("link {link}: partitions {first}-{last} are outside '{topic}', which has {count} partition(s) (0-{max})", max = count.saturating_sub(1))]
    PartitionsOutOfRange {
        link: String,
        topic: String,
        first: u32,
        last: u32,
        count: u32,
    },
    #[error("link {link}: the target refuses every write to '{topic}' on '{cluster}': {detail}")]
    TargetClosed {
        link: String,
        cluster: String,
        topic: String,
        detail: String,
    },
    #[error("link {link}: the target refused the chain: {detail}; check that every module is registered on '{cluster}' (fluvio smartmodule list) and its params")]
    ChainRefused {
        link: String,
        cluster: String,
        detail: String,
    },
    #[error(
        "link {link} partition {partition}: record at offset {offset} refused by the target \
         (on_refusal: stop): {hint}"
    )]
    RefusedAndStopped {
        link: String,
        partition: u32,
        offset: i64,
        hint: String,
    },
    #[error("link {link}: cannot write a refused record to the dead-letter topic '{topic}' on '{cluster}': {detail}")]
    DeadLetter {
        link: String,
        cluster: String,
        topic: String,
        detail: String,
    },
}

impl BridgeError {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            BridgeError::Config(_) => exit::CONFIG,
            BridgeError::Unreachable { .. }
            | BridgeError::Connect { .. }
            | BridgeError::TopicMissing { .. }
            | BridgeError::PartitionCountsDiffer { .. }
            | BridgeError::PartitionsOutOfRange { .. }
            | BridgeError::TargetClosed { .. } => exit::LINK,
            BridgeError::ChainRefused { .. } => exit::CHAIN,
            BridgeError::RefusedAndStopped { .. } => exit::REFUSED,
            BridgeError::DeadLetter { .. } => exit::OTHER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_own_exit_code() {
        let config = BridgeError::Config(ConfigError::NoLinks);
        let link = BridgeError::TopicMissing {
            link: "a->b".into(),
            cluster: "b".into(),
            topic: "t".into(),
        };
        let chain = BridgeError::ChainRefused {
            link: "a->b".into(),
            cluster: "b".into(),
            detail: "x".into(),
        };
        let refused = BridgeError::RefusedAndStopped {
            link: "a->b".into(),
            partition: 0,
            offset: 3,
            hint: "h".into(),
        };
        let codes = [
            config.exit_code(),
            link.exit_code(),
            chain.exit_code(),
            refused.exit_code(),
        ];
        assert_eq!(
            codes,
            [exit::CONFIG, exit::LINK, exit::CHAIN, exit::REFUSED]
        );
        assert!(refused.to_string().contains("offset 3"), "{refused}");
    }
}
