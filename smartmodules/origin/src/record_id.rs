//! Record id: a 64-bit hash assigned once, at the origin, and carried unchanged on every hop.
//!
//! The hashed bytes are laid out in 8-byte words (FORMAT.md §6): the origin's id in a block
//! of whole words, which an origin hashes once, when it starts; then the timestamp, the offset
//! and the key's length, one word each; then the key, padded to a whole word, then the value.
//! So tagging a record hashes its own fields only, a word a step, with no bytes to carry from
//! one piece to the next.

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const P1: u64 = 0x9e37_79b1_85eb_ca87;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// Up to 7 bytes as a little-endian word, read 4, 2 and 1 bytes at a time.
#[inline]
pub(crate) fn partial(bytes: &[u8]) -> u64 {
    let mut v = 0u64;
    let mut at = 0;
    if let Some(b) = bytes.get(..4) {
        v = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        at = 4;
    }
    if let Some(b) = bytes.get(at..at + 2) {
        v |= u64::from(u16::from_le_bytes([b[0], b[1]])) << (8 * at);
        at += 2;
    }
    if let Some(&b) = bytes.get(at) {
        v |= u64::from(b) << (8 * at);
    }
    v
}

/// The 8-byte little-endian words of `bytes`, the last one zero-padded: `f` gets each.
#[inline(always)]
pub(crate) fn words(bytes: &[u8], mut f: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for w in &mut chunks {
        f(u64::from_le_bytes(
            <[u8; 8]>::try_from(w).unwrap_or_default(),
        ));
    }
    if !chunks.remainder().is_empty() {
        f(partial(chunks.remainder()));
    }
}

/// The unkeyed record-id hash, fed whole words.
#[derive(Clone)]
pub(crate) struct Hasher {
    acc: u64,
    len: u64,
}

impl Hasher {
    pub(crate) fn new() -> Self {
        Hasher { acc: SEED, len: 0 }
    }

    #[inline(always)]
    pub(crate) fn word(&mut self, w: u64) {
        self.acc = self
            .acc
            .wrapping_add(w.wrapping_mul(P2))
            .rotate_left(31)
            .wrapping_mul(P1);
        self.len = self.len.wrapping_add(8);
    }

    /// Feeds the last bytes, then gives the hash: every word rounds, the last one zero-padded
    /// (all zeros when the bytes fill whole words), and the length counts the bytes given.
    pub(crate) fn finish(mut self, last: &[u8]) -> u64 {
        let mut chunks = last.chunks_exact(8);
        for w in &mut chunks {
            self.word(u64::from_le_bytes(
                <[u8; 8]>::try_from(w).unwrap_or_default(),
            ));
        }
        let tail = chunks.remainder();
        self.word(partial(tail));
        let len = self.len - 8 + tail.len() as u64;
        fmix64(self.acc ^ len)
    }
}

/// The record-id hash of `bytes` alone (FORMAT.md §6's rounds and finaliser): a compact
/// stand-in for a cluster id, as in a de-duplication window's keys.
pub fn hash64(bytes: &[u8]) -> u64 {
    Hasher::new().finish(bytes)
}

/// The 64-bit finaliser of MurmurHash3: spreads every input bit over the whole word.
#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Derives the record id the origin cluster stores in a new tag when no secret is set (with
/// one, [`SealKey::record_id`](crate::SealKey::record_id) keys it). An origin that tags many
/// records uses [`Fresh`](crate::Fresh), which hashes its own id once.
///
/// `offset` is the record's position as the origin's SmartModule sees it (its
/// offset within the produce batch). The id hashes, in 8-byte little-endian words,
///
/// ```text
/// origin length (1 byte) | origin bytes | zeros to a whole word
///   | timestamp (8 bytes) | offset (8 bytes) | key length + 1, or 0 without a key (8 bytes)
///   | key bytes | zeros to a whole word | value bytes
/// ```
///
/// with FORMAT.md §6's rounds, then MurmurHash3's `fmix64`, and is stored as 8
/// little-endian bytes.
///
/// ```
/// let a = origin::record_id("us-east", 1_700_000_000_000, 0, None, b"v");
/// let b = origin::record_id("us-east", 1_700_000_000_000, 1, None, b"v");
/// assert_ne!(a, b);
/// ```
pub fn record_id(
    origin: &str,
    timestamp: i64,
    offset: i64,
    key: Option<&[u8]>,
    value: &[u8],
) -> [u8; 8] {
    let mut h = Hasher::new();
    origin_block(origin, |w| h.word(w));
    fields(timestamp, offset, key, |w| h.word(w));
    h.finish(value).to_le_bytes()
}

