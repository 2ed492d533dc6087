//! The wire format is the postcard encoding of the envelope's fields (docs/FORMAT.md §2). The
//! crate writes and reads it by hand; this file keeps the `serde` + `postcard` reference and
//! checks that both give the same bytes for every envelope and the same answer for every input.

use origin::{decode, wrap, Decoded, Envelope, EnvelopeError, MAC_LEN, MAGIC, MAX_PATH, VERSION};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Version-1 body fields in wire order, as serde sees them.
#[derive(Serialize, Deserialize)]
struct Body<'a> {
    flags: u8,
    hops: u8,
    #[serde(borrow)]
    path: Vec<&'a str>,
    timestamp: i64,
    id: [u8; 8],
    mac: Option<[u8; MAC_LEN]>,
}

/// Magic, version and the postcard encoding of the body.
fn reference_encode(env: &Envelope<'_>) -> Vec<u8> {
    let body = Body {
        flags: env.flags(),
        hops: env.hops(),
        path: env.path().to_vec(),
        timestamp: env.timestamp(),
        id: env.id(),
        mac: env.mac().copied(),
    };
    let mut out = vec![MAGIC[0], MAGIC[1], VERSION];
    out.extend(postcard::to_allocvec(&body).unwrap());
    out
}

/// What a postcard decoder says about an input, with the format's own rules on top: a path
/// count above 16 first, counts and lengths read as 32-bit everywhere, canonical varints
/// only, then the envelope invariants in their documented order.
fn reference_decode(bytes: &[u8]) -> Result<Option<(Body<'_>, &[u8])>, EnvelopeError> {
    let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Ok(None);
    };
    let Some((&version, body)) = rest.split_first() else {
        return Err(EnvelopeError::Truncated);
    };
    if version != VERSION {
        return Err(EnvelopeError::UnknownVersion(version));
    }
    if let Some(count) = body.get(2..).and_then(varint64) {
        if count > MAX_PATH as u64 {
            return Err(EnvelopeError::PathTooLong);
        }
    }
    let (wire, payload) = postcard::take_from_bytes::<Body<'_>>(body).map_err(|e| {
        lengths_32bit(body).err().unwrap_or(match e {
            postcard::Error::DeserializeUnexpectedEnd => EnvelopeError::Truncated,
            _ => EnvelopeError::Malformed,
        })
    })?;
    let canonical = postcard::to_allocvec(&wire).unwrap();
    if canonical.len() != body.len() - payload.len() {
        return Err(EnvelopeError::Malformed);
    }
    if wire.path.is_empty() {
        return Err(EnvelopeError::EmptyPath);
    }
    if usize::from(wire.hops) + 1 != wire.path.len() {
        return Err(EnvelopeError::HopsMismatch);
    }
    if wire
        .path
        .iter()
        .any(|c| origin::validate_cluster_id(c).is_err())
    {
        return Err(EnvelopeError::BadClusterId);
    }
    Ok(Some((wire, payload)))
}

fn varint64(bytes: &[u8]) -> Option<u64> {
    let mut out = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        out |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// The path's count and lengths as a 32-bit postcard reads them, in field order.
fn lengths_32bit(body: &[u8]) -> Result<(), EnvelopeError> {
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
    let mut pos = 2;
    if body.len() < pos {
        return Err(EnvelopeError::Truncated);
    }
    let count = varint32(body, &mut pos)?;
    for _ in 0..count.min(MAX_PATH as u32) {
        let len = varint32(body, &mut pos)? as usize;
        let id = body
            .get(pos..pos.saturating_add(len))
            .ok_or(EnvelopeError::Truncated)?;
        std::str::from_utf8(id).map_err(|_| EnvelopeError::Malformed)?;
        pos += len;
    }
    Ok(())
}

/// The hand-written decoder and the reference agree on `bytes`.
fn agree(bytes: &[u8]) {
    let ours = decode(bytes);
    let reference = reference_decode(bytes);
    match (&ours, &reference) {
        (Ok(Decoded::Untagged), Ok(None)) => {}
        (Ok(Decoded::Tagged { envelope, payload }), Ok(Some((body, p)))) => {
            assert_eq!(envelope.flags(), body.flags);
            assert_eq!(envelope.hops(), body.hops);
            assert_eq!(envelope.path(), body.path.as_slice());
            assert_eq!(envelope.timestamp(), body.timestamp);
            assert_eq!(envelope.id(), body.id);
            assert_eq!(envelope.mac(), body.mac.as_ref());
            assert_eq!(payload, p);
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "input {}", hex::encode(bytes)),
        _ => panic!(
            "decoders disagree on {}: {ours:?} / {:?}",
            hex::encode(bytes),
            reference.map(|r| r.map(|(_, p)| p.len()))
        ),
    }
}

fn cluster_id() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9._-]{1,12}", "[A-Za-z0-9._-]{1,64}"]
}

