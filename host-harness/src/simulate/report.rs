//! The result of a run: per-topic and per-link counts, what the faults did, the invariants'
//! verdicts; as text for people and as JSON.

use serde::Serialize;

use super::invariants::{self, Invariant};
use super::sim::{LinkStats, NodeStats, Simulation};
use super::topology::Topology;

/// One row of the per-cluster table.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    pub cluster: String,
    pub topic: String,
    /// `mirror (reject)`, `native mirror target`, or empty.
    pub role: String,
    #[serde(flatten)]
    pub stats: NodeStats,
}

/// One row of the link table.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    pub name: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub topic: String,
    pub to_topic: String,
    #[serde(flatten)]
    pub stats: LinkStats,
}

/// Everything about one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub topology: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub seed: u64,
    /// Whether every invariant holds.
    pub passed: bool,
    /// Whether every record came to rest before `max_time_ms`.
    pub settled: bool,
    /// Why the run stopped before records came to rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub simulated_ms: u64,
    pub events: u64,
    pub clusters: usize,
    pub records_produced: u64,
    pub nodes: Vec<NodeRow>,
    pub links: Vec<LinkRow>,
    /// What each fault did, in time order.
    pub faults: Vec<String>,
    pub invariants: Vec<Invariant>,
    pub warnings: Vec<String>,
}

