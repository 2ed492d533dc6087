//! Property tests: round trips, totality of `decode`, and MAC tamper detection.

use origin::{decode, wrap, Decoded, Envelope, EnvelopeError, MAC_LEN, MAGIC, MAX_PATH, VERSION};
use proptest::collection::vec;
use proptest::prelude::*;

/// Owned parts of an envelope, so that the strategy can outlive the borrow.
#[derive(Clone, Debug)]
struct Parts {
    flags: u8,
    path: Vec<String>,
    timestamp: i64,
    id: [u8; 8],
    mac: Option<[u8; MAC_LEN]>,
}

impl Parts {
    fn envelope(&self) -> Envelope<'_> {
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        Envelope::from_parts(self.flags, path, self.timestamp, self.id, self.mac)
            .expect("strategy builds valid envelopes")
    }
}

fn cluster_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._-]{1,12}",
        "[A-Za-z0-9._-]{1,64}",
        Just("x".repeat(64)),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        any::<u8>(),
        vec(cluster_id(), 1..=MAX_PATH),
        prop_oneof![
            any::<i64>(),
            0i64..4_000_000_000_000,
            Just(i64::MIN),
            Just(i64::MAX)
        ],
        any::<[u8; 8]>(),
        proptest::option::of(any::<[u8; MAC_LEN]>()),
    )
        .prop_map(|(flags, path, timestamp, id, mac)| Parts {
            flags,
            path,
            timestamp,
            id,
            mac,
        })
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..200)
}

/// Decodes and checks the universal promise: a tagged result re-encodes to the input.
fn decode_checked(bytes: &[u8]) -> Result<Decoded<'_>, EnvelopeError> {
    let result = decode(bytes);
    match &result {
        Ok(Decoded::Untagged) => assert!(!bytes.starts_with(&MAGIC)),
        Ok(Decoded::Tagged { envelope, payload }) => {
            assert_eq!(wrap(envelope, payload), bytes, "tags have one encoding");
            assert_eq!(envelope.hops() as usize + 1, envelope.path().len());
            assert!(envelope.path().len() <= MAX_PATH);
            for id in envelope.path() {
                assert_eq!(origin::validate_cluster_id(id), Ok(()));
            }
        }
        Err(_) => assert!(bytes.starts_with(&MAGIC)),
    }
    result
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip_is_byte_identical(parts in parts(), payload in payload()) {
        let env = parts.envelope();
        let bytes = wrap(&env, &payload);
        prop_assert_eq!(bytes.len(), env.encoded_len() + payload.len());
        prop_assert_eq!(&bytes[..3], &[MAGIC[0], MAGIC[1], VERSION][..]);
        match decode_checked(&bytes) {
            Ok(Decoded::Tagged { envelope, payload: p }) => {
                prop_assert_eq!(&envelope, &env);
                prop_assert_eq!(p, payload.as_slice());
                prop_assert_eq!(envelope.flags(), parts.flags);
                prop_assert_eq!(envelope.timestamp(), parts.timestamp);
                prop_assert_eq!(envelope.id(), parts.id);
                prop_assert_eq!(envelope.mac(), parts.mac.as_ref());
                prop_assert_eq!(envelope.origin(), parts.path[0].as_str());
            }
            other => prop_assert!(false, "expected a tag, got {:?}", other),
        }
    }

    #[test]
    fn hops_extend_the_path(parts in parts(), next in cluster_id()) {
        let env = parts.envelope();
        match env.with_hop(&next) {
            Ok(hop) => {
                prop_assert!(env.path().len() < MAX_PATH);
                prop_assert_eq!(hop.hops(), env.hops() + 1);
                prop_assert_eq!(&hop.path()[..env.path().len()], env.path());
                prop_assert_eq!(hop.last(), next.as_str());
                prop_assert_eq!(hop.id(), env.id());
                prop_assert_eq!(hop.flags(), env.flags());
                let bytes = wrap(&hop, b"p");
                let tagged = matches!(decode_checked(&bytes), Ok(Decoded::Tagged { .. }));
                prop_assert!(tagged);
            }
            Err(e) => {
                prop_assert_eq!(e, EnvelopeError::PathTooLong);
                prop_assert_eq!(env.path().len(), MAX_PATH);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..300)) {
        let _ = decode_checked(&bytes);
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in vec(any::<u8>(), 0..300)) {
        let mut bytes = vec![MAGIC[0], MAGIC[1], VERSION];
        bytes.extend_from_slice(&body);
        prop_assert!(decode_checked(&bytes) != Ok(Decoded::Untagged));
    }

    #[test]
    fn small_bodies_never_panic(
        flags in any::<u8>(),
        hops in 0u8..20,
        count in 0u8..20,
        rest in vec(prop_oneof![any::<u8>(), 0u8..8, b'a'..=b'z'], 0..120),
    ) {
        // Bodies that get past the first fields more often than random bytes do.
        let mut bytes = vec![MAGIC[0], MAGIC[1], VERSION, flags, hops, count];
        bytes.extend_from_slice(&rest);
        let _ = decode_checked(&bytes);
    }

    #[test]
    fn mutations_never_panic(parts in parts(), payload in payload(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = wrap(&parts.envelope(), &payload);
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = decode_checked(&bytes);
    }
}

proptest! {
    // Each case decodes every prefix of its carrier, so fewer cases are needed.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn truncations_are_truncated(parts in parts(), payload in payload()) {
        let env = parts.envelope();
        let bytes = wrap(&env, &payload);
        let tag_len = env.encoded_len();
        for cut in 0..=bytes.len() {
            let result = decode_checked(&bytes[..cut]);
            if cut < 2 {
                prop_assert_eq!(result, Ok(Decoded::Untagged));
            } else if cut < tag_len {
                prop_assert_eq!(result, Err(EnvelopeError::Truncated));
            } else {
                match result {
                    Ok(Decoded::Tagged { envelope, payload: p }) => {
                        prop_assert_eq!(envelope, env.clone());
                        prop_assert_eq!(p, &payload[..cut - tag_len]);
                    }
                    other => prop_assert!(false, "cut {}: {:?}", cut, other),
                }
            }
        }
    }
}