fn envelope_parts() -> impl Strategy<Value = (u8, Vec<String>, i64, [u8; 8], Option<[u8; MAC_LEN]>)>
{
    (
        any::<u8>(),
        vec(cluster_id(), 1..=MAX_PATH),
        prop_oneof![any::<i64>(), 0i64..4_000_000_000_000],
        any::<[u8; 8]>(),
        proptest::option::of(any::<[u8; MAC_LEN]>()),
    )
}

/// Bytes that stress the body parser: short runs of the values varints and lengths turn on.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![
            any::<u8>(),
            Just(0x00u8),
            Just(0x01),
            Just(0x02),
            Just(0x0F),
            Just(0x10),
            Just(0x11),
            Just(0x7F),
            Just(0x80),
            Just(0x81),
            Just(0xFF),
            Just(b'a'),
        ],
        0..48,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn encodings_are_byte_identical((flags, path, ts, id, mac) in envelope_parts()) {
        let ids: Vec<&str> = path.iter().map(String::as_str).collect();
        let env = Envelope::from_parts(flags, &ids, ts, id, mac).unwrap();
        let ours = wrap(&env, b"");
        prop_assert_eq!(&ours, &reference_encode(&env));
        prop_assert_eq!(ours.len(), env.encoded_len());
        agree(&wrap(&env, b"payload"));
    }

    #[test]
    fn random_bodies_get_the_same_answer(body in body_bytes()) {
        let mut bytes = vec![MAGIC[0], MAGIC[1], VERSION];
        bytes.extend(&body);
        agree(&bytes);
    }

    #[test]
    fn damaged_tags_get_the_same_answer(
        (flags, path, ts, id, mac) in envelope_parts(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let ids: Vec<&str> = path.iter().map(String::as_str).collect();
        let env = Envelope::from_parts(flags, &ids, ts, id, mac).unwrap();
        let mut bytes = wrap(&env, b"tail");
        for (at, byte, op) in edits {
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.insert(i, byte); }
                _ => { bytes.truncate(i.max(1)); }
            }
        }
        agree(&bytes);
    }
}

#[test]
fn every_short_body_gets_the_same_answer() {
    // All bodies of up to 3 bytes drawn from the interesting values, in every order.
    let alphabet = [
        0x00u8, 0x01, 0x02, 0x0F, 0x10, 0x11, 0x7F, 0x80, 0x81, 0xFF, b'a',
    ];
    let mut bodies: Vec<Vec<u8>> = vec![vec![]];
    for _ in 0..4 {
        let longer: Vec<Vec<u8>> = bodies
            .iter()
            .filter(|b| b.len() == bodies.last().map_or(0, Vec::len))
            .flat_map(|b| {
                alphabet.iter().map(move |x| {
                    let mut b = b.clone();
                    b.push(*x);
                    b
                })
            })
            .collect();
        bodies.extend(longer);
    }
    assert!(bodies.len() > 10_000);
    for body in bodies {
        let mut bytes = vec![MAGIC[0], MAGIC[1], VERSION];
        bytes.extend(&body);
        agree(&bytes);
    }
}
