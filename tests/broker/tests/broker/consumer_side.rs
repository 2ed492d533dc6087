//! Consumer side: origin-strip gives back the producer's exact key and value bytes.
//!
//! `fluvio produce` sends text lines (stdin, one record each, `--key-separator` for keys) and,
//! with `--raw -f FILE`, one record holding the file's exact bytes (`--key` adds a key).
//! Keys are text on the CLI, so binary content travels in values; `fluvio consume -O binary`
//! prints values as an exact hex dump.

use broker_tests::ConsumedRecord;

use crate::suite::{records, tag_of, Suite};

/// A record as the producer meant it.
struct Sent {
    key: Option<&'static str>,
    value: Vec<u8>,
}

impl Sent {
    fn consumed(&self) -> ConsumedRecord {
        ConsumedRecord {
            key: self.key.map(str::to_string),
            value: self.value.clone(),
        }
    }
}

/// Binary values: every byte value, newlines and 0xFF included, an empty one, and a 20 KB
/// one. None starts with the tag's magic bytes (FF 6F): origin-tag refuses to wrap those.
fn binary_values() -> Vec<Sent> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let big: Vec<u8> = (0..20 * 1024)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i == 0 {
                0x01
            } else {
                state as u8
            }
        })
        .collect();
    vec![
        Sent {
            key: None,
            value: (0..=255u8).collect(),
        },
        Sent {
            key: Some("bin-key"),
            value: vec![0xff, 0xfe, 0x00, 0x0a, 0x0d, 0x6f, 0xff, 0x6f],
        },
        Sent {
            key: Some("empty-value"),
            value: Vec::new(),
        },
        Sent {
            key: None,
            value: big,
        },
    ]
}

/// Produces text lines without and with keys, then each binary value, through a producer-side
/// origin-tag with `params`; returns the records in the order they were sent.
fn produce_all(s: &Suite, topic: &str, params: &[(&str, &str)]) -> Vec<Sent> {
    let mut sent = Vec::new();
    s.produce(topic)
        .module("origin-tag", params)
        .lines(&["plain 1", "plain 2"])
        .run()
        .expect_ok();
    sent.extend(["plain 1", "plain 2"].map(|v| Sent {
        key: None,
        value: v.as_bytes().to_vec(),
    }));
    s.produce(topic)
        .module("origin-tag", params)
        .args(&["--key-separator", "="])
        .lines(&["k1=value one", "k2=value=two"])
        .run()
        .expect_ok();
    sent.push(Sent {
        key: Some("k1"),
        value: b"value one".to_vec(),
    });
    sent.push(Sent {
        key: Some("k2"),
        value: b"value=two".to_vec(),
    });
    for (i, record) in binary_values().into_iter().enumerate() {
        let mut produce = s
            .produce(topic)
            .module("origin-tag", params)
            .raw(&record.value, &format!("value-{i}.bin"));
        if let Some(key) = record.key {
            produce = produce.args(&["--key", key]);
        }
        produce.run().expect_ok();
        sent.push(record);
    }
    sent
}

/// Tags in values (the default carrier): stored tagged, read back exact through origin-strip,
/// by name and through the repository's example transforms file.
pub fn strip_gives_back_the_values(s: &mut Suite) {
    let topic = s.create_topic("orders-mirror");
    let sent = produce_all(s, &topic, &[("cluster", "edge-1")]);
    let expected: Vec<ConsumedRecord> = sent.iter().map(Sent::consumed).collect();

    let stored = s.records(&topic);
    assert_eq!(stored.len(), sent.len());
    for (record, sent) in stored.iter().zip(&sent) {
        let tag = tag_of(&record.value).expect("every stored value is tagged");
        assert_eq!(tag.path, ["edge-1"]);
        assert_eq!(tag.payload, sent.value, "the payload behind the tag");
        assert_eq!(record.key.as_deref(), sent.key, "the key is untouched");
    }

    let stripped = records(&s.home, &topic, &["--smartmodule", "origin-strip"]);
    assert_eq!(stripped, expected, "origin-strip by name");
    let example = integration::workspace_root().join("examples/consume-strip.yaml");
    let example = example.to_string_lossy();
    let stripped = records(&s.home, &topic, &["--transforms-file", &example]);
    assert_eq!(
        stripped, expected,
        "origin-strip from examples/consume-strip.yaml"
    );
}

/// Tags in keys (`carrier=key`): a record without a key gets one holding the tag alone;
/// stripping gives back an absent key, the keys that were there, and untouched values.
pub fn strip_gives_back_the_keys(s: &mut Suite) {
    let topic = s.create_topic("orders-mirror");
    let sent = produce_all(s, &topic, &[("cluster", "edge-1"), ("carrier", "key")]);
    let expected: Vec<ConsumedRecord> = sent.iter().map(Sent::consumed).collect();

    let values = s.values(&topic, &[]);
    let sent_values: Vec<Vec<u8>> = sent.iter().map(|r| r.value.clone()).collect();
    assert_eq!(
        values, sent_values,
        "with carrier=key the values are untouched"
    );

    let stripped = records(
        &s.home,
        &topic,
        &["--smartmodule", "origin-strip", "-e", "carrier=key"],
    );
    assert_eq!(
        stripped, expected,
        "keys, absent ones included, come back exactly"
    );

    // Without carrier=key the strip looks for tags in the values, finds none, and changes
    // nothing.
    let unstripped = s.values(&topic, &["--smartmodule", "origin-strip"]);
    assert_eq!(unstripped, sent_values);
}
