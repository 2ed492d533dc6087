//! The envelope type, its wire encoding and the total decoder.
//!
//! The body is the postcard encoding of the fields in wire order (docs/FORMAT.md §2), written
//! and read here by hand: a tag is written into every record an origin produces and read on
//! every hop, and the generic serialiser cost a fifth of a guard's per-record work on a tagged
//! record and a tenth of each module's size. `tests/postcard.rs` holds the `serde` + `postcard` reference
//! and checks that both give the same bytes and the same answers.

use alloc::vec::Vec;
use core::fmt;
use core::hash::{Hash, Hasher};

use crate::cluster::{is_valid_cluster_id, is_valid_cluster_id_bytes, validate_cluster_id};
use crate::{EnvelopeError, TagBuf, FLAG_VIOLATION, MAC_LEN, MAGIC, MAX_PATH, PREFIX_LEN, VERSION};

/// The origin tag of one record: where it was first produced and which
/// clusters it passed through since.
///
/// Its fields are private so that every `Envelope` keeps the invariants the
/// decoder checks: 1..=16 valid cluster ids, and a hop count of `path.len() - 1`.
/// Cluster ids are borrowed, from the decoded bytes or from the caller. A decoded tag keeps
/// its path as the wire bytes, so that decoding neither allocates nor copies, and forwarding
/// writes those bytes back in one piece.
#[derive(Clone)]
pub struct Envelope<'a> {
    flags: u8,
    count: u8,
    ids: Ids<'a>,
    timestamp: i64,
    id: [u8; 8],
    mac: Option<[u8; MAC_LEN]>,
    /// A decoded tag's bytes up to its MAC option byte: what its MAC covers, before the
    /// payload, so that checking it needs no re-encoding. `None` once the tag is changed.
    unsealed: Option<&'a [u8]>,
}

/// Where the path's `count` cluster ids are.
#[derive(Clone)]
enum Ids<'a> {
    /// As on the wire, checked by [`decode`]: per id, a length byte then the id.
    Wire(&'a [u8]),
    /// A new tag's single id.
    One(&'a str),
    /// Ids given by the caller, or a path extended by [`Envelope::with_hop`].
    List(Vec<&'a str>),
}

/// Walks the path's ids, as bytes.
#[derive(Clone)]
struct IdIter<'e, 'a> {
    ids: &'e Ids<'a>,
    at: usize,
}

impl<'a> Iterator for IdIter<'_, 'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let item = match self.ids {
            Ids::Wire(bytes) => {
                let (&len, rest) = bytes.get(self.at..)?.split_first()?;
                let id = rest.get(..usize::from(len))?;
                self.at += 1 + id.len();
                return Some(id);
            }
            Ids::One(id) => (self.at == 0).then_some(id.as_bytes()),
            Ids::List(list) => list.get(self.at).map(|id| id.as_bytes()),
        };
        self.at += 1;
        item
    }
}

impl PartialEq for Envelope<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.flags == other.flags
            && self.count == other.count
            && self.id_bytes().eq(other.id_bytes())
            && self.timestamp == other.timestamp
            && self.id == other.id
            && self.mac == other.mac
    }
}

impl Eq for Envelope<'_> {}

impl Hash for Envelope<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.flags.hash(state);
        for id in self.id_bytes() {
            id.hash(state);
        }
        self.timestamp.hash(state);
        self.id.hash(state);
        self.mac.hash(state);
    }
}

impl fmt::Debug for Envelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("flags", &self.flags)
            .field("hops", &self.hops())
            .field("path", &self.path())
            .field("timestamp", &self.timestamp)
            .field("id", &self.id)
            .field("mac", &self.mac)
            .finish()
    }
}

/// What [`decode`] found at the start of a carrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// The carrier does not start with [`MAGIC`]: it has no tag.
    Untagged,
    /// The carrier holds a valid tag.
    Tagged {
        /// The tag.
        envelope: Envelope<'a>,
        /// The original bytes that follow the tag, untouched.
        payload: &'a [u8],
    },
}

