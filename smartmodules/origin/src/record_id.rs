//! Record id: a 64-bit hash assigned once, at the origin, and carried unchanged on every hop.

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 state.
struct Fnv1a(u64);

impl Fnv1a {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.0 = h;
    }
}

/// FNV-1a 64 of `bytes` through the finaliser: a compact stand-in for an origin id.
pub(crate) fn hash64(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a(FNV_OFFSET_BASIS);
    h.write(bytes);
    fmix64(h.0)
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

/// Derives the record id the origin cluster stores in a new tag.
///
/// `offset` is the record's position as the origin's SmartModule sees it (its
/// offset within the produce batch). The id is FNV-1a 64 over
///
/// ```text
/// origin bytes | 0xFF | timestamp (8 bytes LE) | offset (8 bytes LE)
///   | key present (1 byte: 0 or 1) | key length (4 bytes LE) | key bytes | value bytes
/// ```
///
/// followed by MurmurHash3's `fmix64`, stored as 8 little-endian bytes. An
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
    let mut h = Fnv1a(FNV_OFFSET_BASIS);
    h.write(origin.as_bytes());
    h.write(&[0xFF]);
    h.write(&timestamp.to_le_bytes());
    h.write(&offset.to_le_bytes());
    match key {
        Some(key) => {
            let len = u32::try_from(key.len()).unwrap_or(u32::MAX);
            h.write(&[1]);
            h.write(&len.to_le_bytes());
            h.write(key);
        }
        None => {
            h.write(&[0]);
            h.write(&0u32.to_le_bytes());
        }
    }
    h.write(value);
    fmix64(h.0).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fnv(bytes: &[u8]) -> u64 {
        let mut h = Fnv1a(FNV_OFFSET_BASIS);
        h.write(bytes);
        h.0
    }

    #[test]
    fn fnv1a_known_values() {
        // Published FNV-1a 64 test values.
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
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
        let expected = fmix64(fnv(&input)).to_le_bytes();
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
