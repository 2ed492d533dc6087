//! The envelope type, its wire encoding and the total decoder.

use alloc::vec::Vec;

use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};

use crate::cluster::{is_valid_cluster_id, validate_cluster_id};
use crate::{EnvelopeError, FLAG_VIOLATION, MAC_LEN, MAGIC, MAX_PATH, PREFIX_LEN, VERSION};

/// The origin tag of one record: where it was first produced and which
/// clusters it passed through since.
///
/// Its fields are private so that every `Envelope` keeps the invariants the
/// decoder checks: 1..=16 valid cluster ids and `hops == path.len() - 1`.
/// Cluster ids are borrowed, from the decoded bytes or from the caller.
///
/// Field order is the wire order (version 1). The body decodes into `Wire`
/// and encodes from `Body`: both have the same fields in the same order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Envelope<'a> {
    flags: u8,
    hops: u8,
    path: Vec<&'a str>,
    timestamp: i64,
    id: [u8; 8],
    mac: Option<[u8; MAC_LEN]>,
}

/// The version-1 body as postcard decodes it, before any check. Kept private
/// so that no unchecked `Envelope` can be deserialised from outside [`decode`].
#[derive(Deserialize)]
struct Wire<'a> {
    flags: u8,
    hops: u8,
    #[serde(borrow)]
    path: Vec<&'a str>,
    timestamp: i64,
    id: [u8; 8],
    mac: Option<[u8; MAC_LEN]>,
}

impl<'a> From<Wire<'a>> for Envelope<'a> {
    fn from(w: Wire<'a>) -> Self {
        Envelope {
            flags: w.flags,
            hops: w.hops,
            path: w.path,
            timestamp: w.timestamp,
            id: w.id,
            mac: w.mac,
        }
    }
}

/// The serialising view of an [`Envelope`]: the same fields in the same order,
/// borrowed, with the MAC chosen by the caller (the MAC input leaves it out).
#[derive(Serialize)]
pub(crate) struct Body<'e, 'a> {
    flags: u8,
    hops: u8,
    path: &'e [&'a str],
    timestamp: i64,
    id: &'e [u8; 8],
    mac: Option<&'e [u8; MAC_LEN]>,
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

/// A postcard output that appends to a `Vec<u8>` and cannot fail.
struct VecSink<'o>(&'o mut Vec<u8>);

