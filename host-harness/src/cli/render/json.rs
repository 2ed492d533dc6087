//! The reports as JSON: one document, or one object per record (JSON lines).

use serde_json::{json, Map, Value};

use host_harness::report::{fate_fields, input_json, output_json};
use observe::{Json, Stats};

use crate::cli::inspect::InspectReport;
use crate::cli::run::TestReport;

/// One object per line.
pub fn lines(objects: &[Value]) -> String {
    objects.iter().map(|o| format!("{o}\n")).collect()
}

/// One pretty document.
pub fn document(doc: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
    )
}

/// Each input record: its input, fate and outputs.
pub fn test_records(report: &TestReport) -> Vec<Value> {
    let mut docs = Vec::new();
    for batch in &report.batches {
        for r in &batch.records {
            let mut m = Map::new();
            m.insert("index".into(), json!(r.index));
            m.insert("offset".into(), json!(r.offset));
            m.insert("input".into(), input_json(&r.input));
            fate_fields(&r.fate, &mut m);
            m.insert(
                "outputs".into(),
                r.outputs
                    .iter()
                    .map(|o| {
                        output_json(o, batch.base_offset, batch.base_timestamp, report.carrier)
                    })
                    .collect(),
            );
            docs.push(Value::Object(m));
        }
    }
    docs
}

/// The whole run: the chain, the records, the unattributed outputs, the summary.
pub fn test_document(report: &TestReport) -> Value {
    let chain: Vec<Value> = report
        .chain
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "kind": m.kind.to_string(),
                "path": m.path.as_ref().map(|p| p.display().to_string()),
                "params": m.params,
            })
        })
        .collect();
    let unattributed: Vec<Value> = report
        .batches
        .iter()
        .flat_map(|b| {
            b.unattributed
                .iter()
                .map(|o| output_json(o, b.base_offset, b.base_timestamp, report.carrier))
        })
        .collect();
    let mut summary = Map::new();
    summary.insert("records".into(), json!(report.records()));
    summary.insert("outputs".into(), json!(report.outputs()));
    for l in [
        "passed",
        "changed",
        "dropped",
        "refused",
        "failed",
        "unattributed",
    ] {
        summary.insert(l.into(), json!(report.count(l)));
    }
    json!({
        "chain": chain,
        "version": report.version,
        "records": test_records(report),
        "unattributed": unattributed,
        "summary": summary,
        "exit_code": report.exit,
    })
}

/// Each record's line, as origin-inspect writes it, one per line.
pub fn inspect_lines(report: &InspectReport) -> String {
    (0..report.inspection.len())
        .map(|i| report.inspection.line(i) + "\n")
        .collect()
}

/// The summary document, as origin-stats writes it, on one line.
pub fn summary(stats: &Stats) -> String {
    let mut out = Json::new();
    stats.write(&mut out);
    out.0 + "\n"
}

/// Every record's line and the summary of them all, in one document.
pub fn inspect_document(report: &InspectReport) -> Value {
    let records: Vec<Value> = (0..report.inspection.len())
        .map(|i| serde_json::from_str(&report.inspection.line(i)).unwrap_or(Value::Null))
        .collect();
    let stats = report.inspection.summary(observe::DEFAULT_TOP);
    json!({
        "records": records,
        "summary": serde_json::from_str::<Value>(&summary(&stats)).unwrap_or(Value::Null),
        "exit_code": report.exit,
    })
}
