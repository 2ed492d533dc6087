//! Text for SmartModules without `core::fmt`, which would cost every module kilobytes that the
//! broker compiles on each produce request: a message builder, decimal integers, and a UTF-8
//! check a few hundred bytes smaller than the standard library's. The guest ABI, the tag codec
//! and the policy stages all write their text with these, each written once.
#![no_std]
#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

use alloc::string::String;

/// A message under construction: `Text::new("record at offset ").int(7).push(": ...")`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// Starts a message with `text`.
    pub fn new(text: &str) -> Self {
        Self(owned(text))
    }

    /// Appends `text`.
    // Out of line: messages chain many pushes, and each inlined one costs a module bytes.
    #[inline(never)]
    pub fn push(mut self, text: &str) -> Self {
        self.0.push_str(text);
        self
    }

    /// Appends the decimal form of `value`.
    pub fn int(mut self, value: i64) -> Self {
        push_int(&mut self.0, value);
        self
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

/// `text` as an owned string, out of line: every copy a module makes at init shares this one
/// allocation path instead of inlining its own.
#[inline(never)]
pub fn owned(text: &str) -> String {
    String::from(text)
}

/// Appends the decimal form of `value`. Written without indexing, so that it has no panic
/// path at all.
pub fn push_int(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut n = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        used += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits.iter().skip(digits.len() - used) {
        out.push(char::from(*d));
    }
}

/// `bytes` as text, if they are UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// past U+10FFFF); the same answer as `core::str::from_utf8`, in a loop a fraction of its size.
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    let mut rest = bytes;
    while let Some((&lead, tail)) = rest.split_first() {
        let (len, min, mut point) = match lead {
            0x00..=0x7F => (0, 0, u32::from(lead)),
            0xC2..=0xDF => (1, 0x80, u32::from(lead & 0x1F)),
            0xE0..=0xEF => (2, 0x800, u32::from(lead & 0x0F)),
            0xF0..=0xF4 => (3, 0x1_0000, u32::from(lead & 0x07)),
            _ => return None,
        };
        let continuation = tail.get(..len)?;
        for &b in continuation {
            if b & 0xC0 != 0x80 {
                return None;
            }
            point = point << 6 | u32::from(b & 0x3F);
        }
        if point < min || point > 0x10_FFFF || (0xD800..=0xDFFF).contains(&point) {
            return None;
        }
        rest = tail.get(len..)?;
    }
    // SAFETY: every byte sequence of `bytes` was just checked to be a well-formed UTF-8
    // encoding of a scalar value, which is what `str` requires.
    Some(unsafe { core::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ints_print_like_display() {
        for v in [0i64, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, alloc::format!("{v}"));
        }
    }

    #[test]
    fn utf8_agrees_with_core_on_every_sequence_of_up_to_three_bytes() {
        let mut buf = [0u8; 3];
        for a in 0..=255u8 {
            buf[0] = a;
            assert_eq!(utf8(&buf[..1]), core::str::from_utf8(&buf[..1]).ok());
            for b in 0..=255u8 {
                buf[1] = b;
                assert_eq!(utf8(&buf[..2]), core::str::from_utf8(&buf[..2]).ok());
                for c in 0..=255u8 {
                    buf[2] = c;
                    assert_eq!(utf8(&buf), core::str::from_utf8(&buf).ok(), "{buf:?}");
                }
            }
        }
    }

    #[test]
    fn utf8_boundaries() {
        for ok in ["", "a", "é", "€", "𝄞", "\u{10FFFF}", "\u{D7FF}", "\u{E000}"] {
            assert_eq!(utf8(ok.as_bytes()), Some(ok));
        }
        for bad in [
            &[0xF4, 0x90, 0x80, 0x80][..], // past U+10FFFF
            &[0xED, 0xA0, 0x80],           // a surrogate
            &[0xF0, 0x80, 0x80, 0x80],     // overlong
            &[0xC0, 0x80],                 // overlong NUL
            &[0xE2, 0x82],                 // cut short
            &[0x80],                       // a lone continuation
        ] {
            assert_eq!(utf8(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn utf8_agrees_with_core(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(utf8(&bytes), core::str::from_utf8(&bytes).ok());
        }

        #[test]
        fn utf8_accepts_every_string(s in ".{0,40}") {
            prop_assert_eq!(utf8(s.as_bytes()), Some(s.as_str()));
        }
    }
}