impl Flavor for VecSink<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Bytes a postcard varint of `v` takes (1..=10).
#[inline]
fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Postcard's zigzag mapping of a signed integer.
#[inline]
fn zigzag(v: i64) -> u64 {
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
        Ok(Envelope {
            flags: 0,
            hops: 0,
            path: alloc::vec![cluster],
            timestamp,
            id,
            mac: None,
        })
    }

    /// Builds a tag from all its fields, checking them as [`decode`] does.
    /// `hops` is derived from the path. Unknown flag bits are kept.
    ///
    /// Fails with [`EnvelopeError::EmptyPath`], [`EnvelopeError::PathTooLong`]
    /// or [`EnvelopeError::BadClusterId`].
    pub fn from_parts(
        flags: u8,
        path: Vec<&'a str>,
        timestamp: i64,
        id: [u8; 8],
        mac: Option<[u8; MAC_LEN]>,
    ) -> Result<Self, EnvelopeError> {
        let hops = match path.len() {
            0 => return Err(EnvelopeError::EmptyPath),
            n if n > MAX_PATH => return Err(EnvelopeError::PathTooLong),
            n => (n - 1) as u8,
        };
        let envelope = Envelope {
            flags,
            hops,
            path,
            timestamp,
            id,
            mac,
        };
        envelope.check()?;
        Ok(envelope)
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
        if self.path.len() >= MAX_PATH {
            return Err(EnvelopeError::PathTooLong);
        }
        validate_cluster_id(cluster)?;
        let mut path: Vec<&'b str> = Vec::with_capacity(self.path.len() + 1);
        path.extend_from_slice(&self.path);
        path.push(cluster);
        Ok(Envelope {
            flags: self.flags,
            hops: self.hops.saturating_add(1),
            path,
            timestamp: self.timestamp,
            id: self.id,
            mac: None,
        })
    }

    /// Sets the VIOLATION flag ([`FLAG_VIOLATION`]). The MAC is dropped, since
    /// it covered the old flags: seal again if needed.
    pub fn set_violation(&mut self) {
        self.flags |= FLAG_VIOLATION;
        self.mac = None;
    }

    /// The cluster the record was first produced on (`path[0]`).
    pub fn origin(&self) -> &'a str {
        // The path is never empty; `unwrap_or` keeps this free of panics anyway.
        self.path.first().copied().unwrap_or("")
    }

    /// The cluster the record passed through last (the origin if it has no hops).
    pub fn last(&self) -> &'a str {
        self.path.last().copied().unwrap_or("")
    }

    /// Number of hops after the origin: `path().len() - 1`.
    pub fn hops(&self) -> u8 {
        self.hops
    }

    /// Cluster ids the record passed through, origin first.
    pub fn path(&self) -> &[&'a str] {
        &self.path
    }

    /// Whether `cluster` is on the path (the record already passed through it).
    pub fn contains(&self, cluster: &str) -> bool {
        self.path.contains(&cluster)
    }

    /// All flag bits, including bits this version does not know.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the VIOLATION flag is set.
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

    /// The truncated HMAC-SHA256, if the tag carries one.
    pub fn mac(&self) -> Option<&[u8; MAC_LEN]> {
        self.mac.as_ref()
    }

    /// Bytes [`encode_into`](Self::encode_into) appends: magic, version and body.
    pub fn encoded_len(&self) -> usize {
        PREFIX_LEN + self.body_len(self.mac.is_some())
    }

    /// Appends the tag (magic, version, body) to `out`. The caller appends the payload.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        // Writing into a Vec cannot fail, and these types always serialise.
        let _ = postcard::serialize_with_flavor(&self.body(self.mac.as_ref()), VecSink(out));
    }

    /// The serialising view with the given MAC.
    pub(crate) fn body<'e>(&'e self, mac: Option<&'e [u8; MAC_LEN]>) -> Body<'e, 'a> {
        Body {
            flags: self.flags,
            hops: self.hops,
            path: &self.path,
            timestamp: self.timestamp,
            id: &self.id,
            mac,
        }
    }

    #[cfg(feature = "mac")]
    pub(crate) fn set_mac(&mut self, mac: Option<[u8; MAC_LEN]>) {
        self.mac = mac;
    }

    /// Exact length of the canonical postcard body.
    fn body_len(&self, with_mac: bool) -> usize {
        let ids: usize = self
            .path
            .iter()
            .map(|c| varint_len(c.len() as u64) + c.len())
            .sum();
        1 // flags
            + 1 // hops
            + varint_len(self.path.len() as u64)
            + ids
            + varint_len(zigzag(self.timestamp))
            + self.id.len()
            + if with_mac { 1 + MAC_LEN } else { 1 }
    }

    /// The invariants a decoded or built envelope must hold, in the documented order.
    fn check(&self) -> Result<(), EnvelopeError> {
        if self.path.is_empty() {
            return Err(EnvelopeError::EmptyPath);
        }
        if self.path.len() > MAX_PATH {
            return Err(EnvelopeError::PathTooLong);
        }
        if usize::from(self.hops) + 1 != self.path.len() {
            return Err(EnvelopeError::HopsMismatch);
        }
        if !self.path.iter().all(|c| is_valid_cluster_id(c)) {
            return Err(EnvelopeError::BadClusterId);
        }
        Ok(())
    }
}

