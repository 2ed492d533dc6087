//! Runs the built benchmark binary in its `--quick` configuration and checks the report has
//! every module and both engines, so the command cannot rot. No timing is asserted.

use std::path::PathBuf;
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bench-quick-{}-{name}", std::process::id()))
}

#[test]
fn quick_run_reports_every_module_in_both_engines() {
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
    // The builds without MAC code: size and cold start (tables and goals), no throughput.
    for module in [
        "origin-tag (no MAC)",
        "loop-guard (no MAC)",
        "mirror-guard (no MAC)",
        "origin-strip (no MAC)",
        "mirror-policy (no MAC)",
        "origin-stats (no MAC)",
        "origin-inspect (no MAC)",
    ] {
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("| {module} |")))
            .count();
        assert_eq!(rows, 4, "{module} has {rows} rows in the report:\n{stdout}");
    }
    for heading in [
        "## Modules",
        "## Cold start",
        "## Throughput",
        "## Envelope overhead",
        "## De-duplication window under a flood",
        "| ids equal in their low 16 bits |",
        "## Goals",
        "official rec/s",
        "harness rec/s",
        "x sdk-hello",
        "x passthrough",
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

#[test]
fn bad_arguments_are_refused_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--frobnicate")
        .output()
        .expect("run the bench binary");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: bench"));
}
