//! A tag being written, in a fixed buffer as large as the largest tag: writing one allocates
//! nothing, checks no capacity per byte, and carries no buffer-growing code into a module.

use crate::MAX_TAG_LEN;

/// Room for one tag, MAC included.
#[derive(Clone)]
pub struct TagBuf {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl TagBuf {
    /// An empty buffer.
    pub const fn new() -> Self {
        TagBuf {
            bytes: [0; MAX_TAG_LEN],
            len: 0,
        }
    }

    /// The tag written so far.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Bytes written.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets what was written.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `bytes`. A tag never outgrows the buffer (the envelope's invariants bound it
    /// by [`MAX_TAG_LEN`]); bytes past the end would be dropped, not written out of bounds.
    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            copy_small(dst, bytes);
            self.len = end;
        }
    }

    /// Overwrites the byte at `at`, if written.
    #[inline]
    pub(crate) fn set(&mut self, at: usize, b: u8) {
        if let Some(slot) = self.bytes.get_mut(..self.len).and_then(|w| w.get_mut(at)) {
            *slot = b;
        }
    }

    /// Appends `v` as a postcard (LEB128) varint.
    #[inline]
    pub(crate) fn put_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }

    #[inline]
    pub(crate) fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Removes the last byte.
    #[cfg(feature = "mac")]
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<u8> {
        self.len = self.len.checked_sub(1)?;
        self.bytes.get(self.len).copied()
    }
}

/// Copies `src` into `dst` (of the same length) 8 bytes a step. A slice copy is a
/// `memory.copy` in wasm, a call out of the module that costs more than this loop for the
/// few dozen bytes of a tag.
#[inline]
pub(crate) fn copy_small(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let mut i = 0;
    while i + 8 <= n {
        // Array to array: one 8-byte load and store (a slice's `copy_from_slice` stays a call).
        let d = dst
            .get_mut(i..i + 8)
            .and_then(|d| <&mut [u8; 8]>::try_from(d).ok());
        let s = src.get(i..i + 8).and_then(|s| <&[u8; 8]>::try_from(s).ok());
        if let (Some(d), Some(s)) = (d, s) {
            *d = *s;
        }
        i += 8;
    }
    while i < n {
        if let (Some(d), Some(s)) = (dst.get_mut(i), src.get(i)) {
            *d = *s;
        }
        i += 1;
    }
}

impl Default for TagBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for TagBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("TagBuf").field(&self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_is_put_up_to_its_size() {
        let mut b = TagBuf::new();
        b.put(&[1, 2, 3]);
        b.put(&[9; 20]);
        assert_eq!(b.len(), 23);
        assert_eq!(&b.as_slice()[..3], &[1, 2, 3]);
        b.clear();
        assert!(b.is_empty());
        for _ in 0..MAX_TAG_LEN + 5 {
            b.push(1);
        }
        assert_eq!(b.len(), MAX_TAG_LEN, "never past the end");
        b.put(&[2; 32]);
        assert_eq!(b.len(), MAX_TAG_LEN);
    }
}