/// Bytes a postcard varint of `v` takes (1..=10).
#[inline]
fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Postcard's zigzag mapping of a signed integer.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Reads a postcard varint (at most 10 bytes) from the start of `bytes`;
/// `None` if it runs past the end or past 10 bytes.
fn read_varint(bytes: &[u8]) -> Option<u64> {
    let mut out = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        out |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// A checked id as text: ids hold only ASCII, so this never gives `""` for a real id.
fn text(id: &[u8]) -> &str {
    smartmodule_text::utf8(id).unwrap_or("")
}

impl<'a> Envelope<'a> {
    /// A new tag for a record produced on `cluster`: path `[cluster]`, no hops,
    /// no flags, no MAC. `id` is normally [`record_id`](crate::record_id).
    ///
    /// Fails with [`EnvelopeError::BadClusterId`] if `cluster` breaks the
    /// cluster id rules.
    pub fn new_origin(
        cluster: &'a str,
        timestamp: i64,
        id: [u8; 8],
    ) -> Result<Self, EnvelopeError> {
        validate_cluster_id(cluster)?;
        Ok(Self::origin_trusted(0, cluster, timestamp, id))
    }

    /// [`new_origin`](Self::new_origin) with flags, for a `cluster` the caller has already
    /// checked with [`validate_cluster_id`] (a policy checks its own cluster id once, at init;
    /// an invalid one here gives a tag that no decoder accepts).
    pub fn origin_trusted(flags: u8, cluster: &'a str, timestamp: i64, id: [u8; 8]) -> Self {
        Envelope {
            flags,
            count: 1,
            ids: Ids::One(cluster),
            timestamp,
            id,
            mac: None,
            unsealed: None,
        }
    }

    /// Builds a tag from all its fields, checking them as [`decode`] does.
    /// The hop count is derived from the path. Unknown flag bits are kept.
    ///
    /// Fails with [`EnvelopeError::EmptyPath`], [`EnvelopeError::PathTooLong`]
    /// or [`EnvelopeError::BadClusterId`].
    pub fn from_parts(
        flags: u8,
        path: impl AsRef<[&'a str]>,
        timestamp: i64,
        id: [u8; 8],
        mac: Option<[u8; MAC_LEN]>,
    ) -> Result<Self, EnvelopeError> {
        let path = path.as_ref();
        if path.is_empty() {
            return Err(EnvelopeError::EmptyPath);
        }
        if path.len() > MAX_PATH {
            return Err(EnvelopeError::PathTooLong);
        }
        if !path.iter().all(|c| is_valid_cluster_id(c)) {
            return Err(EnvelopeError::BadClusterId);
        }
        Ok(Envelope {
            flags,
            count: path.len() as u8,
            ids: Ids::List(path.to_vec()),
            timestamp,
            id,
            mac,
            unsealed: None,
        })
    }

    /// The same tag one hop further: `cluster` appended to the path, `hops + 1`.
    /// Flags, timestamp and record id are carried unchanged. The MAC is dropped
    /// (it covered the old path): seal the new tag again if needed.
    ///
    /// Fails with [`EnvelopeError::PathTooLong`] if the path already holds
    /// [`MAX_PATH`] ids, and with [`EnvelopeError::BadClusterId`] if `cluster`
    /// breaks the cluster id rules.
    pub fn with_hop<'b>(&self, cluster: &'b str) -> Result<Envelope<'b>, EnvelopeError>
    where
        'a: 'b,
    {
        if usize::from(self.count) >= MAX_PATH {
            return Err(EnvelopeError::PathTooLong);
        }
        validate_cluster_id(cluster)?;
        let mut path: Vec<&'b str> = self.path();
        path.push(cluster);
        Ok(Envelope {
            flags: self.flags,
            count: self.count + 1,
            ids: Ids::List(path),
            timestamp: self.timestamp,
            id: self.id,
            mac: None,
            unsealed: None,
        })
    }

    /// Sets the VIOLATION flag ([`FLAG_VIOLATION`]). The MAC is dropped, since
    /// it covered the old flags: seal again if needed.
    pub fn set_violation(&mut self) {
        self.flags |= FLAG_VIOLATION;
        self.mac = None;
        self.unsealed = None;
    }

    /// The path's ids as bytes, origin first.
    #[inline]
    fn id_bytes(&self) -> IdIter<'_, 'a> {
        IdIter {
            ids: &self.ids,
            at: 0,
        }
    }

    /// The cluster the record was first produced on (`path[0]`).
    pub fn origin(&self) -> &'a str {
        text(self.origin_bytes())
    }

    /// [`origin`](Self::origin) as its bytes, for comparing and hashing without the UTF-8
    /// check.
    #[inline]
    pub fn origin_bytes(&self) -> &'a [u8] {
        match &self.ids {
            Ids::Wire(bytes) => bytes
                .split_first()
                .and_then(|(&len, rest)| rest.get(..usize::from(len)))
                .unwrap_or_default(),
            _ => self.id_bytes().next().unwrap_or_default(),
        }
    }

    /// The cluster the record passed through last (the origin if it has no hops).
    pub fn last(&self) -> &'a str {
        text(self.id_bytes().last().unwrap_or_default())
    }

    /// Whether the path ends in `cluster`, without building the path.
    pub fn last_is(&self, cluster: &str) -> bool {
        // Most tags have a path of one: its origin.
        if self.count == 1 {
            return self.origin_bytes() == cluster.as_bytes();
        }
        self.id_bytes().last() == Some(cluster.as_bytes())
    }

    /// Number of hops after the origin: `path().len() - 1`.
    #[inline]
    pub fn hops(&self) -> u8 {
        self.count.saturating_sub(1)
    }

    /// Cluster ids the record passed through, origin first.
    pub fn path(&self) -> Vec<&'a str> {
        self.ids().collect()
    }

    /// [`path`](Self::path) without collecting it.
    pub fn ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.id_bytes().map(text)
    }

    /// Whether `cluster` is on the path (the record already passed through it).
    pub fn contains(&self, cluster: &str) -> bool {
        self.id_bytes().any(|id| id == cluster.as_bytes())
    }

    /// Whether `cluster` is on the path before its last id: the record left `cluster` and
    /// came back. A path that ends in `cluster` was tagged there, which is no return.
    pub fn returned_to(&self, cluster: &str) -> bool {
        // A path of one has nothing before its last id.
        if self.count < 2 {
            return false;
        }
        let mut ids = self.id_bytes().peekable();
        while let Some(id) = ids.next() {
            if ids.peek().is_some() && id == cluster.as_bytes() {
                return true;
            }
        }
        false
    }

    /// The last id on the path that is not `cluster`: the cluster that sent the record here.
    pub fn last_other_than(&self, cluster: &str) -> Option<&'a str> {
        if self.count == 1 {
            let origin = self.origin_bytes();
            return (origin != cluster.as_bytes()).then(|| text(origin));
        }
        self.id_bytes()
            .filter(|id| *id != cluster.as_bytes())
            .last()
            .map(text)
    }

    /// All flag bits, including bits this version does not know.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the VIOLATION flag is set.
    #[inline]
    pub fn is_violation(&self) -> bool {
        self.flags & FLAG_VIOLATION != 0
    }

    /// Origin timestamp, milliseconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The record id as stored: 8 bytes, a little-endian u64.
    pub fn id(&self) -> [u8; 8] {
        self.id
    }

    /// The record id as a number.
    pub fn id_u64(&self) -> u64 {
        u64::from_le_bytes(self.id)
    }

    /// The MAC (SipHash-2-4-128, FORMAT.md §7), if the tag carries one.
    pub fn mac(&self) -> Option<&[u8; MAC_LEN]> {
        self.mac.as_ref()
    }

    /// Bytes [`encode_into`](Self::encode_into) appends: magic, version and body.
    pub fn encoded_len(&self) -> usize {
        PREFIX_LEN
            + 3 // flags, hops, path count
            + self.id_bytes().map(|c| 1 + c.len()).sum::<usize>()
            + varint_len(zigzag(self.timestamp))
            + self.id.len()
            + if self.mac.is_some() { 1 + MAC_LEN } else { 1 }
    }

    /// Appends the tag (magic, version, body) to `out`. The caller appends the payload.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut tag = TagBuf::new();
        self.write(self.flags, None, self.mac.as_ref(), &mut tag);
        out.extend_from_slice(tag.as_slice());
    }

    /// Writes magic, version and the body with the given flags and MAC (the MAC input leaves
    /// it out), and with `hop` appended to the path if given: the forwarded tag, written
    /// without building it. The caller keeps the path within [`MAX_PATH`] ids.
    ///
    /// The invariants keep every count and length varint to one byte: at most 16 ids of
    /// at most 64 bytes.
    pub fn write(
        &self,
        flags: u8,
        hop: Option<&str>,
        mac: Option<&[u8; MAC_LEN]>,
        out: &mut TagBuf,
    ) {
        let count = self.count + u8::from(hop.is_some());
        out.put(&[
            MAGIC[0],
            MAGIC[1],
            VERSION,
            flags,
            count.saturating_sub(1),
            count,
        ]);
        match &self.ids {
            Ids::Wire(bytes) => out.put(bytes),
            Ids::One(id) => {
                out.put(&[id.len() as u8]);
                out.put(id.as_bytes());
            }
            Ids::List(list) => {
                for id in list {
                    out.put(&[id.len() as u8]);
                    out.put(id.as_bytes());
                }
            }
        }
        if let Some(id) = hop {
            out.put(&[id.len() as u8]);
            out.put(id.as_bytes());
        }
        out.put_varint(zigzag(self.timestamp));
        out.put(&self.id);
        match mac {
            None => out.put(&[0]),
            Some(mac) => {
                out.put(&[1]);
                out.put(mac);
            }
        }
    }

    /// Ids on the path, at most [`MAX_PATH`].
    #[inline]
    pub fn count(&self) -> usize {
        usize::from(self.count)
    }

    #[cfg(feature = "mac")]
    pub(crate) fn set_mac(&mut self, mac: Option<[u8; MAC_LEN]>) {
        self.mac = mac;
        self.unsealed = None;
    }

    /// A decoded tag's bytes up to its MAC option byte (see the field).
    #[cfg(feature = "mac")]
    pub(crate) fn unsealed(&self) -> Option<&[u8]> {
        self.unsealed
    }
}

