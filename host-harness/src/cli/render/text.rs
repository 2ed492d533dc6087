//! The reports as text lines.

use host_harness::report::{indent, output_text, show_bytes};
use host_harness::tag::TagState;

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
    let mut text = String::new();
    for row in &report.rows {
        let i = row.index;
        let line = match &row.carried {
            None => format!("#{i} no key (nothing to inspect with --carrier key)"),
            Some((bytes, TagState::Untagged)) => format!("#{i} untagged {}", show_bytes(bytes)),
            Some((_, TagState::Tagged { tag, payload })) => {
                format!("#{i} tagged {tag} payload={}", show_bytes(payload))
            }
            Some((_, TagState::Malformed { error })) => format!("#{i} malformed tag: {error}"),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let (untagged, tagged, malformed, missing) = report.counts();
    text.push_str(&format!(
        "summary: {} records: {tagged} tagged, {untagged} untagged, {malformed} malformed{}\n",
        report.rows.len(),
        if missing > 0 {
            format!(", {missing} without a key")
        } else {
            String::new()
        }
    ));
    text
}