/// The words of the origin block: its length, its bytes, zeros to a whole word. Hashed once
/// per origin (or per [`record_id`] call), so kept out of line.
#[inline(never)]
pub(crate) fn origin_block(origin: &str, mut f: impl FnMut(u64)) {
    let id = origin.as_bytes();
    let first = id.len().min(7);
    let mut head = [0u8; 8];
    head[0] = id.len() as u8;
    for (dst, src) in head.iter_mut().skip(1).zip(id) {
        *dst = *src;
    }
    f(u64::from_le_bytes(head));
    words(id.get(first..).unwrap_or_default(), &mut f);
}

/// The words between the origin block and the value: timestamp, offset, key length (plus one;
/// zero without a key), and the key, zero-padded.
#[inline(always)]
pub(crate) fn fields(timestamp: i64, offset: i64, key: Option<&[u8]>, mut f: impl FnMut(u64)) {
    f(timestamp as u64);
    f(offset as u64);
    f(key.map_or(0, |k| k.len() as u64 + 1));
    words(key.unwrap_or_default(), f);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The documented hash over one contiguous input, written straight from FORMAT.md §6.
    fn reference(input: &[u8]) -> u64 {
        let mut acc = SEED;
        let round = |acc: u64, w: u64| {
            acc.wrapping_add(w.wrapping_mul(P2))
                .rotate_left(31)
                .wrapping_mul(P1)
        };
        let mut words = input.chunks_exact(8);
        for w in &mut words {
            acc = round(acc, u64::from_le_bytes(w.try_into().unwrap()));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        acc = round(acc, u64::from_le_bytes(tail));
        fmix64(acc ^ input.len() as u64)
    }

    /// `S` of FORMAT.md §6, laid out byte by byte.
    pub fn layout(
        origin: &str,
        timestamp: i64,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> Vec<u8> {
        let pad = |s: &mut Vec<u8>| {
            while s.len() % 8 != 0 {
                s.push(0);
            }
        };
        let mut s = alloc::vec![origin.len() as u8];
        s.extend_from_slice(origin.as_bytes());
        pad(&mut s);
        s.extend_from_slice(&timestamp.to_le_bytes());
        s.extend_from_slice(&offset.to_le_bytes());
        s.extend_from_slice(&key.map_or(0u64, |k| k.len() as u64 + 1).to_le_bytes());
        s.extend_from_slice(key.unwrap_or_default());
        pad(&mut s);
        s.extend_from_slice(value);
        s
    }

    #[test]
    fn id_is_the_documented_hash_of_the_documented_bytes() {
        for origin in ["a", "us-east", "1234567", "12345678", &"x".repeat(64)] {
            for key in [None, Some(&b""[..]), Some(&b"k1"[..]), Some(&[7u8; 17][..])] {
                for value in [&b""[..], b"value", &[9u8; 64], &[1u8; 65]] {
                    let expected = reference(&layout(origin, 5, 9, key, value)).to_le_bytes();
                    assert_eq!(record_id(origin, 5, 9, key, value), expected);
                }
            }
        }
    }

    #[test]
    fn hash64_is_the_reference_on_every_length() {
        let input: Vec<u8> = (0..100u8).collect();
        for len in 0..input.len() {
            assert_eq!(hash64(&input[..len]), reference(&input[..len]), "len {len}");
        }
    }

    #[test]
    fn the_length_is_part_of_the_hash() {
        // Zero padding of the last word must not make "a" and "a\0" equal.
        assert_ne!(hash64(b"a"), hash64(b"a\0"));
        assert_ne!(hash64(b""), hash64(b"\0"));
    }

    #[test]
    fn fmix64_known_values() {
        assert_eq!(fmix64(0), 0);
        // fmix64 is a bijection: distinct inputs stay distinct.
        assert_ne!(fmix64(1), fmix64(2));
    }

    #[test]
    fn every_input_matters() {
        let base = record_id("a", 1, 2, Some(b"k"), b"v");
        assert_ne!(base, record_id("b", 1, 2, Some(b"k"), b"v"));
        assert_ne!(base, record_id("a", 3, 2, Some(b"k"), b"v"));
        assert_ne!(base, record_id("a", 1, 3, Some(b"k"), b"v"));
        assert_ne!(base, record_id("a", 1, 2, Some(b"j"), b"v"));
        assert_ne!(base, record_id("a", 1, 2, None, b"v"));
        assert_ne!(base, record_id("a", 1, 2, Some(b"k"), b"w"));
        // An empty key is not the same as no key.
        assert_ne!(
            record_id("a", 1, 2, Some(b""), b"v"),
            record_id("a", 1, 2, None, b"v")
        );
        // Moving bytes between key and value changes the id (the key length is hashed).
        assert_ne!(
            record_id("a", 1, 2, Some(b"kv"), b""),
            record_id("a", 1, 2, Some(b"k"), b"v")
        );
        // Zeros that pad the key are not the value's.
        assert_ne!(
            record_id("a", 1, 2, Some(b"k"), b""),
            record_id("a", 1, 2, Some(b"k"), b"\0\0\0\0\0\0\0")
        );
        assert_eq!(base, record_id("a", 1, 2, Some(b"k"), b"v"));
    }
}
