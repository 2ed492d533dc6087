//! The event loop: producers write, links fetch what the source topic stored and write it
//! to the target's write path, faults strike; every write runs the target topic's real
//! chain (the harness [`Chain`]). Time is simulated (milliseconds from 0) and every random
//! choice comes from one seeded [`Rng`], so a seed gives the same run every time.

use std::collections::{BTreeMap, HashMap};

use fluvio_protocol::record::{Record, RecordData};
use policy::{AnyPolicy, Dropped, RecordView, Stop, TagBuf};
use serde::Serialize;

use super::forge;
use super::random::Rng;
use super::topology::{Fault, LinkKind, Node, StepInfo, Topology};
use crate::chain::{Batch, Chain, ChainOptions, Fate, Outcome};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::tag::Carrier;

/// Simulated time 0 as a record timestamp (2023-11-14T22:13:20Z).
pub const EPOCH_MS: i64 = 1_700_000_000_000;

/// How a record reached a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Written by producer `n`.
    Producer(usize),
    /// Written by link `n`.
    Link(usize),
}

/// What the invariants identify a stored record by: its tag's origin and record id, or,
/// untagged, its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    Tag { origin: String, id: u64 },
    Untagged(Vec<u8>),
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Tag { origin, id } => write!(f, "{origin}#{id:016x}"),
            Identity::Untagged(v) => write!(f, "untagged {}", show(v)),
        }
    }
}

/// A short printable form of a payload: the `NAME#SEQ` it starts with, or its first bytes.
pub fn show(payload: &[u8]) -> String {
    let head = payload.split(|b| *b == b':').next().unwrap_or(payload);
    let head = &head[..head.len().min(40)];
    format!("{:?}", String::from_utf8_lossy(head))
}

/// A record as a topic stored it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub offset: usize,
    /// Key and value as stored; the preamble holds the absolute timestamp (as the broker
    /// hands stored records to `look_back`) and the offset.
    pub record: Record,
    pub time_ms: u64,
    pub via: Via,
    pub identity: Identity,
    /// The tag's path (empty when untagged).
    pub path: Vec<String>,
    /// Whether the tag has the VIOLATION flag.
    pub violation: bool,
    /// The produced record it is a copy of, found by its payload.
    pub trace: Option<usize>,
    /// For a link write: the offset it had on the source topic.
    pub source_offset: Option<usize>,
}

/// Why a write path dropped a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// It came back to a cluster it passed through, or made too many hops.
    Loop,
    /// The same origin and record id was stored within the `dedup` window.
    Duplicate,
    /// A local write to a mirror topic, with `mode=drop`.
    LocalWrite,
    /// It arrived more than `max_age` after its origin timestamp.
    Stale,
    /// Dropped by a module whose reason the simulator cannot tell.
    Other(String),
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::Loop => f.write_str("dropped as a loop"),
            DropReason::Duplicate => f.write_str("dropped as a duplicate"),
            DropReason::LocalWrite => f.write_str("dropped as a local write to a mirror topic"),
            DropReason::Stale => f.write_str("dropped as older than max_age"),
            DropReason::Other(m) => write!(f, "dropped by {m}"),
        }
    }
}

/// What one written record became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteResult {
    /// Stored as `count` records from `offset` (1 for this project's modules).
    Stored {
        offset: usize,
        count: usize,
    },
    Dropped(DropReason),
    /// The write was refused (a module's runtime error, or the platform's refusal).
    Refused(String),
    /// A call failed (trap, limit).
    Failed(String),
}

impl std::fmt::Display for WriteResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteResult::Stored { offset, .. } => write!(f, "stored at offset {offset}"),
            WriteResult::Dropped(r) => write!(f, "{r}"),
            WriteResult::Refused(m) => write!(f, "refused: {m}"),
            WriteResult::Failed(m) => write!(f, "failed: {m}"),
        }
    }
}

/// A record a producer wrote.
#[derive(Debug, Clone)]
pub struct Produced {
    pub producer: usize,
    pub node: usize,
    pub seq: u64,
    /// The producer's value (after any forged tag): unique in a run, which is how copies
    /// are traced back to it.
    pub payload: Vec<u8>,
    pub time_ms: u64,
    pub forged: bool,
    pub local_mirror: bool,
    /// What the producer's write did; `None` while not yet written.
    pub result: Option<WriteResult>,
    /// The identity it was stored with at its origin.
    pub identity: Option<Identity>,
}

/// Counts per topic.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeStats {
    /// Records producers wrote here.
    pub produced: u64,
    pub stored: u64,
    pub refused: u64,
    pub failed: u64,
    pub dropped_loop: u64,
    pub dropped_duplicate: u64,
    pub dropped_local_write: u64,
    pub dropped_other: u64,
    /// Records links wrote here.
    pub received: u64,
    /// Records links took from here and wrote to other topics.
    pub forwarded: u64,
    pub restarts: u64,
}

