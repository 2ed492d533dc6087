//! The properties a run must have, checked on what every topic stored at the end.

use std::collections::{BTreeMap, HashMap, HashSet};

use policy::Mode;
use serde::Serialize;

use super::sim::{show, Identity, Simulation, Via, WriteResult, EXAMPLES};
use super::topology::{LinkKind, Topology};

/// One invariant's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Invariant {
    /// Short name: `no-loop`, `no-duplicate`, `no-loss`, `mirror-protection`,
    /// `native-mirror-alignment`, `forged-tags-refused`.
    pub name: &'static str,
    /// What it checks, in a sentence.
    pub checks: &'static str,
    /// What `checked` counts.
    pub unit: &'static str,
    /// False when the topology has nothing to check (e.g. no mirror topic): it holds.
    pub applies: bool,
    /// How many things were checked (records, deliveries, writes).
    pub checked: u64,
    pub violations: u64,
    /// The first few counter-examples.
    pub examples: Vec<String>,
    /// Extra information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Invariant {
    fn new(name: &'static str, checks: &'static str, unit: &'static str) -> Self {
        Self {
            name,
            checks,
            unit,
            applies: true,
            checked: 0,
            violations: 0,
            examples: Vec::new(),
            note: None,
        }
    }

    pub fn holds(&self) -> bool {
        self.violations == 0
    }

    fn violation(&mut self, text: impl FnOnce() -> String) {
        self.violations += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(text());
        }
    }
}

/// Checks every invariant on a finished run.
pub fn check(sim: &Simulation<'_>) -> Vec<Invariant> {
    vec![
        no_loop(sim),
        no_duplicate(sim),
        no_loss(sim),
        mirror_protection(sim),
        native_alignment(sim),
        forged_refused(sim),
    ]
}

fn trace_text(sim: &Simulation<'_>, trace: Option<usize>) -> String {
    trace
        .map(|t| format!(" {}", show(&sim.produced[t].payload)))
        .unwrap_or_default()
}

fn no_loop(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "no-loop",
        "no stored record passed through a cluster twice, and the run came to rest",
        "stored records",
    );
    for (n, node) in topo.nodes.iter().enumerate() {
        for st in sim.log(n) {
            inv.checked += 1;
            let repeated = st
                .path
                .iter()
                .enumerate()
                .find(|(i, c)| st.path[..*i].contains(c))
                .map(|(_, c)| c.clone());
            if let Some(cluster) = repeated {
                inv.violation(|| {
                    format!(
                        "{} offset {}: record {}{} came back to {cluster} and was stored again \
                         (path {})",
                        node.label(),
                        st.offset,
                        st.identity,
                        trace_text(sim, st.trace),
                        st.path.join(" > ")
                    )
                });
            }
        }
    }
    if !sim.settled {
        inv.violation(|| {
            format!(
                "the run did not come to rest ({} events): {}",
                sim.events,
                sim.stopped.as_deref().unwrap_or("stopped early"),
            )
        });
    }
    inv
}

fn no_duplicate(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "no-duplicate",
        "no topic stored the same record (origin + record id) twice",
        "distinct records per topic",
    );
    for (n, node) in topo.nodes.iter().enumerate() {
        let log = sim.log(n);
        let mut seen: HashMap<&Identity, Vec<usize>> = HashMap::new();
        let mut order: Vec<&Identity> = Vec::new();
        for st in log {
            let e = seen.entry(&st.identity).or_default();
            if e.is_empty() {
                order.push(&st.identity);
            }
            e.push(st.offset);
        }
        inv.checked += order.len() as u64;
        for id in order {
            let offsets = &seen[id];
            if offsets.len() > 1 {
                inv.violation(|| {
                    let mut copies: Vec<String> = offsets
                        .iter()
                        .take(3)
                        .map(|&o| {
                            let st = &log[o];
                            let how = match st.via {
                                Via::Producer(p) => format!("producer {}", topo.producers[p].name),
                                Via::Link(l) => format!("link {}", topo.links[l].name),
                            };
                            if st.path.is_empty() {
                                format!("offset {o} via {how}, untagged")
                            } else {
                                format!("offset {o} via {how}, path {}", st.path.join(" > "))
                            }
                        })
                        .collect();
                    if offsets.len() > 3 {
                        copies.push(format!("{} more", offsets.len() - 3));
                    }
                    let trace = match id {
                        Identity::Untagged(_) => String::new(),
                        Identity::Tag { .. } => trace_text(sim, log[offsets[0]].trace),
                    };
                    format!(
                        "{}: record {id}{trace} stored {} times ({})",
                        node.label(),
                        offsets.len(),
                        copies.join("; ")
                    )
                });
            }
        }
    }
    inv
}

