//! What the observing modules and `harness inspect` say about records, written once for both:
//!
//! - [`record_line`]: one record's provenance as one JSON line (the origin-inspect module,
//!   `harness inspect --format jsonl`);
//! - [`Stats`]: a bounded summary of many records as one JSON document, schema
//!   `origin-stats/1` (the origin-stats module's accumulator, `harness inspect --summary`),
//!   read back by [`Stats::read`] so that a consumer can resume from the last one;
//! - [`Summarizer`]: origin-stats' state between batches.
//!
//! Records are read as the policy modules read them ([`TagReader`]: `policy::Carried` and,
//! with a secret, `policy::Verify`). The text is built without `core::fmt`, which would cost
//! each module kilobytes.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod json;
mod line;
pub mod params;
pub mod parse;
mod read;
mod stats;
mod summarizer;

pub use json::Json;
pub use line::record_line;
pub use params::{EVERY, TOP};
pub use parse::{ParseError, Parser};
pub use read::{Provenance, Reading, TagReader};
pub use stats::{
    max_document_len, path_key, timestamp, Lag, Ranked, ResumeError, Seen, Stats, TopTable,
    DEFAULT_TOP, LAG_BOUNDS, MAX_TOP, NO_TIMESTAMP, PATH_KEY_MAX, SCHEMA,
};
pub use summarizer::Summarizer;

/// The parts of a record the observing modules read, from the guest ABI's record. A record
/// of a batch stored without a timestamp gets [`NO_TIMESTAMP`], whatever its delta.
#[inline]
pub fn view<'a>(record: &smartmodule_abi::Record<'_, 'a>) -> policy::RecordView<'a> {
    policy::RecordView {
        key: record.key(),
        value: record.value(),
        timestamp: if record.base_timestamp < 0 {
            NO_TIMESTAMP
        } else {
            record.timestamp()
        },
        offset: record.offset(),
    }
}
