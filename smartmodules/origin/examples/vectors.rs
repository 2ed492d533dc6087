//! Prints the test vectors of docs/FORMAT.md from this crate's own encoder.
//!
//! `cargo run -p origin --example vectors` prints the `vectors`, `record-ids` and
//! `keyed-record-ids` blocks. The vectors in the doc are frozen: this program is how they
//! were made, and the crate's `vectors` test checks the doc against the code.

use origin::{
    decode, record_id, wrap, Binding, Carrier, Decoded, Envelope, EnvelopeError, SealKey,
};

const SECRET: &[u8] = b"origin-test-secret-0001";
const TS: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

/// origin, timestamp, offset, key, value
type RecordIdCase<'a> = (&'a str, i64, i64, Option<&'a [u8]>, &'a [u8]);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a sealed vector is checked: the scope, where the tag travels and the other half.
struct Check<'a> {
    scope: &'a str,
    carrier: Carrier,
    other: Option<&'a [u8]>,
}

/// A vector line for a carrier that decodes to a tag.
fn tagged_line(name: &str, bytes: &[u8], check: Option<Check<'_>>) -> String {
    let Ok(Decoded::Tagged { envelope, payload }) = decode(bytes) else {
        panic!("{name}: not a tag");
    };
    let mac = envelope.mac().map_or("none".to_string(), |m| hex(m));
    let mut line = format!(
        "{name} | {} | tagged flags={:02x} path={} ts={} id={} mac={mac} payload={}",
        hex(bytes),
        envelope.flags(),
        envelope.path().join(","),
        envelope.timestamp(),
        hex(&envelope.id()),
        hex(payload),
    );
    if let Some(c) = check {
        let key = SealKey::new(SECRET, c.scope).unwrap();
        let bind = Binding {
            carrier: c.carrier,
            other: c.other,
        };
        let verdict = match key.verify(&envelope, &bind, payload) {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("{e:?}"),
        };
        line.push_str(&format!(
            " secret={} scope={} carrier={} other={} verify={verdict}",
            hex(SECRET),
            hex(c.scope.as_bytes()),
            c.carrier.as_str(),
            c.other.map_or("-".to_string(), hex),
        ));
    }
    line
}

fn error_line(name: &str, bytes: &[u8], expected: EnvelopeError) -> String {
    assert_eq!(decode(bytes), Err(expected), "{name}");
    format!("{name} | {} | error={expected:?}", hex(bytes))
}

fn untagged_line(name: &str, bytes: &[u8]) -> String {
    assert_eq!(decode(bytes), Ok(Decoded::Untagged), "{name}");
    format!("{name} | {} | untagged", hex(bytes))
}