/// The topics a record stored on `start` with origin `origin` can reach, with the fewest
/// links to each: paths of links that never enter a cluster twice (loop checks stop that),
/// where a topic `k` links away has `max_hops >= k` (loop checks stop records that made
/// more hops), and a mirror-guarded topic is entered only from an upstream cluster or by
/// a record whose origin is upstream, and never by a record a guard `flagged` as a local
/// write (audit mode admits it where it was written, and nowhere else).
pub fn reachable(
    topo: &Topology,
    start: usize,
    origin: &str,
    flagged: bool,
) -> (BTreeMap<usize, u32>, bool) {
    let mut best: BTreeMap<usize, u32> = BTreeMap::new();
    let mut visited = vec![false; topo.clusters.len()];
    visited[topo.nodes[start].cluster] = true;
    if let Some(c) = topo.clusters.iter().position(|c| c.id == origin) {
        visited[c] = true;
    }
    let mut budget: u64 = 1_000_000;
    #[allow(clippy::too_many_arguments)]
    fn walk(
        topo: &Topology,
        node: usize,
        depth: u32,
        origin: &str,
        flagged: bool,
        visited: &mut Vec<bool>,
        best: &mut BTreeMap<usize, u32>,
        budget: &mut u64,
    ) {
        for l in topo.links.iter().filter(|l| l.src == node) {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            let dst = &topo.nodes[l.dst];
            let d = depth + 1;
            if visited[l.to] || d > u32::from(dst.max_hops) {
                continue;
            }
            if let Some(g) = &dst.guard {
                let from = &topo.clusters[l.from].id;
                if flagged || (!g.is_upstream(from) && !g.is_upstream(origin)) {
                    continue;
                }
            }
            let e = best.entry(l.dst).or_insert(d);
            *e = (*e).min(d);
            visited[l.to] = true;
            walk(topo, l.dst, d, origin, flagged, visited, best, budget);
            visited[l.to] = false;
        }
    }
    walk(
        topo,
        start,
        0,
        origin,
        flagged,
        &mut visited,
        &mut best,
        &mut budget,
    );
    (best, budget == 0)
}

fn no_loss(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "no-loss",
        "every record a producer's write stored reached every topic the links make reachable \
         within max_hops",
        "expected arrivals (record x reachable topic)",
    );
    let traces: Vec<HashSet<usize>> = (0..topo.nodes.len())
        .map(|n| sim.log(n).iter().filter_map(|s| s.trace).collect())
        .collect();
    let mut cache: HashMap<(usize, String, bool), BTreeMap<usize, u32>> = HashMap::new();
    let mut approximate = false;
    for (i, p) in sim.produced.iter().enumerate() {
        let Some(WriteResult::Stored { offset, .. }) = p.result else {
            continue;
        };
        let flagged = sim.log(p.node).get(offset).is_some_and(|s| s.violation);
        let origin = match &p.identity {
            Some(Identity::Tag { origin, .. }) => origin.clone(),
            _ => topo.nodes[p.node].cluster_id.clone(),
        };
        let reach = cache
            .entry((p.node, origin.clone(), flagged))
            .or_insert_with(|| {
                let (r, cut) = reachable(topo, p.node, &origin, flagged);
                approximate |= cut;
                r
            });
        for (&target, &dist) in reach.iter() {
            inv.checked += 1;
            if !traces[target].contains(&i) {
                inv.violation(|| {
                    format!(
                        "record {} ({}) produced on {} at {} ms never reached {} ({dist} link(s) \
                         away)",
                        show(&p.payload),
                        p.identity
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        topo.nodes[p.node].label(),
                        p.time_ms,
                        topo.nodes[target].label()
                    )
                });
            }
        }
    }
    if approximate {
        inv.note = Some(
            "the topology has too many routes to walk them all; some reachable topics may not \
             have been checked"
                .into(),
        );
    }
    inv
}

