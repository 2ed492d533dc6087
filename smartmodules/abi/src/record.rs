//! A record as it sits in the encoded input, borrowed: nothing is copied to look at it, and an
//! unchanged record is written back as the very bytes it came in.

use crate::wire::{DecodeError, Reader};

/// One encoded `Record`: `varint len | attributes i8 | varint timestamp_delta |
/// varint offset_delta | key: bool + RecordData | value: RecordData | varint headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// The whole record, length prefix included.
    pub raw: &'a [u8],
    /// `attributes`, `timestamp_delta` and `offset_delta`, as encoded.
    pub preamble: &'a [u8],
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i64,
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    /// The `headers` varint, as encoded (Fluvio records carry a count and no header data).
    pub headers: &'a [u8],
}

impl<'a> RawRecord<'a> {
    /// Reads one record; the fields must fill its length prefix exactly. Inlined into
    /// [`Records::next`], which builds the record in its caller's slot: called, its result (a
    /// dozen words) would come back through memory and be moved with a `memory.copy`, a call
    /// into the host for every record.
    #[inline(always)]
    pub fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let start = r.position();
        let mut whole = r.clone();
        let len = r.varint("record length")?;
        let len = usize::try_from(len).map_err(|_| DecodeError {
            what: "record length",
            at: start,
        })?;
        let prefix = r.position() - start;
        let body = r.bytes(len, "record body")?;
        let raw = whole.bytes(prefix + len, "record")?;

        let base = start + prefix;
        let mut b = Reader::new(body);
        let shift = |e: DecodeError| DecodeError {
            what: e.what,
            at: base + e.at,
        };
        let attributes = b.u8("record attributes").map_err(shift)? as i8;
        let timestamp_delta = b.varint("record timestamp delta").map_err(shift)?;
        let offset_delta = b.varint("record offset delta").map_err(shift)?;
        let preamble = body.get(..b.position()).unwrap_or_default();
        let key = if b.bool("record key flag").map_err(shift)? {
            Some(b.record_data("record key").map_err(shift)?)
        } else {
            None
        };
        let value = b.record_data("record value").map_err(shift)?;
        let headers_at = b.position();
        b.varint("record headers").map_err(shift)?;
        let headers = body.get(headers_at..b.position()).unwrap_or_default();
        if !b.is_empty() {
            return Err(DecodeError {
                what: "record length (bytes left over)",
                at: base + b.position(),
            });
        }
        Ok(Self {
            raw,
            preamble,
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        })
    }
}

/// Walks an encoded `Vec<Record>` (an `i32` count, then the records), yielding each record or
/// the first decoding error, after which it stops.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    reader: Reader<'a>,
    left: u32,
    failed: bool,
}

impl<'a> Records<'a> {
    pub fn new(encoded: &'a [u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(encoded);
        if encoded.is_empty() {
            // An empty buffer is how an empty record list arrives from some paths.
            return Ok(Self {
                reader,
                left: 0,
                failed: false,
            });
        }
        let count = reader.i32("record count")?;
        Ok(Self {
            reader,
            left: count.max(0) as u32,
            failed: false,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RawRecord<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.failed {
            return None;
        }
        self.left -= 1;
        let item = RawRecord::read(&mut self.reader);
        self.failed = item.is_err();
        Some(item)
    }
}
