//! The reports as text lines.

use host_harness::report::{indent, output_text, show_bytes};
use host_harness::tag::TagView;
use observe::{Provenance, Seen, Stats, TopTable};

use crate::cli::inspect::InspectReport;
use crate::cli::run::TestReport;

pub fn test_report(report: &TestReport) -> String {
    let modules_line = report
        .chain
        .iter()
        .map(|m| {
            let params: Vec<String> = m.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if params.is_empty() {
                format!("{} ({})", m.name, m.kind)
            } else {
                format!("{} ({}; {})", m.name, m.kind, params.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ");
    let mut text = format!(
        "chain: {modules_line}\napi version {}, {} record(s) in batches of {}\n",
        report.version,
        report.records(),
        report.batch_size
    );
    for batch in &report.batches {
        for r in &batch.records {
            let mut line = format!("#{} offset {}", r.index, r.offset);
            if let Some(k) = &r.input.key {
                line.push_str(&format!(" key={}", show_bytes(k)));
            }
            line.push_str(&format!(
                " value={}: {}",
                show_bytes(&r.input.value),
                r.fate
            ));
            text.push_str(&indent(&line, "    "));
            text.push('\n');
            for out in &r.outputs {
                let shown = output_text(out, batch.base_offset, report.carrier);
                text.push_str(&format!("  -> {shown}\n"));
            }
        }
        for out in &batch.unattributed {
            let shown = output_text(out, batch.base_offset, report.carrier);
            text.push_str(&format!("  -> (unattributed) {shown}\n"));
        }
        if let Some(e) = &batch.chain_failure {
            text.push_str(&format!("  batch failed: {e}\n"));
        }
    }
    let mut summary = format!(
        "summary: {} in, {} out: {} passed, {} changed, {} dropped, {} refused, {} failed",
        report.records(),
        report.outputs(),
        report.count("passed"),
        report.count("changed"),
        report.count("dropped"),
        report.count("refused"),
        report.count("failed"),
    );
    if report.count("unattributed") > 0 {
        summary.push_str(&format!(", {} unattributed", report.count("unattributed")));
    }
    text.push_str(&summary);
    text.push('\n');
    text
}

pub fn inspect_report(report: &InspectReport) -> String {
    let inspection = &report.inspection;
    let mut text = String::new();
    let (mut untagged, mut tagged, mut malformed, mut missing, mut unverified) = (0, 0, 0, 0, 0);
    for i in 0..inspection.len() {
        let reading = inspection.reading(i);
        let line = match (&reading.provenance, reading.payload) {
            (_, None) => {
                missing += 1;
                format!("#{i} no key (nothing to inspect with --carrier key)")
            }
            (Provenance::Untagged, Some(bytes)) => {
                untagged += 1;
                format!("#{i} untagged {}", show_bytes(bytes))
            }
            (Provenance::Tagged { tag, verified }, Some(payload)) => {
                tagged += 1;
                let check = match verified {
                    None => "",
                    Some(true) => " verified",
                    Some(false) => {
                        unverified += 1;
                        " MAC DOES NOT VERIFY"
                    }
                };
                format!(
                    "#{i} tagged {}{check} payload={}",
                    TagView::of(tag),
                    show_bytes(payload)
                )
            }
            (Provenance::Malformed(e), Some(_)) => {
                malformed += 1;
                format!("#{i} malformed tag: {e}")
            }
        };
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!(
        "summary: {} records: {tagged} tagged, {untagged} untagged, {malformed} malformed{}{}\n",
        inspection.len(),
        if inspection.verifies() {
            format!(", {unverified} whose MAC does not verify")
        } else {
            String::new()
        },
        if missing > 0 {
            format!(", {missing} without a key")
        } else {
            String::new()
        }
    ));
    text
}

/// `harness inspect --summary`: the origin-stats summary as tables for a person.
pub fn summary_table(stats: &Stats, report: &InspectReport) -> String {
    let mut t = String::new();
    let span = |f: Option<Seen>, l: Option<Seen>| match (f, l) {
        (Some(f), Some(l)) => format!(
            " (offsets {} to {}, {} to {})",
            f.offset,
            l.offset,
            time(f.timestamp),
            time(l.timestamp)
        ),
        _ => String::new(),
    };
    t.push_str(&format!(
        "{} records{}\n",
        stats.records(),
        span(stats.first(), stats.last())
    ));
    let mac = match stats.mac_failures() {
        Some(n) => n.to_string(),
        None => "not checked (no --secret)".to_string(),
    };
    for (label, n) in [
        ("tagged", stats.tagged().to_string()),
        ("untagged", stats.untagged().to_string()),
        ("malformed", stats.malformed().to_string()),
        ("MAC failures", mac),
    ] {
        t.push_str(&format!("  {label:<14} {n:>10}\n"));
    }
    let hops: Vec<String> = stats
        .hops()
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(h, n)| format!("{h}: {n}"))
        .collect();
    t.push_str(&format!(
        "  {:<14} {}\n",
        "hops",
        if hops.is_empty() {
            "-".to_string()
        } else {
            hops.join(", ")
        }
    ));
    table(&mut t, "origin", stats.origins());
    table(&mut t, "path", stats.paths());
    let violations = stats.violations();
    t.push_str(&format!(
        "\nVIOLATION-flagged: {} record(s), by the last cluster of their path\n",
        violations.total()
    ));
    if violations.total() > 0 {
        table(&mut t, "cluster", violations);
    }
    let lag = stats.lag();
    t.push_str(&format!(
        "\nreplication lag (record timestamp - origin timestamp), {} tagged record(s)\n",
        lag.records()
    ));
    if lag.untimed() > 0 {
        t.push_str(&format!(
            "  {} tagged record(s) stored without a timestamp: no lag to measure\n",
            lag.untimed()
        ));
    }
    if let (Some(min), Some(p50), Some(p99), Some(max)) =
        (lag.min(), lag.percentile(50), lag.percentile(99), lag.max())
    {
        t.push_str(&format!(
            "  min {} ms, p50 {} ms, p99 {} ms, max {} ms\n",
            min, p50, p99, max
        ));
        for (le, n) in lag.buckets() {
            let bucket = match le {
                Some(-1) => "< 0 ms".to_string(),
                Some(le) => format!("<= {le} ms"),
                None => format!(
                    "> {} ms",
                    observe::LAG_BOUNDS[observe::LAG_BOUNDS.len() - 1]
                ),
            };
            t.push_str(&format!("  {bucket:<16} {n:>10}\n"));
        }
    }
    if report.inspection.is_empty() {
        t.push_str("(no records)\n");
    }
    t
}

/// A table of the summary: its entries, then `other`, and how far a count may be short.
fn table(t: &mut String, key: &str, table: &TopTable) {
    t.push_str(&format!("\n  {key:<40} {:>10}\n", "records"));
    for (k, n) in table.ranked() {
        t.push_str(&format!("  {k:<40} {n:>10}\n"));
    }
    if table.other() > 0 || table.undercount() > 0 {
        t.push_str(&format!("  {:<40} {:>10}\n", "(other)", table.other()));
        t.push_str(&format!(
            "  (more distinct values than --top: each count may be short by up to {})\n",
            table.undercount()
        ));
    }
}

/// A timestamp in ms as RFC 3339 (UTC), or the number when it is out of range.
fn time(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "no timestamp".to_string();
    };
    u64::try_from(ms)
        .ok()
        .and_then(|ms| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(ms)))
        .map(|t| humantime::format_rfc3339_millis(t).to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}
