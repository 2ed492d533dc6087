//! SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit function that nobody without the
//! key can aim. It gives record ids under a secret (FORMAT.md §6) and the positions of a
//! de-duplication window's slots. Fed piece by piece, 8 bytes a step, like the unkeyed
//! record-id hash; checked against the reference vectors and the `siphasher` crate.

/// A SipHash-2-4 computation fed piece by piece.
#[derive(Clone)]
pub struct SipHasher {
    v: [u64; 4],
    /// Bytes of an unfinished word, little-endian.
    tail: u64,
    filled: usize,
    len: u64,
}

impl SipHasher {
    /// A computation under the 128-bit key `(k0, k1)`: its first and last 8 bytes, little-endian.
    pub fn new(key: [u64; 2]) -> Self {
        let [k0, k1] = key;
        SipHasher {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            filled: 0,
            len: 0,
        }
    }

    /// `rounds` SipRounds. Out of line and looped: a few dozen bytes of wasm for every caller,
    /// where unrolled rounds would cost a kilobyte.
    #[inline(never)]
    fn rounds(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.round();
        }
    }

    #[inline(always)]
    fn round(&mut self) {
        let [mut v0, mut v1, mut v2, mut v3] = self.v;
        v0 = v0.wrapping_add(v1);
        v1 = v1.rotate_left(13) ^ v0;
        v0 = v0.rotate_left(32);
        v2 = v2.wrapping_add(v3);
        v3 = v3.rotate_left(16) ^ v2;
        v0 = v0.wrapping_add(v3);
        v3 = v3.rotate_left(21) ^ v0;
        v2 = v2.wrapping_add(v1);
        v1 = v1.rotate_left(17) ^ v2;
        v2 = v2.rotate_left(32);
        self.v = [v0, v1, v2, v3];
    }

    /// One message word: two compression rounds.
    #[inline]
    fn word(&mut self, m: u64) {
        self.v[3] ^= m;
        self.rounds(2);
        self.v[0] ^= m;
    }

    /// Feeds `bytes`.
    pub fn write(&mut self, mut bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        if self.filled > 0 {
            let need = 8 - self.filled;
            if bytes.len() < need {
                self.tail |= crate::record_id::partial(bytes) << (8 * self.filled);
                self.filled += bytes.len();
                return;
            }
            let (head, rest) = bytes.split_at(need);
            self.word(self.tail | crate::record_id::partial(head) << (8 * self.filled));
            bytes = rest;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(
                <[u8; 8]>::try_from(w).unwrap_or_default(),
            ));
        }
        self.tail = crate::record_id::partial(words.remainder());
        self.filled = words.remainder().len();
    }

    /// Feeds one number as its 8 little-endian bytes.
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The 64-bit result.
    pub fn finish(mut self) -> u64 {
        self.word(self.tail | (self.len & 0xFF) << 56);
        self.v[2] ^= 0xFF;
        self.rounds(4);
        let [v0, v1, v2, v3] = self.v;
        v0 ^ v1 ^ v2 ^ v3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(key: [u64; 2], bytes: &[u8]) -> u64 {
        let mut h = SipHasher::new(key);
        h.write(bytes);
        h.finish()
    }

    /// The key 00 01 .. 0f of the reference vectors.
    const KEY: [u64; 2] = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];

    #[test]
    fn reference_vectors() {
        // From the SipHash paper's appendix: messages 00, 00 01, .. of length 0, 1, 7, 8, 15.
        let message: alloc::vec::Vec<u8> = (0..64u8).collect();
        assert_eq!(hash(KEY, &message[..0]), 0x726f_db47_dd0e_0e31);
        assert_eq!(hash(KEY, &message[..1]), 0x74f8_39c5_93dc_67fd);
        assert_eq!(hash(KEY, &message[..15]), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn agrees_with_the_siphasher_crate_on_every_length_and_split() {
        use core::hash::Hasher as _;
        let message: alloc::vec::Vec<u8> = (0..100u8).map(|b| b.wrapping_mul(37)).collect();
        for len in 0..message.len() {
            let mut reference = siphasher::sip::SipHasher24::new_with_keys(KEY[0], KEY[1]);
            reference.write(&message[..len]);
            let expected = reference.finish();
            for cut in [0, len / 3, len / 2, len] {
                let mut h = SipHasher::new(KEY);
                h.write(&message[..cut]);
                h.write(&message[cut..len]);
                assert_eq!(h.finish(), expected, "len {len} cut {cut}");
            }
        }
    }
}
