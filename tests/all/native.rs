//! The policy modules run natively, as the host harness and the simulator run them: the same
//! `Policy` types as the .wasm, deciding the same way on every record.

use std::collections::BTreeMap;

use fluvio_protocol::record::{Record, RecordData};
use host_harness::policies;
use origin::{decode, record_id, wrap, Binding, Decoded, Envelope, SealKey, FLAG_VIOLATION};
use policy::{AnyPolicy, Carrier, Dropped, Keep, RecordView, Stop, TagBuf};

use crate::common::*;

const TS: i64 = 1_700_000_000_000;
const SECRET: &str = "shared-secret-of-all-clusters";

fn build(module: &str, params: &[(&str, &str)]) -> Box<dyn AnyPolicy> {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    policies::find(module)
        .unwrap_or_else(|| panic!("{module} is a policy module"))
        .build(&params)
        .unwrap_or_else(|e| panic!("{module} {params:?}: {e}"))
}

fn view(value: &[u8]) -> RecordView<'_> {
    RecordView {
        key: None,
        value,
        timestamp: 1_000,
        offset: 7,
    }
}

fn tagged(path: &[&str], payload: &[u8]) -> Vec<u8> {
    let mut env =
        Envelope::new_origin(path[0], 1, record_id(path[0], 1, 0, None, payload)).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    wrap(&env, payload)
}

/// Decides on `value` with a scratch buffer emptied first, as the guest does.
fn decide<'a>(
    p: &mut Box<dyn AnyPolicy>,
    value: &'a [u8],
    scratch: &mut TagBuf,
) -> Result<Keep<'a>, Stop> {
    scratch.clear();
    p.decide(&view(value), scratch)
}

/// The carrier as written after a rewrite: the new tag, then the payload.
fn stored(scratch: &TagBuf, verdict: &Result<Keep<'_>, Stop>) -> Vec<u8> {
    match verdict {
        Ok(Keep::Rewrite { payload, .. }) => [scratch.as_slice(), payload].concat(),
        other => panic!("expected a rewrite, got {other:?}"),
    }
}

#[test]
fn tagging_an_untagged_record_records_its_origin() {
    let mut p = build("origin-tag", &[("cluster", "edge")]);
    let mut scratch = TagBuf::new();
    let out = decide(&mut p, b"v", &mut scratch);
    let bytes = stored(&scratch, &out);
    let Ok(Decoded::Tagged { envelope, payload }) = decode(&bytes) else {
        panic!()
    };
    assert_eq!(
        (envelope.path(), envelope.timestamp(), payload),
        (vec!["edge"], 1_000, &b"v"[..])
    );
    assert_eq!(envelope.id(), record_id("edge", 1_000, 7, None, b"v"));
}

#[test]
fn a_returning_record_is_a_loop_and_a_path_ending_here_is_not() {
    let mut p = build("loop-guard", &[("cluster", "a")]);
    let mut scratch = TagBuf::new();
    assert_eq!(
        decide(&mut p, &tagged(&["a", "b"], b"x"), &mut scratch),
        Err(Stop::Drop(Dropped::Loop))
    );
    assert_eq!(
        decide(&mut p, &tagged(&["a"], b"x"), &mut scratch),
        Ok(Keep::AsIs)
    );
    assert_eq!(
        decide(&mut p, &tagged(&["b", "c"], b"x"), &mut scratch),
        Ok(Keep::AsIs)
    );
}

#[test]
fn audit_flags_local_writes_and_leaves_mirror_traffic_alone() {
    let mut p = build(
        "mirror-guard",
        &[
            ("cluster", "home"),
            ("mirror_of", "edge"),
            ("mode", "audit"),
        ],
    );
    let mut scratch = TagBuf::new();
    let out = decide(&mut p, b"local", &mut scratch);
    let bytes = stored(&scratch, &out);
    let Ok(Decoded::Tagged { envelope, .. }) = decode(&bytes) else {
        panic!()
    };
    assert_eq!(envelope.flags(), FLAG_VIOLATION);
    assert_eq!(
        decide(&mut p, &tagged(&["edge"], b"m"), &mut scratch),
        Ok(Keep::AsIs)
    );
}