/// Counts per link.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkStats {
    /// Records fetched from the source (re-sent ones included).
    pub fetched: u64,
    /// Records fetched again after an outage or restart (replayed from the commit).
    pub resent: u64,
    /// Records on their way when the link or a cluster went down.
    pub lost_in_flight: u64,
    /// Records written to the target's write path.
    pub delivered: u64,
    pub stored: u64,
    pub dropped_loop: u64,
    pub dropped_duplicate: u64,
    pub dropped_other: u64,
    pub refused: u64,
    pub failed: u64,
    /// Native mirror: batches that arrived at the wrong offset and were fetched again.
    pub resyncs: u64,
    pub downs: u64,
}

/// A mirror write (from an upstream into a mirror topic) or a local write to a mirror topic
/// that went wrong, found while running.
#[derive(Debug, Clone, Default)]
pub struct MirrorChecks {
    /// Records written by links from an upstream cluster into a mirror topic.
    pub mirror_writes: u64,
    pub mirror_write_violations: Vec<String>,
    pub mirror_write_violation_count: u64,
    /// Records a native mirror's target did not store exactly once, in order.
    pub alignment_checked: u64,
    pub alignment_violations: Vec<String>,
    pub alignment_violation_count: u64,
}

#[derive(Debug)]
struct InFlight {
    start: usize,
    end: usize,
    records: Vec<Record>,
    /// Each record's offset on the source topic (the records may be shuffled).
    offsets: Vec<usize>,
    base_timestamp: i64,
}

#[derive(Debug)]
enum Event {
    Produce(usize),
    Poll(usize),
    Deliver {
        link: usize,
        epoch: u64,
        batch: InFlight,
    },
    Commit(usize),
    LinkDown {
        link: usize,
        for_ms: u64,
    },
    LinkUp(usize),
    ClusterDown {
        cluster: usize,
        for_ms: u64,
    },
    ClusterUp(usize),
}

struct NodeState {
    chain: Option<Chain>,
    /// Each policy step of the write path, natively, fed what its .wasm is fed: the stage
    /// that drops a record says why.
    twins: Vec<Option<Box<dyn AnyPolicy>>>,
    /// For the last write, per step: the records its twin dropped (by offset delta), and why.
    dropped: Vec<HashMap<i64, Dropped>>,
    log: Vec<Stored>,
    stats: NodeStats,
}

#[derive(Default)]
struct LinkState {
    down_until: u64,
    up: bool,
    epoch: u64,
    /// Next source offset to fetch.
    read: usize,
    /// Highest offset ever fetched (to count re-sends).
    max_read: usize,
    /// Bridges: offset the consumer committed; it resumes here after an outage.
    committed: usize,
    /// Bridges: every record before this was delivered.
    delivered_upto: usize,
    /// Bridges: delivered ranges past `delivered_upto`.
    delivered_ahead: BTreeMap<usize, usize>,
    /// Native mirror: next source offset the target appends (its end offset).
    pos: usize,
    inflight_batches: usize,
    inflight_records: usize,
    last_arrival: u64,
    stats: LinkStats,
}

struct ClusterState {
    down_until: u64,
    up: bool,
}

struct ProducerState {
    sent: u64,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub produced: u64,
    pub total: u64,
    pub now_ms: u64,
}

/// A failure of the simulation itself (not of an invariant): a chain that cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct SimError {
    pub context: String,
    #[source]
    pub source: EngineError,
}

/// One run of a topology.
pub struct Simulation<'t> {
    pub topology: &'t Topology,
    pub seed: u64,
    engine: Engine,
    options: ChainOptions,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<NodeState>,
    links: Vec<LinkState>,
    clusters: Vec<ClusterState>,
    producers: Vec<ProducerState>,
    /// Every record producers wrote.
    pub produced: Vec<Produced>,
    by_payload: HashMap<Vec<u8>, usize>,
    /// Mirror protection and native-mirror alignment, checked while running.
    pub checks: MirrorChecks,
    /// What each fault did, in time order.
    pub fault_log: Vec<String>,
    /// Whether every record came to rest before `max_time_ms`.
    pub settled: bool,
    /// Why the run stopped before records came to rest.
    pub stopped: Option<String>,
    pub events: u64,
    /// Records stored on all topics.
    stored_total: u64,
    scratch: TagBuf,
}

/// Most counter-examples kept per check.
pub const EXAMPLES: usize = 5;

fn push_example(list: &mut Vec<String>, count: &mut u64, text: impl FnOnce() -> String) {
    *count += 1;
    if list.len() < EXAMPLES {
        list.push(text());
    }
}

/// Reads the tag a record carries: (origin, id, path, violation) and the payload after it.
fn inspect(carrier: Carrier, key: Option<&[u8]>, value: &[u8]) -> (Option<TagInfo>, Vec<u8>) {
    let field = carrier.of(key, value);
    let tag = match field.map(origin::decode) {
        Some(Ok(origin::Decoded::Tagged { envelope, payload })) => Some((
            TagInfo {
                origin: envelope.origin().to_string(),
                id: envelope.id_u64(),
                path: envelope.path().iter().map(|s| s.to_string()).collect(),
                violation: envelope.is_violation(),
            },
            payload.to_vec(),
        )),
        _ => None,
    };
    match (carrier, tag) {
        (Carrier::Value, Some((t, payload))) => (Some(t), payload),
        (Carrier::Key, Some((t, _))) => (Some(t), value.to_vec()),
        (_, None) => (None, value.to_vec()),
    }
}

