//! Prints the test vectors of docs/FORMAT.md from this crate's own encoder.
//!
//! `cargo run -p origin --example vectors` prints the `vectors` and
//! `record-ids` blocks. The vectors in the doc are frozen: this program is how
//! they were made, and the crate's `vectors` test checks the doc against the code.

use origin::{decode, record_id, wrap, Decoded, Envelope, EnvelopeError};

const SECRET: &[u8] = b"origin-test-secret-0001";
const TS: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

/// origin, timestamp, offset, key, value
type RecordIdCase<'a> = (&'a str, i64, i64, Option<&'a [u8]>, &'a [u8]);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A vector line for a carrier that decodes to a tag.
fn tagged_line(name: &str, bytes: &[u8], secret: Option<&[u8]>) -> String {
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
    if let Some(secret) = secret {
        let verdict = match envelope.verify(secret, payload) {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("{e:?}"),
        };
        line.push_str(&format!(" secret={} verify={verdict}", hex(secret)));
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

    let mut sealed = minimal.with_hop("eu-west").unwrap();
    sealed.seal(SECRET, value);
    let sealed_bytes = wrap(&sealed, value);
    lines.push(tagged_line("mac-sealed", &sealed_bytes, Some(SECRET)));

    let tampered = wrap(&sealed, br#"{"temp":99}"#);
    lines.push(tagged_line("mac-tampered-payload", &tampered, Some(SECRET)));

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
    let mut v2 = minimal_bytes.clone();
    v2[2] = 0x02;
    lines.push(error_line(
        "unknown-version",
        &v2,
        EnvelopeError::UnknownVersion(2),
    ));

    // Hand-made bodies: magic, version, flags, hops, path, ts, id, mac option.
    let body = |flags: u8, hops: u8, path: &[&[u8]], tail: &[u8]| {
        let mut v = vec![0xFF, 0x6F, 0x01, flags, hops, path.len() as u8];
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
}
