//! The batches the modules run over: printable ASCII values of a given size (each holds an
//! `a`, so the SDK's hello-world filter keeps every record, as every other module does),
//! untagged or already tagged by the upstream cluster.

use fluvio_protocol::record::{Record, RecordData};
use origin::{record_id, wrap, Binding, Carrier, Envelope, SealKey};

use crate::UPSTREAM;

/// Base timestamp of every batch (ms); record timestamps are this plus 0.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000;
/// Base offset of every batch.
pub const BASE_OFFSET: i64 = 1_000;

/// Whether the values already carry an origin tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tagging {
    /// Plain values, as a local producer writes them.
    Untagged,
    /// Values tagged by [`UPSTREAM`] (path `[up]`, no MAC), as a mirror or bridge writes them.
    Tagged,
}

impl Tagging {
    pub fn label(self) -> &'static str {
        match self {
            Tagging::Untagged => "untagged",
            Tagging::Tagged => "tagged",
        }
    }
}

/// The shape of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    pub records: usize,
    pub value: usize,
    pub tagging: Tagging,
}

impl Shape {
    /// "10,000 x 64 B, tagged".
    pub fn label(&self) -> String {
        format!(
            "{} x {}, {}",
            group(self.records as u64),
            bytes_label(self.value),
            self.tagging.label()
        )
    }
}

/// A batch ready to run.
#[derive(Debug, Clone)]
pub struct Cell {
    pub shape: Shape,
    /// The records; record `i` has offset delta `i` and timestamp delta 0.
    pub records: Vec<Record>,
    /// Key and value bytes of all records (tags included): what MB/s counts.
    pub bytes: usize,
    /// For tagged shapes: the same records with their tags sealed with [`crate::SECRET`],
    /// for the modules that run with that secret.
    pub sealed: Option<(Vec<Record>, usize)>,
}

impl Cell {
    /// The records a module gets: sealed ones for a module with a secret.
    pub fn records(&self, sealed: bool) -> &[Record] {
        match (&self.sealed, sealed) {
            (Some((records, _)), true) => records,
            _ => &self.records,
        }
    }

    /// Key and value bytes of [`Cell::records`].
    pub fn bytes(&self, sealed: bool) -> usize {
        match (&self.sealed, sealed) {
            (Some((_, bytes)), true) => *bytes,
            _ => self.bytes,
        }
    }
}

/// The value of record `index`: `{"seq":N,"pad":"abc…"}` cut or padded to `size` bytes.
pub fn value(index: usize, size: usize) -> Vec<u8> {
    let mut v = format!("{{\"seq\":{index},\"pad\":\"").into_bytes();
    let mut c = 0u8;
    while v.len() + 2 < size {
        v.push(b'a' + c);
        c = (c + 1) % 26;
    }
    v.extend_from_slice(b"\"}");
    v.truncate(size.max(1));
    if !v.contains(&b'a') {
        // Tiny sizes: keep the SDK filter's `a`.
        v[0] = b'a';
    }
    v
}

/// `payload` tagged as written at [`UPSTREAM`] at `timestamp`, batch position `offset`, in
/// the value of a record without a key; sealed with `secret` (no scope) when given.
pub fn tagged_value(payload: &[u8], timestamp: i64, offset: i64, secret: Option<&[u8]>) -> Vec<u8> {
    let id = record_id(UPSTREAM, timestamp, offset, None, payload);
    let mut tag = Envelope::new_origin(UPSTREAM, timestamp, id).expect("valid cluster id");
    if let Some(secret) = secret {
        let key = SealKey::new(secret, "").expect("a secret of 16 bytes or more");
        tag.seal(&key, &Binding::of(Carrier::Value, None, payload), payload);
    }
    wrap(&tag, payload)
}

/// A record with `value`, offset delta `delta`.
pub fn record(value: Vec<u8>, delta: i64) -> Record {
    let mut r = Record::new(RecordData::from(value));
    r.preamble.set_offset_delta(delta);
    r
}

/// Builds the batch of `shape`.
pub fn cell(shape: Shape) -> Cell {
    let make = |secret: Option<&[u8]>| -> (Vec<Record>, usize) {
        let records: Vec<Record> = (0..shape.records)
            .map(|i| {
                let payload = value(i, shape.value);
                let v = match shape.tagging {
                    Tagging::Untagged => payload,
                    Tagging::Tagged => tagged_value(&payload, BASE_TIMESTAMP, i as i64, secret),
                };
                record(v, i as i64)
            })
            .collect();
        let bytes = records
            .iter()
            .map(|r| r.value.len() + r.key.as_ref().map_or(0, |k| k.len()))
            .sum();
        (records, bytes)
    };
    let (records, bytes) = make(None);
    let sealed = (shape.tagging == Tagging::Tagged).then(|| make(Some(crate::SECRET.as_bytes())));
    Cell {
        shape,
        records,
        bytes,
        sealed,
    }
}

/// `1234567` -> `1,234,567`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `64` -> `64 B`, `1024` -> `1 KB`, `16384` -> `16 KB`.
pub fn bytes_label(n: usize) -> String {
    if n >= 1024 && n % 1024 == 0 {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_size_and_an_a() {
        for size in [1, 2, 10, 64, 1024, 16384] {
            let v = value(12345, size);
            assert_eq!(v.len(), size);
            assert!(v.contains(&b'a'));
            assert!(v.is_ascii());
        }
    }

    #[test]
    fn tagged_values_decode_as_from_upstream() {
        let payload = value(3, 64);
        let v = tagged_value(&payload, BASE_TIMESTAMP, 3, None);
        let origin::Decoded::Tagged {
            envelope,
            payload: p,
        } = origin::decode(&v).unwrap()
        else {
            panic!("not tagged");
        };
        assert_eq!(envelope.origin(), UPSTREAM);
        assert_eq!(p, payload.as_slice());
    }

    #[test]
    fn labels() {
        assert_eq!(group(10_000), "10,000");
        assert_eq!(group(100), "100");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(bytes_label(64), "64 B");
        assert_eq!(bytes_label(16384), "16 KB");
    }
}
