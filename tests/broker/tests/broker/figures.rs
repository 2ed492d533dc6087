//! The measurement's figures as Markdown: the tables for bench/README.md and the advice for
//! docs/POLICIES.md, written into their marked blocks when the full measurement is blessed.
//! Every number in them is computed here from one run; none is typed by hand.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use broker_tests::{marked_block, replace_block};
use integration::machine::MachineInfo;

use crate::round_trip::{MEASURE, SCENARIO};
use crate::suite::{policies_md, say};

/// The marked block of bench/README.md holding the tables.
pub const BENCH_BLOCK: &str = "broker-figures";
/// The marked block of docs/POLICIES.md holding the advice's figures.
pub const ADVICE_BLOCK: &str = "producer-chain-cost";

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    NoChain,
    /// The ABI floor: a filter that hands its input back.
    Passthrough,
    /// The official SDK's hello filter.
    SdkHello,
    /// A policy module, in its full build or its lean one (no MAC code).
    Module {
        name: &'static str,
        lean: bool,
    },
    /// origin-tag with a `secret`.
    Secret,
    /// loop-guard | mirror-guard | origin-tag.
    Chain,
    /// mirror-policy at the topic hook, no producer-side chain.
    Hook,
}

/// One chain's figures: medians over the runs.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub kind: RowKind,
    pub wasm_bytes: Option<u64>,
    /// A produce of all the records with default batching, and the batches it stored.
    pub default: Duration,
    pub default_batches: usize,
    /// The same with `--batch-size LARGE_BATCH`.
    pub large: Duration,
    pub large_batches: usize,
    /// A one-record produce.
    pub single: Duration,
}

/// Lines sent from stdin, one request each.
#[derive(Debug, Clone)]
pub struct StdinRow {
    pub label: String,
    pub lines: usize,
    pub took: Duration,
    pub batches: usize,
}

/// One run's figures.
#[derive(Debug, Clone)]
pub struct Figures {
    pub records: usize,
    pub value_len: usize,
    pub large_batch: usize,
    pub runs: usize,
    pub single_runs: usize,
    pub rows: Vec<Row>,
    pub stdin: Vec<StdinRow>,
    pub machine: MachineInfo,
    /// `fluvio-run --version`.
    pub fluvio: String,
    pub took: Duration,
}

impl Figures {
    fn row(&self, kind: RowKind) -> Option<&Row> {
        self.rows.iter().find(|r| r.kind == kind)
    }

    fn module(&self, name: &str, lean: bool) -> Option<&Row> {
        self.rows.iter().find(
            |r| matches!(r.kind, RowKind::Module { name: n, lean: l } if n == name && l == lean),
        )
    }

    fn none(&self) -> Option<&Row> {
        self.row(RowKind::NoChain)
    }

    /// What the chain adds to a produce with default batching, per batch stored, in ms: for a
    /// producer-side chain, mostly its build.
    fn per_batch(&self, row: &Row) -> Option<f64> {
        let none = self.none()?;
        (row.kind != RowKind::NoChain && row.default_batches > 0).then(|| {
            (row.default.as_secs_f64() - none.default.as_secs_f64()) * 1e3
                / row.default_batches as f64
        })
    }

    /// A one-record produce with the chain minus the same without one, in ms.
    fn per_request(&self, row: &Row) -> Option<f64> {
        let none = self.none()?;
        (row.kind != RowKind::NoChain)
            .then_some((row.single.as_secs_f64() - none.single.as_secs_f64()) * 1e3)
    }
}

/// `a / b` as `12.3x`, three figures; a dash when `b` is not positive.
fn ratio(a: f64, b: f64) -> String {
    if b <= 0.0 || !a.is_finite() || !b.is_finite() {
        return "—".into();
    }
    let r = a / b;
    if r.abs() >= 100.0 {
        format!("{r:.0}x")
    } else if r.abs() >= 10.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.2} s")
    }
}

fn ms(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("—".into(), ms)
}

/// `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or("?"))
        .collect();
    groups.join(",")
}

fn bytes(n: Option<u64>) -> String {
    n.map_or("—".into(), |n| format!("{} B", thousands(n)))
}

fn load(l: Option<f64>) -> String {
    l.map_or("unknown".into(), |l| format!("{l:.2}"))
}

/// A table cell: `|` would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The command that reruns the measurement and writes its blocks.
pub fn command() -> String {
    format!("FLUVIO_BIN=/path/to/dir {MEASURE}=1 BROKER_BLESS=1 cargo test -p broker-tests")
}

