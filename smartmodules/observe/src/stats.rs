//! The origin-stats summary: counts of every record seen, in bounded space whatever the
//! records hold, written as one JSON document (schema `origin-stats/1`, docs/POLICIES.md) and
//! read back from it, so that the document is the whole state and a consumer can resume from
//! the last one it printed.
//!
//! Keys a producer chooses (origin clusters, paths, the cluster that flagged a violation) are
//! counted in a [`TopTable`] of at most `top` entries; lags in fixed buckets; hops in 16.

use alloc::string::String;
use alloc::vec::Vec;

use origin::{Envelope, MAX_PATH};
use policy::RecordView;
use smartmodule_text::{owned, Text};

use crate::json::{push_hex64, Json};
use crate::parse::{ParseError, Parser};
use crate::read::{Provenance, TagReader};

/// The schema a summary names itself by; a reader refuses any other.
pub const SCHEMA: &str = "origin-stats/1";

/// `top` by default: entries of each table.
pub const DEFAULT_TOP: usize = 10;

/// Largest `top`: keeps the document within [`max_document_len`].
pub const MAX_TOP: usize = 20;

/// Longest path key: a longer path is cut and ends in `...#` and the hash of the whole path
/// (16 hex digits), so that a table entry holds at most this many bytes.
pub const PATH_KEY_MAX: usize = 128;

/// Where a long path is cut: the cut, `...#` and 16 hex digits make [`PATH_KEY_MAX`] bytes.
const PATH_KEY_CUT: usize = PATH_KEY_MAX - 4 - 16;

/// Upper bounds (inclusive, ms) of the lag buckets; one more bucket holds what is larger.
/// `-1` gathers negative lags: the record's clock behind its origin's.
pub const LAG_BOUNDS: [i64; 23] = [
    -1, 0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000,
    300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000,
];

const LAG_BUCKETS: usize = LAG_BOUNDS.len() + 1;

/// The most frequent keys of a stream in at most `top` entries (Misra and Gries' summary).
///
/// While at most `top` distinct keys were seen every count is exact. When a new key finds the
/// table full, it and one occurrence of every listed key go to `other` and `undercount` grows
/// by one; a listed key that reaches zero leaves. So listed counts plus `other` make the total,
/// a listed count is short of its key's true count by at most `undercount`, and a key that is
/// not listed occurred at most `undercount` times: any key seen more often is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopTable {
    entries: Vec<(String, u64)>,
    other: u64,
    undercount: u64,
}

impl TopTable {
    /// Counts one occurrence of `key`.
    pub fn add(&mut self, key: &str, top: usize) {
        if let Some(entry) = self.entries.iter_mut().find(|(k, _)| k == key) {
            entry.1 += 1;
        } else if self.entries.len() < top {
            self.entries.push((owned(key), 1));
        } else {
            self.other += 1 + self.entries.len() as u64;
            self.undercount += 1;
            for entry in &mut self.entries {
                entry.1 -= 1;
            }
            self.entries.retain(|(_, n)| *n > 0);
        }
    }

