//! origin-stats' state between batches: the counts, and the summary last handed back, which
//! is the accumulator the host keeps. A host hands back exactly what the module gave it, so
//! the summary is read back only when it was not this instance's (a consumer resuming from a
//! summary it printed, or a module instance started afresh).

use policy::{ParamError, Params, RecordView};

use crate::json::Json;
use crate::params::{every_from_params, top_from_params};
use crate::parse::Parser;
use crate::read::TagReader;
use crate::stats::{ResumeError, Stats};

/// The counts, how records are read, and when a summary is due.
#[derive(Debug, Clone)]
pub struct Summarizer {
    reader: TagReader,
    stats: Stats,
    /// A summary every this many records; `None`: one per batch.
    every: Option<u64>,
    /// The summary last written: the accumulator handed back.
    doc: Json,
    /// Whether records were counted since `doc` was written.
    stale: bool,
}

impl Summarizer {
    /// Nothing counted; tables of `top` entries; a summary every `every` records, or once
    /// per batch.
    pub fn new(reader: TagReader, top: usize, every: Option<u64>) -> Self {
        let stats = Stats::new(top, reader.verifies());
        Summarizer {
            reader,
            stats,
            every,
            doc: Json::new(),
            stale: true,
        }
    }

    /// From the `carrier`, `secret`, `scope`, `top` and `every` params.
    pub fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        Ok(Self::new(
            TagReader::from_params(p)?,
            top_from_params(p)?,
            every_from_params(p)?,
        ))
    }

    /// Takes up the accumulator the host holds: the summary this instance handed back last
    /// (nothing to do), nothing or `{}` (a fresh start), or a summary printed before. On an
    /// error the counts are left as they were.
    pub fn resume(&mut self, accumulator: &[u8]) -> Result<(), ResumeError> {
        if !self.stale && accumulator == self.doc.as_str().as_bytes() {
            return Ok(());
        }
        let (top, verifies) = (self.stats.top(), self.reader.verifies());
        self.stats = if is_fresh(accumulator) {
            Stats::new(top, verifies)
        } else {
            Stats::read(accumulator, top, verifies)?
        };
        self.stale = true;
        Ok(())
    }

    /// Counts `rec`; gives the summary when one is due after it (`every`).
    pub fn count(&mut self, rec: &RecordView<'_>) -> Option<&str> {
        self.stats.count(&self.reader, rec);
        self.stale = true;
        let every = self.every?;
        if self.stats.records().checked_rem(every) == Some(0) {
            Some(self.summary())
        } else {
            None
        }
    }

    /// The batch ended; gives the summary when one is due: once per batch that held records,
    /// unless `every` sets the pace.
    pub fn end_of_batch(&mut self, had_records: bool) -> Option<&str> {
        if self.every.is_none() && had_records {
            Some(self.summary())
        } else {
            None
        }
    }

    /// The summary of everything counted: the accumulator.
    pub fn summary(&mut self) -> &str {
        if self.stale {
            self.doc.clear();
            self.stats.write(&mut self.doc);
            self.stale = false;
        }
        self.doc.as_str()
    }

    /// The counts.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// Nothing, or an empty object: a fresh start.
fn is_fresh(accumulator: &[u8]) -> bool {
    let mut p = Parser::new(accumulator);
    p.peek().is_none() || (p.eat(b'{') && p.eat(b'}') && p.end().is_ok())
}
