//! Runs the built benchmark binary in its `--quick` configuration and checks the report has
//! every module and both engines, so the command cannot rot; and checks that the append floors
//! add to each record what the modules they stand for add. No timing is asserted.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use bench::engines::{EngineKind, Reply, Runners};
use bench::inputs::{cell, Shape, Tagging};
use bench::measure::{check_appended, Growth};
use bench::{Appends, APPEND, APPEND_MAC};

/// Held by the tests that build the modules: the bench binary and this process would otherwise
/// run wasm-opt over the same files at once.
static BUILDS: Mutex<()> = Mutex::new(());

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bench-quick-{}-{name}", std::process::id()))
}

#[test]
fn quick_run_reports_every_module_in_both_engines() {
    let _builds = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let md = temp("report.md");
    let svg = temp("chart.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--quick", "--reps", "1", "--markdown"])
        .arg(&md)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("run the bench binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench --quick failed: {}\n{stderr}",
        out.status
    );

    for module in [
        "sdk-hello",
        "passthrough",
        "append",
        "append+mac",
        "origin-tag",
        "loop-guard",
        "mirror-guard",
        "origin-strip",
        "mirror-policy",
        "origin-stats",
        "origin-inspect",
    ] {
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("| {module} |")))
            .count();
        // Modules, cold start, and one row per throughput table at least.
        assert!(
            rows >= 3,
            "{module} has {rows} rows in the report:\n{stdout}"
        );
    }
    // The builds without MAC code: size and cold start (tables and goals), no throughput; the
    // observing modules' are held to no cold-start goal (they are built once per stream).
    for (module, expected) in [
        ("origin-tag (no MAC)", 4),
        ("loop-guard (no MAC)", 4),
        ("mirror-guard (no MAC)", 4),
        ("origin-strip (no MAC)", 4),
        ("mirror-policy (no MAC)", 4),
        ("origin-stats (no MAC)", 3),
        ("origin-inspect (no MAC)", 3),
    ] {
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("| {module} |")))
            .count();
        assert_eq!(
            rows, expected,
            "{module} has {rows} rows in the report:\n{stdout}"
        );
    }
    for heading in [
        "## Modules",
        "## Cold start",
        "## Throughput",
        "## Envelope overhead",
        "## Floors",
        "## De-duplication window under a flood",
        "| ids equal in their low 16 bits |",
        "## Goals",
        "official rec/s",
        "harness rec/s",
        "x sdk-hello",
        "x passthrough",
        "x own floor",
        "### Cold start, official engine: every policy module, both builds, <= 1.5x passthrough",
        "### Per record, official engine: every policy module >= 0.8x passthrough on every \
         batch, or >= 0.9x its own append floor on a batch whose records it grows",
        "### Per record with a MAC, official engine: origin-tag+secret >= 0.5x passthrough on \
         10,000 x 64 B",
        "1 x 64 B, untagged",
        "100 x 64 B, tagged",
    ] {
        assert!(
            stdout.contains(heading),
            "no {heading:?} in the report:\n{stdout}"
        );
    }
    assert!(stdout.contains("- machine: "), "no machine line");
    assert!(stdout.contains("- date: "), "no date line");

    // Both engines produced figures for the floor: a number, not a refusal or failure.
    let floor = stdout
        .lines()
        .find(|l| l.starts_with("| passthrough |") && l.matches('|').count() > 12)
        .expect("a throughput row for passthrough");
    assert!(
        !floor.contains("refused") && !floor.contains("failed"),
        "passthrough did not run in every engine: {floor}"
    );

    floors_in_the_report(&stdout);
    goals_in_the_report(&stdout);

    let written = std::fs::read_to_string(&md).expect("the --markdown file");
    assert_eq!(
        written, stdout,
        "--markdown writes the report printed on stdout"
    );
    let chart = std::fs::read_to_string(&svg).expect("the --svg file");
    assert!(chart.contains("<svg"), "not an SVG document");
    assert!(chart.contains("records per batch") && chart.contains("records/s"));
    assert!(
        chart.contains("mirror-policy"),
        "the chart has a legend entry per module"
    );
    let _ = std::fs::remove_file(md);
    let _ = std::fs::remove_file(svg);
}

/// The cells of the table row that starts with `| name |` after `heading`.
fn row<'a>(report: &'a str, heading: &str, name: &str) -> Vec<&'a str> {
    let at = report
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the report:\n{report}"));
    let line = report[at..]
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no row {name:?} after {heading:?}:\n{report}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

