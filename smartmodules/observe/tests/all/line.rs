//! The record line: every field, for every kind of carrier, and JSON whatever the bytes.

use observe::{record_line, Json, TagReader};
use origin::Carrier;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::{tagged, view, TS};

fn line(reader: &TagReader, key: Option<&[u8]>, value: &[u8]) -> Value {
    let mut out = Json::new();
    let mut rec = view(value, 42, TS + 5);
    rec.key = key;
    record_line(reader, &rec, &mut out);
    assert!(!out.0.contains('\n'), "one line: {}", out.0);
    serde_json::from_str(&out.0).unwrap_or_else(|e| panic!("{e}: {}", out.0))
}

#[test]
fn a_tagged_record_shows_its_tag_and_payload() {
    let reader = TagReader::new("test", Carrier::Value, None);
    let v = tagged(&["edge-1", "home"], TS, true, b"order 1");
    assert_eq!(
        line(&reader, Some(b"k"), &v),
        json!({
            "offset": 42, "timestamp": TS + 5, "carrier": "value", "status": "tagged",
            "tag": {"origin": "edge-1", "path": ["edge-1", "home"], "hops": 1, "flags": 1,
                    "violation": true, "timestamp": TS, "id": "0707070707070707",
                    "mac": false, "verified": null},
            "key": "k", "payload": "order 1"
        })
    );
}

#[test]
fn untagged_malformed_and_keyless_records() {
    let reader = TagReader::new("test", Carrier::Value, None);
    let plain = line(&reader, None, b"plain");
    assert_eq!(plain["status"], "untagged");
    assert_eq!(plain["payload"], "plain");
    assert_eq!(plain["key"], Value::Null);
    let bad = line(&reader, None, &[0xFF, 0x6F, 0x01, 0x00]);
    assert_eq!(bad["status"], "malformed");
    assert_eq!(bad["error"], "unsupported origin tag version 1");
    assert_eq!(bad["payload"], json!({"base64": "/28BAA=="}));
    let by_key = TagReader::new("test", Carrier::Key, None);
    let none = line(&by_key, None, b"v");
    assert_eq!(
        (&none["status"], &none["payload"], &none["value"]),
        (&json!("untagged"), &Value::Null, &json!("v"))
    );
    let k = tagged(&["a"], TS, false, b"");
    let keyed = line(&by_key, Some(&k), b"v");
    assert_eq!(keyed["tag"]["origin"], "a");
    assert_eq!(keyed["payload"], "");
}

#[test]
fn with_a_secret_the_line_says_whether_the_mac_verifies() {
    let key = origin::SealKey::new(b"a-secret-of-16-bytes", "s").unwrap();
    let reader = TagReader::new("test", Carrier::Value, Some(key.clone()));
    let mut env = origin::Envelope::new_origin("a", TS, [1; 8]).unwrap();
    env.seal(&key, &origin::Binding::of(Carrier::Value, None, b"p"), b"p");
    let sealed = origin::wrap(&env, b"p");
    assert_eq!(line(&reader, None, &sealed)["tag"]["verified"], true);
    assert_eq!(line(&reader, None, &sealed)["tag"]["mac"], true);
    // Moved under a key: the MAC binds the key, so it no longer verifies.
    assert_eq!(line(&reader, Some(b"k"), &sealed)["tag"]["verified"], false);
    assert_eq!(
        line(&reader, None, &tagged(&["a"], TS, false, b"p"))["tag"]["verified"],
        false
    );
}

proptest! {
    #[test]
    fn any_record_is_one_line_of_json(
        key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        value in proptest::collection::vec(any::<u8>(), 0..40),
        carrier in prop_oneof![Just(Carrier::Value), Just(Carrier::Key)],
    ) {
        let reader = TagReader::new("test", carrier, None);
        let v = line(&reader, key.as_deref(), &value);
        prop_assert!(v["status"].is_string());
    }
}
