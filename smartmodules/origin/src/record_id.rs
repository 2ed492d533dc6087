//! Record id: a 64-bit hash assigned once, at the origin, and carried unchanged on every hop.
//!
//! The hash takes 8 bytes a step (a multiply-rotate round), so that tagging a 16 KB value
//! costs a few thousand instructions rather than the quarter million a byte-at-a-time hash
//! would: the value is hashed on every record an origin tags.

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const P1: u64 = 0x9e37_79b1_85eb_ca87;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// The streaming state: full 8-byte words are mixed in as they complete; the bytes of an
/// unfinished word wait in `tail`, little-endian, so that pieces of any length cost a few
/// shifts rather than a loop over their bytes.
#[derive(Clone)]
pub(crate) struct Hasher {
    acc: u64,
    tail: u64,
    filled: usize,
    len: u64,
}

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

impl Hasher {
    pub(crate) fn new() -> Self {
        Hasher {
            acc: SEED,
            tail: 0,
            filled: 0,
            len: 0,
        }
    }

    #[inline]
    fn round(&mut self, word: u64) {
        self.acc = self
            .acc
            .wrapping_add(word.wrapping_mul(P2))
            .rotate_left(31)
            .wrapping_mul(P1);
    }

    pub(crate) fn write(&mut self, mut bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        if self.filled > 0 {
            let need = 8 - self.filled;
            if bytes.len() < need {
                self.tail |= partial(bytes) << (8 * self.filled);
                self.filled += bytes.len();
                return;
            }
            let (head, rest) = bytes.split_at(need);
            self.round(self.tail | partial(head) << (8 * self.filled));
            bytes = rest;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word = <[u8; 8]>::try_from(word).unwrap_or_default();
            self.round(u64::from_le_bytes(word));
        }
        self.tail = partial(words.remainder());
        self.filled = words.remainder().len();
    }

    pub(crate) fn finish(mut self) -> u64 {
        // The last word, zero-padded (all zeros when the input filled whole words).
        self.round(self.tail);
        fmix64(self.acc ^ self.len)
    }
}

/// The record-id hash of `bytes` (FORMAT.md §6's rounds over `bytes` alone): a compact
/// stand-in for a cluster id, as in a de-duplication window's keys.
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h = Hasher::new();
    h.write(bytes);
    h.finish()
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
/// one, [`SealKey::record_id`](crate::SealKey::record_id) keys it).
///
/// `offset` is the record's position as the origin's SmartModule sees it (its
/// offset within the produce batch). The id hashes
///
/// ```text
/// origin bytes | 0xFF | timestamp (8 bytes LE) | offset (8 bytes LE)
///   | key present (1 byte: 0 or 1) | key length (4 bytes LE) | key bytes | value bytes
/// ```
///
/// 8 bytes a round (docs/FORMAT.md §6), then MurmurHash3's `fmix64`, and is stored as 8
/// little-endian bytes. An
/// absent key hashes as present byte 0 and length 0. A key longer than
/// `u32::MAX` bytes hashes its length as `u32::MAX`.
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
    feed(&mut h, origin, timestamp, offset, key, value);
    h.finish().to_le_bytes()
}

/// A hash a record's fields are fed to.
pub(crate) trait Absorb {
    fn absorb(&mut self, bytes: &[u8]);
}

impl Absorb for Hasher {
    #[inline]
    fn absorb(&mut self, bytes: &[u8]) {
        self.write(bytes);
    }
}

impl Absorb for crate::SipHasher {
    #[inline]
    fn absorb(&mut self, bytes: &[u8]) {
        self.write(bytes);
    }
}

/// Feeds `S` of FORMAT.md §6: origin, 0xFF, timestamp, offset, key presence and length, key,
/// value.
#[inline]
pub(crate) fn feed(
    h: &mut impl Absorb,
    origin: &str,
    timestamp: i64,
    offset: i64,
    key: Option<&[u8]>,
    value: &[u8],
) {
    h.absorb(origin.as_bytes());
    feed_fields(h, timestamp, offset, key, value);
}

/// Feeds what follows the origin in `S`: 0xFF, timestamp, offset, key presence and length,
/// key, value.
#[inline]
pub(crate) fn feed_fields(
    h: &mut impl Absorb,
    timestamp: i64,
    offset: i64,
    key: Option<&[u8]>,
    value: &[u8],
) {
    // The fixed-size fields in one piece: 0xFF, timestamp, offset, key present, key length.
    // Spelled out byte by byte: stores, where slice copies would be calls in wasm.
    let t = timestamp.to_le_bytes();
    let o = offset.to_le_bytes();
    let l = key
        .map_or(0, |k| u32::try_from(k.len()).unwrap_or(u32::MAX))
        .to_le_bytes();
    let fixed = [
        0xFF,
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        t[6],
        t[7],
        o[0],
        o[1],
        o[2],
        o[3],
        o[4],
        o[5],
        o[6],
        o[7],
        u8::from(key.is_some()),
        l[0],
        l[1],
        l[2],
        l[3],
    ];
    h.absorb(&fixed);
    h.absorb(key.unwrap_or(&[]));
    h.absorb(value);
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn streaming_in_any_pieces_equals_the_one_piece_hash() {
        let input: alloc::vec::Vec<u8> = (0..100u8).collect();
        for len in 0..input.len() {
            for cut in 0..=len {
                let mut h = Hasher::new();
                h.write(&input[..cut]);
                h.write(&input[cut..len]);
                assert_eq!(h.finish(), reference(&input[..len]), "len {len} cut {cut}");
            }
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
    fn id_is_the_documented_hash() {
        let mut input = alloc::vec::Vec::new();
        input.extend_from_slice(b"us-east");
        input.push(0xFF);
        input.extend_from_slice(&5i64.to_le_bytes());
        input.extend_from_slice(&9i64.to_le_bytes());
        input.push(1);
        input.extend_from_slice(&2u32.to_le_bytes());
        input.extend_from_slice(b"k1");
        input.extend_from_slice(b"value");
        let expected = reference(&input).to_le_bytes();
        assert_eq!(record_id("us-east", 5, 9, Some(b"k1"), b"value"), expected);
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
        assert_eq!(base, record_id("a", 1, 2, Some(b"k"), b"v"));
    }
}
