//! SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed function that nobody without the key
//! can aim or forge. Its 64-bit output gives record ids under a secret (FORMAT.md §6) and the
//! positions of a de-duplication window's slots; its 128-bit output is the tag's MAC (§7).
//! Fed piece by piece, 8 bytes a step, like the unkeyed record-id hash; checked against the
//! reference vectors and the `siphasher` crate.

/// A SipHash-2-4 computation fed piece by piece.
#[derive(Clone)]
pub struct SipHasher {
    v: [u64; 4],
    /// Bytes of an unfinished word, little-endian.
    tail: u64,
    filled: usize,
    len: u64,
}

/// One SipRound on four words held in locals.
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// One message word: two compression rounds.
#[inline(always)]
fn compress(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
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

    /// A computation of the 128-bit output variant (finish it with [`SipHasher::finish128`]).
    pub fn new128(key: [u64; 2]) -> Self {
        let mut h = SipHasher::new(key);
        h.v[1] ^= 0xee;
        h
    }

    /// `rounds` SipRounds. Out of line and looped: the finalisation runs once a hash, and
    /// unrolled rounds would cost a kilobyte of wasm at every caller.
    #[inline(never)]
    fn rounds(&mut self, rounds: usize) {
        for _ in 0..rounds {
            sip_round(&mut self.v);
        }
    }

    /// Feeds `bytes`. Whole words go through one loop that keeps the state in locals: this
    /// is the per-byte cost of a MAC.
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
            let m = self.tail | crate::record_id::partial(head) << (8 * self.filled);
            compress(&mut self.v, m);
            bytes = rest;
        }
        let mut words = bytes.chunks_exact(8);
        let mut v = self.v;
        for w in &mut words {
            compress(
                &mut v,
                u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default()),
            );
        }
        self.v = v;
        self.tail = crate::record_id::partial(words.remainder());
        self.filled = words.remainder().len();
    }

    /// Feeds one number as its 8 little-endian bytes.
    pub fn write_u64(&mut self, v: u64) {
        if self.filled == 0 {
            self.len = self.len.wrapping_add(8);
            compress(&mut self.v, v);
        } else {
            self.write(&v.to_le_bytes());
        }
    }

    /// The last word: the unfinished bytes and the length's low byte.
    fn last_word(&mut self) {
        let m = self.tail | (self.len & 0xFF) << 56;
        compress(&mut self.v, m);
    }

    fn fold(&self) -> u64 {
        let [v0, v1, v2, v3] = self.v;
        v0 ^ v1 ^ v2 ^ v3
    }

    /// The 64-bit result.
    pub fn finish(mut self) -> u64 {
        self.last_word();
        self.v[2] ^= 0xFF;
        self.rounds(4);
        self.fold()
    }

    /// The 128-bit result of a computation begun with [`SipHasher::new128`], as 16 bytes:
    /// both halves little-endian, as the reference implementation writes them.
    pub fn finish128(mut self) -> [u8; 16] {
        self.last_word();
        self.v[2] ^= 0xee;
        self.rounds(4);
        let low = self.fold();
        self.v[1] ^= 0xdd;
        self.rounds(4);
        let high = self.fold();
        let mut out = [0u8; 16];
        for (dst, src) in out
            .iter_mut()
            .zip(low.to_le_bytes().into_iter().chain(high.to_le_bytes()))
        {
            *dst = src;
        }
        out
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
    fn reference_vectors_of_the_128_bit_output() {
        // vectors.h of the reference implementation (vectors_sip128): the messages of length
        // 0 and 1 under the key 00 01 .. 0f.
        let message: alloc::vec::Vec<u8> = (0..64u8).collect();
        let mac = |len: usize| {
            let mut h = SipHasher::new128(KEY);
            h.write(&message[..len]);
            h.finish128()
        };
        assert_eq!(
            mac(0),
            [
                0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
                0x02, 0x93
            ]
        );
        assert_eq!(
            mac(1),
            [
                0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22,
                0xfc, 0x45
            ]
        );
    }

    #[test]
    fn the_128_bit_output_agrees_with_the_siphasher_crate_on_every_length_and_split() {
        use siphasher::sip128::Hasher128 as _;
        let message: alloc::vec::Vec<u8> = (0..100u8).map(|b| b.wrapping_mul(29)).collect();
        for len in 0..message.len() {
            let mut reference = siphasher::sip128::SipHasher24::new_with_keys(KEY[0], KEY[1]);
            core::hash::Hasher::write(&mut reference, &message[..len]);
            let expected = reference.finish128().as_bytes();
            for cut in [0, len / 3, len / 2, len] {
                let mut h = SipHasher::new128(KEY);
                h.write(&message[..cut]);
                h.write(&message[cut..len]);
                assert_eq!(h.finish128(), expected, "len {len} cut {cut}");
            }
        }
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
