//! Input records for the CLI: text lines (one record per line) or JSON lines
//! (`{"key": .., "value": .., "timestamp": .., "encoding": "base64"}`).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use base64::Engine as _;
use fluvio_protocol::record::{Record, RecordData, RecordKey};

use crate::error::InputError;

/// One record as the user gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputRecord {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: Option<i64>,
}

impl InputRecord {
    /// A record with a value only.
    pub fn value(value: impl Into<Vec<u8>>) -> Self {
        Self {
            value: value.into(),
            ..Default::default()
        }
    }
}

/// How input is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One record value per line.
    Text,
    /// One JSON object per line.
    Jsonl,
}

impl InputFormat {
    /// `Jsonl` for files ending in .jsonl, .ndjson or .json, else `Text`.
    pub fn guess(path: &str) -> Self {
        let ext = Path::new(path)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => InputFormat::Jsonl,
            _ => InputFormat::Text,
        }
    }
}

/// Reads all records from `path` (`-` for stdin).
pub fn read_path(
    path: &str,
    format: InputFormat,
    key: Option<&[u8]>,
) -> Result<Vec<InputRecord>, InputError> {
    let name = if path == "-" { "<stdin>" } else { path };
    let reader: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).map_err(|source| InputError::Read {
                name: name.to_string(),
                source,
            })?,
        )
    };
    read_records(BufReader::new(reader), format, name, key)
}

/// Reads records; `key` is given to every record that has none.
pub fn read_records(
    mut reader: impl BufRead,
    format: InputFormat,
    name: &str,
    key: Option<&[u8]>,
) -> Result<Vec<InputRecord>, InputError> {
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| InputError::Read {
                name: name.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let mut record = match format {
            InputFormat::Text => InputRecord::value(line.clone()),
            InputFormat::Jsonl => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                parse_json_line(&line).map_err(|message| InputError::Line {
                    name: name.to_string(),
                    line: number,
                    message,
                })?
            }
        };
        if record.key.is_none() {
            record.key = key.map(<[u8]>::to_vec);
        }
        out.push(record);
    }
    Ok(out)
}

fn parse_json_line(line: &[u8]) -> Result<InputRecord, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let serde_json::Value::Object(obj) = value else {
        return Err("expected an object like {\"key\": \"k\", \"value\": \"v\"}".to_string());
    };
    for k in obj.keys() {
        // `offset`, `tag`, `payload` and `tag_error` are what `harness test` adds to its
        // output records, so those lines can be fed back as they are.
        let from_output = matches!(k.as_str(), "offset" | "tag" | "payload" | "tag_error");
        if !from_output && !matches!(k.as_str(), "key" | "value" | "timestamp" | "encoding") {
            return Err(format!(
                "unknown field `{k}`; expected key, value, timestamp, encoding"
            ));
        }
    }
    let base64 = match obj.get("encoding") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::String(s)) if s == "base64" => true,
        Some(serde_json::Value::String(s)) if s == "utf8" || s == "utf-8" => false,
        Some(other) => {
            return Err(format!(
                "`encoding` is {other}; use \"base64\" (key and value are base64) or leave it out"
            ))
        }
    };
    let bytes = |field: &str, v: &serde_json::Value| -> Result<Vec<u8>, String> {
        match v {
            serde_json::Value::String(s) if base64 => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("`{field}` is not valid base64: {e}")),
            serde_json::Value::String(s) => Ok(s.as_bytes().to_vec()),
            _ if base64 => Err(format!("`{field}` must be a base64 string")),
            // Any other JSON is the record: its compact text.
            other => Ok(other.to_string().into_bytes()),
        }
    };
    let value = match obj.get("value") {
        Some(v) => bytes("value", v)?,
        None => return Err("missing `value`".to_string()),
    };
    let key = match obj.get("key") {
        None | Some(serde_json::Value::Null) => None,
        Some(k) => Some(bytes("key", k)?),
    };
    let timestamp =
        match obj.get("timestamp") {
            None | Some(serde_json::Value::Null) => None,
            Some(t) => Some(t.as_i64().ok_or_else(|| {
                format!("`timestamp` is {t}; expected milliseconds since the epoch")
            })?),
        };
    Ok(InputRecord {
        key,
        value,
        timestamp,
    })
}

/// Builds Fluvio records: offset delta = position, timestamp delta relative to
/// `base_timestamp` (records without a timestamp get `base_timestamp`).
pub fn to_records(inputs: &[InputRecord], base_timestamp: i64) -> Vec<Record> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut rec = match &r.key {
                Some(k) => Record::new_key_value(
                    RecordKey::from(k.clone()),
                    RecordData::from(r.value.clone()),
                ),
                None => Record::new(RecordData::from(r.value.clone())),
            };
            rec.preamble.set_offset_delta(i as i64);
            rec.preamble
                .set_timestamp_delta(r.timestamp.unwrap_or(base_timestamp) - base_timestamp);
            rec
        })
        .collect()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