fn main() {
    let mut lines = Vec::new();

    // --- valid ---
    let value = br#"{"temp":21}"#;
    let id = record_id("us-east", TS, 0, None, value);
    let minimal = Envelope::new_origin("us-east", TS, id).unwrap();
    let minimal_bytes = wrap(&minimal, value);
    lines.push(tagged_line("origin-minimal", &minimal_bytes, None));

    let id = record_id("us-east", TS, 1, Some(b"k1"), b"");
    let empty = Envelope::new_origin("us-east", TS, id).unwrap();
    lines.push(tagged_line("empty-payload", &wrap(&empty, b""), None));

    let three = minimal
        .with_hop("eu-west")
        .unwrap()
        .with_hop("ap-south")
        .unwrap()
        .with_hop("sa-east")
        .unwrap();
    lines.push(tagged_line("three-hops", &wrap(&three, value), None));

    let mut violation =
        Envelope::new_origin("eu-west", TS, record_id("eu-west", TS, 0, None, b"x")).unwrap();
    violation = violation.with_hop("us-east").unwrap();
    violation.set_violation();
    lines.push(tagged_line("violation-flag", &wrap(&violation, b"x"), None));

    let unknown = Envelope::from_parts(0x81, vec!["us-east"], TS, [0; 8], None).unwrap();
    lines.push(tagged_line(
        "unknown-flag-bits",
        &wrap(&unknown, b"x"),
        None,
    ));

    // Sealed for scope `orders`, in the value of a record whose key is `k1`.
    let key = SealKey::new(SECRET, "orders").unwrap();
    let bound = |other| Check {
        scope: "orders",
        carrier: Carrier::Value,
        other,
    };
    let mut sealed = minimal.with_hop("eu-west").unwrap();
    sealed.seal(
        &key,
        &Binding::of(Carrier::Value, Some(b"k1"), value),
        value,
    );
    let sealed_bytes = wrap(&sealed, value);
    lines.push(tagged_line(
        "mac-sealed",
        &sealed_bytes,
        Some(bound(Some(b"k1"))),
    ));
    let tampered = wrap(&sealed, br#"{"temp":99}"#);
    lines.push(tagged_line(
        "mac-tampered-payload",
        &tampered,
        Some(bound(Some(b"k1"))),
    ));
    lines.push(tagged_line(
        "mac-other-key",
        &sealed_bytes,
        Some(bound(Some(b"k2"))),
    ));
    lines.push(tagged_line(
        "mac-key-removed",
        &sealed_bytes,
        Some(bound(None)),
    ));
    lines.push(tagged_line(
        "mac-other-scope",
        &sealed_bytes,
        Some(Check {
            scope: "payments",
            ..bound(Some(b"k1"))
        }),
    ));
    lines.push(tagged_line(
        "mac-other-carrier",
        &sealed_bytes,
        Some(Check {
            carrier: Carrier::Key,
            ..bound(Some(b"k1"))
        }),
    ));
    // Sealed in the key `k1` (the carrier), bound to the value.
    let pay = b"pay 10 to alice";
    let mut in_key = minimal.clone();
    in_key.seal(&key, &Binding::of(Carrier::Key, Some(b"k1"), pay), b"k1");
    let in_key_bytes = wrap(&in_key, b"k1");
    let key_check = |other| Check {
        scope: "orders",
        carrier: Carrier::Key,
        other,
    };
    lines.push(tagged_line(
        "mac-key-carrier",
        &in_key_bytes,
        Some(key_check(Some(pay))),
    ));
    lines.push(tagged_line(
        "mac-key-carrier-other-value",
        &in_key_bytes,
        Some(key_check(Some(b"pay 10000 to mallory"))),
    ));
    lines.push(tagged_line(
        "mac-missing",
        &minimal_bytes,
        Some(bound(None)),
    ));

    let long_id = "a.b_c-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";
    assert_eq!(long_id.len(), 64);
    let max_id = Envelope::new_origin(long_id, TS, [0xFF; 8]).unwrap();
    lines.push(tagged_line(
        "max-length-cluster-id",
        &wrap(&max_id, b"v"),
        None,
    ));

    let ids: Vec<String> = (0..16).map(|i| format!("c{i}")).collect();
    let path: Vec<&str> = ids.iter().map(String::as_str).collect();
    let max_path = Envelope::from_parts(0, path, 0, [1, 2, 3, 4, 5, 6, 7, 8], None).unwrap();
    lines.push(tagged_line("max-path", &wrap(&max_path, b""), None));

    let negative = Envelope::new_origin("old", -1, [0; 8]).unwrap();
    lines.push(tagged_line(
        "negative-timestamp",
        &wrap(&negative, b"v"),
        None,
    ));

    let nested = wrap(&Envelope::new_origin("inner", 1, [0; 8]).unwrap(), b"");
    let outer = Envelope::new_origin("outer", 2, [0; 8]).unwrap();
    lines.push(tagged_line(
        "payload-starting-with-magic",
        &wrap(&outer, &nested),
        None,
    ));

    // --- untagged ---
    lines.push(untagged_line("untagged-json", br#"{"a":1}"#));
    lines.push(untagged_line("untagged-text", b"hello"));
    lines.push(untagged_line("untagged-empty", b""));
    lines.push(untagged_line("untagged-one-byte", &[0xFF]));
    lines.push(untagged_line(
        "untagged-magic-reversed",
        &[0x6F, 0xFF, 0x01],
    ));

    // --- invalid ---
    lines.push(error_line(
        "magic-only",
        &[0xFF, 0x6F],
        EnvelopeError::Truncated,
    ));
    lines.push(error_line(
        "truncated-body",
        &minimal_bytes[..minimal.encoded_len() - 3],
        EnvelopeError::Truncated,
    ));
    let mut v3 = minimal_bytes.clone();
    v3[2] = 0x03;
    lines.push(error_line(
        "unknown-version",
        &v3,
        EnvelopeError::UnknownVersion(3),
    ));
    let mut v1 = minimal_bytes.clone();
    v1[2] = 0x01;
    lines.push(error_line(
        "version-1",
        &v1,
        EnvelopeError::UnknownVersion(1),
    ));

    // Hand-made bodies: magic, version, flags, hops, path, ts, id, mac option.
    let body = |flags: u8, hops: u8, path: &[&[u8]], tail: &[u8]| {
        let mut v = vec![0xFF, 0x6F, 0x02, flags, hops, path.len() as u8];
        for c in path {
            v.push(c.len() as u8);
            v.extend_from_slice(c);
        }
        v.extend_from_slice(tail);
        v
    };
    // ts = 0, id = 8 zero bytes, no MAC.
    let tail: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let seventeen: Vec<&[u8]> = vec![b"a"; 17];
    lines.push(error_line(
        "path-too-long",
        &body(0, 16, &seventeen, tail),
        EnvelopeError::PathTooLong,
    ));
    lines.push(error_line(
        "empty-path",
        &body(0, 0, &[], tail),
        EnvelopeError::EmptyPath,
    ));
    lines.push(error_line(
        "hops-mismatch",
        &body(0, 0, &[b"a", b"b"], tail),
        EnvelopeError::HopsMismatch,
    ));
    lines.push(error_line(
        "bad-cluster-id-char",
        &body(0, 0, &[b"us east"], tail),
        EnvelopeError::BadClusterId,
    ));
    lines.push(error_line(
        "bad-cluster-id-empty",
        &body(0, 1, &[b"a", b""], tail),
        EnvelopeError::BadClusterId,
    ));
    lines.push(error_line(
        "cluster-id-too-long",
        &body(0, 0, &[&[b'a'; 65]], tail),
        EnvelopeError::BadClusterId,
    ));
    lines.push(error_line(
        "bad-utf8",
        &body(0, 0, &[b"\xC3"], tail),
        EnvelopeError::Malformed,
    ));
    let mut bad_option = body(0, 0, &[b"a"], tail);
    *bad_option.last_mut().unwrap() = 2;
    lines.push(error_line(
        "bad-option-tag",
        &bad_option,
        EnvelopeError::Malformed,
    ));
    let overlong: &[u8] = &[0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    lines.push(error_line(
        "overlong-varint",
        &body(0, 0, &[b"a"], overlong),
        EnvelopeError::Malformed,
    ));

    println!("```vectors");
    for line in &lines {
        println!("{line}");
    }
    println!("```");

    println!();
    println!("```record-ids");
    let cases: [RecordIdCase; 5] = [
        ("us-east", TS, 0, None, value),
        ("us-east", TS, 1, None, value),
        ("us-east", TS, 0, Some(b"k1"), value),
        ("us-east", TS, 0, Some(b""), value),
        ("a", 0, 0, None, b""),
    ];
    for (origin, ts, offset, key, value) in cases {
        println!(
            "{origin} | {ts} | {offset} | {} | {} | {}",
            key.map_or("-".to_string(), hex),
            hex(value),
            hex(&record_id(origin, ts, offset, key, value)),
        );
    }
    println!("```");

    println!();
    println!("```keyed-record-ids");
    for (scope, (origin, ts, offset, key, value)) in [
        ("", cases[0]),
        ("orders", cases[0]),
        ("orders", cases[1]),
        ("orders", cases[2]),
        ("orders", cases[4]),
    ] {
        let sealer = SealKey::new(SECRET, scope).unwrap();
        println!(
            "{} | {} | {origin} | {ts} | {offset} | {} | {} | {}",
            hex(SECRET),
            if scope.is_empty() {
                "-".to_string()
            } else {
                hex(scope.as_bytes())
            },
            key.map_or("-".to_string(), hex),
            hex(value),
            hex(&sealer.record_id(origin, ts, offset, key, value)),
        );
    }
    println!("```");
}