/// Reads a body in field order, as postcard does, remembering whether every varint was
/// canonical (postcard accepts over-long ones; the format does not).
struct Reader<'a> {
    bytes: &'a [u8],
    canonical: bool,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        if n > self.bytes.len() {
            return Err(EnvelopeError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    #[inline]
    fn byte(&mut self) -> Result<u8, EnvelopeError> {
        let (&b, rest) = self.bytes.split_first().ok_or(EnvelopeError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    /// A varint of at most `max` bytes whose last byte is at most `last_max`: postcard's
    /// rule for an integer type of `7 * (max - 1) + bits(last_max)` bits. Running out is
    /// `Truncated`; more bytes or a larger last byte is `Malformed`.
    #[inline]
    fn varint(&mut self, max: u32, last_max: u8) -> Result<u64, EnvelopeError> {
        let mut out = 0u64;
        // Walks the bytes in place and moves the cursor once, at the end.
        for (i, &b) in (0..max).zip(self.bytes.iter()) {
            out |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if i == max - 1 && b > last_max {
                    return Err(EnvelopeError::Malformed);
                }
                if i > 0 && b == 0 {
                    self.canonical = false;
                }
                self.bytes = self.bytes.get(i as usize + 1..).unwrap_or_default();
                return Ok(out);
            }
        }
        // Every byte read had its continuation bit set: more than `max` of them is
        // `Malformed`, running out first is `Truncated`.
        if self.bytes.len() >= max as usize {
            Err(EnvelopeError::Malformed)
        } else {
            Err(EnvelopeError::Truncated)
        }
    }

    /// A count or length, read as a 32-bit `usize` on every target so that the answer
    /// does not depend on the platform.
    #[inline]
    fn len32(&mut self) -> Result<usize, EnvelopeError> {
        // Counts and id lengths are below 128: one byte, read in place.
        if let Some((&b, rest)) = self.bytes.split_first() {
            if b < 0x80 {
                self.bytes = rest;
                return Ok(usize::from(b));
            }
        }
        self.varint(5, 0x0F).map(|v| v as usize)
    }
}

/// Decodes the tag at the start of a carrier (a record's value, or its key).
///
/// * not starting with [`MAGIC`] (including inputs shorter than 2 bytes): `Ok(Untagged)`;
/// * starting with `MAGIC`: `Ok(Tagged { .. })` with the payload that follows
///   the tag, or the first error in this order: [`Truncated`] (nothing after the
///   magic), [`UnknownVersion`], [`PathTooLong`] (the path count says more than
///   16), [`Truncated`] / [`Malformed`] (the first field, in wire order, that does
///   not decode), [`Malformed`] (a varint is not canonical), [`EmptyPath`],
///   [`HopsMismatch`], [`BadClusterId`].
///
/// Never panics, whatever the input. The MAC, if any, is not checked here:
/// see `Envelope::verify` (feature `mac`).
///
/// [`Truncated`]: EnvelopeError::Truncated
/// [`UnknownVersion`]: EnvelopeError::UnknownVersion
/// [`PathTooLong`]: EnvelopeError::PathTooLong
/// [`Malformed`]: EnvelopeError::Malformed
/// [`EmptyPath`]: EnvelopeError::EmptyPath
/// [`HopsMismatch`]: EnvelopeError::HopsMismatch
/// [`BadClusterId`]: EnvelopeError::BadClusterId
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, EnvelopeError> {
    let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Ok(Decoded::Untagged);
    };
    let Some((&version, body)) = rest.split_first() else {
        return Err(EnvelopeError::Truncated);
    };
    if version != VERSION {
        return Err(EnvelopeError::UnknownVersion(version));
    }
    // The path count sits at a fixed place (after flags and hops): a long path is refused
    // before anything else is read.
    if let Some(count) = body.get(2..).and_then(read_varint) {
        if count > MAX_PATH as u64 {
            return Err(EnvelopeError::PathTooLong);
        }
    }
    let mut r = Reader {
        bytes: body,
        canonical: true,
    };
    let flags = r.byte()?;
    let hops = r.byte()?;
    let count = r.len32()?;
    let ids_start = r.bytes;
    let mut valid_ids = true;
    for _ in 0..count {
        let len = r.len32()?;
        let id = r.take(len)?;
        // A valid id is ASCII, so only an invalid one needs the UTF-8 check (which decides
        // between `Malformed` now and `BadClusterId` later).
        if !is_valid_cluster_id_bytes(id) {
            smartmodule_text::utf8(id).ok_or(EnvelopeError::Malformed)?;
            valid_ids = false;
        }
    }
    let ids = ids_start
        .get(..ids_start.len() - r.bytes.len())
        .unwrap_or_default();
    let zz = r.varint(10, 0x01)?;
    let timestamp = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
    // Fixed-size reads as arrays: loads, where `copy_from_slice` would be a call.
    let id = <[u8; 8]>::try_from(r.take(8)?).unwrap_or_default();
    let unsealed = bytes.get(..bytes.len() - r.bytes.len());
    let mac = match r.byte()? {
        0 => None,
        1 => Some(<[u8; MAC_LEN]>::try_from(r.take(MAC_LEN)?).unwrap_or_default()),
        _ => return Err(EnvelopeError::Malformed),
    };
    if !r.canonical {
        return Err(EnvelopeError::Malformed);
    }
    if count == 0 {
        return Err(EnvelopeError::EmptyPath);
    }
    if usize::from(hops) + 1 != count {
        return Err(EnvelopeError::HopsMismatch);
    }
    // A canonical id length below 128 is one byte: the wire ids are what `write` writes.
    if !valid_ids {
        return Err(EnvelopeError::BadClusterId);
    }
    Ok(Decoded::Tagged {
        envelope: Envelope {
            flags,
            count: count as u8,
            ids: Ids::Wire(ids),
            timestamp,
            id,
            mac,
            unsealed,
        },
        payload: r.bytes,
    })
}

/// `envelope` encoded, followed by `payload`: a complete tagged carrier.
pub fn wrap(envelope: &Envelope<'_>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(envelope.encoded_len() + payload.len());
    envelope.encode_into(&mut out);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn tagged(bytes: &[u8]) -> (Envelope<'_>, &[u8]) {
        match decode(bytes) {
            Ok(Decoded::Tagged { envelope, payload }) => (envelope, payload),
            other => panic!("expected a tag, got {other:?}"),
        }
    }

    fn sample() -> Envelope<'static> {
        Envelope::new_origin("us-east", 1_700_000_000_000, [1, 2, 3, 4, 5, 6, 7, 8]).unwrap()
    }

    #[test]
    fn varint_len_matches_postcard() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX >> 1,
            u64::MAX,
        ] {
            let enc = postcard::to_allocvec(&v).unwrap();
            assert_eq!(varint_len(v), enc.len(), "{v}");
            assert_eq!(read_varint(&enc), Some(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, 1_700_000_000_000] {
            let enc = postcard::to_allocvec(&v).unwrap();
            assert_eq!(varint_len(zigzag(v)), enc.len(), "{v}");
            assert_eq!(read_varint(&enc), Some(zigzag(v)));
        }
        assert_eq!(read_varint(&[0x80]), None);
        assert_eq!(read_varint(&[0xFF; 11]), None);
    }

    #[test]
    fn untagged_inputs() {
        for input in [
            &b""[..],
            b"\xFF",
            b"{\"a\":1}",
            b"hello",
            b"\x6F\xFF\x01",
            b"\xFF\x00\x01",
        ] {
            assert_eq!(decode(input), Ok(Decoded::Untagged), "{input:?}");
        }
    }

    #[test]
    fn origin_round_trip() {
        let env = sample();
        assert_eq!(env.origin(), "us-east");
        assert_eq!(env.last(), "us-east");
        assert_eq!(env.hops(), 0);
        assert_eq!(env.path(), ["us-east"]);
        assert!(!env.is_violation());
        assert_eq!(env.mac(), None);
        let bytes = wrap(&env, b"payload");
        assert_eq!(bytes.len(), env.encoded_len() + 7);
        assert_eq!(&bytes[..3], &[0xFF, 0x6F, 0x02]);
        let (decoded, payload) = tagged(&bytes);
        assert_eq!(decoded, env);
        assert_eq!(payload, b"payload");
    }

    #[test]
    fn hops_round_trip() {
        let env = sample();
        let two = env
            .with_hop("eu-west")
            .unwrap()
            .with_hop("ap-south")
            .unwrap();
        assert_eq!(two.hops(), 2);
        assert_eq!(two.origin(), "us-east");
        assert_eq!(two.last(), "ap-south");
        assert!(two.contains("eu-west"));
        assert!(!two.contains("eu"));
        assert_eq!(two.id(), env.id());
        assert_eq!(two.timestamp(), env.timestamp());
        let bytes = wrap(&two, b"");
        let (decoded, payload) = tagged(&bytes);
        assert_eq!(decoded, two);
        assert!(payload.is_empty());
    }

    #[test]
    fn encode_into_appends() {
        let env = sample();
        let mut out = vec![9u8, 9];
        env.encode_into(&mut out);
        assert_eq!(out.len(), 2 + env.encoded_len());
        assert_eq!(&out[2..], wrap(&env, b"").as_slice());
    }

    #[test]
    fn violation_and_unknown_flags_survive() {
        let mut env = sample();
        env.set_violation();
        assert!(env.is_violation());
        let bytes = wrap(&env, b"x");
        assert!(tagged(&bytes).0.is_violation());

        let odd = Envelope::from_parts(0xA4, vec!["a"], -5, [0; 8], None).unwrap();
        assert!(!odd.is_violation());
        let bytes = wrap(&odd, b"x");
        let (decoded, _) = tagged(&bytes);
        assert_eq!(decoded.flags(), 0xA4);
        assert_eq!(wrap(&decoded, b"x"), bytes);
        // Hops keep unknown flags too.
        assert_eq!(decoded.with_hop("b").unwrap().flags(), 0xA4);
    }

    #[test]
    fn mutators_drop_the_mac() {
        let mut env = Envelope::from_parts(0, vec!["a"], 0, [0; 8], Some([7; MAC_LEN])).unwrap();
        assert_eq!(env.mac(), Some(&[7; MAC_LEN]));
        assert_eq!(env.with_hop("b").unwrap().mac(), None);
        env.set_violation();
        assert_eq!(env.mac(), None);
    }

    #[test]
    fn payload_that_looks_like_a_tag_is_untouched() {
        let inner = wrap(&sample(), b"inner");
        let outer = wrap(&sample(), &inner);
        let (_, payload) = tagged(&outer);
        assert_eq!(payload, inner.as_slice());
    }

    #[test]
    fn encoded_len_is_exact() {
        let mut path = vec![];
        let ids: Vec<alloc::string::String> =
            (0..MAX_PATH).map(|i| alloc::format!("{i:0>64}")).collect();
        for id in &ids {
            path.push(id.as_str());
        }
        for ts in [0, -1, i64::MIN, i64::MAX] {
            for mac in [None, Some([0xAB; MAC_LEN])] {
                let env = Envelope::from_parts(0xFF, path.clone(), ts, [0xFF; 8], mac).unwrap();
                assert_eq!(wrap(&env, b"").len(), env.encoded_len());
            }
        }
        let env = Envelope::from_parts(0, path, i64::MIN, [0; 8], Some([0; MAC_LEN])).unwrap();
        assert_eq!(env.encoded_len(), crate::MAX_TAG_LEN);
        let env = Envelope::from_parts(0, env.path(), i64::MIN, [0; 8], None).unwrap();
        assert_eq!(env.encoded_len(), crate::MAX_TAG_LEN_NO_MAC);
    }

    // ---- errors ----

    /// Magic, version, then the raw body bytes given.
    fn raw(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0x6F, 0x02];
        v.extend_from_slice(body);
        v
    }

    /// A body with the given fields, written by hand (not through postcard).
    fn body(flags: u8, hops: u8, path: &[&[u8]], ts_varint: &[u8], mac: &[u8]) -> Vec<u8> {
        let mut v = vec![flags, hops, path.len() as u8];
        for id in path {
            v.push(id.len() as u8);
            v.extend_from_slice(id);
        }
        v.extend_from_slice(ts_varint);
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(mac);
        v
    }

    #[test]
    fn hand_written_body_decodes() {
        let bytes = raw(&body(0, 1, &[b"a", b"b"], &[0x02], &[0]));
        let (env, payload) = tagged(&bytes);
        assert_eq!(env.path(), ["a", "b"]);
        assert_eq!(env.timestamp(), 1);
        assert!(payload.is_empty());
    }

    #[test]
    fn truncated() {
        assert_eq!(decode(&[0xFF, 0x6F]), Err(EnvelopeError::Truncated));
        let full = wrap(&sample().with_hop("b").unwrap(), b"");
        for cut in 2..full.len() {
            assert_eq!(
                decode(&full[..cut]),
                Err(EnvelopeError::Truncated),
                "cut at {cut}"
            );
        }
        // A string length past the end of the input.
        let mut b = raw(&[0, 0, 1, 60]);
        b.extend_from_slice(b"abc");
        assert_eq!(decode(&b), Err(EnvelopeError::Truncated));
    }

    #[test]
    fn unknown_version() {
        assert_eq!(
            decode(&[0xFF, 0x6F, 0x03]),
            Err(EnvelopeError::UnknownVersion(3))
        );
        // Version 1 was never released: refused like any other version.
        let mut v1 = wrap(&sample(), b"");
        v1[2] = 0x01;
        assert_eq!(decode(&v1), Err(EnvelopeError::UnknownVersion(1)));
        assert_eq!(
            decode(&[0xFF, 0x6F, 0x00, 1, 2, 3]),
            Err(EnvelopeError::UnknownVersion(0))
        );
        let mut b = wrap(&sample(), b"");
        b[2] = 0xFF;
        assert_eq!(decode(&b), Err(EnvelopeError::UnknownVersion(0xFF)));
    }

    #[test]
    fn path_too_long() {
        let ids: Vec<&[u8]> = vec![b"a"; MAX_PATH + 1];
        let b = raw(&body(0, MAX_PATH as u8, &ids, &[0], &[0]));
        assert_eq!(decode(&b), Err(EnvelopeError::PathTooLong));
        // The count alone is enough: nothing after it is read.
        assert_eq!(decode(&raw(&[0, 0, 17])), Err(EnvelopeError::PathTooLong));
        // A huge count in a long varint.
        assert_eq!(
            decode(&raw(&[0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])),
            Err(EnvelopeError::PathTooLong)
        );
        // Building or extending past the limit.
        let mut env = sample();
        for _ in 1..MAX_PATH {
            env = env.with_hop("x").unwrap();
        }
        assert_eq!(env.path().len(), MAX_PATH);
        assert_eq!(env.with_hop("y"), Err(EnvelopeError::PathTooLong));
        assert_eq!(
            Envelope::from_parts(0, vec!["a"; MAX_PATH + 1], 0, [0; 8], None),
            Err(EnvelopeError::PathTooLong)
        );
    }

    #[test]
    fn empty_path() {
        assert_eq!(
            decode(&raw(&body(0, 0, &[], &[0], &[0]))),
            Err(EnvelopeError::EmptyPath)
        );
        assert_eq!(
            Envelope::from_parts(0, vec![], 0, [0; 8], None),
            Err(EnvelopeError::EmptyPath)
        );
    }

    #[test]
    fn hops_mismatch() {
        for hops in [0u8, 2, 255] {
            let b = raw(&body(0, hops, &[b"a", b"b"], &[0], &[0]));
            assert_eq!(decode(&b), Err(EnvelopeError::HopsMismatch), "hops {hops}");
        }
    }

    #[test]
    fn bad_cluster_id() {
        let long = [b'x'; 65];
        for id in [&b"a b"[..], b"", b"a/b", b"\xC3\xA9", &long] {
            let b = raw(&body(0, 0, &[id], &[0], &[0]));
            assert_eq!(decode(&b), Err(EnvelopeError::BadClusterId), "{id:?}");
        }
        // The bad id may be anywhere on the path.
        let b = raw(&body(0, 2, &[b"a", b"b", b"c:d"], &[0], &[0]));
        assert_eq!(decode(&b), Err(EnvelopeError::BadClusterId));
        assert_eq!(
            Envelope::new_origin("", 0, [0; 8]),
            Err(EnvelopeError::BadClusterId)
        );
        assert_eq!(
            sample().with_hop("no way"),
            Err(EnvelopeError::BadClusterId)
        );
        assert_eq!(
            Envelope::from_parts(0, vec!["a", "b!"], 0, [0; 8], None),
            Err(EnvelopeError::BadClusterId)
        );
    }

    #[test]
    fn malformed() {
        // Invalid UTF-8 in a cluster id.
        let b = raw(&body(0, 0, &[b"\xFF"], &[0], &[0]));
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
        // Option tag other than 0 or 1.
        let b = raw(&body(0, 0, &[b"a"], &[0], &[2]));
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
        // Timestamp varint that overflows 64 bits.
        let ts = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02];
        let b = raw(&body(0, 0, &[b"a"], &ts, &[0]));
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
    }

    #[test]
    fn non_canonical_varints_are_malformed() {
        // Timestamp 1 written in two bytes instead of one.
        let b = raw(&body(0, 0, &[b"a"], &[0x82, 0x00], &[0]));
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
        // Path count 1 written in two bytes.
        let mut b = raw(&[0, 0, 0x81, 0x00, 1, b'a', 0]);
        b.extend_from_slice(&[0; 8]);
        b.push(0);
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
        // Cluster id length written in two bytes.
        let mut b = raw(&[0, 0, 1, 0x81, 0x00, b'a', 0]);
        b.extend_from_slice(&[0; 8]);
        b.push(0);
        assert_eq!(decode(&b), Err(EnvelopeError::Malformed));
        // The canonical form of the same tag is fine.
        let mut b = raw(&[0, 0, 1, 1, b'a', 0]);
        b.extend_from_slice(&[0; 8]);
        b.push(0);
        assert!(matches!(decode(&b), Ok(Decoded::Tagged { .. })));
    }
}
