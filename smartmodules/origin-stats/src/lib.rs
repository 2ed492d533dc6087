//! origin-stats (aggregate, consumer side): sums up the provenance of every record read, so
//! that violations, loops, origins and replication lag can be watched where the data lives:
//!
//! ```text
//! fluvio consume orders -B -d --smartmodule origin-stats --aggregate-initial '{}'
//! ```
//!
//! Params: `carrier` = `value` (default) | `key`, `secret` (optional: count tags whose MAC
//! does not verify), `scope` (with `secret`), `top` (default 10, 1 to 20: entries per table),
//! `every` (a summary every N records instead of one per batch).
//!
//! - Each batch that holds records gives one record: the summary of every record seen so far
//!   (the JSON document of schema `origin-stats/1`, docs/POLICIES.md), in the place of the
//!   batch's last record; with `every=N`, one after every N-th record instead.
//! - The summary is also the accumulator the broker keeps between batches: `{}` or nothing
//!   starts afresh, a summary printed before resumes from it, anything else refuses the
//!   batch with a message. Its size is bounded whatever the records hold.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

use observe::{view, Summarizer, EVERY, TOP};
use policy::params::{CARRIER, SCOPE, SECRET};
use policy::{Known, Params};
use smartmodule_abi::{Aggregate, Emit, Kind, Record, SmartModule};

/// The module's name, the prefix of its messages.
pub const NAME: &str = "origin-stats";

/// The params it takes.
pub const PARAMS: Known = Known {
    required: &[],
    optional: &[&CARRIER, &SECRET, &SCOPE, &TOP, &EVERY],
};

pub struct OriginStats {
    summarizer: Summarizer,
}

impl SmartModule for OriginStats {
    const KIND: Kind = Kind::Aggregate;

    fn init(params: &smartmodule_abi::Params<'_>) -> Result<Self, String> {
        let summarizer = Params::new(NAME, &PARAMS, params.iter())
            .and_then(|p| Summarizer::from_params(&p))
            .map_err(|e| e.message())?;
        Ok(OriginStats { summarizer })
    }

    fn process(
        &mut self,
        record: &Record<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        if let Some(summary) = self.summarizer.count(&view(record)) {
            out.emit(None, &[summary.as_bytes()]);
        }
        Ok(())
    }
}

impl Aggregate for OriginStats {
    fn resume(&mut self, accumulator: &[u8]) -> Result<(), String> {
        let top = self.summarizer.stats().top();
        self.summarizer
            .resume(accumulator)
            .map_err(|e| e.message(NAME, top))
    }

    fn end_of_batch(&mut self, last: Option<&mut Emit<'_, '_, '_, '_>>) {
        if let Some(out) = last {
            if let Some(summary) = self.summarizer.end_of_batch(true) {
                out.emit(None, &[summary.as_bytes()]);
            }
        }
    }

    fn accumulator(&mut self) -> &[u8] {
        self.summarizer.summary().as_bytes()
    }
}

smartmodule_abi::export!(aggregate: OriginStats);