impl Report {
    /// Checks the invariants on a finished run and gathers its counts.
    pub fn new(sim: &Simulation<'_>) -> Self {
        let topo: &Topology = sim.topology;
        let invariants = invariants::check(sim);
        let nodes = topo
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeRow {
                cluster: n.cluster_id.clone(),
                topic: n.topic.clone(),
                role: if n.native_target {
                    "native mirror target".into()
                } else if let Some(g) = &n.guard {
                    format!("mirror ({})", g.mode.as_str())
                } else {
                    String::new()
                },
                stats: sim.node_stats(i).clone(),
            })
            .collect();
        let links = topo
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkRow {
                name: l.name.clone(),
                kind: l.kind.as_str().into(),
                from: topo.clusters[l.from].id.clone(),
                to: topo.clusters[l.to].id.clone(),
                topic: topo.nodes[l.src].topic.clone(),
                to_topic: topo.nodes[l.dst].topic.clone(),
                stats: sim.link_stats(i).clone(),
            })
            .collect();
        Report {
            topology: topo.name.clone(),
            file: topo.path.as_ref().map(|p| p.display().to_string()),
            seed: sim.seed,
            passed: invariants.iter().all(Invariant::holds),
            settled: sim.settled,
            stopped: sim.stopped.clone(),
            simulated_ms: sim.now_ms(),
            events: sim.events,
            clusters: topo.clusters.len(),
            records_produced: sim.produced.len() as u64,
            nodes,
            links,
            faults: sim.fault_log.clone(),
            invariants,
            warnings: topo.warnings.clone(),
        }
    }

    /// Names of the invariants that fail.
    pub fn failed(&self) -> Vec<&'static str> {
        self.invariants
            .iter()
            .filter(|i| !i.holds())
            .map(|i| i.name)
            .collect()
    }

    /// The report for people: header, tables, faults, verdicts.
    pub fn text(&self, topology: &Topology, quiet: bool) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "topology {}{}, seed {}: {}\n",
            self.topology,
            self.file
                .as_ref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default(),
            self.seed,
            topology.summary()
        ));
        out.push_str(&format!(
            "simulated {} ms, {} events, {} records produced{}\n",
            self.simulated_ms,
            self.events,
            self.records_produced,
            if self.settled {
                ", every record came to rest".to_string()
            } else {
                format!(
                    ", STOPPED before records came to rest: {}",
                    self.stopped.as_deref().unwrap_or("stopped early")
                )
            }
        ));
        if !quiet {
            out.push('\n');
            out.push_str(&table(
                &[
                    "cluster",
                    "topic",
                    "produced",
                    "stored",
                    "refused",
                    "loop",
                    "duplicate",
                    "local",
                    "other",
                    "received",
                    "forwarded",
                    "role",
                ],
                &self
                    .nodes
                    .iter()
                    .map(|r| {
                        let s = &r.stats;
                        vec![
                            r.cluster.clone(),
                            r.topic.clone(),
                            s.produced.to_string(),
                            s.stored.to_string(),
                            (s.refused + s.failed).to_string(),
                            s.dropped_loop.to_string(),
                            s.dropped_duplicate.to_string(),
                            s.dropped_local_write.to_string(),
                            s.dropped_other.to_string(),
                            s.received.to_string(),
                            s.forwarded.to_string(),
                            r.role.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            ));
            out.push_str(
                "  (loop, duplicate, local, other: records the write path dropped, by reason)\n",
            );
            if !self.links.is_empty() {
                out.push('\n');
                out.push_str(&table(
                    &[
                        "link",
                        "kind",
                        "topic",
                        "fetched",
                        "re-sent",
                        "lost",
                        "delivered",
                        "stored",
                        "loop",
                        "duplicate",
                        "refused",
                        "resyncs",
                    ],
                    &self
                        .links
                        .iter()
                        .map(|l| {
                            let s = &l.stats;
                            vec![
                                l.name.clone(),
                                l.kind.clone(),
                                if l.topic == l.to_topic {
                                    l.topic.clone()
                                } else {
                                    format!("{}->{}", l.topic, l.to_topic)
                                },
                                s.fetched.to_string(),
                                s.resent.to_string(),
                                s.lost_in_flight.to_string(),
                                s.delivered.to_string(),
                                s.stored.to_string(),
                                s.dropped_loop.to_string(),
                                s.dropped_duplicate.to_string(),
                                (s.refused + s.failed).to_string(),
                                s.resyncs.to_string(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            if !self.faults.is_empty() {
                out.push_str("\nfaults:\n");
                for f in &self.faults {
                    out.push_str(&format!("  {f}\n"));
                }
            }
        }
        out.push_str("\ninvariants (harness simulate --help says what each checks):\n");
        let width = self
            .invariants
            .iter()
            .map(|i| i.name.len())
            .max()
            .unwrap_or(0);
        for inv in &self.invariants {
            let verdict = match (inv.holds(), inv.applies) {
                (false, _) => "FAIL",
                (true, true) => "ok  ",
                (true, false) => "n/a ",
            };
            let detail = if !inv.applies {
                format!(
                    "nothing to check in this topology (no {})",
                    match inv.name {
                        "mirror-protection" => "mirror topic",
                        "native-mirror-alignment" => "native mirror",
                        "forged-tags-refused" => "forging producer",
                        _ => "input",
                    }
                )
            } else if inv.holds() {
                format!("{} {}", inv.checked, inv.unit)
            } else {
                format!(
                    "{} violation(s) in {} {}",
                    inv.violations, inv.checked, inv.unit
                )
            };
            out.push_str(&format!("  {verdict} {:width$}  {detail}\n", inv.name));
            for e in &inv.examples {
                out.push_str(&format!("         - {e}\n"));
            }
            if inv.violations > inv.examples.len() as u64 {
                out.push_str(&format!(
                    "         ... and {} more\n",
                    inv.violations - inv.examples.len() as u64
                ));
            }
            if let Some(n) = &inv.note {
                out.push_str(&format!("         note: {n}\n"));
            }
        }
        let failed = self.failed();
        if failed.is_empty() {
            out.push_str("result: PASS, every invariant holds\n");
        } else {
            out.push_str(&format!("result: FAIL ({})\n", failed.join(", ")));
        }
        out
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A text table: names left-aligned, numbers right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let w = width[i];
            if matches!(header[i], "cluster" | "topic" | "role" | "link" | "kind") {
                s.push_str(&format!(" {c:<w$}"));
            } else {
                s.push_str(&format!(" {c:>w$}"));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}
