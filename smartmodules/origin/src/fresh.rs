//! New tags written at one cluster. Every tag an origin writes starts with the same bytes
//! (magic, version, flags, hops 0, a path of one id: this cluster), and every record id it
//! gives begins by hashing its own id: both are computed once, when a module starts, so that
//! tagging a record costs its own fields only.

use crate::record_id::{fields, origin_block, Hasher};
use crate::{TagBuf, MAGIC, MAX_ID_LEN, VERSION};

/// Offset of the flags byte in a tag.
const FLAGS_AT: usize = 3;

/// The record-id hash, keyed or not, with this cluster's id already fed.
#[derive(Clone)]
enum IdHash {
    Plain(Hasher),
    #[cfg(feature = "mac")]
    Keyed(crate::SipHasher),
}

/// This cluster as the origin of new tags.
#[derive(Clone)]
pub struct Fresh {
    /// Magic, version, flags (0), hops (0), path count (1), id length, id.
    head: [u8; 7 + MAX_ID_LEN],
    head_len: usize,
    ids: IdHash,
}

impl core::fmt::Debug for Fresh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fresh")
            .field("head", &self.head.get(..self.head_len))
            .finish_non_exhaustive()
    }
}

impl Fresh {
    /// New tags with origin `cluster`, record ids as [`record_id`](crate::record_id) gives
    /// them (no secret). Like [`Envelope::origin_trusted`](crate::Envelope::origin_trusted),
    /// for a `cluster` the caller checked with [`validate_cluster_id`](crate::validate_cluster_id):
    /// an invalid one gives tags that no decoder accepts.
    pub fn new(cluster: &str) -> Self {
        let mut h = Hasher::new();
        origin_block(cluster, |w| h.word(w));
        Self::with(cluster, IdHash::Plain(h))
    }

    /// New tags with origin `cluster` (checked, as for [`Fresh::new`]), record ids keyed as
    /// [`SealKey::record_id`](crate::SealKey::record_id) gives them.
    #[cfg(feature = "mac")]
    pub fn keyed(cluster: &str, key: &crate::SealKey) -> Self {
        let mut h = key.id_hasher();
        origin_block(cluster, |w| h.write_u64(w));
        Self::with(cluster, IdHash::Keyed(h))
    }

    fn with(cluster: &str, ids: IdHash) -> Self {
        let id = cluster.as_bytes();
        let mut head = [0u8; 7 + MAX_ID_LEN];
        let fixed = [MAGIC[0], MAGIC[1], VERSION, 0, 0, 1, id.len() as u8];
        for (dst, src) in head.iter_mut().zip(fixed.iter().chain(id)) {
            *dst = *src;
        }
        Fresh {
            head,
            head_len: head.len().min(7 + id.len()),
            ids,
        }
    }

    /// The record id of a record first tagged here (FORMAT.md §6).
    #[inline]
    pub fn record_id(
        &self,
        timestamp: i64,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> [u8; 8] {
        match &self.ids {
            IdHash::Plain(h) => {
                let mut h = h.clone();
                fields(timestamp, offset, key, |w| h.word(w));
                h.finish(value).to_le_bytes()
            }
            #[cfg(feature = "mac")]
            IdHash::Keyed(h) => {
                let mut h = h.clone();
                fields(timestamp, offset, key, |w| h.write_u64(w));
                h.write(value);
                h.finish().to_le_bytes()
            }
        }
    }

    /// Writes a new tag, without a MAC, to `out`: the same bytes as
    /// [`Envelope::new_origin`](crate::Envelope::new_origin) with these flags.
    #[inline]
    pub fn write(&self, flags: u8, timestamp: i64, id: [u8; 8], out: &mut TagBuf) {
        let at = out.len();
        out.put(self.head.get(..self.head_len).unwrap_or_default());
        out.set(at + FLAGS_AT, flags);
        out.put_varint(crate::envelope::zigzag(timestamp));
        out.put(&id);
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{record_id, wrap, Envelope};

    #[test]
    fn writes_what_the_envelope_writes_and_gives_the_same_ids() {
        for cluster in ["a", "edge-1", &"x".repeat(MAX_ID_LEN)] {
            let fresh = Fresh::new(cluster);
            for (ts, offset, key, value) in [
                (0i64, 0i64, None, &b""[..]),
                (1_700_000_000_000, 7, Some(&b"k"[..]), &b"value"[..]),
                (-1, i64::MAX, Some(&b""[..]), &[0xFFu8; 40][..]),
                (i64::MIN, -5, None, &[1u8; 9][..]),
            ] {
                let id = fresh.record_id(ts, offset, key, value);
                assert_eq!(id, record_id(cluster, ts, offset, key, value));
                for flags in [0, crate::FLAG_VIOLATION, crate::FLAG_NO_KEY, 0x83] {
                    let env = Envelope::from_parts(flags, [cluster], ts, id, None).unwrap();
                    let mut out = TagBuf::new();
                    out.push(9); // writing appends
                    fresh.write(flags, ts, id, &mut out);
                    assert_eq!(&out.as_slice()[1..], wrap(&env, b"").as_slice());
                }
            }
        }
    }

    #[cfg(feature = "mac")]
    #[test]
    fn keyed_ids_are_the_seal_keys() {
        let key = crate::SealKey::new(b"a secret of 16 bytes+", "orders").unwrap();
        let fresh = Fresh::keyed("edge-1", &key);
        for (ts, offset, key_bytes, value) in [
            (5i64, 9i64, Some(&b"k1"[..]), &b"value"[..]),
            (0, 0, None, &b""[..]),
        ] {
            assert_eq!(
                fresh.record_id(ts, offset, key_bytes, value),
                key.record_id("edge-1", ts, offset, key_bytes, value)
            );
        }
    }
}