    /// The listed keys and their counts, most frequent first (ties by key).
    pub fn ranked(&self) -> Ranked<'_> {
        Ranked {
            entries: &self.entries,
            taken: 0,
        }
    }

    /// Occurrences not in the listed counts.
    pub fn other(&self) -> u64 {
        self.other
    }

    /// How far below its true count a listed count may be.
    pub fn undercount(&self) -> u64 {
        self.undercount
    }

    /// Listed counts plus `other`: every occurrence.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|(_, n)| n).sum::<u64>() + self.other
    }

    /// `"top":[{"<name>":"key","records":N},...],"other":N,"undercount":N`
    fn write(&self, name: &str, out: &mut Json) {
        out.key("top").raw("[");
        for (key, n) in self.ranked() {
            out.comma().raw("{").key(name).string(key);
            out.key("records").count(n).raw("}");
        }
        out.raw("]").key("other").count(self.other);
        out.key("undercount").count(self.undercount);
    }

    /// Reads the member `key` of a table written by `write`; false for another member.
    fn read(
        &mut self,
        p: &mut Parser<'_>,
        key: &str,
        name: &str,
        top: usize,
        valid: fn(&str) -> bool,
    ) -> Result<bool, ParseError> {
        match key {
            "top" => p.array(&mut |p| {
                if self.entries.len() == top {
                    return Err(p.error("at most `top` entries"));
                }
                let (mut found, mut records) = (None, None);
                p.object(&mut |p, member| {
                    match member {
                        m if m == name => {
                            let at = p.position();
                            let k = p.string()?;
                            if !valid(k) {
                                return Err(ParseError {
                                    expected: "a cluster id, or a path of at most 128 bytes",
                                    at,
                                });
                            }
                            found = Some(k);
                        }
                        "records" => records = Some(p.count()?),
                        _ => return Err(p.error("the entry's key, or `records`")),
                    }
                    Ok(())
                })?;
                match (found, records) {
                    (Some(k), Some(n)) if n > 0 => self.entries.push((owned(k), n)),
                    (Some(_), Some(_)) => {}
                    _ => return Err(p.error("an entry with its key and `records`")),
                }
                Ok(())
            })?,
            "other" => self.other = p.count()?,
            "undercount" => self.undercount = p.count()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A table's entries, most frequent first (ties by key): each step picks the first of those
/// not yet given, which a table of at most [`MAX_TOP`] entries makes cheap, and a module
/// carries no general sort.
#[derive(Debug, Clone)]
pub struct Ranked<'t> {
    entries: &'t [(String, u64)],
    /// Bit `i` set once entry `i` was given.
    taken: u32,
}

impl<'t> Iterator for Ranked<'t> {
    type Item = (&'t str, u64);

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, &'t (String, u64))> = None;
        for (i, e) in self.entries.iter().enumerate().take(32) {
            let ahead = |b: &(String, u64)| e.1 > b.1 || (e.1 == b.1 && e.0 < b.0);
            if self.taken & (1 << i) == 0 && best.is_none_or(|(_, b)| ahead(b)) {
                best = Some((i, e));
            }
        }
        let (i, (key, n)) = best?;
        self.taken |= 1 << i;
        Some((key.as_str(), *n))
    }
}

/// Replication lags in fixed buckets, with the smallest and largest seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lag {
    buckets: [u64; LAG_BUCKETS],
    min: Option<i64>,
    max: Option<i64>,
    /// Tagged records without a timestamp of their own: no lag to measure.
    untimed: u64,
}

impl Lag {
    /// Counts one lag, in ms.
    pub fn add(&mut self, ms: i64) {
        let i = LAG_BOUNDS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(LAG_BOUNDS.len());
        if let Some(n) = self.buckets.get_mut(i) {
            *n += 1;
        }
        self.min = Some(self.min.map_or(ms, |m| m.min(ms)));
        self.max = Some(self.max.map_or(ms, |m| m.max(ms)));
    }

    /// Lags counted.
    pub fn records(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Tagged records whose lag could not be measured: they carry no timestamp.
    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// The smallest lag seen.
    pub fn min(&self) -> Option<i64> {
        self.min
    }

    /// The largest lag seen.
    pub fn max(&self) -> Option<i64> {
        self.max
    }

    /// The `per_cent` percentile, from the buckets: the upper bound of the bucket holding the
    /// lag of rank `ceil(per_cent * records / 100)` in ascending order, at most the largest
    /// lag seen (which the last bucket, unbounded, always gives).
    pub fn percentile(&self, per_cent: u64) -> Option<i64> {
        let n = self.records();
        if n == 0 {
            return None;
        }
        // ceil(per_cent * n / 100), without overflow: n = 100 q + r.
        let rank = (n / 100 * per_cent + (n % 100 * per_cent).div_ceil(100)).max(1);
        let mut seen = 0u64;
        for (i, count) in self.buckets.iter().enumerate() {
            seen = seen.saturating_add(*count);
            if seen >= rank {
                let bound = LAG_BOUNDS.get(i).copied();
                return match (bound, self.max) {
                    (Some(b), Some(max)) => Some(b.min(max)),
                    (_, max) => max,
                };
            }
        }
        self.max
    }

    /// The non-empty buckets: upper bound (none for the last) and count.
    pub fn buckets(&self) -> impl Iterator<Item = (Option<i64>, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (LAG_BOUNDS.get(i).copied(), *n))
    }
}