fn mirror_protection(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "mirror-protection",
        "every local write to a mirror topic was refused (reject mode and native mirrors), \
         dropped (drop mode) or flagged (audit mode), and every mirror write was accepted",
        "writes to mirror topics",
    );
    inv.applies = topo.nodes.iter().any(|n| n.is_mirror());
    for p in &sim.produced {
        let node = &topo.nodes[p.node];
        if !node.is_mirror() {
            continue;
        }
        inv.checked += 1;
        let Some(result) = &p.result else { continue };
        let stored = match result {
            WriteResult::Stored { offset, .. } => Some(&sim.log(p.node)[*offset]),
            _ => None,
        };
        let mode = if node.native_target {
            Mode::Reject
        } else {
            node.guard.as_ref().map_or(Mode::Reject, |g| g.mode)
        };
        let ok = match mode {
            Mode::Reject => matches!(result, WriteResult::Refused(_)),
            Mode::Drop => stored.is_none(),
            Mode::Audit => match stored {
                Some(st) => st.violation,
                None => matches!(result, WriteResult::Refused(_)),
            },
        };
        if !ok {
            inv.violation(|| {
                format!(
                    "local write {}{} to mirror topic {} ({} mode) was {result}{}",
                    show(&p.payload),
                    if p.forged { " (forged tag)" } else { "" },
                    node.label(),
                    mode.as_str(),
                    if stored.is_some() && mode == Mode::Audit {
                        " without the VIOLATION flag"
                    } else {
                        ""
                    }
                )
            });
        }
    }
    let c = &sim.checks;
    inv.checked += c.mirror_writes;
    inv.violations += c.mirror_write_violation_count;
    for e in &c.mirror_write_violations {
        if inv.examples.len() < EXAMPLES {
            inv.examples.push(e.clone());
        }
    }
    inv
}

fn native_alignment(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "native-mirror-alignment",
        "every native mirror's target stored exactly what its source stored, in the same order, \
         dropping nothing",
        "mirrored records",
    );
    inv.applies = topo.links.iter().any(|l| l.kind == LinkKind::NativeMirror);
    let c = &sim.checks;
    inv.checked += c.alignment_checked;
    inv.violations += c.alignment_violation_count;
    inv.examples.extend(c.alignment_violations.iter().cloned());
    for (li, l) in topo.links.iter().enumerate() {
        if l.kind != LinkKind::NativeMirror {
            continue;
        }
        let src = sim.log(l.src);
        let copies: Vec<_> = sim
            .log(l.dst)
            .iter()
            .filter(|s| s.via == Via::Link(li))
            .collect();
        for (k, copy) in copies.iter().enumerate() {
            let expected = src.get(k);
            let same = expected.is_some_and(|e| {
                copy.source_offset == Some(k)
                    && match (&e.identity, &copy.identity) {
                        (
                            Identity::Tag { origin: a, id: x },
                            Identity::Tag { origin: b, id: y },
                        ) => a == b && x == y,
                        (a, b) => a == b,
                    }
            });
            if !same {
                inv.violation(|| {
                    format!(
                        "{} offset {} holds {} from {} offset {:?}, where the remote's offset {k} \
                         is {}",
                        topo.nodes[l.dst].label(),
                        copy.offset,
                        copy.identity,
                        topo.nodes[l.src].label(),
                        copy.source_offset,
                        expected
                            .map(|e| e.identity.to_string())
                            .unwrap_or_else(|| "nothing".into())
                    )
                });
                break;
            }
        }
        if sim.settled && copies.len() < src.len() {
            inv.violation(|| {
                format!(
                    "{} mirrored {} of the {} records {} stored",
                    topo.nodes[l.dst].label(),
                    copies.len(),
                    src.len(),
                    topo.nodes[l.src].label()
                )
            });
        }
    }
    inv
}

fn forged_refused(sim: &Simulation<'_>) -> Invariant {
    let topo = sim.topology;
    let mut inv = Invariant::new(
        "forged-tags-refused",
        "every write of a forged tag to a topic whose write path verifies tags (secret) was \
         refused",
        "forged writes",
    );
    inv.applies = sim.produced.iter().any(|p| p.forged);
    let mut unverified = 0;
    for p in sim.produced.iter().filter(|p| p.forged) {
        let node = &topo.nodes[p.node];
        if !node.has_secret || node.native_target {
            unverified += 1;
            continue;
        }
        inv.checked += 1;
        if !matches!(p.result, Some(WriteResult::Refused(_))) {
            inv.violation(|| {
                format!(
                    "forged record {} claiming another origin was {} on {}",
                    show(&p.payload),
                    p.result
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "never written".into()),
                    node.label()
                )
            });
        }
    }
    if unverified > 0 {
        inv.note = Some(format!(
            "{unverified} forged record(s) went to topics without a secret (or refused by the \
             platform) and were not checked"
        ));
    }
    inv
}