struct TagInfo {
    origin: String,
    id: u64,
    path: Vec<String>,
    violation: bool,
}

/// The native twins of a write path's policy steps (`None` for other modules).
fn twins(node: &Node) -> Vec<Option<Box<dyn AnyPolicy>>> {
    node.steps
        .iter()
        .map(|step: &StepInfo| step.module.and_then(|m| m.build(&step.params).ok()))
        .collect()
}

/// `record` as a policy sees it inside a batch.
fn view(record: &Record, base_offset: i64, base_timestamp: i64) -> RecordView<'_> {
    RecordView {
        key: record.key.as_ref().map(|k| k.as_ref()),
        value: record.value.as_ref(),
        timestamp: base_timestamp + record.preamble.get_timestamp_delta(),
        offset: base_offset + record.preamble.offset_delta(),
    }
}

fn build_chain(
    engine: &Engine,
    node: &Node,
    options: &ChainOptions,
) -> Result<Option<Chain>, SimError> {
    if node.specs.is_empty() {
        return Ok(None);
    }
    Chain::new(engine, &node.specs, options)
        .map(Some)
        .map_err(|source| SimError {
            context: format!("the write path of {}", node.label()),
            source,
        })
}

impl<'t> Simulation<'t> {
    /// Builds every topic's chain (init runs here, so bad params fail now).
    pub fn new(engine: &Engine, topology: &'t Topology, seed: u64) -> Result<Self, SimError> {
        let options = ChainOptions::default();
        let mut nodes = Vec::with_capacity(topology.nodes.len());
        for node in &topology.nodes {
            nodes.push(NodeState {
                chain: build_chain(engine, node, &options)?,
                twins: twins(node),
                dropped: Vec::new(),
                log: Vec::new(),
                stats: NodeStats::default(),
            });
        }
        let mut sim = Simulation {
            topology,
            seed,
            engine: engine.clone(),
            options,
            rng: Rng::new(seed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            links: topology
                .links
                .iter()
                .map(|_| LinkState {
                    up: true,
                    ..Default::default()
                })
                .collect(),
            clusters: topology
                .clusters
                .iter()
                .map(|_| ClusterState {
                    down_until: 0,
                    up: true,
                })
                .collect(),
            producers: topology
                .producers
                .iter()
                .map(|_| ProducerState { sent: 0 })
                .collect(),
            produced: Vec::new(),
            by_payload: HashMap::new(),
            checks: MirrorChecks::default(),
            fault_log: Vec::new(),
            settled: false,
            stopped: None,
            events: 0,
            stored_total: 0,
            scratch: TagBuf::new(),
        };
        for (i, p) in topology.producers.iter().enumerate() {
            if p.records > 0 {
                sim.schedule(p.start_ms, Event::Produce(i));
            }
        }
        for (i, l) in topology.links.iter().enumerate() {
            sim.schedule(0, Event::Poll(i));
            if l.kind == LinkKind::Bridge {
                sim.schedule(l.commit_ms, Event::Commit(i));
            }
        }
        for f in &topology.faults {
            match *f {
                Fault::LinkDown {
                    link,
                    at_ms,
                    for_ms,
                } => sim.schedule(at_ms, Event::LinkDown { link, for_ms }),
                Fault::Restart {
                    cluster,
                    at_ms,
                    for_ms,
                } => sim.schedule(at_ms, Event::ClusterDown { cluster, for_ms }),
                Fault::Reorder { .. } => {}
            }
        }
        Ok(sim)
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Total records the producers will write.
    pub fn total_records(&self) -> u64 {
        self.topology.producers.iter().map(|p| p.records).sum()
    }

    /// Simulated time now (at the end: when the run settled or stopped).
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// Runs to the end: until every record came to rest after the last fault, or until
    /// `max_time_ms`. `progress` is called now and then.
    pub fn run(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<(), SimError> {
        let faults_end = self
            .topology
            .faults
            .iter()
            .map(Fault::end_ms)
            .max()
            .unwrap_or(0);
        let total = self.total_records();
        // Each record stored once on every topic, four times over: more means records
        // circulate (a cycle without loop checks would otherwise run until max_time_ms).
        let max_stored = total
            .saturating_mul(self.topology.nodes.len() as u64)
            .saturating_mul(4)
            .saturating_add(1000);
        while let Some(((at, _), event)) = self.queue.pop_first() {
            if at > self.topology.max_time_ms {
                self.now = self.topology.max_time_ms;
                self.stopped = Some(format!(
                    "records were still moving after {} ms of simulated time (max_time_ms)",
                    self.topology.max_time_ms
                ));
                break;
            }
            if self.stored_total > max_stored {
                self.stopped = Some(format!(
                    "the topics stored {} records at {} ms, more than 4 times every produced \
                     record on every topic: records circulate",
                    self.stored_total, self.now
                ));
                break;
            }
            self.now = at;
            self.events += 1;
            self.handle(event)?;
            if self.events & 511 == 0 {
                progress(Progress {
                    produced: self.produced.len() as u64,
                    total,
                    now_ms: self.now,
                });
            }
            if self.now >= faults_end && self.at_rest() {
                self.settled = true;
                break;
            }
        }
        progress(Progress {
            produced: self.produced.len() as u64,
            total,
            now_ms: self.now,
        });
        Ok(())
    }

    fn at_rest(&self) -> bool {
        let producers_done = self
            .topology
            .producers
            .iter()
            .zip(&self.producers)
            .all(|(p, s)| s.sent >= p.records);
        producers_done
            && self.clusters.iter().all(|c| c.up)
            && self.topology.links.iter().zip(&self.links).all(|(l, s)| {
                let len = self.nodes[l.src].log.len();
                s.up && s.inflight_batches == 0
                    && match l.kind {
                        LinkKind::Bridge => s.read >= len,
                        LinkKind::NativeMirror => s.pos >= len,
                    }
            })
    }

    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        match event {
            Event::Produce(p) => self.produce(p)?,
            Event::Poll(l) => self.poll(l)?,
            Event::Deliver { link, epoch, batch } => self.deliver(link, epoch, batch)?,
            Event::Commit(l) => {
                let s = &mut self.links[l];
                let src_up = self.clusters[self.topology.links[l].from].up;
                if s.up && src_up {
                    s.committed = s.delivered_upto;
                }
                let every = self.topology.links[l].commit_ms;
                self.schedule(self.now + every, Event::Commit(l));
            }
            Event::LinkDown { link, for_ms } => {
                let until = self.now + for_ms;
                let s = &mut self.links[link];
                s.down_until = s.down_until.max(until);
                s.up = false;
                s.stats.downs += 1;
                let lost = self.reset_link(link);
                let l = &self.topology.links[link];
                let resume = match l.kind {
                    LinkKind::Bridge => self.links[link].committed,
                    LinkKind::NativeMirror => self.links[link].pos,
                };
                self.fault_log.push(format!(
                    "{} ms: link {} down for {for_ms} ms; {lost} record(s) in flight lost; it \
                     resumes from offset {resume}",
                    self.now, l.name
                ));
                self.schedule(until, Event::LinkUp(link));
            }
            Event::LinkUp(link) => {
                if self.now >= self.links[link].down_until {
                    self.links[link].up = true;
                }
            }
            Event::ClusterDown { cluster, for_ms } => {
                let until = self.now + for_ms;
                let c = &mut self.clusters[cluster];
                c.down_until = c.down_until.max(until);
                c.up = false;
                let mut lost = 0;
                for l in 0..self.topology.links.len() {
                    let link = &self.topology.links[l];
                    if link.from == cluster || link.to == cluster {
                        lost += self.reset_link(l);
                    }
                }
                self.fault_log.push(format!(
                    "{} ms: cluster {} stops for {for_ms} ms; {lost} record(s) in flight on its \
                     links lost",
                    self.now, self.topology.clusters[cluster].id
                ));
                self.schedule(until, Event::ClusterUp(cluster));
            }
            Event::ClusterUp(cluster) => {
                if self.now >= self.clusters[cluster].down_until && !self.clusters[cluster].up {
                    self.restart(cluster)?;
                }
            }
        }
        Ok(())
    }

    /// Re-instantiates the cluster's chains and feeds their look-back with what each topic
    /// stored last.
    fn restart(&mut self, cluster: usize) -> Result<(), SimError> {
        let now_abs = EPOCH_MS + self.now as i64;
        let mut fed = Vec::new();
        for &n in &self.topology.clusters[cluster].nodes {
            let node = &self.topology.nodes[n];
            let mut chain = build_chain(&self.engine, node, &self.options)?;
            if let Some(chain) = &mut chain {
                let records: Vec<Record> =
                    self.nodes[n].log.iter().map(|s| s.record.clone()).collect();
                let modules = chain
                    .look_back(&records, now_abs)
                    .map_err(|source| SimError {
                        context: format!("look_back of {} after a restart", node.label()),
                        source,
                    })?;
                if !modules.is_empty() {
                    let window: Vec<usize> = chain
                        .modules()
                        .iter()
                        .filter_map(|m| m.lookback())
                        .map(|w| crate::chain::select_lookback(&records, w, now_abs).len())
                        .collect();
                    fed.push(format!(
                        "{}: look_back fed {} of {} stored record(s) to {}",
                        node.topic,
                        window.iter().max().copied().unwrap_or(0),
                        records.len(),
                        modules.join(", ")
                    ));
                } else {
                    fed.push(format!("{}: no look_back", node.topic));
                }
            }
            self.nodes[n].chain = chain;
            self.nodes[n].twins = twins(node);
            self.look_back_twins(n, now_abs);
            self.nodes[n].stats.restarts += 1;
        }
        self.clusters[cluster].up = true;
        self.fault_log.push(format!(
            "{} ms: cluster {} back, modules initialised again{}{}",
            self.now,
            self.topology.clusters[cluster].id,
            if fed.is_empty() { "" } else { "; " },
            fed.join("; ")
        ));
        Ok(())
    }

    /// Loses what is on its way and rewinds to the last commit (bridge) or the target's end
    /// (native mirror). Returns the records lost.
    fn reset_link(&mut self, link: usize) -> u64 {
        let kind = self.topology.links[link].kind;
        let s = &mut self.links[link];
        s.epoch += 1;
        let lost = s.inflight_records as u64;
        s.stats.lost_in_flight += lost;
        s.inflight_batches = 0;
        s.inflight_records = 0;
        s.read = match kind {
            LinkKind::Bridge => s.committed,
            LinkKind::NativeMirror => s.pos,
        };
        lost
    }

    fn reorder_jitter(&self, link: usize) -> Option<u64> {
        self.topology.faults.iter().find_map(|f| match *f {
            Fault::Reorder {
                link: l,
                from_ms,
                until_ms,
                jitter_ms,
            } if l == link && (from_ms..until_ms).contains(&self.now) => Some(jitter_ms),
            _ => None,
        })
    }

    fn poll(&mut self, link: usize) -> Result<(), SimError> {
        let l = &self.topology.links[link];
        let next_poll = self.now + l.poll_ms;
        let ready = self.links[link].up && self.clusters[l.from].up && self.clusters[l.to].up;
        if ready {
            let reorder = self.reorder_jitter(link);
            let now_abs = EPOCH_MS + self.now as i64;
            loop {
                let src_len = self.nodes[l.src].log.len();
                let s = &self.links[link];
                if s.inflight_batches >= l.inflight || s.read >= src_len {
                    break;
                }
                let start = s.read;
                let end = (start + l.batch).min(src_len);
                let mut records: Vec<Record> = self.nodes[l.src].log[start..end]
                    .iter()
                    .map(|st| {
                        let mut r =
                            Record::new(RecordData::from(st.record.value.as_ref().to_vec()));
                        r.key = st.record.key.clone();
                        if l.kind == LinkKind::NativeMirror {
                            // Mirror sync keeps the records' timestamps.
                            r.preamble.set_timestamp_delta(
                                st.record.preamble.get_timestamp_delta() - now_abs,
                            );
                        }
                        r
                    })
                    .collect();
                let mut offsets: Vec<usize> = (start..end).collect();
                let mut delay = l.latency_ms;
                if l.jitter_ms > 0 {
                    delay += self.rng.range(0, l.jitter_ms);
                }
                let arrival = match reorder {
                    Some(j) => {
                        if l.kind == LinkKind::Bridge {
                            let mut order: Vec<(Record, usize)> =
                                records.into_iter().zip(offsets).collect();
                            self.rng.shuffle(&mut order);
                            (records, offsets) = order.into_iter().unzip();
                        }
                        self.now + delay + self.rng.range(0, j)
                    }
                    None => (self.now + delay).max(self.links[link].last_arrival),
                };
                let n = end - start;
                let s = &mut self.links[link];
                s.last_arrival = s.last_arrival.max(arrival);
                s.stats.fetched += n as u64;
                s.stats.resent += s.max_read.min(end).saturating_sub(start) as u64;
                s.max_read = s.max_read.max(end);
                s.read = end;
                s.inflight_batches += 1;
                s.inflight_records += n;
                let epoch = s.epoch;
                self.schedule(
                    arrival,
                    Event::Deliver {
                        link,
                        epoch,
                        batch: InFlight {
                            start,
                            end,
                            records,
                            offsets,
                            base_timestamp: now_abs,
                        },
                    },
                );
            }
        }
        self.schedule(next_poll, Event::Poll(link));
        Ok(())
    }

    fn deliver(&mut self, link: usize, epoch: u64, batch: InFlight) -> Result<(), SimError> {
        let l = &self.topology.links[link];
        if epoch != self.links[link].epoch {
            return Ok(()); // lost when the link or a cluster went down; counted then
        }
        {
            let s = &mut self.links[link];
            s.inflight_batches -= 1;
            s.inflight_records -= batch.end - batch.start;
        }
        if l.kind == LinkKind::NativeMirror && batch.start != self.links[link].pos {
            // Mirror sync appends only at the target's end offset: fetch again from there.
            let s = &mut self.links[link];
            s.stats.resyncs += 1;
            s.epoch += 1;
            s.inflight_batches = 0;
            s.inflight_records = 0;
            s.read = s.pos;
            return Ok(());
        }
        let n = (batch.end - batch.start) as u64;
        let mut results = self.write(
            l.dst,
            batch.records.clone(),
            batch.base_timestamp,
            Via::Link(link),
            Some(&batch.offsets),
        );
        // A refusal refuses the whole write: a bridge sends the records again one by one, so
        // that only the record the target refuses is left behind.
        let refused = results.iter().any(|r| matches!(r, WriteResult::Refused(_)));
        if l.kind == LinkKind::Bridge && refused && n > 1 {
            results = batch
                .records
                .into_iter()
                .zip(&batch.offsets)
                .flat_map(|(r, &offset)| {
                    self.write(
                        l.dst,
                        vec![r],
                        batch.base_timestamp,
                        Via::Link(link),
                        Some(&[offset]),
                    )
                })
                .collect();
        }
        self.nodes[l.src].stats.forwarded += n;
        self.nodes[l.dst].stats.received += n;
        {
            let st = &mut self.links[link].stats;
            st.delivered += n;
            for r in &results {
                match r {
                    WriteResult::Stored { count, .. } => st.stored += *count as u64,
                    WriteResult::Dropped(DropReason::Loop) => st.dropped_loop += 1,
                    WriteResult::Dropped(DropReason::Duplicate) => st.dropped_duplicate += 1,
                    WriteResult::Dropped(_) => st.dropped_other += 1,
                    WriteResult::Refused(_) => st.refused += 1,
                    WriteResult::Failed(_) => st.failed += 1,
                }
            }
        }
        self.check_mirror_write(link, &batch.offsets, &results);
        let s = &mut self.links[link];
        match l.kind {
            LinkKind::NativeMirror => s.pos = batch.end,
            LinkKind::Bridge => {
                if batch.start <= s.delivered_upto {
                    s.delivered_upto = s.delivered_upto.max(batch.end);
                } else {
                    let e = s.delivered_ahead.entry(batch.start).or_insert(batch.end);
                    *e = (*e).max(batch.end);
                }
                while let Some((&start, &end)) = s.delivered_ahead.first_key_value() {
                    if start > s.delivered_upto {
                        break;
                    }
                    s.delivered_ahead.pop_first();
                    s.delivered_upto = s.delivered_upto.max(end);
                }
            }
        }
        Ok(())
    }

    /// Mirror writes must be accepted; a native mirror's target must store each record once.
    fn check_mirror_write(&mut self, link: usize, offsets: &[usize], results: &[WriteResult]) {
        let l = &self.topology.links[link];
        let dst = &self.topology.nodes[l.dst];
        let from = &self.topology.clusters[l.from].id;
        let upstream = l.kind == LinkKind::NativeMirror
            || dst.guard.as_ref().is_some_and(|g| g.is_upstream(from));
        let src_log = &self.nodes[l.src].log;
        let describe = |i: usize| {
            let st = &src_log[offsets[i]];
            format!(
                "{} offset {} ({} {})",
                self.topology.nodes[l.src].label(),
                offsets[i],
                st.identity,
                st.trace
                    .map(|t| show(&self.produced[t].payload))
                    .unwrap_or_default()
            )
        };
        let c = &mut self.checks;
        if upstream {
            for (i, r) in results.iter().enumerate() {
                // A record a guard flagged as a local write is mirror traffic to no guard.
                if dst.guard.is_some() && src_log[offsets[i]].violation {
                    continue;
                }
                c.mirror_writes += 1;
                let bad = matches!(
                    r,
                    WriteResult::Refused(_)
                        | WriteResult::Failed(_)
                        | WriteResult::Dropped(DropReason::LocalWrite)
                );
                if bad {
                    push_example(
                        &mut c.mirror_write_violations,
                        &mut c.mirror_write_violation_count,
                        || {
                            format!(
                                "mirror write over {} of {} to {} was {r}",
                                l.name,
                                describe(i),
                                dst.label()
                            )
                        },
                    );
                }
            }
        }
        if l.kind == LinkKind::NativeMirror {
            for (i, r) in results.iter().enumerate() {
                c.alignment_checked += 1;
                let ok = matches!(r, WriteResult::Stored { count: 1, .. });
                if !ok {
                    push_example(
                        &mut c.alignment_violations,
                        &mut c.alignment_violation_count,
                        || {
                            format!(
                                "{} did not store {} exactly once: {r}; its offsets no longer \
                                 match the remote's",
                                dst.label(),
                                describe(i)
                            )
                        },
                    );
                }
            }
        }
    }

    fn produce(&mut self, p: usize) -> Result<(), SimError> {
        let prod = &self.topology.producers[p];
        let cluster = &self.clusters[prod.cluster];
        if !cluster.up {
            let at = cluster.down_until.max(self.now + 1);
            self.schedule(at, Event::Produce(p));
            return Ok(());
        }
        let sent = self.producers[p].sent;
        let count = (prod.batch as u64).min(prod.records - sent);
        let now_abs = EPOCH_MS + self.now as i64;
        let carrier = self.topology.nodes[prod.node].carrier;
        let mut records = Vec::with_capacity(count as usize);
        let first = self.produced.len();
        for k in 0..count {
            let seq = sent + k;
            let size = self.rng.range(prod.size.0 as u64, prod.size.1 as u64) as usize;
            let mut payload = format!("{}#{}:", prod.name, seq).into_bytes();
            while payload.len() < size {
                payload.push(b'a' + (payload.len() % 26) as u8);
            }
            let key = prod.keys.then(|| format!("k-{seq}").into_bytes());
            let (key, value) = match &prod.forge {
                Some(claim) => {
                    let id = self.rng.next_u64().to_le_bytes();
                    let secret = prod.forge_secret.as_deref().map(str::as_bytes);
                    match carrier {
                        Carrier::Value => {
                            let bound = forge::Bound {
                                in_key: false,
                                other: key.as_deref(),
                            };
                            let value = forge::tag(claim, now_abs, id, secret, &bound, &payload);
                            (key, value)
                        }
                        Carrier::Key => {
                            let k = key.unwrap_or_default();
                            let bound = forge::Bound {
                                in_key: true,
                                other: Some(&payload),
                            };
                            let key = forge::tag(claim, now_abs, id, secret, &bound, &k);
                            (Some(key), payload.clone())
                        }
                    }
                }
                None => (key, payload.clone()),
            };
            let mut r = Record::new(RecordData::from(value));
            r.key = key.map(RecordData::from);
            records.push(r);
            self.by_payload.insert(payload.clone(), self.produced.len());
            self.produced.push(Produced {
                producer: p,
                node: prod.node,
                seq,
                payload,
                time_ms: self.now,
                forged: prod.forge.is_some(),
                local_mirror: prod.local_writes_to_mirror,
                result: None,
                identity: None,
            });
        }
        self.nodes[prod.node].stats.produced += count;
        let results = self.write(prod.node, records, now_abs, Via::Producer(p), None);
        for (k, r) in results.into_iter().enumerate() {
            let idx = first + k;
            if let WriteResult::Stored { offset, .. } = &r {
                self.produced[idx].identity =
                    Some(self.nodes[prod.node].log[*offset].identity.clone());
            }
            self.produced[idx].result = Some(r);
        }
        self.producers[p].sent += count;
        let sent = self.producers[p].sent;
        if sent < prod.records {
            let at = prod.start_ms as f64 + sent as f64 * prod.interval_ms;
            self.schedule((at.round() as u64).max(self.now + 1), Event::Produce(p));
        }
        Ok(())
    }

    /// One write to a topic: the platform's refusal of producers on a native mirror's
    /// target, else the topic's chain. Stores what it lets through.
    fn write(
        &mut self,
        node: usize,
        records: Vec<Record>,
        base_timestamp: i64,
        via: Via,
        source_offsets: Option<&[usize]>,
    ) -> Vec<WriteResult> {
        let n = records.len();
        let topo_node = &self.topology.nodes[node];
        if topo_node.native_target && matches!(via, Via::Producer(_)) {
            self.nodes[node].stats.refused += n as u64;
            let hint =
                "produce from home is not allowed (the platform refuses producer writes to a \
                        native mirror's target)"
                    .to_string();
            return vec![WriteResult::Refused(hint); n];
        }
        let base_offset = self.nodes[node].log.len() as i64;
        let batch = Batch::new(records, base_offset, base_timestamp);
        let Some(chain) = self.nodes[node].chain.as_mut() else {
            let out: Vec<Record> = batch.records.clone();
            return out
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    let offset =
                        self.store(node, r, base_timestamp, via, source_offsets.map(|s| s[i]));
                    WriteResult::Stored { offset, count: 1 }
                })
                .collect();
        };
        let run = chain.run(&batch);
        self.feed_twins(node, &run);
        let mut results = Vec::with_capacity(n);
        match &run.outcome {
            Outcome::Refused(e) => {
                self.nodes[node].stats.refused += n as u64;
                let hint = format!("{}: {}", e.module, e.hint());
                return vec![WriteResult::Refused(hint); n];
            }
            Outcome::Failed(e) => {
                self.nodes[node].stats.failed += n as u64;
                return vec![WriteResult::Failed(e.to_string()); n];
            }
            Outcome::Written => {}
        }
        for (i, f) in run.fates.iter().enumerate() {
            let result = match &f.fate {
                Fate::Dropped { .. } => {
                    let reason = self.classify(node, &run, i);
                    let st = &mut self.nodes[node].stats;
                    match reason {
                        DropReason::Loop => st.dropped_loop += 1,
                        DropReason::Duplicate => st.dropped_duplicate += 1,
                        DropReason::LocalWrite => st.dropped_local_write += 1,
                        DropReason::Stale => st.dropped_other += 1,
                        DropReason::Other(_) => st.dropped_other += 1,
                    }
                    WriteResult::Dropped(reason)
                }
                Fate::Unattributed { module } => {
                    WriteResult::Dropped(DropReason::Other(format!("{module} (renumbered)")))
                }
                _ if f.outputs.is_empty() => {
                    WriteResult::Dropped(DropReason::Other("the chain".into()))
                }
                _ => {
                    let mut first = None;
                    for out in &f.outputs {
                        let offset = self.store(
                            node,
                            out.clone(),
                            base_timestamp,
                            via,
                            source_offsets.map(|s| s[i]),
                        );
                        first.get_or_insert(offset);
                    }
                    WriteResult::Stored {
                        offset: first.unwrap_or_default(),
                        count: f.outputs.len(),
                    }
                }
            };
            results.push(result);
        }
        for out in &run.unattributed {
            self.store(node, out.clone(), base_timestamp, via, None);
        }
        results
    }

