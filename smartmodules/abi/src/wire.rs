//! The primitive encodings of `fluvio-protocol`: big-endian integers, zigzag varints,
//! `i16`-length strings. Reading is total: every read checks bounds and returns an error.

use alloc::vec::Vec;

/// Why an input could not be read. `what` names the field, `at` the byte position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    pub what: &'static str,
    pub at: usize,
}

/// A cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError { what, at: self.pos }
    }

    /// The next `n` bytes, borrowed.
    #[inline(always)]
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.err(what))?;
        let out = self.buf.get(self.pos..end).ok_or_else(|| self.err(what))?;
        self.pos = end;
        Ok(out)
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let at = self.pos;
        <[u8; N]>::try_from(self.bytes(N, what)?).map_err(|_| DecodeError { what, at })
    }

    #[inline(always)]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A `bool` is one byte, 0 or 1; anything else is invalid, as in `fluvio-protocol`.
    #[inline(always)]
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError { what, at }),
        }
    }

    pub fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A zigzag varint of at most 10 bytes. One byte (deltas, flags, short lengths: most
    /// fields of a record) is read in place; longer ones by a call.
    #[inline(always)]
    pub fn varint(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) if b & 0x80 == 0 => {
                self.pos += 1;
                Ok(unzigzag(u64::from(b)))
            }
            _ => self.long_varint(what),
        }
    }

    #[inline(never)]
    fn long_varint(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        let start = self.pos;
        let mut acc: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.u8(what)?;
            acc |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(DecodeError { what, at: start });
            }
        }
        Ok(unzigzag(acc))
    }

    /// A `String`: `i16` length, then UTF-8 bytes; a length of zero or less is the empty string.
    pub fn string(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let len = self.i16(what)?;
        if len <= 0 {
            return Ok("");
        }
        let at = self.pos;
        let bytes = self.bytes(len as usize, what)?;
        smartmodule_text::utf8(bytes).ok_or(DecodeError { what, at })
    }

    /// A `Vec<u8>`: `i32` count, then the bytes; a count below one is empty.
    pub fn byte_vec(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.i32(what)?;
        if len < 1 {
            return Ok(&[]);
        }
        self.bytes(len as usize, what)
    }

    /// `RecordData`: varint length, then the bytes.
    #[inline(always)]
    pub fn record_data(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let len = self.varint(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError { what, at })?;
        self.bytes(len, what)
    }
}

#[inline(always)]
fn unzigzag(acc: u64) -> i64 {
    ((acc >> 1) as i64) ^ -((acc & 1) as i64)
}

/// Appends a zigzag varint exactly as `fluvio-protocol` writes lengths.
pub fn put_varint(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// How many bytes `put_varint` writes for `value`.
pub fn varint_len(value: i64) -> usize {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut n = 1;
    while v >= 0x80 {
        n += 1;
        v >>= 7;
    }
    n
}

/// Appends a `String` (`u16` length, then bytes), cut on a char boundary to fit `i16::MAX`
/// bytes, since the decoder on the host reads the length as `i16`.
pub fn put_string(out: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(i16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes().get(..end).unwrap_or_default());
}

/// Appends `RecordData`: varint length, then the bytes.
pub fn put_record_data(out: &mut Vec<u8>, data: &[u8]) {
    put_varint(out, data.len() as i64);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protocol_table() {
        // Pairs from the protocol's own varint test set.
        let table: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (8191, &[0xfe, 0x7f]),
            (-134217729, &[0x81, 0x80, 0x80, 0x80, 0x01]),
        ];
        for (value, bytes) in table {
            let mut out = Vec::new();
            put_varint(&mut out, *value);
            assert_eq!(&out[..], *bytes, "encode {value}");
            assert_eq!(varint_len(*value), bytes.len());
            assert_eq!(Reader::new(bytes).varint("v"), Ok(*value), "decode {value}");
        }
    }

    #[test]
    fn overlong_varint_is_an_error_not_a_panic() {
        let bytes = [0xffu8; 11];
        let err = Reader::new(&bytes).varint("len").unwrap_err();
        assert_eq!(err, DecodeError { what: "len", at: 0 });
        assert!(Reader::new(&[0x80]).varint("len").is_err());
    }

    #[test]
    fn strings_are_cut_to_the_protocol_limit_on_a_char_boundary() {
        let long: alloc::string::String = core::iter::repeat_n('é', 20_000).collect();
        let mut out = Vec::new();
        put_string(&mut out, &long);
        let len = u16::from_be_bytes([out[0], out[1]]) as usize;
        assert!(len <= i16::MAX as usize);
        assert_eq!(len % 2, 0);
        assert_eq!(Reader::new(&out).string("s").unwrap().len(), len);
    }

    #[test]
    fn bool_rejects_values_other_than_zero_and_one() {
        assert_eq!(Reader::new(&[1]).bool("b"), Ok(true));
        assert!(Reader::new(&[2]).bool("b").is_err());
    }
}