/// Decodes the tag at the start of a carrier (a record's value, or its key).
///
/// * not starting with [`MAGIC`] (including inputs shorter than 2 bytes): `Ok(Untagged)`;
/// * starting with `MAGIC`: `Ok(Tagged { .. })` with the payload that follows
///   the tag, or the first error in this order: [`Truncated`] (nothing after the
///   magic), [`UnknownVersion`], [`PathTooLong`] (the path count says more than
///   16), [`Truncated`] / [`Malformed`] (the body does not decode, or is not
///   canonical), [`EmptyPath`], [`HopsMismatch`], [`BadClusterId`].
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
    // The path count sits at a fixed place (after flags and hops). Refusing a
    // long path here keeps the decoder from reading, or allocating for, more
    // than MAX_PATH ids, and gives the same answer on 32- and 64-bit targets.
    if let Some(count) = body.get(2..).and_then(read_varint) {
        if count > MAX_PATH as u64 {
            return Err(EnvelopeError::PathTooLong);
        }
    }
    // A body postcard reads is the same on every platform; only a failure needs the
    // platform-independent classification of `check_lengths`.
    let (wire, payload) = postcard::take_from_bytes::<Wire<'_>>(body).map_err(|e| {
        check_lengths(body).err().unwrap_or(match e {
            postcard::Error::DeserializeUnexpectedEnd => EnvelopeError::Truncated,
            _ => EnvelopeError::Malformed,
        })
    })?;
    let envelope = Envelope::from(wire);
    // Postcard accepts over-long varints; the format does not, so that every
    // tag has exactly one encoding and re-encoding a decoded tag gives the
    // same bytes. An over-long field makes the body longer than its canonical form.
    let consumed = body.len().saturating_sub(payload.len());
    if consumed != envelope.body_len(envelope.mac.is_some()) {
        return Err(EnvelopeError::Malformed);
    }
    envelope.check()?;
    Ok(Decoded::Tagged { envelope, payload })
}

/// Walks the path's count and id lengths before postcard does, so that the answer does not
/// depend on the width of `usize`: a count or length varint longer than 5 bytes or above
/// `u32::MAX` is `Malformed` everywhere (a 32-bit postcard refuses it, a 64-bit one would read
/// on and report the input short), one that runs past the end is `Truncated`, and an id that
/// is not UTF-8 is `Malformed`, in field order.
fn check_lengths(body: &[u8]) -> Result<(), EnvelopeError> {
    let mut pos = 2; // flags, hops
    if body.len() < pos {
        return Err(EnvelopeError::Truncated);
    }
    let count = varint32(body, &mut pos)?;
    for _ in 0..count.min(MAX_PATH as u32) {
        let len = varint32(body, &mut pos)? as usize;
        let id = body
            .get(pos..pos.saturating_add(len))
            .ok_or(EnvelopeError::Truncated)?;
        // Field order decides which problem is reported, as in postcard's own pass.
        core::str::from_utf8(id).map_err(|_| EnvelopeError::Malformed)?;
        pos += len;
    }
    Ok(())
}

/// A length varint as a 32-bit decoder reads it.
fn varint32(bytes: &[u8], pos: &mut usize) -> Result<u32, EnvelopeError> {
    let mut value = 0u64;
    for i in 0..5 {
        let b = *bytes.get(*pos).ok_or(EnvelopeError::Truncated)?;
        *pos += 1;
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| EnvelopeError::Malformed);
        }
    }
    Err(EnvelopeError::Malformed)
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
        assert_eq!(&bytes[..3], &[0xFF, 0x6F, 0x01]);
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
        let env = Envelope::from_parts(0, env.path().to_vec(), i64::MIN, [0; 8], None).unwrap();
        assert_eq!(env.encoded_len(), crate::MAX_TAG_LEN_NO_MAC);
    }

    // ---- errors ----

    /// Magic, version, then the raw body bytes given.
    fn raw(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0x6F, 0x01];
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
            decode(&[0xFF, 0x6F, 0x02]),
            Err(EnvelopeError::UnknownVersion(2))
        );
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
        for i in 1..MAX_PATH {
            let _ = i;
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
