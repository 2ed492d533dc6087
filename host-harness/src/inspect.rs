//! What `harness inspect` reads in a dump of records, with the very code the observing
//! modules run (the `observe` crate): each record's JSON line as origin-inspect writes it,
//! and the summary of them all as origin-stats writes it.

use policy::{Carrier, RecordView, Secret};

use observe::{record_line, Json, Provenance, Reading, Stats, TagReader};

use crate::input::InputRecord;

/// Records read for their provenance. Record `i` is at offset `i`; a record without a
/// timestamp is read as written at the time given (now, for the CLI, as `harness test`
/// gives such records the batch's time).
pub struct Inspection {
    reader: TagReader,
    records: Vec<InputRecord>,
    timestamps: Vec<i64>,
}

impl Inspection {
    /// `records`, their tags in `carrier`, checked against `secret` when given.
    pub fn new(
        records: Vec<InputRecord>,
        carrier: Carrier,
        secret: Option<Secret>,
        untimed: i64,
    ) -> Self {
        let timestamps = records
            .iter()
            .map(|r| r.timestamp.unwrap_or(untimed))
            .collect();
        Inspection {
            reader: TagReader::new("harness inspect", carrier, secret),
            records,
            timestamps,
        }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Where tags travel.
    pub fn carrier(&self) -> Carrier {
        self.reader.carrier()
    }

    /// Whether MACs are checked.
    pub fn verifies(&self) -> bool {
        self.reader.verifies()
    }

    /// Record `i` as the modules see it.
    pub fn view(&self, i: usize) -> RecordView<'_> {
        let r = &self.records[i];
        RecordView {
            key: r.key.as_deref(),
            value: &r.value,
            timestamp: self.timestamps[i],
            offset: i as i64,
        }
    }

    /// What record `i`'s carrier holds.
    pub fn reading(&self, i: usize) -> Reading<'_> {
        self.reader.read(&self.view(i))
    }

    /// Record `i`'s JSON line, as origin-inspect writes it.
    pub fn line(&self, i: usize) -> String {
        let mut out = Json::new();
        record_line(&self.reader, &self.view(i), &mut out);
        out.0
    }

    /// The summary of every record, as origin-stats writes it, with tables of `top` entries.
    pub fn summary(&self, top: usize) -> Stats {
        let mut stats = Stats::new(top, self.reader.verifies());
        for i in 0..self.records.len() {
            stats.count(&self.reader, &self.view(i));
        }
        stats
    }

    /// Whether a record starts like a tag but is not one, or (with a secret) holds a tag
    /// whose MAC does not verify.
    pub fn any_invalid(&self) -> bool {
        (0..self.records.len()).any(|i| {
            matches!(
                self.reading(i).provenance,
                Provenance::Malformed(_)
                    | Provenance::Tagged {
                        verified: Some(false),
                        ..
                    }
            )
        })
    }
}
