//! Measured, not asserted: what a producer's round trip pays for each module in its chain.
//!
//! `fluvio produce -f FILE` sends a few thousand records and waits for every acknowledgement,
//! with default batching (16 KB batches) and with one large batch (`--batch-size`, in bytes).
//! The SPU builds (compiles and initialises) a producer-side chain for every produce request,
//! so the chain's cost per request is estimated from one-record produces, with the chain minus
//! without. From stdin the CLI sends line by line, which is measured too. Only the stored
//! record counts are asserted; the figures are printed.

use std::time::Duration;

use crate::suite::{say, transform_spec, Suite};

/// Records per measured produce.
const RECORDS: usize = 3000;
/// Runs per figure; the median is printed.
const RUNS: usize = 3;
/// One-record produces per chain, for the cost per request.
const SINGLE_RUNS: usize = 5;
/// Lines produced from stdin, where every line waits for its acknowledgement.
const STDIN_RECORDS: usize = 50;
/// `--batch-size` for one large batch: more than the records' bytes.
const LARGE_BATCH: &str = "1048576";

/// A chain under test: a name and its `--transform` specs (registered modules).
fn chains() -> Vec<(&'static str, Vec<String>)> {
    let tag = transform_spec("origin-tag", &[("cluster", "edge-1")]);
    let loop_guard = transform_spec("loop-guard", &[("cluster", "home")]);
    // audit mode passes every untagged record (tagged, flagged), so every record is stored.
    let guard = transform_spec(
        "mirror-guard",
        &[
            ("cluster", "home"),
            ("mirror_of", "edge-1"),
            ("mode", "audit"),
        ],
    );
    let strip = transform_spec("origin-strip", &[]);
    let policy = transform_spec(
        "mirror-policy",
        &[
            ("cluster", "home"),
            ("mirror_of", "edge-1"),
            ("mode", "audit"),
        ],
    );
    let home_tag = transform_spec("origin-tag", &[("cluster", "home")]);
    vec![
        ("no chain", vec![]),
        ("origin-tag", vec![tag]),
        ("loop-guard", vec![loop_guard.clone()]),
        ("mirror-guard (audit)", vec![guard.clone()]),
        ("origin-strip", vec![strip]),
        ("mirror-policy (audit)", vec![policy]),
        (
            "loop-guard | mirror-guard | origin-tag",
            vec![loop_guard, guard, home_tag],
        ),
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn producer_round_trip(s: &mut Suite) {
    let lines: String = (0..RECORDS)
        .map(|i| format!("order {i:06}: {}\n", "x".repeat(48)))
        .collect();
    let file = s
        .home
        .write_file("round-trip.txt", lines.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let file = file.to_string_lossy().into_owned();

    let mut rows = Vec::new();
    for (name, specs) in chains() {
        let topic = s.create_topic("round-trip");
        let mut base: Vec<String> = vec!["produce".into(), topic.clone()];
        for spec in &specs {
            base.push("--transform".into());
            base.push(spec.clone());
        }
        let mut stored = 0i64;
        let mut timed = |extra: &[&str], input: Option<&[u8]>, records: i64| {
            let mut args = base.clone();
            args.extend(extra.iter().map(|a| a.to_string()));
            let out = s
                .home
                .fluvio(&args, input)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(out.success(), "{name}: {}", out.describe());
            stored += records;
            assert_eq!(s.stored(&topic), stored, "{name}: every record is stored");
            out.elapsed
        };
        let default_batches = median(
            (0..RUNS)
                .map(|_| timed(&["-f", &file], None, RECORDS as i64))
                .collect(),
        );
        let large_batch = median(
            (0..RUNS)
                .map(|_| {
                    timed(
                        &["-f", &file, "--batch-size", LARGE_BATCH],
                        None,
                        RECORDS as i64,
                    )
                })
                .collect(),
        );
        let single = median(
            (0..SINGLE_RUNS)
                .map(|_| timed(&[], Some(b"order 1\n"), 1))
                .collect(),
        );
        rows.push((name, default_batches, large_batch, single));
    }

    // From stdin the CLI waits for each line's acknowledgement before it reads the next one,
    // so every line is a produce request of its own.
    let stdin_lines: String = (0..STDIN_RECORDS).map(|i| format!("order {i}\n")).collect();
    let mut stdin_rows = Vec::new();
    for (name, specs) in chains().into_iter().take(2) {
        let topic = s.create_topic("round-trip");
        let mut args: Vec<String> = vec!["produce".into(), topic.clone()];
        for spec in &specs {
            args.push("--transform".into());
            args.push(spec.clone());
        }
        let out = s
            .home
            .fluvio(&args, Some(stdin_lines.as_bytes()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out.success(), "{name}: {}", out.describe());
        assert_eq!(
            s.stored(&topic),
            STDIN_RECORDS as i64,
            "{name}: every line is stored"
        );
        stdin_rows.push((name, out.elapsed));
    }

    let baseline = rows[0].3;
    say!(
        "broker-tests: producer round trip, {RECORDS} records of 64 B through `fluvio produce -f` \
         (medians of {RUNS}; a request's chain cost = one-record produce minus the same without \
         a chain, medians of {SINGLE_RUNS}):"
    );
    say!(
        "  {:<40} {:>16} {:>20} {:>14} {:>12}",
        "chain",
        "default batches",
        "--batch-size 1 MiB",
        "one record",
        "chain/request"
    );
    for (name, default_batches, large_batch, single) in &rows {
        let per_second = |d: &Duration| RECORDS as f64 / d.as_secs_f64();
        say!(
            "  {:<40} {:>10.0} rec/s {:>14.0} rec/s {:>11.1} ms {:>9.1} ms",
            name,
            per_second(default_batches),
            per_second(large_batch),
            single.as_secs_f64() * 1e3,
            (single.as_secs_f64() - baseline.as_secs_f64()) * 1e3
        );
    }
    say!("  {STDIN_RECORDS} lines from stdin (`printf ... | fluvio produce`), one run each:");
    for (name, took) in &stdin_rows {
        say!(
            "  {:<40} {:>10.0} rec/s {:>10.1} ms a record",
            name,
            STDIN_RECORDS as f64 / took.as_secs_f64(),
            took.as_secs_f64() * 1e3 / STDIN_RECORDS as f64
        );
    }
}