    /// Runs every policy step's twin on the records its .wasm was given in `run`, as the
    /// guest does: in order, up to a refusal, then the batch's end.
    fn feed_twins(&mut self, node: usize, run: &crate::chain::ChainRun) {
        let state = &mut self.nodes[node];
        state.dropped = vec![HashMap::new(); run.steps.len()];
        for (k, twin) in state.twins.iter_mut().enumerate().take(run.steps.len()) {
            let Some(twin) = twin else { continue };
            let input = match k {
                0 => &run.batch.records,
                _ => &run.steps[k - 1].output,
            };
            let mut refused = false;
            for record in input {
                let rec = view(record, run.batch.base_offset, run.batch.base_timestamp);
                match twin.decide(&rec, &mut self.scratch) {
                    Ok(_) => {}
                    Err(Stop::Drop(why)) => {
                        state.dropped[k].insert(record.preamble.offset_delta(), why);
                    }
                    Err(Stop::Refuse(_)) => {
                        refused = true;
                        break;
                    }
                }
                self.scratch.clear();
            }
            self.scratch.clear();
            twin.end_batch(!refused);
        }
    }

    /// Feeds the twins what a restart feeds the .wasm's `look_back`: the topic's last stored
    /// records, as each step's lookback window selects them.
    fn look_back_twins(&mut self, node: usize, now_ms: i64) {
        let records: Vec<Record> = self.nodes[node]
            .log
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut r = s.record.clone();
                r.preamble.set_offset_delta(i as i64);
                r
            })
            .collect();
        let specs = &self.topology.nodes[node].specs;
        for (twin, spec) in self.nodes[node].twins.iter_mut().zip(specs) {
            let (Some(twin), Some(window)) = (twin, &spec.lookback) else {
                continue;
            };
            for r in crate::chain::select_lookback(&records, window, now_ms) {
                twin.look_back(&view(&r, 0, 0));
            }
        }
    }

    /// Why the chain dropped record `i`: the step that dropped it, and the reason its twin's
    /// stage gave.
    fn classify(&mut self, node: usize, run: &crate::chain::ChainRun, i: usize) -> DropReason {
        let delta = run.batch.records[i].preamble.offset_delta();
        let has = |records: &[Record]| records.iter().any(|r| r.preamble.offset_delta() == delta);
        let Some(k) = run.steps.iter().position(|s| !has(&s.output)) else {
            return DropReason::Other("the chain".into());
        };
        match self.nodes[node].dropped.get(k).and_then(|d| d.get(&delta)) {
            Some(Dropped::Loop) => DropReason::Loop,
            Some(Dropped::LocalWrite) => DropReason::LocalWrite,
            Some(Dropped::Duplicate) => DropReason::Duplicate,
            Some(Dropped::Stale) => DropReason::Stale,
            None => DropReason::Other(self.topology.nodes[node].steps[k].uses.clone()),
        }
    }

    fn store(
        &mut self,
        node: usize,
        out: Record,
        base_timestamp: i64,
        via: Via,
        source_offset: Option<usize>,
    ) -> usize {
        let carrier = self.topology.nodes[node].carrier;
        let (tag, payload) = inspect(
            carrier,
            out.key.as_ref().map(|k| k.as_ref()),
            out.value.as_ref(),
        );
        let offset = self.nodes[node].log.len();
        let ts = base_timestamp + out.preamble.get_timestamp_delta();
        let mut record = Record::new(RecordData::from(out.value.as_ref().to_vec()));
        record.key = out.key.clone();
        record.preamble.set_timestamp_delta(ts);
        record.preamble.set_offset_delta(offset as i64);
        let trace = self.by_payload.get(&payload).copied();
        let (identity, path, violation) = match tag {
            Some(t) => (
                Identity::Tag {
                    origin: t.origin,
                    id: t.id,
                },
                t.path,
                t.violation,
            ),
            None => (Identity::Untagged(payload), Vec::new(), false),
        };
        let state = &mut self.nodes[node];
        state.stats.stored += 1;
        self.stored_total += 1;
        state.log.push(Stored {
            offset,
            record,
            time_ms: self.now,
            via,
            identity,
            path,
            violation,
            trace,
            source_offset,
        });
        offset
    }

    /// What topic `node` stored, in order.
    pub fn log(&self, node: usize) -> &[Stored] {
        &self.nodes[node].log
    }

    pub fn node_stats(&self, node: usize) -> &NodeStats {
        &self.nodes[node].stats
    }

    pub fn link_stats(&self, link: usize) -> &LinkStats {
        &self.links[link].stats
    }
}
