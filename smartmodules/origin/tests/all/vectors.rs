//! Checks the test vectors of docs/FORMAT.md against the code, both ways.

use origin::{
    decode, record_id, wrap, Carrier, Decoded, Envelope, EnvelopeError, MAC_LEN, MAX_TAG_LEN,
    MAX_TAG_LEN_NO_MAC,
};

const FORMAT_MD: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/FORMAT.md"));

/// The lines of the fenced block that opens with "```<tag>".
fn block(tag: &str) -> Vec<&'static str> {
    let open = format!("```{tag}");
    let mut lines = FORMAT_MD.lines();
    assert!(
        lines.any(|l| l.trim() == open),
        "docs/FORMAT.md has no ```{tag} block"
    );
    lines
        .take_while(|l| l.trim() != "```")
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim()).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

fn fixed<const N: usize>(s: &str) -> [u8; N] {
    unhex(s)
        .try_into()
        .unwrap_or_else(|_| panic!("{s:?} is not {N} bytes"))
}

fn error_name(e: &EnvelopeError) -> String {
    format!("{e:?}")
}

/// `key=value` fields of a `tagged ...` expectation.
fn field<'e>(fields: &[(&'e str, &'e str)], key: &str) -> &'e str {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("missing field {key}"))
}

fn check_tagged(name: &str, carrier: &[u8], expected: &str) {
    let fields: Vec<(&str, &str)> = expected
        .split_whitespace()
        .skip(1)
        .map(|kv| {
            kv.split_once('=')
                .unwrap_or_else(|| panic!("{name}: bad field {kv:?}"))
        })
        .collect();
    let flags = u8::from_str_radix(field(&fields, "flags"), 16).unwrap();
    let path: Vec<&str> = field(&fields, "path").split(',').collect();
    let ts: i64 = field(&fields, "ts").parse().unwrap();
    let id: [u8; 8] = fixed(field(&fields, "id"));
    let mac: Option<[u8; MAC_LEN]> = match field(&fields, "mac") {
        "none" => None,
        m => Some(fixed(m)),
    };
    let payload = unhex(field(&fields, "payload"));

    // Decoding gives the listed fields.
    let Ok(Decoded::Tagged {
        envelope,
        payload: got,
    }) = decode(carrier)
    else {
        panic!("{name}: expected a tag, got {:?}", decode(carrier));
    };
    assert_eq!(envelope.flags(), flags, "{name}: flags");
    assert_eq!(envelope.path(), path.as_slice(), "{name}: path");
    assert_eq!(envelope.hops() as usize, path.len() - 1, "{name}: hops");
    assert_eq!(envelope.timestamp(), ts, "{name}: ts");
    assert_eq!(envelope.id(), id, "{name}: id");
    assert_eq!(envelope.mac(), mac.as_ref(), "{name}: mac");
    assert_eq!(got, payload.as_slice(), "{name}: payload");

    // Encoding the listed fields gives the carrier.
    let built = Envelope::from_parts(flags, path.clone(), ts, id, mac).unwrap();
    assert_eq!(built, envelope, "{name}: built envelope");
    assert_eq!(
        hex::encode(wrap(&built, &payload)),
        hex::encode(carrier),
        "{name}: encoding"
    );
    assert_eq!(
        built.encoded_len() + payload.len(),
        carrier.len(),
        "{name}: encoded_len"
    );

    if fields.iter().any(|(k, _)| *k == "secret") {
        let check = MacCheck {
            secret: unhex(field(&fields, "secret")),
            scope: String::from_utf8(unhex(field(&fields, "scope"))).unwrap(),
            carrier: match field(&fields, "carrier") {
                "value" => Carrier::Value,
                "key" => Carrier::Key,
                other => panic!("{name}: carrier {other:?}"),
            },
            other: match field(&fields, "other") {
                "-" => None,
                h => Some(unhex(h)),
            },
            verdict: field(&fields, "verify").to_string(),
        };
        check_mac(name, &envelope, &payload, &check, (flags, &path, ts, id));
    }
}

/// The MAC fields of a vector: `secret scope carrier other verify`.
struct MacCheck {
    secret: Vec<u8>,
    scope: String,
    carrier: Carrier,
    other: Option<Vec<u8>>,
    verdict: String,
}

fn check_mac(
    name: &str,
    envelope: &Envelope<'_>,
    payload: &[u8],
    check: &MacCheck,
    (flags, path, ts, id): (u8, &[&str], i64, [u8; 8]),
) {
    let key = origin::SealKey::new(&check.secret, &check.scope).unwrap();
    let bind = origin::Binding {
        carrier: check.carrier,
        other: check.other.as_deref(),
    };
    let got = match key.verify(envelope, &bind, payload) {
        Ok(()) => "ok".to_string(),
        Err(e) => error_name(&e),
    };
    assert_eq!(got, check.verdict, "{name}: verify");
    if check.verdict == "ok" {
        // Sealing the unsealed tag reproduces the MAC.
        let mut unsealed = Envelope::from_parts(flags, path, ts, id, None).unwrap();
        unsealed.seal(&key, &bind, payload);
        assert_eq!(unsealed.mac(), envelope.mac(), "{name}: seal");
    }
}