#[cfg(feature = "mac")]
mod mac {
    use super::*;
    use origin::{Binding, Carrier, SealKey};

    fn key(secret: &[u8], scope: &str) -> SealKey {
        SealKey::new(secret, scope).unwrap()
    }

    fn verify(k: &SealKey, bind: &Binding<'_>, bytes: &[u8]) -> Result<(), EnvelopeError> {
        match decode(bytes)? {
            Decoded::Tagged { envelope, payload } => k.verify(&envelope, bind, payload),
            Decoded::Untagged => Err(EnvelopeError::MissingMac),
        }
    }

    /// What the MAC binds besides the tag and payload: a carrier and the other half.
    fn binding() -> impl Strategy<Value = (bool, Option<Vec<u8>>)> {
        (any::<bool>(), proptest::option::of(vec(any::<u8>(), 0..40)))
    }

    fn bind((in_key, other): &(bool, Option<Vec<u8>>)) -> Binding<'_> {
        Binding {
            carrier: if *in_key {
                Carrier::Key
            } else {
                Carrier::Value
            },
            other: other.as_deref(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn seal_then_verify(
            parts in parts(),
            payload in payload(),
            secret in vec(any::<u8>(), 16..80),
            scope in ".{0,20}",
            b in binding(),
        ) {
            let k = key(&secret, &scope);
            let mut env = parts.envelope();
            env.seal(&k, &bind(&b), &payload);
            prop_assert!(env.mac().is_some());
            prop_assert_eq!(k.verify(&env, &bind(&b), &payload), Ok(()));
            let bytes = wrap(&env, &payload);
            prop_assert_eq!(verify(&k, &bind(&b), &bytes), Ok(()));
        }

        #[test]
        fn any_flipped_bit_fails(
            parts in parts(),
            payload in payload(),
            secret in vec(any::<u8>(), 16..40),
            b in binding(),
            bit in any::<prop::sample::Index>(),
        ) {
            let k = key(&secret, "");
            let mut env = parts.envelope();
            env.seal(&k, &bind(&b), &payload);
            let mut bytes = wrap(&env, &payload);
            let i = bit.index(bytes.len() * 8);
            bytes[i / 8] ^= 1 << (i % 8);
            prop_assert!(verify(&k, &bind(&b), &bytes).is_err());
        }

        #[test]
        fn another_secret_scope_carrier_or_other_half_fails(
            parts in parts(),
            payload in payload(),
            a in vec(any::<u8>(), 16..40),
            b in vec(any::<u8>(), 16..40),
            scopes in (".{0,8}", ".{0,8}"),
            binds in (binding(), binding()),
        ) {
            let mut env = parts.envelope();
            env.seal(&key(&a, &scopes.0), &bind(&binds.0), &payload);
            // HMAC pads keys with zero bytes, so keys that differ only in trailing zeros
            // are the same key.
            let trim = |k: &[u8]| k.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
            let same = a[..trim(&a)] == b[..trim(&b)] && scopes.0 == scopes.1 && binds.0 == binds.1;
            prop_assume!(!same);
            prop_assert_eq!(
                key(&b, &scopes.1).verify(&env, &bind(&binds.1), &payload),
                Err(EnvelopeError::BadMac)
            );
        }
    }
}
