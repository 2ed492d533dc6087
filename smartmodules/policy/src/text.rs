//! The refusal texts stages share, built without `core::fmt`.

use alloc::string::String;

use origin::{Envelope, EnvelopeError};

use smartmodule_text::Text;

use crate::record::RecordView;

/// `MODULE: record at offset N`
pub(crate) fn at(module: &str, rec: &RecordView<'_>) -> Text {
    Text::new(module)
        .push(": record at offset ")
        .int(rec.offset)
}

/// `MODULE: record at offset N has an invalid origin tag: WHY`, and `then`.
pub(crate) fn bad_tag(module: &str, rec: &RecordView<'_>, e: EnvelopeError, then: &str) -> String {
    let m = at(module, rec)
        .push(" has an invalid origin tag: ")
        .push(e.as_str());
    let m = match e {
        EnvelopeError::UnknownVersion(v) => m
            .push(" ")
            .int(i64::from(v))
            .push(" (this build reads version ")
            .int(i64::from(origin::VERSION))
            .push(")"),
        _ => m,
    };
    m.push(then).into()
}

/// Appends ` (path: a > b > c)`.
pub(crate) fn with_path(mut m: Text, env: &Envelope<'_>) -> String {
    m = m.push(" (path: ");
    for (i, c) in env.ids().enumerate() {
        m = m.push(if i == 0 { "" } else { " > " }).push(c);
    }
    m.push(")").into()
}
