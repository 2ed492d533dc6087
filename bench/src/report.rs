//! The markdown report: machine, modules and sizes, cold start, throughput, envelope
//! overhead, the floors, and the goals verdict, every figure also as a ratio to the baselines
//! and to each module's own floor.

use std::fmt::Write as _;
use std::time::Duration;

use crate::engines::EngineKind;
use crate::inputs::{group, Shape, Tagging};
use crate::measure::{median, Added, ColdKind, Growth, Results, Samples, SubjectInfo};
use crate::{Role, CLUSTER, PASSTHROUGH, SDK_HELLO, UPSTREAM};

/// Module size goals: without MAC code, and with it.
pub const SIZE_GOAL_NO_MAC: usize = 40 * 1024;
pub const SIZE_GOAL_MAC: usize = 60 * 1024;
/// Envelope overhead goal (bytes per record, ids up to 16 bytes, no MAC).
pub const ENVELOPE_GOAL: usize = 24;
/// Per-record goal, official engine: at least this ratio to passthrough on every batch...
pub const PER_RECORD_VS_FLOOR: f64 = 0.8;
/// ... or, on a batch whose records the module grows, at least this ratio to its own floor.
pub const PER_RECORD_VS_OWN_FLOOR: f64 = 0.9;
/// The module held to [`SECRET_VS_FLOOR`] on [`SECRET_GOAL_SHAPE`].
pub const SECRET_GOAL_MODULE: &str = "origin-tag+secret";
/// Its goal, official engine: at least this ratio to passthrough...
pub const SECRET_VS_FLOOR: f64 = 0.5;
/// The observing module held to a throughput goal: the summary a consumer reads.
pub const OBSERVER_GOAL_MODULE: &str = "origin-stats";
/// ... on batches of this many records of this many bytes (untagged and tagged).
pub const SECRET_GOAL_SHAPE: (usize, usize) = (10_000, 64);
/// Cold start goal, official engine: at most this ratio to passthrough.
pub const COLD_VS_FLOOR: f64 = 1.5;
/// Cached chain build goal.
pub const CACHED_GOAL: Duration = Duration::from_millis(1);

/// A throughput figure: median time per call, and what it means in records and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_call: Duration,
    pub records_per_s: f64,
    pub mb_per_s: f64,
}

impl Results {
    /// The subjects whose throughput is measured: all but the builds without MAC code.
    pub fn timed(&self) -> impl Iterator<Item = (usize, &SubjectInfo)> {
        self.subjects
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role != Role::Lean)
    }

    /// The median throughput of `subject` in `kind` on `shape`, if it was timed.
    pub fn rate(&self, subject: usize, kind: EngineKind, shape: Shape) -> Option<Rate> {
        let Some(Samples::Times(v)) = self.throughput.get(&(subject, kind, shape)) else {
            return None;
        };
        let per_call = median(v)?;
        let secs = per_call.as_secs_f64().max(1e-12);
        let sealed = self.subjects.get(subject)?.sealed;
        let bytes = *self.shape_bytes.get(&(shape, sealed))? as f64;
        Some(Rate {
            per_call,
            records_per_s: shape.records as f64 / secs,
            mb_per_s: bytes / secs / 1e6,
        })
    }

    /// The sdk-hello figure a module is compared with on `shape`: the same shape, or for
    /// tagged values (which the SDK filter refuses: they are not UTF-8) the untagged values
    /// of the same size. The flag tells the fallback was used.
    pub fn sdk_rate(&self, kind: EngineKind, shape: Shape) -> Option<(Rate, bool)> {
        let sdk = self.subject(SDK_HELLO)?;
        if let Some(r) = self.rate(sdk, kind, shape) {
            return Some((r, false));
        }
        let untagged = Shape {
            tagging: Tagging::Untagged,
            ..shape
        };
        self.rate(sdk, kind, untagged).map(|r| (r, true))
    }

    /// The floor `subject` is compared with on `shape`: passthrough when it adds nothing to
    /// the batch or shrinks it, otherwise the append floor that added the same bytes, record by
    /// record, to the same records in this run. `None` when the module's output on `shape` was
    /// not checked (it refused or failed).
    pub fn own_floor(&self, subject: usize, shape: Shape) -> Option<OwnFloor> {
        let g = *self.growth.get(&(subject, shape))?;
        if !g.grows() {
            return self.subject(PASSTHROUGH).map(OwnFloor::Floor);
        }
        let sealed = self.subjects.get(subject)?.sealed;
        let same_input = |f: &SubjectInfo| f.sealed == sealed || shape.tagging == Tagging::Untagged;
        Some(
            self.subjects
                .iter()
                .enumerate()
                .filter(|(_, f)| f.appends.is_some() && same_input(f))
                .find(|(f, _)| self.growth.get(&(*f, shape)) == Some(&g))
                .map_or(OwnFloor::Missing(g), |(f, _)| OwnFloor::Floor(f)),
        )
    }

    /// `subject`'s throughput over its own floor's, in `kind` on `shape`, and that floor.
    pub fn vs_own_floor(
        &self,
        subject: usize,
        kind: EngineKind,
        shape: Shape,
    ) -> Option<(OwnFloor, Option<f64>)> {
        let floor = self.own_floor(subject, shape)?;
        let x = match floor {
            OwnFloor::Floor(f) => {
                match (self.rate(subject, kind, shape), self.rate(f, kind, shape)) {
                    (Some(m), Some(b)) => Some(m.records_per_s / b.records_per_s),
                    _ => None,
                }
            }
            OwnFloor::Missing(_) => None,
        };
        Some((floor, x))
    }

    /// The median cold start of `subject` in `kind`.
    pub fn cold_start(&self, subject: usize, kind: ColdKind) -> Option<Duration> {
        self.cold.get(&(subject, kind)).and_then(|v| median(v))
    }
}