/// The tables for bench/README.md.
pub fn bench_block(f: &Figures) -> String {
    let m = &f.machine;
    let mut out = String::new();
    out.push_str(&format!(
        "- machine: {} cores (nproc), {}; load average {} at start, {} at end\n",
        m.nproc,
        m.cpu,
        load(m.load_start),
        load(m.load_end)
    ));
    out.push_str(&format!("- date: {}\n", m.date));
    out.push_str(&format!(
        "- Fluvio: {}, an SC and one SPU on loopback started by the suite\n",
        f.fluvio
    ));
    out.push_str(&format!(
        "- configuration: {} records of {} B per produce, {} (one-record produces: {}), \
         interleaved (each run goes once over every chain, in a rotated order); the \
         measurement took {:.0} s\n",
        thousands(f.records as u64),
        f.value_len,
        runs(f.runs),
        runs(f.single_runs),
        f.took.as_secs_f64()
    ));
    out.push_str(&format!("- command: `{}`\n\n", command()));

    let none = f.none();
    let floor = f.row(RowKind::Passthrough);
    let base =
        |pick: fn(&Row) -> Duration, row: Option<&Row>| row.map_or(0.0, |r| pick(r).as_secs_f64());
    out.push_str(&format!(
        "`fluvio produce TOPIC -f FILE` of {} records, every acknowledgement awaited; x ratios \
         compare with the produce without a chain and with the `passthrough` chain in the same \
         column.\n\n",
        thousands(f.records as u64)
    ));
    out.push_str(&format!(
        "| chain | .wasm | default batching | x no chain | x passthrough | `--batch-size {}` | x no chain | x passthrough |\n",
        f.large_batch
    ));
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &f.rows {
        let d = r.default.as_secs_f64();
        let l = r.large.as_secs_f64();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&r.label),
            bytes(r.wasm_bytes),
            secs(r.default),
            ratio(d, base(|r| r.default, none)),
            ratio(d, base(|r| r.default, floor)),
            secs(r.large),
            ratio(l, base(|r| r.large, none)),
            ratio(l, base(|r| r.large, floor)),
        ));
    }

    out.push_str(&format!(
        "\nPer batch and per request. The SPU builds (compiles and initialises) a producer-side \
         chain for every batch it is sent, and stores what the chain gives back as one batch; \
         the batches are counted in the partition's segment files. Added per batch = (the \
         produce with default batching minus the same without a chain) / its batches: mostly \
         the chain's build, plus its work on about {} records. Chain per request = a \
         one-record produce with the chain minus the same without one.\n\n",
        f.rows
            .iter()
            .find(|r| r.kind != RowKind::NoChain && r.default_batches > 0)
            .map_or(0, |r| f.records / r.default_batches)
    ));
    out.push_str(&format!(
        "| chain | batches: default / `--batch-size {}` | added per batch | x passthrough | one-record produce | chain per request | x passthrough |\n",
        f.large_batch
    ));
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    let floor_batch = floor.and_then(|r| f.per_batch(r)).unwrap_or(0.0);
    let floor_request = floor.and_then(|r| f.per_request(r)).unwrap_or(0.0);
    for r in &f.rows {
        let per_batch = f.per_batch(r);
        let per_request = f.per_request(r);
        out.push_str(&format!(
            "| {} | {} / {} | {} | {} | {} | {} | {} |\n",
            cell(&r.label),
            r.default_batches,
            r.large_batches,
            opt_ms(per_batch),
            per_batch.map_or("—".into(), |v| ratio(v, floor_batch)),
            ms(r.single.as_secs_f64() * 1e3),
            opt_ms(per_request),
            per_request.map_or("—".into(), |v| ratio(v, floor_request)),
        ));
    }
    if let Some(none) = none {
        out.push_str(&format!(
            "\nThe producer sends what it holds whenever the SPU has answered, so the batches \
             depend on how soon it answers: without a chain {} / {} batches{}, through a \
             producer-side chain {} / {}.\n",
            none.default_batches,
            none.large_batches,
            f.row(RowKind::Hook).map_or(String::new(), |h| format!(
                " (mirror-policy at the topic hook: {} / {})",
                h.default_batches, h.large_batches
            )),
            batch_range(f, |r| r.default_batches),
            batch_range(f, |r| r.large_batches),
        ));
    }
    if !f.stdin.is_empty() {
        out.push_str(&format!(
            "\nFrom stdin (`printf ... | fluvio produce TOPIC`) the CLI waits for each line's \
             acknowledgement before it reads the next, so every line is a request of its own: \
             {}.\n",
            f.stdin
                .iter()
                .map(|s| format!(
                    "{}: {} a line ({} lines, {} batches stored)",
                    s.label,
                    ms(s.took.as_secs_f64() * 1e3 / s.lines as f64),
                    s.lines,
                    s.batches
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    out
}

/// The advice's figures for docs/POLICIES.md: a table, then what it says, every number from
/// this run.
pub fn advice_block(f: &Figures) -> String {
    let m = &f.machine;
    let mut out = format!(
        "From one run of the real-broker suite ({}; {} cores, {}, load average {} to {}; {}): \
         `fluvio produce TOPIC -f FILE` of {} records of {} B, {}; every figure of the run is \
         in [bench/README.md](../bench/README.md#the-real-produce-path).\n\n",
        m.date,
        m.nproc,
        m.cpu,
        load(m.load_start),
        load(m.load_end),
        f.fluvio,
        thousands(f.records as u64),
        f.value_len,
        runs(f.runs)
    );
    out.push_str(&format!(
        "| attached | default batching | `--batch-size {}` | added per batch | lean build: added per batch |\n",
        f.large_batch,
    ));
    out.push_str("|---|---:|---:|---:|---:|\n");
    for r in &f.rows {
        let lean = match r.kind {
            RowKind::Module { lean: true, .. } => continue,
            RowKind::Module { name, lean: false } => f.module(name, true),
            _ => None,
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&r.label),
            secs(r.default),
            secs(r.large),
            opt_ms(f.per_batch(r)),
            lean.map_or("—".into(), |l| opt_ms(f.per_batch(l))),
        ));
    }
    out.push('\n');
    for bullet in advice(f) {
        out.push_str(&format!("- {bullet}\n"));
    }
    out
}

/// The advice's sentences, each with its numbers from the run; a sentence whose rows are
/// missing is left out.
fn advice(f: &Figures) -> Vec<String> {
    let mut said = Vec::new();
    let Some(none) = f.none() else {
        return said;
    };
    let full: Vec<(&Row, f64)> = f
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Module { lean: false, .. }))
        .filter_map(|r| Some((r, f.per_batch(r)?)))
        .collect();
    let floor = f.row(RowKind::Passthrough);
    let sdk = f.row(RowKind::SdkHello);
    let chain = f.row(RowKind::Chain);
    let tag = f.module("origin-tag", false);

    let low = full.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let high = full.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some(floor), Some(sdk), Some(chain), Some(low), Some(high)) =
        (floor, sdk, chain, low, high)
    {
        let mut s = format!(
            "**Each batch pays for the chain's build.** The SPU builds (compiles and \
             initialises) a producer-side chain for every batch the producer sends. Added per \
             batch in this run: {} for passthrough, a module that does nothing; {} ({}) to {} \
             ({}) for one policy module; {} for the three modules loop-guard | mirror-guard | \
             origin-tag; {} for the official SDK's hello filter.",
            opt_ms(f.per_batch(floor)),
            ms(low.1),
            short(low.0),
            ms(high.1),
            short(high.0),
            opt_ms(f.per_batch(chain)),
            opt_ms(f.per_batch(sdk)),
        );
        if let Some(tag) = tag {
            s.push_str(&format!(
                " A one-record produce shows the same: {} with origin-tag, {} without a chain.",
                ms(tag.single.as_secs_f64() * 1e3),
                ms(none.single.as_secs_f64() * 1e3)
            ));
        }
        said.push(s);
    }

    if let Some(tag) = tag {
        let mut s = format!(
            "**Batching divides it.** Through a producer-side chain, default batching (16 KB) \
             sent the {} records in {}, `--batch-size {}` in {}: with origin-tag the produce took {} against {} without a \
             chain ({}), and {} against {} ({}) in large batches.",
            thousands(f.records as u64),
            batch_range(f, |r| r.default_batches),
            f.large_batch,
            batch_range(f, |r| r.large_batches),
            secs(tag.default),
            secs(none.default),
            ratio(tag.default.as_secs_f64(), none.default.as_secs_f64()),
            secs(tag.large),
            secs(none.large),
            ratio(tag.large.as_secs_f64(), none.large.as_secs_f64()),
        );
        if !f.stdin.is_empty() {
            s.push_str(&format!(
                " From stdin the CLI sends every line as a request of its own: {}.",
                f.stdin
                    .iter()
                    .map(|r| format!(
                        "{} a line with {}",
                        ms(r.took.as_secs_f64() * 1e3 / r.lines as f64),
                        r.label
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        said.push(s);
    }

    if let (Some(hook), Some(policy), Some(chain)) = (
        f.row(RowKind::Hook),
        f.module("mirror-policy", false),
        f.row(RowKind::Chain),
    ) {
        said.push(format!(
            "**At the topic hook the build is paid once**, when the partition leader takes the \
             partition, not per batch: with mirror-policy there the {} records took {} with \
             default batching ({} without any module), against {} with the same module \
             producer side and {} with the chain loop-guard | mirror-guard | origin-tag, which \
             decides the same.",
            thousands(f.records as u64),
            secs(hook.default),
            secs(none.default),
            secs(policy.default),
            secs(chain.default),
        ));
    }

    let pairs: Vec<String> = f
        .rows
        .iter()
        .filter_map(|r| match r.kind {
            RowKind::Module { name, lean: false } => {
                let lean = f.module(name, true)?;
                let (full_ms, lean_ms) = (f.per_batch(r)?, f.per_batch(lean)?);
                let same = r.wasm_bytes == lean.wasm_bytes;
                Some(format!(
                    "{name} {} to {}{}",
                    ms(full_ms),
                    ms(lean_ms),
                    if same {
                        " (the same module in both builds: the difference is this run's noise)"
                            .to_string()
                    } else {
                        format!(
                            " ({} smaller, {})",
                            bytes(
                                r.wasm_bytes
                                    .zip(lean.wasm_bytes)
                                    .map(|(a, b)| a.saturating_sub(b))
                            ),
                            change(full_ms, lean_ms)
                        )
                    }
                ))
            }
            _ => None,
        })
        .collect();
    if !pairs.is_empty() {
        said.push(format!(
            "**Lean builds** (`cargo build-modules-lean`, no MAC code) change what a module adds \
             per batch from the full build's to the lean one's: {}.",
            pairs.join("; ")
        ));
    }

    if let (Some(secret), Some(tag)) = (f.row(RowKind::Secret), tag) {
        said.push(format!(
            "**With a `secret`** origin-tag added {} per batch and took {} in large batches, \
             against {} and {} without one.",
            opt_ms(f.per_batch(secret)),
            secs(secret.large),
            opt_ms(f.per_batch(tag)),
            secs(tag.large),
        ));
    }
    said
}

/// `one run`, or `medians of N runs`.
fn runs(n: usize) -> String {
    if n == 1 {
        "one run".into()
    } else {
        format!("medians of {n} runs")
    }
}

/// A module row by its module's name, any other by its label.
fn short(row: &Row) -> &str {
    match row.kind {
        RowKind::Module { name, .. } => name,
        _ => &row.label,
    }
}

/// The batches the producer-side chains' produces stored, `95 batches` or `95 to 98 batches`.
fn batch_range(f: &Figures, pick: fn(&Row) -> usize) -> String {
    let counts: Vec<usize> = f
        .rows
        .iter()
        .filter(|r| !matches!(r.kind, RowKind::NoChain | RowKind::Hook))
        .map(pick)
        .collect();
    let (Some(lo), Some(hi)) = (counts.iter().min(), counts.iter().max()) else {
        return "— batches".into();
    };
    let unit = if *hi == 1 { "batch" } else { "batches" };
    if lo == hi {
        format!("{lo} {unit}")
    } else {
        format!("{lo} to {hi} {unit}")
    }
}

/// `12% less` or `3% more`, from `from` to `to`.
fn change(from: f64, to: f64) -> String {
    if from <= 0.0 {
        return "—".into();
    }
    let pct = (to - from) / from * 100.0;
    if pct <= 0.0 {
        format!("{:.0}% less", -pct)
    } else {
        format!("{pct:.0}% more")
    }
}

/// bench/README.md.
fn bench_readme() -> PathBuf {
    integration::workspace_root()
        .join("bench")
        .join("README.md")
}

/// The marked block `name` of the file at `path`: read, and rewritten with `text` when
/// `text` is given.
fn block(path: &PathBuf, name: &str, text: Option<&str>) {
    let doc = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let block = marked_block(&doc, name).unwrap_or_else(|e| {
        panic!(
            "{}: the block the measurement writes: {e} (it is `<!-- begin {name}: ... -->` \
             ... `<!-- end {name} -->`)",
            path.display()
        )
    });
    if let Some(text) = text {
        let updated = replace_block(&doc, &block, text);
        std::fs::File::create(path)
            .and_then(|mut f| f.write_all(updated.as_bytes()))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        say!(
            "broker-tests: rewrote the block {name} of {}",
            path.strip_prefix(integration::workspace_root())
                .unwrap_or(path)
                .display()
        );
    }
}

/// Prints the figures; after the full measurement with `BROKER_BLESS=1`, writes them into
/// their blocks. The blocks must exist in every run, so that blessing cannot fail late.
pub fn report(f: &Figures, full: bool) {
    let bench = bench_block(f);
    let advice = advice_block(f);
    if full {
        say!("broker-tests: the round trip's figures:\n\n{bench}\n{advice}");
    } else {
        say!(
            "broker-tests: the round trip's figures (short: few records, one run; they check \
             the measurement, not to be quoted):\n\n{bench}"
        );
    }
    let bless = std::env::var_os("BROKER_BLESS").is_some_and(|v| v == "1");
    let write = full && bless;
    block(
        &bench_readme(),
        BENCH_BLOCK,
        write.then_some(bench.as_str()),
    );
    block(
        &policies_md(),
        ADVICE_BLOCK,
        write.then_some(advice.as_str()),
    );
    if full && !bless {
        say!(
            "broker-tests: BROKER_BLESS=1 writes these figures into bench/README.md and \
             docs/POLICIES.md"
        );
    } else if !full {
        say!(
            "broker-tests: the short variant writes no figures; `{}` measures in full (scenario \
             `{SCENARIO}` alone)",
            command()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, kind: RowKind, default_ms: u64, single_ms: u64) -> Row {
        Row {
            label: label.into(),
            kind,
            wasm_bytes: Some(10_000),
            default: Duration::from_millis(default_ms),
            default_batches: 100,
            large: Duration::from_millis(default_ms / 10),
            large_batches: 4,
            single: Duration::from_millis(single_ms),
        }
    }

    fn figures() -> Figures {
        Figures {
            records: 20_000,
            value_len: 64,
            large_batch: 500_000,
            runs: 3,
            single_runs: 5,
            rows: vec![
                row("no chain", RowKind::NoChain, 100, 50),
                row("passthrough (ABI floor)", RowKind::Passthrough, 1_100, 60),
                row("sdk-hello (official SDK)", RowKind::SdkHello, 20_100, 250),
                row(
                    "origin-tag",
                    RowKind::Module {
                        name: "origin-tag",
                        lean: false,
                    },
                    3_100,
                    80,
                ),
                row(
                    "origin-tag, lean",
                    RowKind::Module {
                        name: "origin-tag",
                        lean: true,
                    },
                    2_600,
                    75,
                ),
                row(
                    "loop-guard | mirror-guard | origin-tag",
                    RowKind::Chain,
                    9_100,
                    150,
                ),
                row(
                    "mirror-policy (audit) at the topic hook",
                    RowKind::Hook,
                    300,
                    55,
                ),
            ],
            stdin: vec![],
            machine: MachineInfo::now(),
            fluvio: "fluvio-run 0.0.0".into(),
            took: Duration::from_secs(300),
        }
    }

    #[test]
    fn per_batch_and_per_request_come_from_the_no_chain_row() {
        let f = figures();
        let tag = f.module("origin-tag", false).unwrap();
        assert_eq!(f.per_batch(tag).map(|v| v.round()), Some(30.0));
        assert_eq!(f.per_request(tag).map(|v| v.round()), Some(30.0));
        assert_eq!(f.per_batch(f.none().unwrap()), None);
    }

    #[test]
    fn the_tables_hold_every_row_and_escape_pipes() {
        let f = figures();
        let bench = bench_block(&f);
        for r in &f.rows {
            assert!(bench.contains(&cell(&r.label)), "{}", r.label);
        }
        assert!(bench.contains("loop-guard \\| mirror-guard \\| origin-tag"));
        assert!(
            bench.contains("| origin-tag | 10,000 B | 3.10 s | 31.0x | 2.82x |"),
            "{bench}"
        );
        let advice = advice_block(&f);
        assert!(
            !advice.contains("| origin-tag, lean |"),
            "lean builds are a column: {advice}"
        );
        assert!(
            advice.contains("| origin-tag | 3.10 s | 0.31 s | 30.0 ms | 25.0 ms |"),
            "{advice}"
        );
        assert!(advice.contains("origin-tag 30.0 ms to 25.0 ms"), "{advice}");
        assert!(
            advice.contains("in 100 batches, `--batch-size 500000` in 4 batches"),
            "{advice}"
        );
    }

    #[test]
    fn ratios_and_numbers_read_as_in_the_docs() {
        assert_eq!(ratio(3.0, 0.0), "—");
        assert_eq!(ratio(1.0, 3.0), "0.33x");
        assert_eq!(ratio(150.0, 1.0), "150x");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(change(30.0, 25.0), "17% less");
        assert_eq!(change(30.0, 33.0), "10% more");
    }
}
