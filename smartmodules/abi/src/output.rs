//! Writers for what a module hands back through `copy_records`: `SmartModuleOutput`
//! (`successes: Vec<Record>`, `error: Option<SmartModuleTransformRuntimeError>`), the init and
//! look-back error outputs. Unchanged records are copied as their original bytes.

use alloc::vec::Vec;

use crate::record::RawRecord;
use crate::wire::{put_record_data, put_string, put_varint, varint_len};

/// The transform kinds, with their `SmartModuleKind` tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Filter = 0,
    Map = 1,
    ArrayMap = 2,
    Aggregate = 3,
    FilterMap = 4,
}

/// A refusal: becomes `SmartModuleTransformRuntimeError`, which the producer sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError<'a> {
    pub hint: &'a str,
    pub offset: i64,
    pub kind: Kind,
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
}

/// Builds `SmartModuleOutput` in a buffer that the caller keeps and reuses across calls.
pub struct OutputWriter<'b> {
    buf: &'b mut Vec<u8>,
    count: u32,
}

impl<'b> OutputWriter<'b> {
    /// Clears `buf` and starts a record list (its count is patched in by `finish`).
    pub fn new(buf: &'b mut Vec<u8>, capacity_hint: usize) -> Self {
        buf.clear();
        buf.reserve(capacity_hint + 5);
        buf.extend_from_slice(&[0; 4]);
        Self { buf, count: 0 }
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Appends a record exactly as it came in.
    pub fn pass(&mut self, record: &RawRecord<'_>) {
        self.buf.extend_from_slice(record.raw);
        self.count += 1;
    }

    /// Appends `record` with a new key and value, each given as pieces written one after
    /// another (an envelope and the original payload, say), keeping its preamble and headers.
    pub fn emit(&mut self, record: &RawRecord<'_>, key: Option<&[&[u8]]>, value: &[&[u8]]) {
        let key_len: Option<usize> = key.map(|parts| parts.iter().map(|p| p.len()).sum());
        let value_len: usize = value.iter().map(|p| p.len()).sum();
        let body = record.preamble.len()
            + 1
            + key_len.map_or(0, |n| varint_len(n as i64) + n)
            + varint_len(value_len as i64)
            + value_len
            + record.headers.len();
        put_varint(self.buf, body as i64);
        push_few(self.buf, record.preamble);
        match (key, key_len) {
            (Some(parts), Some(n)) => {
                self.buf.push(1);
                put_varint(self.buf, n as i64);
                for p in parts {
                    self.buf.extend_from_slice(p);
                }
            }
            _ => self.buf.push(0),
        }
        put_varint(self.buf, value_len as i64);
        for p in value {
            self.buf.extend_from_slice(p);
        }
        push_few(self.buf, record.headers);
        self.count += 1;
    }

    /// Patches the record count and appends the error field.
    pub fn finish(self, error: Option<&RuntimeError<'_>>) {
        if let Some(count) = self.buf.get_mut(..4) {
            count.copy_from_slice(&self.count.to_be_bytes());
        }
        match error {
            None => self.buf.push(0),
            Some(e) => {
                self.buf.push(1);
                put_string(self.buf, e.hint);
                self.buf.extend_from_slice(&e.offset.to_be_bytes());
                self.buf.push(e.kind as u8);
                match e.key {
                    Some(k) => {
                        self.buf.push(1);
                        put_record_data(self.buf, k);
                    }
                    None => self.buf.push(0),
                }
                put_record_data(self.buf, e.value);
            }
        }
    }
}

/// Appends a few bytes (a record's preamble, its header count) one by one: copied, they
/// would cost a `memory.copy`, a call into the host, for three bytes.
#[inline(always)]
fn push_few(buf: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        buf.push(b);
    }
}

/// `SmartModuleInitOutput`: just the hint.
pub fn write_init_error(buf: &mut Vec<u8>, hint: &str) {
    buf.clear();
    put_string(buf, hint);
}

/// `SmartModuleLookbackOutput`: hint, offset, key, value.
pub fn write_look_back_error(
    buf: &mut Vec<u8>,
    hint: &str,
    offset: i64,
    key: Option<&[u8]>,
    value: &[u8],
) {
    buf.clear();
    put_string(buf, hint);
    buf.extend_from_slice(&offset.to_be_bytes());
    match key {
        Some(k) => {
            buf.push(1);
            put_record_data(buf, k);
        }
        None => buf.push(0),
    }
    put_record_data(buf, value);
}