#[test]
fn format_md_vectors() {
    let lines = block("vectors");
    let (mut tagged, mut untagged, mut errors) = (0, 0, 0);
    let mut names = std::collections::HashSet::new();
    for line in &lines {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, carrier_hex, expected] = parts[..] else {
            panic!("bad vector line {line:?}");
        };
        assert!(names.insert(name), "duplicate vector {name}");
        let carrier = unhex(carrier_hex);
        if expected == "untagged" {
            assert_eq!(decode(&carrier), Ok(Decoded::Untagged), "{name}");
            untagged += 1;
        } else if let Some(err) = expected.strip_prefix("error=") {
            match decode(&carrier) {
                Err(e) => assert_eq!(error_name(&e), err, "{name}"),
                other => panic!("{name}: expected {err}, got {other:?}"),
            }
            errors += 1;
        } else if expected.starts_with("tagged ") {
            check_tagged(name, &carrier, expected);
            tagged += 1;
        } else {
            panic!("{name}: unknown expectation {expected:?}");
        }
    }
    assert!(lines.len() >= 28, "FORMAT.md must hold at least 28 vectors");
    assert!(
        tagged >= 12 && untagged >= 2 && errors >= 6,
        "{tagged} {untagged} {errors}"
    );
    let sealed = lines.iter().filter(|l| l.contains(" secret=")).count();
    assert!(sealed >= 8, "{sealed} MAC vectors");
}

#[test]
fn format_md_record_ids() {
    let lines = block("record-ids");
    assert!(!lines.is_empty());
    for line in lines {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [origin, ts, offset, key, value, id] = parts[..] else {
            panic!("bad record-id line {line:?}");
        };
        let key = (key != "-").then(|| unhex(key));
        let got = record_id(
            origin,
            ts.parse().unwrap(),
            offset.parse().unwrap(),
            key.as_deref(),
            &unhex(value),
        );
        assert_eq!(hex::encode(got), id, "{line}");
    }
}

#[test]
fn format_md_keyed_record_ids() {
    let lines = block("keyed-record-ids");
    assert!(lines.len() >= 4);
    for line in lines {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [secret, scope, origin, ts, offset, key, value, id] = parts[..] else {
            panic!("bad keyed record-id line {line:?}");
        };
        let scope = match scope {
            "-" => String::new(),
            h => String::from_utf8(unhex(h)).unwrap(),
        };
        let sealer = origin::SealKey::new(&unhex(secret), &scope).unwrap();
        let key = (key != "-").then(|| unhex(key));
        let (ts, offset, value) = (ts.parse().unwrap(), offset.parse().unwrap(), unhex(value));
        let got = sealer.record_id(origin, ts, offset, key.as_deref(), &value);
        assert_eq!(hex::encode(got), id, "{line}");
        assert_ne!(got, record_id(origin, ts, offset, key.as_deref(), &value));
    }
}

/// The numbers of the overhead table in FORMAT.md §3.
#[test]
fn format_md_overheads() {
    let id16 = "0123456789abcdef";
    let ts_now = 1_700_000_000_000;
    let sizes = |path: Vec<&str>, ts: i64| {
        let mut env = Envelope::from_parts(0, path, ts, [0; 8], None).unwrap();
        let without = env.encoded_len();
        assert_eq!(wrap(&env, b"").len(), without);
        let with = Envelope::from_parts(0, env.path(), ts, [0; 8], Some([0; 16]))
            .unwrap()
            .encoded_len();
        env = Envelope::from_parts(0, env.path(), ts, [0; 8], Some([0; 16])).unwrap();
        assert_eq!(wrap(&env, b"").len(), with);
        (without, with)
    };
    assert_eq!(sizes(vec![id16], ts_now), (38, 54));
    // The 6-byte timestamp range: 1970-07-18 .. 2039-09-07.
    assert_eq!(sizes(vec![id16], 1 << 34), (38, 54));
    assert_eq!(sizes(vec![id16], (1 << 41) - 1), (38, 54));
    assert_eq!(sizes(vec![id16], 1 << 41), (39, 55));
    assert_eq!(sizes(vec![id16], i64::MIN), (42, 58));
    assert_eq!(sizes(vec!["us-east"], ts_now), (29, 45));
    assert_eq!(sizes(vec!["a"], -64), (18, 34));
    assert_eq!(sizes(vec!["a"], 63), (18, 34));
    let (one, _) = sizes(vec![id16], ts_now);
    let (two, _) = sizes(vec![id16, "eu-west"], ts_now);
    assert_eq!(two - one, 1 + 7);
    let id64 = "x".repeat(64);
    let path = vec![id64.as_str(); 16];
    assert_eq!(sizes(path, i64::MIN), (1065, 1081));
    assert_eq!((MAX_TAG_LEN_NO_MAC, MAX_TAG_LEN), (1065, 1081));
}

/// §8's annotated bytes are the `origin-minimal` vector, byte for byte.
#[test]
fn the_annotated_example_is_the_first_vector() {
    let annotated: String = block("annotated")
        .iter()
        .map(|line| {
            // Hex pairs up to the first field that is not one (the annotation).
            line.split_whitespace()
                .take_while(|w| w.len() == 2 && w.chars().all(|c| c.is_ascii_hexdigit()))
                .collect::<String>()
        })
        .collect();
    let minimal = block("vectors")
        .into_iter()
        .find(|l| l.starts_with("origin-minimal |"))
        .expect("an origin-minimal vector");
    let carrier = minimal.split('|').nth(1).expect("a carrier").trim();
    assert_eq!(annotated, carrier);
}