/// A record's offset and timestamp (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The record's offset.
    pub offset: i64,
    /// The record's timestamp, `None` when its batch carries none ([`timestamp`]).
    pub timestamp: Option<i64>,
}

/// Fluvio's "no timestamp": a batch written through a SmartModule chain (producer side, or
/// the topic hook) is stored with this as its base timestamp.
pub const NO_TIMESTAMP: i64 = -1;

/// A record's timestamp, when it has one: below zero is [`NO_TIMESTAMP`] or a batch of it.
pub fn timestamp(rec: &RecordView<'_>) -> Option<i64> {
    (rec.timestamp >= 0).then_some(rec.timestamp)
}

/// Everything counted so far.
#[derive(Debug, Clone)]
pub struct Stats {
    top: usize,
    records: u64,
    untagged: u64,
    tagged: u64,
    malformed: u64,
    /// `None` when MACs are not checked.
    mac_failures: Option<u64>,
    origins: TopTable,
    paths: TopTable,
    hops: [u64; MAX_PATH],
    violations: TopTable,
    lag: Lag,
    first: Option<Seen>,
    last: Option<Seen>,
    /// Where a path's key is written, reused.
    key: String,
}

impl Stats {
    /// Nothing counted; tables of `top` entries; `verifies` when MACs are checked.
    pub fn new(top: usize, verifies: bool) -> Self {
        Stats {
            top,
            records: 0,
            untagged: 0,
            tagged: 0,
            malformed: 0,
            mac_failures: verifies.then_some(0),
            origins: TopTable::default(),
            paths: TopTable::default(),
            hops: [0; MAX_PATH],
            violations: TopTable::default(),
            lag: Lag::default(),
            first: None,
            last: None,
            key: String::new(),
        }
    }

    /// Counts `rec`, read by `reader`. A malformed tag is counted as such; with a secret, a
    /// tag whose MAC does not verify is counted as a MAC failure and nowhere else.
    pub fn count(&mut self, reader: &TagReader, rec: &RecordView<'_>) {
        self.records += 1;
        let seen = Seen {
            offset: rec.offset,
            timestamp: timestamp(rec),
        };
        self.first.get_or_insert(seen);
        self.last = Some(seen);
        match reader.read(rec).provenance {
            Provenance::Untagged => self.untagged += 1,
            Provenance::Malformed(_) => self.malformed += 1,
            Provenance::Tagged {
                verified: Some(false),
                ..
            } => {
                let failures = self.mac_failures.get_or_insert(0);
                *failures += 1;
            }
            Provenance::Tagged { tag, .. } => self.tagged_record(&tag, seen.timestamp),
        }
    }

    fn tagged_record(&mut self, tag: &Envelope<'_>, timestamp: Option<i64>) {
        self.tagged += 1;
        self.origins.add(tag.origin(), self.top);
        path_key(tag, &mut self.key);
        self.paths.add(&self.key, self.top);
        if let Some(n) = self.hops.get_mut(usize::from(tag.hops())) {
            *n += 1;
        }
        if tag.is_violation() {
            self.violations.add(tag.last(), self.top);
        }
        match timestamp {
            Some(ts) => self.lag.add(ts.saturating_sub(tag.timestamp())),
            None => self.lag.untimed += 1,
        }
    }