/// The floor a module is compared with on a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnFloor {
    /// The subject at this index: passthrough, or an append floor.
    Floor(usize),
    /// The module grows the records by this, and no append floor did the same.
    Missing(Growth),
}

impl OwnFloor {
    /// The floor's name, or why there is none.
    pub fn label(&self, r: &Results) -> String {
        match self {
            OwnFloor::Floor(f) => r.subjects[*f].name.to_string(),
            OwnFloor::Missing(g) => format!("none adds {}", g.per_record()),
        }
    }
}

/// `1940000.0` -> `1.94M`.
pub fn si(v: f64) -> String {
    let (x, unit) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{unit}", sig3(x))
}

/// Three significant digits.
fn sig3(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A ratio: `4.35x`.
pub fn ratio(x: f64) -> String {
    format!("{}x", sig3(x))
}

/// A ratio held to a goal, to three decimals, so that one shown as `0.80x` is not below 0.8:
/// `0.797x`.
pub fn goal_ratio(x: f64) -> String {
    format!("{x:.3}x")
}

/// A duration: `19.2 ms`, `850 µs`.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{} s", sig3(s))
    } else if s >= 1e-3 {
        format!("{} ms", sig3(s * 1e3))
    } else {
        format!("{} µs", sig3(s * 1e6))
    }
}

