//! Reading a `harness simulate` topology file for what a real bridge can use of it: its links
//! (named as the simulator names them) and the `transforms` of each cluster's topics. The
//! rest of the file (producers, faults, seeds) only means something to the simulator and is
//! left alone, so one file can be simulated and then run.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{default_names, ChainStepDef, LinkEntry};
use crate::error::ConfigError;

/// A link exactly as the topology file spells it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologyLink {
    name: Option<String>,
    from: String,
    to: String,
    topic: String,
    to_topic: Option<String>,
    kind: Option<String>,
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    batch: Option<u64>,
    poll_ms: Option<u64>,
    commit_ms: Option<u64>,
    inflight: Option<u64>,
}

/// The parts of a topology file a bridge reads.
#[derive(Debug, Deserialize)]
struct TopologyFile {
    #[serde(default)]
    clusters: Vec<TopologyCluster>,
    #[serde(default)]
    links: Vec<TopologyLink>,
}

#[derive(Debug, Deserialize)]
struct TopologyCluster {
    id: String,
    #[serde(default)]
    topics: Vec<TopologyTopic>,
}

#[derive(Debug, Deserialize)]
struct TopologyTopic {
    name: String,
    transforms: Option<serde_yaml::Value>,
}

#[derive(Debug)]
pub struct Topology {
    path: PathBuf,
    names: Vec<String>,
    links: Vec<LinkEntry>,
    clusters: Vec<TopologyCluster>,
}

impl Topology {
    pub fn load(path: &Path) -> Result<Topology, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Topology::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Topology, ConfigError> {
        let file: TopologyFile = serde_yaml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            what: "topology file",
            message: e.to_string(),
        })?;
        let links: Vec<LinkEntry> = file
            .links
            .into_iter()
            .map(|l| LinkEntry {
                name: l.name,
                from: Some(l.from),
                to: Some(l.to),
                topic: Some(l.topic),
                to_topic: l.to_topic,
                kind: l.kind,
                batch: l.batch,
                commit_ms: l.commit_ms,
                latency_ms: l.latency_ms,
                jitter_ms: l.jitter_ms,
                poll_ms: l.poll_ms,
                inflight: l.inflight,
                ..LinkEntry::default()
            })
            .collect();
        Ok(Topology {
            path: path.to_path_buf(),
            names: default_names(&links),
            links,
            clusters: file.clusters,
        })
    }

    /// The link named `name` (its own `name`, else `FROM->TO`, or `FROM->TO:TOPIC`).
    pub fn link(&self, name: &str) -> Result<&LinkEntry, ConfigError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.links[i])
            .ok_or_else(|| ConfigError::UnknownLink {
                name: name.to_string(),
                source_file: self.path.display().to_string(),
                known: self.names.join(", "),
            })
    }

    /// The `transforms` of `topic` on `cluster`, as chain steps; `None` when the file does not
    /// describe that topic or gives it none.
    pub fn transforms(
        &self,
        cluster: &str,
        topic: &str,
    ) -> Option<Result<Vec<ChainStepDef>, ConfigError>> {
        let value = self
            .clusters
            .iter()
            .find(|c| c.id == cluster)?
            .topics
            .iter()
            .find(|t| t.name == topic)?
            .transforms
            .clone()?;
        Some(
            serde_yaml::from_value(value).map_err(|e| ConfigError::Parse {
                path: self.path.clone(),
                what: "topology file (transforms)",
                message: format!("cluster {cluster} topic {topic}: {e}"),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's example topologies parse, and their links get the simulator's names.
    #[test]
    fn the_example_topologies_are_read() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/topologies");
        let aa = Topology::load(&dir.join("active-active.yaml")).unwrap();
        let l = aa.link("east->west").unwrap();
        assert_eq!(l.topic.as_deref(), Some("orders"));
        assert_eq!(l.batch, Some(8));
        assert_eq!(l.commit_ms, Some(40));
        let steps = aa.transforms("west", "orders").unwrap().unwrap();
        assert_eq!(steps[0].uses, "mirror-policy");
        assert_eq!(steps[0].lookback.as_ref().map(|l| l.last), Some(10000));

        let diamond = Topology::load(&dir.join("diamond.yaml")).unwrap();
        assert!(diamond.link("right->sink").is_ok());
        let err = diamond.link("sink->left").unwrap_err();
        assert!(
            matches!(&err, ConfigError::UnknownLink { known, .. } if known.contains("src->left")),
            "{err}"
        );
        assert_eq!(
            diamond.transforms("left", "orders").unwrap().unwrap().len(),
            2
        );
        assert!(diamond.transforms("left", "audit").is_none());
    }

    #[test]
    fn two_links_between_the_same_clusters_are_named_by_topic() {
        let t = Topology::parse(
            Path::new("t.yaml"),
            "links:\n  - { from: a, to: b, topic: x }\n  - { from: a, to: b, topic: y }\n",
        )
        .unwrap();
        assert!(t.link("a->b:x").is_ok());
        assert!(t.link("a->b:y").is_ok());
        assert!(t.link("a->b").is_err());
    }

    #[test]
    fn an_unknown_link_key_is_an_error() {
        let err = Topology::parse(
            Path::new("t.yaml"),
            "links:\n  - { from: a, to: b, topic: x, lateny_ms: 3 }\n",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    }
}