    /// Entries per table.
    pub fn top(&self) -> usize {
        self.top
    }
    /// Records seen.
    pub fn records(&self) -> u64 {
        self.records
    }
    /// Records without a tag (or, under `carrier=key`, without a key).
    pub fn untagged(&self) -> u64 {
        self.untagged
    }
    /// Records with a valid tag (that verifies, when MACs are checked).
    pub fn tagged(&self) -> u64 {
        self.tagged
    }
    /// Records whose carrier starts like a tag but is not one.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
    /// Tags without a MAC or with one that does not verify; `None` when not checked.
    pub fn mac_failures(&self) -> Option<u64> {
        self.mac_failures
    }
    /// Tagged records by origin cluster.
    pub fn origins(&self) -> &TopTable {
        &self.origins
    }
    /// Tagged records by path (`a>b>c`).
    pub fn paths(&self) -> &TopTable {
        &self.paths
    }
    /// Tagged records by hops, 0 to 15.
    pub fn hops(&self) -> &[u64; MAX_PATH] {
        &self.hops
    }
    /// VIOLATION-flagged records by the last cluster of their path.
    pub fn violations(&self) -> &TopTable {
        &self.violations
    }
    /// Replication lags of tagged records.
    pub fn lag(&self) -> &Lag {
        &self.lag
    }
    /// The first record seen.
    pub fn first(&self) -> Option<Seen> {
        self.first
    }
    /// The last record seen.
    pub fn last(&self) -> Option<Seen> {
        self.last
    }

    /// Writes the summary document (schema [`SCHEMA`]) to `out`.
    pub fn write(&self, out: &mut Json) {
        out.raw("{").key("schema").string(SCHEMA);
        out.key("top").int(self.top as i64);
        out.key("records").count(self.records);
        out.key("untagged").count(self.untagged);
        out.key("tagged").count(self.tagged);
        out.key("malformed").count(self.malformed);
        out.key("mac_failures");
        match self.mac_failures {
            Some(n) => out.count(n),
            None => out.raw("null"),
        };
        out.key("origins").raw("{");
        self.origins.write("cluster", out);
        out.raw("}").key("paths").raw("{");
        self.paths.write("path", out);
        out.raw("}").key("hops").raw("{");
        for (hops, n) in self.hops.iter().enumerate().filter(|(_, n)| **n > 0) {
            out.comma().raw("\"").int(hops as i64).raw("\":").count(*n);
        }
        out.raw("}").key("violations").raw("{");
        out.key("records").count(self.violations.total());
        self.violations.write("cluster", out);
        out.raw("}").key("lag_ms").raw("{");
        let lag = &self.lag;
        out.key("records").count(lag.records());
        out.key("no_timestamp").count(lag.untimed);
        out.key("min").opt_int(lag.min());
        out.key("p50").opt_int(lag.percentile(50));
        out.key("p99").opt_int(lag.percentile(99));
        out.key("max").opt_int(lag.max());
        out.key("buckets").raw("[");
        for (le, n) in lag.buckets() {
            out.comma().raw("{").key("le").opt_int(le);
            out.key("records").count(n).raw("}");
        }
        out.raw("]}");
        for (name, seen) in [("first", self.first), ("last", self.last)] {
            out.key(name);
            match seen {
                Some(s) => {
                    out.raw("{").key("offset").int(s.offset);
                    out.key("timestamp").opt_int(s.timestamp).raw("}");
                }
                None => {
                    out.raw("null");
                }
            }
        }
        out.raw("}");
    }

