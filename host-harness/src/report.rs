//! Rendering records, tags and fates as text and JSON.

use base64::Engine as _;
use fluvio_protocol::record::Record;
use serde_json::{json, Map, Value};

use crate::chain::Fate;
use crate::input::InputRecord;
use crate::tag::{decode_tag, Carrier, TagState};

/// Output format of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable lines.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per input record.
    Jsonl,
}

/// Bytes for a person: a quoted string if UTF-8, else their length and base64.
pub fn show_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!(
            "<{} bytes, base64 {}>",
            bytes.len(),
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A record in the JSON shape the CLI reads (`key`, `value`, `timestamp`, and
/// `"encoding": "base64"` when key or value is not UTF-8), so output lines can be fed back.
pub fn record_fields(
    key: Option<&[u8]>,
    value: &[u8],
    timestamp: Option<i64>,
) -> Map<String, Value> {
    let utf8 =
        std::str::from_utf8(value).is_ok() && key.is_none_or(|k| std::str::from_utf8(k).is_ok());
    let enc = |b: &[u8]| -> Value {
        if utf8 {
            Value::String(String::from_utf8_lossy(b).into_owned())
        } else {
            Value::String(b64(b))
        }
    };
    let mut m = Map::new();
    m.insert("key".into(), key.map(enc).unwrap_or(Value::Null));
    m.insert("value".into(), enc(value));
    if let Some(t) = timestamp {
        m.insert("timestamp".into(), json!(t));
    }
    if !utf8 {
        m.insert("encoding".into(), json!("base64"));
    }
    m
}

/// Adds `tag` and `payload` (or `tag_error`) when the carrier holds a tag.
pub fn add_tag_fields(m: &mut Map<String, Value>, carrier: Option<&[u8]>) {
    let Some(bytes) = carrier else { return };
    match decode_tag(bytes) {
        TagState::Untagged => {}
        TagState::Tagged { tag, payload } => {
            m.insert(
                "tag".into(),
                serde_json::to_value(&tag).unwrap_or(Value::Null),
            );
            m.insert("payload".into(), bytes_json(&payload));
        }
        TagState::Malformed { error } => {
            m.insert("tag_error".into(), json!(error));
        }
    }
}

/// Bytes as JSON: a string if UTF-8, else `{"base64": ".."}`.
pub fn bytes_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => json!(s),
        Err(_) => json!({ "base64": b64(bytes) }),
    }
}

/// An output record as JSON, with its absolute offset and timestamp and its decoded tag.
pub fn output_json(r: &Record, base_offset: i64, base_timestamp: i64, carrier: Carrier) -> Value {
    let key = r.key.as_ref().map(|k| k.as_ref());
    let mut m = Map::new();
    m.insert(
        "offset".into(),
        json!(base_offset + r.preamble.offset_delta()),
    );
    m.extend(record_fields(
        key,
        r.value.as_ref(),
        Some(base_timestamp + r.preamble.get_timestamp_delta()),
    ));
    add_tag_fields(&mut m, carrier.of(key, r.value.as_ref()));
    Value::Object(m)
}

/// An input record as JSON.
pub fn input_json(r: &InputRecord) -> Value {
    Value::Object(record_fields(r.key.as_deref(), &r.value, r.timestamp))
}

/// A fate as JSON fields: `fate`, and `module`, `message`, `this_record` when they apply.
pub fn fate_fields(fate: &Fate, m: &mut Map<String, Value>) {
    m.insert("fate".into(), json!(fate.label()));
    if let Some(module) = fate.module() {
        m.insert("module".into(), json!(module));
    }
    match fate {
        Fate::Refused {
            message,
            this_record,
            ..
        } => {
            m.insert("message".into(), json!(message));
            m.insert("this_record".into(), json!(this_record));
        }
        Fate::Failed { message, .. } => {
            m.insert("message".into(), json!(message));
        }
        _ => {}
    }
}

/// One output record as a text line (without indentation), tag on a second line.
pub fn output_text(r: &Record, base_offset: i64, carrier: Carrier) -> String {
    let key = r.key.as_ref().map(|k| k.as_ref());
    let value = r.value.as_ref();
    let offset = base_offset + r.preamble.offset_delta();
    let carried = carrier.of(key, value);
    let tag = carried.map(decode_tag).unwrap_or(TagState::Untagged);
    let show = |bytes: &[u8], is_carrier: bool| -> String {
        match (&tag, is_carrier) {
            (TagState::Tagged { payload, .. }, true) => {
                format!(
                    "<tag {}B>{}",
                    bytes.len() - payload.len(),
                    show_bytes(payload)
                )
            }
            _ => show_bytes(bytes),
        }
    };
    let mut line = format!("offset {offset}");
    if let Some(k) = key {
        line.push_str(&format!(" key={}", show(k, carrier == Carrier::Key)));
    }
    line.push_str(&format!(
        " value={}",
        show(value, carrier == Carrier::Value)
    ));
    match tag {
        TagState::Tagged { tag, .. } => line.push_str(&format!("\n    tag {tag}")),
        TagState::Malformed { error } => line.push_str(&format!("\n    malformed tag: {error}")),
        TagState::Untagged => {}
    }
    line
}

/// Indents every line after the first by `pad`.
pub fn indent(text: &str, pad: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
}
