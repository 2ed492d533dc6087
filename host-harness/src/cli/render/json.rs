//! The reports as JSON: one document, or one object per record (JSON lines).

use serde_json::{json, Map, Value};

use host_harness::report::{bytes_json, fate_fields, input_json, output_json};
use host_harness::tag::TagState;

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

/// Each record: its carrier's status and, when there is one, the tag or the error.
pub fn inspect_rows(report: &InspectReport) -> Vec<Value> {
    report
        .rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            m.insert("index".into(), json!(row.index));
            m.insert("carrier".into(), json!(report.carrier.as_str()));
            match &row.carried {
                None => {
                    m.insert("status".into(), json!("no-key"));
                }
                Some((bytes, TagState::Untagged)) => {
                    m.insert("status".into(), json!("untagged"));
                    m.insert("payload".into(), bytes_json(bytes));
                }
                Some((_, TagState::Tagged { tag, payload })) => {
                    m.insert("status".into(), json!("tagged"));
                    m.insert(
                        "tag".into(),
                        serde_json::to_value(tag).unwrap_or(Value::Null),
                    );
                    m.insert("payload".into(), bytes_json(payload));
                }
                Some((_, TagState::Malformed { error })) => {
                    m.insert("status".into(), json!("malformed"));
                    m.insert("error".into(), json!(error));
                }
            }
            Value::Object(m)
        })
        .collect()
}

pub fn inspect_document(report: &InspectReport) -> Value {
    let (untagged, tagged, malformed, missing) = report.counts();
    json!({
        "records": inspect_rows(report),
        "summary": {
            "records": report.rows.len(),
            "tagged": tagged,
            "untagged": untagged,
            "malformed": malformed,
            "no_key": missing,
        },
        "exit_code": report.exit,
    })
}