    /// Reads a summary document back, for tables of `top` entries; `verifies` when MACs are
    /// checked (a document that did not check them starts counting MAC failures at 0).
    pub fn read(doc: &[u8], top: usize, verifies: bool) -> Result<Self, ResumeError> {
        let mut stats = Stats::new(top, verifies);
        let mut schema = false;
        let mut found_top = None;
        let mut p = Parser::new(doc);
        p.object(&mut |p, key| {
            match key {
                "schema" => {
                    let at = p.position();
                    if p.string()? != SCHEMA {
                        return Err(ParseError {
                            expected: "schema origin-stats/1",
                            at,
                        });
                    }
                    schema = true;
                }
                "top" => found_top = Some(p.count()?),
                "records" => stats.records = p.count()?,
                "untagged" => stats.untagged = p.count()?,
                "tagged" => stats.tagged = p.count()?,
                "malformed" => stats.malformed = p.count()?,
                "mac_failures" => {
                    if !p.null() {
                        stats.mac_failures = Some(p.count()?);
                    }
                }
                "origins" => read_table(p, &mut stats.origins, "cluster", top, is_cluster)?,
                "paths" => read_table(p, &mut stats.paths, "path", top, is_path_key)?,
                "violations" => read_table(p, &mut stats.violations, "cluster", top, is_cluster)?,
                "hops" => p.object(&mut |p, hops| {
                    let slot = policy::params::parse_number(hops)
                        .and_then(|h| stats.hops.get_mut(h as usize))
                        .ok_or(p.error("a hop count from 0 to 15"))?;
                    *slot = p.count()?;
                    Ok(())
                })?,
                "lag_ms" => read_lag(p, &mut stats.lag)?,
                "first" => stats.first = read_seen(p)?,
                "last" => stats.last = read_seen(p)?,
                _ => return Err(p.error("a field of the origin-stats/1 schema")),
            }
            Ok(())
        })
        .and_then(|()| p.end())
        .map_err(ResumeError::Unreadable)?;
        if !schema {
            return Err(ResumeError::Unreadable(ParseError {
                expected: "a `schema` field (origin-stats/1)",
                at: 0,
            }));
        }
        match found_top {
            Some(t) if t == top as u64 => Ok(stats),
            found => Err(ResumeError::Top { found }),
        }
    }
}

/// Why an accumulator cannot be taken up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeError {
    /// Not a summary of this schema.
    Unreadable(ParseError),
    /// A summary whose tables hold another number of entries (`top`).
    Top {
        /// Its `top`, if it has one.
        found: Option<u64>,
    },
}

impl ResumeError {
    /// What `module` tells the consumer, with the fix.
    pub fn message(&self, module: &str, top: usize) -> String {
        let m = Text::new(module);
        let m = match self {
            ResumeError::Unreadable(e) => m
                .push(": the accumulator is not an origin-stats/1 summary: expected ")
                .push(e.expected)
                .push(" at byte ")
                .int(e.at as i64),
            ResumeError::Top { found } => {
                let m = m.push(": the accumulator was made with top=");
                let m = match found {
                    Some(t) => m.int(i64::try_from(*t).unwrap_or(i64::MAX)),
                    None => m.push("(none)"),
                };
                m.push(" and this module runs with top=").int(top as i64)
            }
        };
        m.push(
            "; resume from the last summary this module printed, with the same top, \
             or start afresh with --aggregate-initial '{}'",
        )
        .into()
    }
}

fn read_table(
    p: &mut Parser<'_>,
    table: &mut TopTable,
    name: &str,
    top: usize,
    valid: fn(&str) -> bool,
) -> Result<(), ParseError> {
    p.object(&mut |p, key| {
        if key == "records" {
            // The table's total (violations): written, never read.
            p.count().map(drop)
        } else if table.read(p, key, name, top, valid)? {
            Ok(())
        } else {
            Err(p.error("top, other or undercount"))
        }
    })
}