/// Bytes as `62,149 B (60.7 KB)`.
fn size(n: usize) -> String {
    format!("{} B ({:.1} KB)", group(n as u64), n as f64 / 1024.0)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// Short form of a refusal hint for a table cell.
fn short(hint: &str) -> String {
    let one_line = hint.lines().next().unwrap_or_default();
    let mut s: String = one_line.chars().take(48).collect();
    if one_line.chars().count() > 48 {
        s.push('…');
    }
    s.replace('|', "/")
}

/// The whole report.
pub fn markdown(r: &Results) -> String {
    let mut out = String::new();
    let o = &mut out;
    let m = &r.machine;
    let _ = writeln!(o, "# SmartModule benchmarks\n");
    let _ = writeln!(
        o,
        "- machine: {} cores (nproc), {}; load average {} at start, {} at end",
        m.nproc,
        m.cpu,
        m.load_start.map_or("?".into(), |l| format!("{l:.2}")),
        m.load_end.map_or("?".into(), |l| format!("{l:.2}")),
    );
    let _ = writeln!(o, "- date: {}", m.date);
    let _ = writeln!(
        o,
        "- configuration: {}{} repetitions, interleaved (each repetition goes once over every \
         module, in a rotated order, and every engine); medians; a throughput sample repeats \
         its call for at least {} (at most {} calls); run took {}",
        if r.config.quick { "--quick, " } else { "" },
        r.config.reps,
        dur(r.config.min_sample),
        r.config.max_calls,
        dur(r.elapsed),
    );
    let _ = writeln!(
        o,
        "- modules: built with the `wasm` profile for wasm32-unknown-unknown (LTO, opt-level s), \
         then wasm-opt -Os, as `cargo build-modules` ships them (sdk-hello at opt-level 3, \
         without wasm-opt, as the SDK builds it); engines: fluvio-smartengine 0.50.1 \
         (`official`) and host_harness (`harness`: `Chain::process`; `harness call`: the bare \
         module call without the chain's per-record bookkeeping), API version {}",
        crate::VERSION
    );
    let _ = writeln!(o);

    // Modules.
    let sdk = r.subject(SDK_HELLO);
    let pass = r.subject(PASSTHROUGH);
    let size_of = |i: Option<usize>| i.map(|i| r.subjects[i].size as f64);
    let _ = writeln!(o, "## Modules\n");
    let _ = writeln!(
        o,
        "| module | params | .wasm size | x sdk-hello | x passthrough | MAC code |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---|");
    for s in &r.subjects {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            s.name,
            if s.params.is_empty() {
                "—"
            } else {
                &s.params
            },
            size(s.size),
            size_of(sdk).map_or("—".into(), |b| ratio(s.size as f64 / b)),
            size_of(pass).map_or("—".into(), |b| ratio(s.size as f64 / b)),
            if s.mac_code { "yes" } else { "no" },
        );
    }
    let _ = writeln!(
        o,
        "\n`(no MAC)`: the same module built without MAC code (`cargo build-modules-lean`, \
         which refuses the `secret` param); it is measured for size and cold start only, since \
         it runs the same code on every record."
    );
    let _ = writeln!(o);

    // Cold start.
    let _ = writeln!(
        o,
        "## Cold start: one-module chain, compile + instantiate + init (median of {})\n",
        r.config.reps
    );
    let _ = writeln!(
        o,
        "official = `SmartModuleChainBuilder::initialize` on a `SmartEngine` made once (as the \
         broker does, per produce request); harness uncached = `Chain::new` on a fresh \
         `Engine::new()` (cache miss: compiles); harness cached = `Chain::new` on \
         `Engine::shared()` that already compiled the module (mean of {} builds per sample). \
         Ratios compare with the baseline in the same column.\n",
        r.config.cached_builds
    );
    let _ = write!(o, "| module |");
    for k in ColdKind::ALL {
        let _ = write!(o, " {} | x sdk-hello | x passthrough |", k.label());
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|{}", "---:|".repeat(3 * ColdKind::ALL.len()));
    for (i, s) in r.subjects.iter().enumerate() {
        let _ = write!(o, "| {} |", s.name);
        for k in ColdKind::ALL {
            let t = r.cold_start(i, k);
            let rel = |b: Option<usize>| match (t, b.and_then(|b| r.cold_start(b, k))) {
                (Some(t), Some(b)) => ratio(t.as_secs_f64() / b.as_secs_f64()),
                _ => "—".into(),
            };
            let _ = write!(
                o,
                " {} | {} | {} |",
                t.map_or("—".into(), dur),
                rel(sdk),
                rel(pass)
            );
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o);

    // Throughput.
    let _ = writeln!(o, "## Throughput (median of {})\n", r.config.reps);
    let _ = writeln!(
        o,
        "records/s and MB/s (10^6 bytes of record values, tags included) through a one-module \
         chain, input encoding and output decoding included; x ratios compare with the \
         baseline in the same engine and batch. Tagged values carry a tag written at `{UPSTREAM}` \
         (path `[{UPSTREAM}]`, no MAC; sealed with the secret for the `+secret` variant, 16 B more \
         per record). sdk-hello refuses tagged values (they are not UTF-8), \
         so on tagged batches the x sdk-hello ratios (marked †) compare with its figure on \
         untagged values of the same size. x own floor compares with the module's own floor on \
         that batch, named in the cell: passthrough where the module adds nothing to the records \
         or shrinks them, otherwise the append floor that adds the same bytes to the same \
         records (see Floors).\n"
    );
    if !r.skipped.is_empty() {
        let _ = writeln!(o, "Skipped: {}.\n", r.skipped.join("; "));
    }
    for (name, (times, first)) in &r.rebuilt {
        let _ = writeln!(
            o,
            "Rebuilt: {name}'s chain was built again {times} time(s) after a call failed, and \
             the sample taken again on the fresh chain; the first failure: {}.\n",
            first.lines().last().unwrap_or(first).trim()
        );
    }
    for &shape in &r.shapes {
        let bytes = r.shape_bytes.get(&(shape, false)).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "### {} ({} of values per batch)\n",
            shape.label(),
            mb(bytes)
        );
        let _ = writeln!(
            o,
            "| module | official rec/s | MB/s | x sdk-hello | x passthrough | x own floor | harness rec/s | MB/s | x sdk-hello | x passthrough | x own floor | harness call rec/s | harness / official | harness call / official |"
        );
        let _ = writeln!(o, "|---|{}", "---:|".repeat(13));
        for (i, s) in r.timed() {
            let _ = write!(o, "| {} |", s.name);
            for kind in [EngineKind::Official, EngineKind::Harness] {
                match r.rate(i, kind, shape) {
                    Some(rate) => {
                        let vs_sdk = match r.sdk_rate(kind, shape) {
                            Some((b, fallback)) => format!(
                                "{}{}",
                                ratio(rate.records_per_s / b.records_per_s),
                                if fallback { " †" } else { "" }
                            ),
                            None => "—".into(),
                        };
                        let vs_pass = pass
                            .and_then(|p| r.rate(p, kind, shape))
                            .map_or("—".into(), |b| {
                                ratio(rate.records_per_s / b.records_per_s)
                            });
                        let _ = write!(
                            o,
                            " {} | {} | {} | {} | {} |",
                            si(rate.records_per_s),
                            sig3(rate.mb_per_s),
                            vs_sdk,
                            vs_pass,
                            own_floor_cell(r, i, kind, shape)
                        );
                    }
                    None => {
                        let _ = write!(o, " {} | — | — | — | — |", why_not(r, i, kind, shape));
                    }
                }
            }
            let official = r.rate(i, EngineKind::Official, shape);
            let harness = r.rate(i, EngineKind::Harness, shape);
            let call = r.rate(i, EngineKind::HarnessCall, shape);
            let rel = |x: Option<Rate>| match (x, official) {
                (Some(x), Some(b)) => ratio(x.records_per_s / b.records_per_s),
                _ => "—".into(),
            };
            let _ = writeln!(
                o,
                " {} | {} | {} |",
                call.map_or_else(
                    || why_not(r, i, EngineKind::HarnessCall, shape),
                    |c| si(c.records_per_s)
                ),
                rel(harness),
                rel(call)
            );
        }
        let _ = writeln!(o);
    }

    fuel_section(o, r);
    envelope_section(o, r);
    floors_section(o, r);
    flood_section(o, r);
    goals_section(o, r);
    out
}

fn mb(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else if bytes >= 1_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// `0.95x append`: the ratio to the module's own floor, and the floor.
fn own_floor_cell(r: &Results, i: usize, kind: EngineKind, shape: Shape) -> String {
    match r.vs_own_floor(i, kind, shape) {
        Some((floor, Some(x))) => format!("{} {}", ratio(x), floor.label(r)),
        Some((floor, None)) => format!("— ({})", floor.label(r)),
        None => "—".into(),
    }
}

fn why_not(r: &Results, i: usize, kind: EngineKind, shape: Shape) -> String {
    match r.throughput.get(&(i, kind, shape)) {
        Some(Samples::Refused(hint)) => format!("refused: {}", short(hint)),
        Some(Samples::Failed(e)) => format!("failed: {}", short(e)),
        _ => "—".into(),
    }
}

fn added(a: &Added) -> String {
    match a {
        Added::Bytes(n) => format!("{n:+} B"),
        Added::Dropped => "dropped".into(),
        Added::Refused(h) => format!("refused: {}", short(h)),
        Added::Failed(e) => format!("failed: {}", short(e)),
    }
}

fn fuel_section(o: &mut String, r: &Results) {
    let _ = writeln!(o, "## Work inside the module: fuel per record\n");
    let _ = writeln!(
        o,
        "Fuel one harness call burnt divided by the records (about one unit per wasm \
         instruction executed, `alloc` and the per-call work included): deterministic, so it \
         tells where a module's time goes without the noise of the clock. The host's own \
         encode/copy/decode is not in it.\n"
    );
    let timed: Vec<usize> = r.timed().map(|(i, _)| i).collect();
    let _ = write!(o, "| batch |");
    for &i in &timed {
        let _ = write!(o, " {} |", r.subjects[i].name);
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|{}", "---:|".repeat(timed.len()));
    for &shape in &r.shapes {
        let _ = write!(o, "| {} |", shape.label());
        for &i in &timed {
            match r.fuel.get(&(i, shape)) {
                Some(f) => {
                    let _ = write!(o, " {} |", group(f / shape.records.max(1) as u64));
                }
                None => {
                    let _ = write!(o, " — |");
                }
            }
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o);
}

fn envelope_section(o: &mut String, r: &Results) {
    let _ = writeln!(o, "## Envelope overhead\n");
    let _ = writeln!(
        o,
        "Bytes a module adds to one record (key + value out minus in), 64 B value, in the harness. \
         Tagged input: a fresh tag written at `{UPSTREAM}`; with `secret`, sealed with the same \
         secret.\n"
    );
    let _ = writeln!(
        o,
        "| module | secret | untagged record | tagged record (from `{UPSTREAM}`) |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|");
    for row in &r.envelope {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            row.module,
            if row.secret { "yes (MAC)" } else { "no" },
            added(&row.untagged),
            added(&row.tagged)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Size of a fresh tag (one cluster id, a timestamp of today: a 6-byte varint) as the \
         `origin` crate encodes it: 15 fixed bytes (magic 2, version 1, flags 1, hops 1, path \
         count 1, record id 8, MAC option 1) + 6 (timestamp) + 1 + id length; a MAC adds 16; \
         each further hop adds 1 + its id length.\n"
    );
    let _ = writeln!(o, "| cluster id length | tag, no MAC | tag, with MAC |");
    let _ = writeln!(o, "|---:|---:|---:|");
    for t in &r.tag_sizes {
        let _ = writeln!(
            o,
            "| {} B | {} B | {} B |",
            t.id_len, t.without_mac, t.with_mac
        );
    }
    let _ = writeln!(o);
}

/// `v (on A, B); w (on C)`, or `v` when every shape gave the same.
fn by_shape(items: &[(Shape, String)]) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for (shape, v) in items {
        let label = format!(
            "{} x {}",
            group(shape.records as u64),
            crate::inputs::bytes_label(shape.value)
        );
        match groups.iter_mut().find(|(g, _)| *g == v.as_str()) {
            Some((_, shapes)) => shapes.push(label),
            None => groups.push((v, vec![label])),
        }
    }
    match groups.as_slice() {
        [] => "—".into(),
        [(v, _)] => v.to_string(),
        _ => groups
            .iter()
            .map(|(v, shapes)| format!("{v} (on {})", shapes.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// What `subject` added to the batches of `tagging`, by shape.
fn growth_by_shape(r: &Results, subject: usize, tagging: Tagging) -> String {
    let items: Vec<(Shape, String)> = r
        .shapes
        .iter()
        .filter(|s| s.tagging == tagging)
        .map(|&s| {
            let v = match r.growth.get(&(subject, s)) {
                Some(g) => g.per_record(),
                None => why_not(r, subject, EngineKind::Official, s),
            };
            (s, v)
        })
        .collect();
    by_shape(&items)
}

fn floors_section(o: &mut String, r: &Results) {
    let _ = writeln!(
        o,
        "## Floors
"
    );
    let floors: Vec<usize> = r
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| s.appends.is_some())
        .map(|(i, _)| i)
        .collect();
    let _ = writeln!(
        o,
        "A module that writes tags hands the host longer records than it got, and the host's \
         own encoding and decoding of the longer records is not the module's work. An append \
         floor (`tests/fixtures/append`) prepends constant bytes to each value and computes \
         nothing else: `bytes` to a value that does not start with the tag magic `ff 6f`, \
         `tagged_bytes` to one that does. Its counts come from the `origin` crate: the tag \
         origin-tag writes at `cluster={CLUSTER}` on these records, with or without a MAC, and \
         `{CLUSTER}` added as a hop to a tag from `{UPSTREAM}`. `append+mac` gets the records \
         a module with a `secret` gets (tagged ones sealed). Every floor's output was checked \
         record by record, in every engine, before the clocks ran: measured below.\n"
    );
    let _ = writeln!(
        o,
        "| floor | params | tagged input | claims: untagged / tagged | measured: untagged batches | measured: tagged batches |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for &f in &floors {
        let s = &r.subjects[f];
        let Some(a) = s.appends else { continue };
        let _ = writeln!(
            o,
            "| {} | {} | {} | +{} B / +{} B | {} | {} |",
            s.name,
            s.params,
            if s.sealed { "sealed" } else { "unsealed" },
            a.untagged,
            a.tagged,
            growth_by_shape(r, f, Tagging::Untagged),
            growth_by_shape(r, f, Tagging::Tagged),
        );
    }
    let _ = writeln!(
        o,
        "\nEach module's own floor, batch by batch: passthrough where it adds nothing to the \
         records or shrinks them; otherwise the append floor that added the same bytes, record \
         by record, to the same records in this run (official engine).\n"
    );
    let _ = writeln!(
        o,
        "| module | untagged: adds | own floor | tagged: adds | own floor |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|");
    let (mut matched, mut growing) = (0, 0);
    for (i, s) in r.timed() {
        // An observer writes each record as a document of its own, which no floor stands for.
        if matches!(s.role, Role::Baseline | Role::Observer) {
            continue;
        }
        let _ = write!(o, "| {} |", s.name);
        for tagging in [Tagging::Untagged, Tagging::Tagged] {
            let items: Vec<(Shape, String)> = r
                .shapes
                .iter()
                .filter(|s| s.tagging == tagging)
                .filter_map(|&shape| {
                    let floor = r.own_floor(i, shape)?;
                    if r.growth.get(&(i, shape)).is_some_and(|g| g.grows()) {
                        growing += 1;
                        matched += usize::from(matches!(floor, OwnFloor::Floor(_)));
                    }
                    Some((shape, floor.label(r)))
                })
                .collect();
            let _ = write!(
                o,
                " {} | {} |",
                growth_by_shape(r, i, tagging),
                by_shape(&items)
            );
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "\n{matched} of {growing} module x batch cells where a module grows the records have an \
         append floor that adds the same bytes.\n"
    );
}

fn flood_section(o: &mut String, r: &Results) {
    use crate::flood::{Ids, RECORDS, WINDOW};
    let _ = writeln!(
        o,
        "## De-duplication window under a flood
"
    );
    let _ = writeln!(
        o,
        "mirror-policy with `dedup={WINDOW}`, a fresh chain per sample (untimed), one call of \
         {} tagged 64 B records, all new to the window (median of {}). The colliding ids are \
         equal in their low 16 bits: under an unkeyed slot function they would all share one \
         probe run. Fuel per record from the harness (exact, not timed).\n",
        group(RECORDS as u64),
        r.config.reps
    );
    let _ = writeln!(
        o,
        "| ids | official rec/s | fuel per record | x random ids (time) | x random ids (fuel) |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|");
    let per_call = |k: usize| median(&r.flood.official[k]);
    let base = per_call(0);
    for (k, ids) in [Ids::Random, Ids::Colliding].into_iter().enumerate() {
        let t = per_call(k);
        let rate = t.map_or("—".into(), |t| si(RECORDS as f64 / t.as_secs_f64()));
        let time_ratio = match (t, base) {
            (Some(t), Some(b)) => ratio(t.as_secs_f64() / b.as_secs_f64()),
            _ => "—".into(),
        };
        let fuel = r.flood.fuel_per_record[k];
        let _ = writeln!(
            o,
            "| {} | {rate} | {fuel:.0} | {time_ratio} | {} |",
            ids.label(),
            ratio(fuel / r.flood.fuel_per_record[0])
        );
    }
    let _ = writeln!(o);
}

/// The observing modules' throughput goal: origin-stats >= 0.8x passthrough on 100 x 1 KB
/// tagged records.
fn observer_goal(o: &mut String, r: &Results, pass: Option<usize>) {
    let _ = writeln!(
        o,
        "### Observing, official engine: {OBSERVER_GOAL_MODULE} >= {PER_RECORD_VS_FLOOR}x \
         passthrough on 100 x 1 KB, tagged\n"
    );
    let shape = r
        .shapes
        .iter()
        .copied()
        .find(|s| s.records == 100 && s.value == 1024 && s.tagging == Tagging::Tagged);
    let (Some(i), Some(shape)) = (r.subject(OBSERVER_GOAL_MODULE), shape) else {
        let _ = writeln!(o, "Not measured in this configuration.\n");
        return;
    };
    let rate = r.rate(i, EngineKind::Official, shape);
    let x = rate
        .zip(pass.and_then(|p| r.rate(p, EngineKind::Official, shape)))
        .map(|(m, b)| m.records_per_s / b.records_per_s);
    let ok = x.is_some_and(|x| x >= PER_RECORD_VS_FLOOR);
    let _ = writeln!(
        o,
        "{}: {} rec/s, {} passthrough.\n",
        verdict(ok),
        rate.map_or_else(
            || why_not(r, i, EngineKind::Official, shape),
            |m| si(m.records_per_s)
        ),
        x.map_or("—".into(), goal_ratio)
    );
}

fn goals_section(o: &mut String, r: &Results) {
    let _ = writeln!(o, "## Goals (measured, never asserted)\n");
    // The produce-path goals (cold start, per record) hold the policy modules; the observing
    // ones run consumer side, built once per stream, and have goals of their own below.
    let policies: Vec<usize> = r
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Policy)
        .map(|(i, _)| i)
        .collect();
    let is_policy_crate = |crate_name: &str| {
        r.subjects
            .iter()
            .any(|s| s.role == Role::Policy && s.crate_name == crate_name)
    };
    // The builds without MAC code are held to the size and cold-start goals too.
    let policy_builds: Vec<usize> = r
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.role == Role::Policy || (s.role == Role::Lean && is_policy_crate(s.crate_name))
        })
        .map(|(i, _)| i)
        .collect();
    let builds: Vec<usize> = r
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.role, Role::Policy | Role::Observer | Role::Lean))
        .map(|(i, _)| i)
        .collect();
    let pass = r.subject(PASSTHROUGH);

    // 1. Cold start.
    let _ = writeln!(
        o,
        "### Cold start, official engine: every policy module, both builds, <= {COLD_VS_FLOOR}x \
         passthrough\n"
    );
    match pass.and_then(|p| r.cold_start(p, ColdKind::Official)) {
        None => {
            let _ = writeln!(o, "Not measured: no passthrough cold start in this run.\n");
        }
        Some(base) => {
            let _ = writeln!(
                o,
                "passthrough: {} in this run.\n\n| module | official cold start | x passthrough | <= {COLD_VS_FLOOR}x |",
                dur(base)
            );
            let _ = writeln!(o, "|---|---:|---:|---|");
            let (mut met, mut total) = (0, 0);
            for &i in &policy_builds {
                let Some(t) = r.cold_start(i, ColdKind::Official) else {
                    continue;
                };
                let x = t.as_secs_f64() / base.as_secs_f64();
                total += 1;
                met += usize::from(x <= COLD_VS_FLOOR);
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    r.subjects[i].name,
                    dur(t),
                    goal_ratio(x),
                    verdict(x <= COLD_VS_FLOOR)
                );
            }
            let _ = writeln!(o, "\n{met} of {total} met.\n");
        }
    }

    // 2. Per record.
    let _ = writeln!(
        o,
        "### Per record, official engine: every policy module >= {PER_RECORD_VS_FLOOR}x \
         passthrough on every batch, or >= {PER_RECORD_VS_OWN_FLOOR}x its own append floor on a \
         batch whose records it grows\n"
    );
    let _ = writeln!(
        o,
        "| module | batch | adds per record | rec/s | x passthrough | own floor | x own floor | verdict |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---|---:|---|");
    let (mut met, mut total) = (0, 0);
    for &i in &policies {
        for &shape in &r.shapes {
            total += 1;
            let name = r.subjects[i].name;
            let adds = r
                .growth
                .get(&(i, shape))
                .map_or("—".into(), |g| g.per_record());
            let Some(rate) = r.rate(i, EngineKind::Official, shape) else {
                let _ = writeln!(
                    o,
                    "| {name} | {} | {adds} | {} | — | — | — | **missed** |",
                    shape.label(),
                    why_not(r, i, EngineKind::Official, shape)
                );
                continue;
            };
            let vs_pass = pass
                .and_then(|p| r.rate(p, EngineKind::Official, shape))
                .map(|b| rate.records_per_s / b.records_per_s);
            let grows = r.growth.get(&(i, shape)).is_some_and(|g| g.grows());
            let own = r.vs_own_floor(i, EngineKind::Official, shape);
            let (floor, vs_floor) = match own {
                Some((f, x)) if grows => (f.label(r), x),
                _ => ("—".to_string(), None),
            };
            let by_pass = vs_pass.is_some_and(|x| x >= PER_RECORD_VS_FLOOR);
            let by_floor = vs_floor.is_some_and(|x| x >= PER_RECORD_VS_OWN_FLOOR);
            let text = if by_pass {
                format!("met (>= {PER_RECORD_VS_FLOOR}x passthrough)")
            } else if by_floor {
                format!("met (>= {PER_RECORD_VS_OWN_FLOOR}x {floor})")
            } else {
                verdict(false).to_string()
            };
            met += usize::from(by_pass || by_floor);
            let _ = writeln!(
                o,
                "| {name} | {} | {adds} | {} | {} | {floor} | {} | {text} |",
                shape.label(),
                si(rate.records_per_s),
                vs_pass.map_or("—".into(), goal_ratio),
                vs_floor.map_or("—".into(), goal_ratio),
            );
        }
    }
    if total == 0 {
        let _ = writeln!(
            o,
            "\nNo policy module was measured in this configuration.\n"
        );
    } else {
        let _ = writeln!(o, "\n{met} of {total} module x batch checks met.\n");
    }

    let (records, value) = SECRET_GOAL_SHAPE;
    let _ = writeln!(
        o,
        "### Per record with a MAC, official engine: {SECRET_GOAL_MODULE} >= {SECRET_VS_FLOOR}x \
         passthrough on {} x {}\n",
        group(records as u64),
        crate::inputs::bytes_label(value)
    );
    let secret_shapes: Vec<Shape> = r
        .shapes
        .iter()
        .copied()
        .filter(|s| s.records == records && s.value == value)
        .collect();
    match r.subject(SECRET_GOAL_MODULE) {
        Some(i) if !secret_shapes.is_empty() => {
            let _ = writeln!(
                o,
                "| module | batch | rec/s | x passthrough | >= {SECRET_VS_FLOOR}x |"
            );
            let _ = writeln!(o, "|---|---|---:|---:|---|");
            let (mut met, mut total) = (0, 0);
            for shape in secret_shapes {
                total += 1;
                let rate = r.rate(i, EngineKind::Official, shape);
                let vs_pass = rate.zip(pass.and_then(|p| r.rate(p, EngineKind::Official, shape)));
                let x = vs_pass.map(|(m, b)| m.records_per_s / b.records_per_s);
                let ok = x.is_some_and(|x| x >= SECRET_VS_FLOOR);
                met += usize::from(ok);
                let _ = writeln!(
                    o,
                    "| {SECRET_GOAL_MODULE} | {} | {} | {} | {} |",
                    shape.label(),
                    rate.map_or_else(
                        || why_not(r, i, EngineKind::Official, shape),
                        |m| si(m.records_per_s)
                    ),
                    x.map_or("—".into(), goal_ratio),
                    verdict(ok)
                );
            }
            let _ = writeln!(o, "\n{met} of {total} met.\n");
        }
        _ => {
            let _ = writeln!(o, "Not measured in this configuration.\n");
        }
    }

    observer_goal(o, r, pass);

    // 3. Size.
    let _ = writeln!(
        o,
        "### Module size: <= {} KB without MAC code, <= {} KB with it\n",
        SIZE_GOAL_NO_MAC / 1024,
        SIZE_GOAL_MAC / 1024
    );
    let _ = writeln!(o, "| module | size | MAC code | limit | verdict |");
    let _ = writeln!(o, "|---|---:|---|---:|---|");
    for &i in &builds {
        let s = &r.subjects[i];
        let mac = s.mac_code;
        let limit = if mac { SIZE_GOAL_MAC } else { SIZE_GOAL_NO_MAC };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} KB | {} |",
            s.name,
            size(s.size),
            if mac { "yes" } else { "no" },
            limit / 1024,
            if s.size <= limit {
                "met".to_string()
            } else {
                format!("**missed** by {} B", group((s.size - limit) as u64))
            }
        );
    }
    let _ = writeln!(o);

    // 4. Envelope.
    let _ = writeln!(
        o,
        "### Envelope overhead: <= {ENVELOPE_GOAL} B per record for ids up to 16 bytes, no MAC\n"
    );
    let worst = r
        .tag_sizes
        .iter()
        .filter(|t| t.id_len <= 16)
        .max_by_key(|t| t.without_mac);
    let measured = r
        .envelope
        .iter()
        .find(|e| e.module == "origin-tag" && !e.secret)
        .map(|e| added(&e.untagged));
    if let Some(t) = worst {
        let fits = r
            .tag_sizes
            .iter()
            .filter(|t| t.without_mac <= ENVELOPE_GOAL)
            .map(|t| t.id_len)
            .max();
        let _ = writeln!(
            o,
            "{}: a 16-byte id gives a {} B tag ({} over); origin-tag with `cluster={}` adds {} per \
             record. The format's fixed part is 15 B plus a 6-byte timestamp, so only ids of at \
             most {} B fit in {ENVELOPE_GOAL} B{}.\n",
            verdict(t.without_mac <= ENVELOPE_GOAL),
            t.without_mac,
            t.without_mac.saturating_sub(ENVELOPE_GOAL),
            crate::CLUSTER,
            measured.unwrap_or_else(|| "—".into()),
            ENVELOPE_GOAL.saturating_sub(15 + 6 + 1),
            fits.map_or(String::new(), |f| format!(
                " (of the lengths above, {f} B is the largest that fits)"
            )),
        );
    }

    // 5. Harness vs official.
    let _ = writeln!(
        o,
        "### Harness at least as fast as the official engine (same module and batch)\n"
    );
    for kind in [EngineKind::Harness, EngineKind::HarnessCall] {
        let mut cells = Vec::new();
        for (i, s) in r.subjects.iter().enumerate() {
            for &shape in &r.shapes {
                if let (Some(h), Some(b)) = (
                    r.rate(i, kind, shape),
                    r.rate(i, EngineKind::Official, shape),
                ) {
                    cells.push((h.records_per_s / b.records_per_s, s.name, shape));
                }
            }
        }
        if cells.is_empty() {
            continue;
        }
        cells.sort_by(|a, b| a.0.total_cmp(&b.0));
        let met = cells.iter().filter(|c| c.0 >= 1.0).count();
        let worst: Vec<String> = cells
            .iter()
            .take(3)
            .map(|(x, name, shape)| format!("{name} on {} {}", shape.label(), ratio(*x)))
            .collect();
        let mut by_batch = String::new();
        for &records in &r.config.batch_sizes {
            let v: Vec<f64> = cells
                .iter()
                .filter(|c| c.2.records == records)
                .map(|c| c.0)
                .collect();
            if v.is_empty() {
                continue;
            }
            let geo = (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
            let _ = write!(
                by_batch,
                "{}batches of {}: {}",
                if by_batch.is_empty() { "" } else { "; " },
                group(records as u64),
                ratio(geo)
            );
        }
        let _ = writeln!(
            o,
            "- {} / official: {}, as fast or faster in {met} of {} module x batch cells; \
             geometric mean by batch size: {by_batch}; slowest: {}.",
            kind.label(),
            verdict(met == cells.len()),
            cells.len(),
            worst.join(", ")
        );
    }
    let _ = writeln!(o);

    // 6. Cached build.
    let _ = writeln!(o, "### Cached chain build under {}\n", dur(CACHED_GOAL));
    let mut slowest: Option<(Duration, &str)> = None;
    let mut all = true;
    for (i, s) in r.subjects.iter().enumerate() {
        if let Some(t) = r.cold_start(i, ColdKind::HarnessCached) {
            all &= t < CACHED_GOAL;
            if slowest.is_none_or(|(d, _)| t > d) {
                slowest = Some((t, s.name));
            }
        }
    }
    if let Some((t, name)) = slowest {
        let _ = writeln!(
            o,
            "{}: the slowest cached build is {name}'s, {}.\n",
            verdict(all),
            dur(t)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(si(1_940_000.0), "1.94M");
        assert_eq!(si(445_000.0), "445k");
        assert_eq!(si(12.5), "12.5");
        assert_eq!(ratio(4.349), "4.35x");
        assert_eq!(goal_ratio(0.7969), "0.797x");
        assert_eq!(dur(Duration::from_micros(850)), "850 µs");
        assert_eq!(dur(Duration::from_millis(19)), "19.0 ms");
    }
}
