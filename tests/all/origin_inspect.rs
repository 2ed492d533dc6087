//! origin-inspect in the official engine, `fluvio-smartengine`: every record, hostile bytes
//! included, becomes one JSON line in its place whose fields are what the record holds (read
//! back here with the `origin` crate), and the payload comes back byte for byte.

use base64::Engine as _;
use fluvio_protocol::record::Record;
use origin::{decode, Binding, Carrier, Decoded, Envelope, SealKey};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::*;
use crate::policies::tagged;

const TS: i64 = 1_700_000_000_000;

fn lines(params: &[(&str, &str)], records: Vec<Record>) -> Vec<(Record, Value)> {
    let mut chain = official_chain(integration::wasm("origin-inspect"), params, 22)
        .unwrap_or_else(|e| panic!("{e}"));
    let n = records.len();
    let out = process(&mut chain, records, 300, TS, 22);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.successes.len(), n, "one line per record");
    out.successes
        .into_iter()
        .map(|r| {
            let text = std::str::from_utf8(r.value.as_ref()).expect("a line is UTF-8");
            assert!(!text.contains('\n'), "one line: {text}");
            let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            (r, v)
        })
        .collect()
}

/// Bytes back from the line's JSON: a string, or `{"base64": ...}`.
fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        other => Some(
            base64::engine::general_purpose::STANDARD
                .decode(other["base64"].as_str().expect("base64"))
                .expect("valid base64"),
        ),
    }
}

#[test]
fn each_record_becomes_its_line_in_its_place() {
    let flagged = {
        let mut env = Envelope::new_origin("edge-1", TS - 40, [3; 8]).unwrap();
        env.set_violation();
        env = env.with_hop("home").unwrap();
        origin::wrap(&env, b"typed on home")
    };
    let records = vec![
        record(None, &tagged(&["edge-1", "home"], b"order 1", None), 0, 0),
        record(Some(b"k"), &flagged, 1, 5),
        record(None, b"plain", 2, 0),
        record(None, &[0xFF, 0x6F, 0x02, 0x00, 0x00, 0x00], 3, 0),
    ];
    let out = lines(&[], records);
    for (i, (r, _)) in out.iter().enumerate() {
        assert_eq!(r.preamble.offset_delta(), i as i64, "in its record's place");
        assert_eq!(r.key, None, "the line is the whole record");
    }
    let (_, first) = &out[0];
    assert_eq!(first["offset"], 300);
    assert_eq!(first["timestamp"], TS);
    assert_eq!(first["status"], "tagged");
    assert_eq!(first["tag"]["path"], json!(["edge-1", "home"]));
    assert_eq!(first["tag"]["timestamp"], integration::TS);
    assert_eq!(
        first["tag"]["id"],
        format!(
            "{:016x}",
            u64::from_le_bytes(integration::record_id("edge-1", b"order 1"))
        )
    );
    assert_eq!(
        (&first["tag"]["mac"], &first["tag"]["verified"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(first["payload"], "order 1");
    assert_eq!(first["key"], Value::Null);
    let (_, second) = &out[1];
    assert_eq!(second["offset"], 301);
    assert_eq!(second["timestamp"], TS + 5);
    assert_eq!(
        (
            &second["tag"]["violation"],
            &second["tag"]["flags"],
            &second["tag"]["hops"]
        ),
        (&json!(true), &json!(1), &json!(1))
    );
    assert_eq!(second["key"], "k");
    assert_eq!(out[2].1["status"], "untagged");
    assert_eq!(out[3].1["status"], "malformed");
    assert_eq!(out[3].1["error"], "origin tag truncated");
}

#[test]
fn with_a_secret_each_line_says_whether_its_mac_verifies() {
    let secret = "secret-of-16-bytes";
    let key = SealKey::new(secret.as_bytes(), "orders").unwrap();
    let mut env = Envelope::new_origin("edge-1", TS, [1; 8]).unwrap();
    env.seal(&key, &Binding::of(Carrier::Value, Some(b"k"), b"p"), b"p");
    let sealed = origin::wrap(&env, b"p");
    let records = vec![
        record(Some(b"k"), &sealed, 0, 0),
        record(Some(b"other key"), &sealed, 1, 0),
        record(Some(b"k"), &tagged(&["edge-1"], b"p", None), 2, 0),
    ];
    let out = lines(&[("secret", secret), ("scope", "orders")], records.clone());
    let verified: Vec<&Value> = out.iter().map(|(_, v)| &v["tag"]["verified"]).collect();
    assert_eq!(verified, [&json!(true), &json!(false), &json!(false)]);
    let out = lines(&[("secret", secret), ("scope", "payments")], records);
    assert_eq!(
        out[0].1["tag"]["verified"], false,
        "sealed for another scope"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Hostile bytes, in either carrier: every line is JSON, says what the `origin` crate
    /// finds in the record, and gives back the key and the payload byte for byte.
    #[test]
    fn any_record_gives_a_faithful_line(
        records in proptest::collection::vec(
            (
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..24)),
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..60),
                    proptest::collection::vec(any::<u8>(), 0..20).prop_map(|p| tagged(&["a", "b.c"], &p, None)),
                    proptest::collection::vec(any::<u8>(), 0..20).prop_map(|mut p| { p.splice(0..0, [0xFF, 0x6F, 2]); p }),
                ],
            ),
            1..12,
        ),
        by_key in any::<bool>(),
    ) {
        let carrier = if by_key { Carrier::Key } else { Carrier::Value };
        let input: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, (k, v))| record(k.as_deref(), v, i as i64, 0))
            .collect();
        let params: Vec<(&str, &str)> = if by_key { vec![("carrier", "key")] } else { vec![] };
        for ((key, value), (_, line)) in records.iter().zip(lines(&params, input)) {
            let carried = carrier.of(key.as_deref(), value);
            let (status, payload) = match carried.map(decode) {
                None => ("untagged", None),
                Some(Ok(Decoded::Untagged)) => ("untagged", carried),
                Some(Ok(Decoded::Tagged { payload, .. })) => ("tagged", Some(payload)),
                Some(Err(_)) => ("malformed", carried),
            };
            prop_assert_eq!(line["status"].as_str(), Some(status));
            let shown = bytes(&line["payload"]);
            prop_assert_eq!(shown.as_deref(), payload);
            match carrier {
                Carrier::Value => prop_assert_eq!(bytes(&line["key"]), key.clone()),
                Carrier::Key => prop_assert_eq!(bytes(&line["value"]), Some(value.clone())),
            }
        }
    }
}