fn read_lag(p: &mut Parser<'_>, lag: &mut Lag) -> Result<(), ParseError> {
    p.object(&mut |p, key| {
        match key {
            // Derived from the buckets: written, never read.
            "records" | "p50" | "p99" => {
                p.opt_int()?;
            }
            "no_timestamp" => lag.untimed = p.count()?,
            "min" => lag.min = p.opt_int()?,
            "max" => lag.max = p.opt_int()?,
            "buckets" => p.array(&mut |p| {
                let (mut le, mut records) = (None, None);
                p.object(&mut |p, member| {
                    match member {
                        "le" => le = Some(p.opt_int()?),
                        "records" => records = Some(p.count()?),
                        _ => return Err(p.error("le or records")),
                    }
                    Ok(())
                })?;
                let i = match le {
                    Some(Some(bound)) => LAG_BOUNDS.iter().position(|&b| b == bound),
                    Some(None) => Some(LAG_BOUNDS.len()),
                    None => None,
                };
                match (i.and_then(|i| lag.buckets.get_mut(i)), records) {
                    (Some(slot), Some(n)) => {
                        *slot = n;
                        Ok(())
                    }
                    _ => Err(p.error("a bucket: one of the documented `le` and its records")),
                }
            })?,
            _ => return Err(p.error("a field of lag_ms")),
        }
        Ok(())
    })
}

fn read_seen(p: &mut Parser<'_>) -> Result<Option<Seen>, ParseError> {
    if p.null() {
        return Ok(None);
    }
    let (mut offset, mut timestamp) = (None, None);
    p.object(&mut |p, key| {
        match key {
            "offset" => offset = Some(p.int()?),
            "timestamp" => timestamp = Some(p.opt_int()?),
            _ => return Err(p.error("offset or timestamp")),
        }
        Ok(())
    })?;
    match (offset, timestamp) {
        (Some(offset), Some(timestamp)) => Ok(Some(Seen { offset, timestamp })),
        _ => Err(p.error("an offset and a timestamp")),
    }
}

fn is_cluster(key: &str) -> bool {
    origin::validate_cluster_id(key).is_ok()
}

fn is_path_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= PATH_KEY_MAX
}

/// The key a path is counted under: its ids joined by `>`; past [`PATH_KEY_MAX`] bytes, cut,
/// followed by `...#` and the hash of the whole path in hex.
pub fn path_key(tag: &Envelope<'_>, out: &mut String) {
    out.clear();
    for (i, id) in tag.ids().enumerate() {
        if i > 0 {
            out.push('>');
        }
        out.push_str(id);
    }
    if out.len() > PATH_KEY_MAX {
        let whole = core::mem::take(out);
        // Ids are ASCII, so the cut falls between characters.
        out.push_str(whole.get(..PATH_KEY_CUT).unwrap_or_default());
        out.push_str("...#");
        push_hex64(out, origin::hash64(whole.as_bytes()));
    }
}

/// The longest summary document tables of `top` entries can make, whatever the records: what
/// an aggregate's accumulator is bounded by.
pub fn max_document_len(top: usize) -> usize {
    // Every count and integer at its widest: 20 digits (19 and a sign for i64).
    const INT: usize = 20;
    let entry = |key: usize| r#"{"cluster":"","records":},"#.len() + key + INT;
    let table = |key: usize| {
        r#"{"records":,"top":[],"other":,"undercount":}"#.len() + 3 * INT + top * entry(key)
    };
    let fixed = r#"{"schema":"origin-stats/1","top":,"records":,"untagged":,"tagged":,"malformed":,"mac_failures":,"origins":,"paths":,"hops":{},"violations":,"lag_ms":{"records":,"no_timestamp":,"min":,"p50":,"p99":,"max":,"buckets":[]},"first":{"offset":,"timestamp":},"last":{"offset":,"timestamp":}}"#
        .len()
        + 19 * INT;
    let hops = MAX_PATH * (r#""15":,"#.len() + INT);
    let buckets = LAG_BUCKETS * (r#"{"le":,"records":},"#.len() + 2 * INT);
    fixed + 2 * table(origin::MAX_ID_LEN) + table(PATH_KEY_MAX) + hops + buckets
}
