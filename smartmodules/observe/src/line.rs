//! One record's provenance as one JSON line: what origin-inspect emits for each record and
//! `harness inspect --format jsonl` prints, from this one function.
//!
//! ```text
//! {"offset":7,"timestamp":1700000000000,"carrier":"value","status":"tagged",
//!  "tag":{"origin":"edge-1","path":["edge-1","home"],"hops":1,"flags":1,"violation":true,
//!         "timestamp":1699999999000,"id":"fb035a87e9f5f191","mac":false,"verified":null},
//!  "key":null,"payload":"order 1"}
//! ```
//!
//! `timestamp` is `null` for a record stored without one (a batch a SmartModule chain wrote).
//! `payload` is the carrier's bytes after the tag (all of them when there is no valid tag),
//! the other half of the record keeps its name (`key`, or `value` under `carrier=key`); bytes
//! are a string when they are UTF-8, else `{"base64":"..."}`.

use origin::{Carrier, EnvelopeError};
use policy::RecordView;

use crate::json::Json;
use crate::read::{Provenance, TagReader};

/// Appends the JSON line (without a newline) of `rec` to `out`.
pub fn record_line(reader: &TagReader, rec: &RecordView<'_>, out: &mut Json) {
    let reading = reader.read(rec);
    let carrier = reader.carrier();
    out.raw("{").key("offset").int(rec.offset);
    out.key("timestamp").opt_int(crate::timestamp(rec));
    out.key("carrier").string(carrier.as_str());
    out.key("status");
    match &reading.provenance {
        Provenance::Untagged => {
            out.string("untagged");
        }
        Provenance::Tagged { tag, verified } => {
            out.string("tagged").key("tag").raw("{");
            out.key("origin").string(tag.origin());
            out.key("path").raw("[");
            for id in tag.ids() {
                out.comma().string(id);
            }
            out.raw("]").key("hops").int(i64::from(tag.hops()));
            out.key("flags").int(i64::from(tag.flags()));
            out.key("violation").bool(tag.is_violation());
            out.key("timestamp").int(tag.timestamp());
            out.key("id").hex64(tag.id_u64());
            out.key("mac").bool(tag.mac().is_some());
            out.key("verified");
            match verified {
                Some(v) => out.bool(*v),
                None => out.raw("null"),
            };
            out.raw("}");
        }
        Provenance::Malformed(e) => {
            out.string("malformed").key("error");
            error_text(*e, out);
        }
    }
    match carrier {
        Carrier::Value => out.key("key").opt_bytes(rec.key),
        Carrier::Key => out.key("value").bytes(rec.value),
    };
    out.key("payload").opt_bytes(reading.payload).raw("}");
}

/// The decoder's error as a JSON string: `"origin tag truncated"`, and for a version this
/// build does not read, `"unsupported origin tag version 1"`.
fn error_text(e: EnvelopeError, out: &mut Json) {
    let mut text = smartmodule_text::Text::new(e.as_str());
    if let EnvelopeError::UnknownVersion(v) = e {
        text = text.push(" ").int(i64::from(v));
    }
    out.string(text.as_str());
}