#[test]
fn the_dedup_window_drops_a_second_arrival_and_is_refilled_by_look_back() {
    let record = tagged(&["edge"], b"x");
    let params = [("cluster", "home"), ("dedup", "10")];
    let mut p = build("mirror-policy", &params);
    let mut scratch = TagBuf::new();
    assert!(matches!(
        decide(&mut p, &record, &mut scratch),
        Ok(Keep::Rewrite { .. })
    ));
    assert_eq!(
        decide(&mut p, &record, &mut scratch),
        Err(Stop::Drop(Dropped::Duplicate))
    );

    let mut restarted = build("mirror-policy", &params);
    restarted.look_back(&view(&tagged(&["edge", "home"], b"x")));
    assert_eq!(
        decide(&mut restarted, &record, &mut scratch),
        Err(Stop::Drop(Dropped::Duplicate))
    );
}

#[test]
fn a_refused_batch_is_not_remembered() {
    let record = tagged(&["edge"], b"x");
    let mut p = build(
        "mirror-policy",
        &[("cluster", "home"), ("mirror_of", "edge"), ("dedup", "10")],
    );
    let mut scratch = TagBuf::new();
    assert!(matches!(
        decide(&mut p, &record, &mut scratch),
        Ok(Keep::Rewrite { .. })
    ));
    assert!(matches!(
        decide(&mut p, b"local", &mut scratch),
        Err(Stop::Refuse(_))
    ));
    p.end_batch(false);
    assert!(
        matches!(
            decide(&mut p, &record, &mut scratch),
            Ok(Keep::Rewrite { .. })
        ),
        "sent again after the refusal, it is stored"
    );
}

#[test]
fn every_module_names_itself_and_the_param_in_errors() {
    for module in policies::all() {
        let params = BTreeMap::from([("no_such_param".to_string(), "1".to_string())]);
        let err = module.build(&params).err().expect("an unknown param fails");
        assert_eq!(err.module(), module.name);
        assert_eq!(err.param(), "no_such_param");
        assert!(
            err.to_string().starts_with(&format!("{}: ", module.name)),
            "{err}"
        );
    }
}

/// What the guest does with a batch, natively: decide each record in order, write the
/// verdicts as records, stop at a refusal, then end the batch.
fn run_native(
    policy: &mut dyn AnyPolicy,
    records: &[Record],
    base_offset: i64,
) -> (Vec<Record>, Option<(String, i64)>) {
    let mut out = Vec::new();
    let mut refused = None;
    let mut scratch = TagBuf::new();
    for r in records {
        scratch.clear();
        let rec = RecordView {
            key: r.key.as_ref().map(|k| k.as_ref()),
            value: r.value.as_ref(),
            timestamp: TS + r.preamble.get_timestamp_delta(),
            offset: base_offset + r.preamble.offset_delta(),
        };
        match policy.decide(&rec, &mut scratch) {
            Ok(Keep::AsIs) => out.push(r.clone()),
            Ok(Keep::Rewrite {
                payload, absent, ..
            }) => {
                let carrier = [scratch.as_slice(), payload].concat();
                let mut w = r.clone();
                match policy.carrier() {
                    Carrier::Value => w.value = RecordData::from(carrier),
                    Carrier::Key if absent => w.key = None,
                    Carrier::Key => w.key = Some(RecordData::from(carrier)),
                }
                out.push(w);
            }
            Err(Stop::Drop(_)) => {}
            Err(Stop::Refuse(hint)) => {
                refused = Some((hint, rec.offset));
                break;
            }
        }
    }
    policy.end_batch(refused.is_none());
    (out, refused)
}