/// The Floors section: each append floor claims what the `origin` crate says origin-tag adds,
/// measured the same on every batch; each module's own floor is the one standing for it.
fn floors_in_the_report(report: &str) {
    let g = bench::tag_growth().expect("the benchmark's tags");
    for (floor, untagged) in [(APPEND, g.untagged), (APPEND_MAC, g.untagged_mac)] {
        let cells = row(report, "## Floors", floor);
        let claim = format!("+{untagged} B / +{} B", g.tagged);
        assert_eq!(cells[3], claim, "{floor}'s claim: {cells:?}");
        assert_eq!(
            cells[4],
            format!("+{untagged} B"),
            "{floor} untagged: {cells:?}"
        );
        assert_eq!(
            cells[5],
            format!("+{} B", g.tagged),
            "{floor} tagged: {cells:?}"
        );
    }
    for (module, untagged, tagged) in [
        ("origin-tag", APPEND, APPEND),
        ("mirror-policy", APPEND, APPEND),
        ("mirror-guard", APPEND, "passthrough"),
        ("origin-tag+secret", APPEND_MAC, APPEND_MAC),
        ("loop-guard", "passthrough", "passthrough"),
        ("origin-strip", "passthrough", "passthrough"),
    ] {
        let cells = row(report, "Each module's own floor", module);
        assert_eq!(
            (cells[2], cells[4]),
            (untagged, tagged),
            "{module}: {cells:?}"
        );
    }
    let count = report
        .lines()
        .find(|l| l.contains("module x batch cells where a module grows the records"))
        .expect("the floors' count line");
    let numbers: Vec<usize> = count
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        numbers.len() >= 2 && numbers[0] == numbers[1] && numbers[0] > 0,
        "every growing module x batch has a floor: {count}"
    );
}

/// The goals: a verdict table and a count line each, the floor named where a module grows the
/// records.
fn goals_in_the_report(report: &str) {
    let goals = &report[report.find("## Goals").expect("goals")..];
    let cold = row(goals, "### Cold start", "mirror-policy (no MAC)");
    assert!(
        cold[2].ends_with('x') && ["met", "**missed**"].contains(&cold[3]),
        "{cold:?}"
    );
    let per_record = &goals[goals.find("### Per record, official").expect("per record")..];
    let rows: Vec<&str> = per_record
        .lines()
        .take_while(|l| !l.starts_with("### Per record with a MAC"))
        .filter(|l| l.starts_with("| origin-tag |"))
        .collect();
    assert_eq!(
        rows.len(),
        4,
        "origin-tag on each batch of --quick: {rows:?}"
    );
    for r in rows {
        assert!(
            r.contains(&format!("| {APPEND} |")),
            "origin-tag's floor: {r}"
        );
        assert!(
            r.contains("| met (") || r.ends_with("| **missed** |"),
            "{r}"
        );
    }
    for section in ["### Cold start", "### Per record, official"] {
        let after = &goals[goals.find(section).expect("section")..];
        let count = after
            .lines()
            .find(|l| l.ends_with(" met."))
            .unwrap_or_else(|| panic!("no count line after {section:?}"));
        assert!(count.contains(" of "), "{count}");
    }
}

/// Independently of the report: on the benchmark's own batches, in the official engine, each
/// append floor adds to every record what the modules it stands for add, and what it claims.
#[test]
fn append_floors_add_what_their_modules_add() {
    let _builds = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let subjects: Vec<bench::Subject> = bench::subjects(true)
        .into_iter()
        .filter(|s| s.role != bench::Role::Lean)
        .collect();
    let find = |name: &str| {
        subjects
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no subject {name}"))
    };
    let official = fluvio_smartengine::SmartEngine::new();
    let shared = host_harness::Engine::shared().expect("the shared engine");
    let growth = |name: &str, shape: Shape| {
        let s = find(name);
        let mut runner = Runners::new(&official, &shared, s).expect("chains build");
        let c = cell(shape);
        let input = c.records(s.sealed());
        let Ok((Reply::Records(out), _)) = runner.call(EngineKind::Official, &c) else {
            panic!("{name} did not return records on {}", shape.label());
        };
        assert_eq!(out.len(), input.len(), "{name}");
        if let Some(claim) = Appends::of(s.crate_name, &s.params) {
            check_appended(claim, input, &out).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        Growth::of(input, &out)
    };
    for tagging in [Tagging::Untagged, Tagging::Tagged] {
        let shape = Shape {
            records: 10,
            value: 64,
            tagging,
        };
        for (module, floor) in [
            ("origin-tag", APPEND),
            ("mirror-policy", APPEND),
            ("origin-tag+secret", APPEND_MAC),
        ] {
            let (m, f) = (growth(module, shape), growth(floor, shape));
            assert!(m.grows(), "{module} grows the records on {}", shape.label());
            assert_eq!(m.min, m.max, "{module} adds the same to every record");
            assert_eq!(m, f, "{floor} adds what {module} adds on {}", shape.label());
        }
    }
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--frobnicate")
        .output()
        .expect("run the bench binary");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: bench"));
}