/// Every module, in several configs, over a corpus cut into batches: the native policy and
/// the .wasm in the official engine write the same bytes and refuse with the same words,
/// batch after batch (so the `dedup` window's state follows too).
#[test]
fn native_and_wasm_decide_the_same_on_every_record() {
    let sealed = |path: &[&str], payload: &[u8]| {
        let mut env = Envelope::new_origin(path[0], TS, [7; 8]).unwrap();
        for hop in &path[1..] {
            env = env.with_hop(hop).unwrap();
        }
        let key = SealKey::new(SECRET.as_bytes(), "").unwrap();
        env.seal(&key, &Binding::of(Carrier::Value, None, payload), payload);
        wrap(&env, payload)
    };
    let mut corpus = vec![
        record(None, b"local", 0, 0),
        record(Some(b"k"), &tagged(&["edge-1"], b"m"), 1, 3),
        record(None, &tagged(&["other"], b"o"), 2, 0),
        record(None, &tagged(&["home", "edge-1"], b"loop"), 3, 0),
        record(None, &tagged(&["x", "edge-1"], b"via"), 4, 0),
        record(None, &[0xFF, 0x6F, 1], 5, 0),
        record(None, &tagged(&["edge-1"], b"m"), 6, 0),
        record(None, &sealed(&["edge-1"], b"s"), 7, 0),
        record(Some(b"key"), &sealed(&["edge-1", "mid"], b"s2"), 8, 0),
        record(
            None,
            &tagged(&["a", "b", "c", "d", "e", "f", "g", "h", "i"], b"far"),
            9,
            0,
        ),
    ];
    for i in 0..20 {
        corpus.push(record(None, format!("value {i}").as_bytes(), 10 + i, i));
    }
    let configs: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("origin-tag", vec![("cluster", "home")]),
        ("origin-tag", vec![("cluster", "home"), ("carrier", "key")]),
        ("origin-tag", vec![("cluster", "home"), ("secret", SECRET)]),
        ("loop-guard", vec![("cluster", "home"), ("max_hops", "3")]),
        (
            "loop-guard",
            vec![("cluster", "home"), ("on_loop", "reject")],
        ),
        ("loop-guard", vec![("cluster", "home"), ("secret", SECRET)]),
        (
            "mirror-guard",
            vec![("cluster", "home"), ("mirror_of", "edge-1")],
        ),
        (
            "mirror-guard",
            vec![
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("mode", "audit"),
            ],
        ),
        (
            "mirror-guard",
            vec![
                ("cluster", "home"),
                ("mirror_of", "edge-1,mid"),
                ("mode", "drop"),
            ],
        ),
        ("origin-strip", vec![]),
        ("origin-strip", vec![("carrier", "key")]),
        ("mirror-policy", vec![("cluster", "home"), ("dedup", "5")]),
        (
            "mirror-policy",
            vec![
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("mode", "audit"),
                ("dedup", "100"),
            ],
        ),
        (
            "mirror-policy",
            vec![
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("secret", SECRET),
            ],
        ),
    ];
    for (module, params) in configs {
        let mut native = build(module, &params);
        let mut wasm = official_chain(integration::wasm(module), &params, 22).unwrap();
        // Twice over, in batches of 3: the second pass meets the dedup window's memory.
        for (b, chunk) in corpus.chunks(3).chain(corpus.chunks(3)).enumerate() {
            let base_offset = 100 * b as i64;
            let expected = process(&mut wasm, chunk.to_vec(), base_offset, TS, 22);
            let (out, refused) = run_native(native.as_mut(), chunk, base_offset);
            let what = format!("{module} {params:?} batch {b}");
            assert_eq!(
                encode_records(&out),
                encode_records(&expected.successes),
                "{what}"
            );
            assert_eq!(
                refused,
                expected.error.map(|e| (e.hint, e.offset)),
                "{what}"
            );
        }
    }
}
