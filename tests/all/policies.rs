//! Every row of every module's behaviour table (docs/POLICIES.md), run in the official
//! engine, `fluvio-smartengine`, exactly as a broker loads the modules.

use fluvio_protocol::link::smartmodule::SmartModuleTransformRuntimeError;
use fluvio_protocol::record::Record;
use fluvio_smartengine::SmartModuleChainInstance;
use origin::{decode, record_id, wrap, Binding, Carrier, Decoded, Envelope, SealKey};
use origin::{FLAG_NO_KEY, FLAG_VIOLATION};

use crate::common::*;

const TS: i64 = 1_700_000_000_000;
const SECRET: &str = "shared-secret-of-all-clusters";

/// A one-module chain at input version 22, the engine's default.
pub fn chain(module: &str, params: &[(&str, &str)]) -> SmartModuleChainInstance {
    official_chain(integration::wasm(module), params, 22)
        .unwrap_or_else(|e| panic!("{module} {params:?}: {e}"))
}

/// The init error a module gives for these params.
fn init_error(module: &str, params: &[(&str, &str)]) -> String {
    match official_chain(integration::wasm(module), params, 22) {
        Ok(_) => panic!("{module} {params:?} must fail at init"),
        Err(e) => e,
    }
}

/// Runs one batch (base offset 100) and returns the output records and the error.
pub fn run(
    chain: &mut SmartModuleChainInstance,
    records: Vec<Record>,
) -> (Vec<Record>, Option<SmartModuleTransformRuntimeError>) {
    let out = process(chain, records, 100, TS, 22);
    (out.successes, out.error)
}

fn one(
    chain: &mut SmartModuleChainInstance,
    value: &[u8],
) -> (Vec<Record>, Option<SmartModuleTransformRuntimeError>) {
    run(chain, vec![record(None, value, 0, 0)])
}

/// A value tagged with `path` (origin first), for a record without a key; sealed when
/// `secret` is given (no scope).
pub fn tagged(path: &[&str], payload: &[u8], secret: Option<&str>) -> Vec<u8> {
    tagged_for(path, payload, secret.map(|s| (s, "", None)))
}

/// A value tagged with `path`, sealed with `(secret, scope, key)` when given: the key is the
/// other half of the record the MAC binds.
pub fn tagged_for(
    path: &[&str],
    payload: &[u8],
    seal: Option<(&str, &str, Option<&[u8]>)>,
) -> Vec<u8> {
    let id = record_id(path[0], TS, 0, None, payload);
    let mut env = Envelope::new_origin(path[0], TS, id).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    if let Some((secret, scope, key)) = seal {
        let k = SealKey::new(secret.as_bytes(), scope).unwrap();
        env.seal(&k, &Binding::of(Carrier::Value, key, payload), payload);
    }
    wrap(&env, payload)
}

/// Decodes the tag of `bytes`, returning (path, flags, payload); panics if untagged.
pub fn tag(bytes: &[u8]) -> (Vec<String>, u8, Vec<u8>) {
    match decode(bytes).expect("valid tag") {
        Decoded::Tagged { envelope, payload } => (
            envelope.path().iter().map(|s| s.to_string()).collect(),
            envelope.flags(),
            payload.to_vec(),
        ),
        Decoded::Untagged => panic!("record is not tagged: {bytes:?}"),
    }
}

/// Whether the tag of a keyless record's value `bytes` verifies under `secret`, no scope.
fn verifies(bytes: &[u8], secret: &str) -> bool {
    verifies_for(bytes, secret, "", None)
}

/// Whether the tag of value `bytes` verifies under `secret` and `scope` with `key`.
fn verifies_for(bytes: &[u8], secret: &str, scope: &str, key: Option<&[u8]>) -> bool {
    let k = SealKey::new(secret.as_bytes(), scope).unwrap();
    match decode(bytes) {
        Ok(Decoded::Tagged { envelope, payload }) => k
            .verify(&envelope, &Binding::of(Carrier::Value, key, bytes), payload)
            .is_ok(),
        _ => false,
    }
}

mod origin_tag {
    use super::*;

    #[test]
    fn untagged_record_gets_an_origin_tag() {
        let mut c = chain("origin-tag", &[("cluster", "edge-1")]);
        let (out, err) = run(&mut c, vec![record(Some(b"k"), b"reading", 3, 7)]);
        assert!(err.is_none());
        assert_eq!(
            out[0].key.as_ref().map(|k| k.as_ref().to_vec()),
            Some(b"k".to_vec())
        );
        assert_eq!(out[0].preamble.offset_delta(), 3, "preamble kept");
        let Decoded::Tagged { envelope, payload } = decode(out[0].value.as_ref()).unwrap() else {
            panic!()
        };
        assert_eq!(envelope.origin(), "edge-1");
        assert_eq!(envelope.hops(), 0);
        assert_eq!(envelope.path(), ["edge-1"]);
        assert_eq!(
            envelope.timestamp(),
            TS + 7,
            "origin timestamp is the record's"
        );
        assert_eq!(
            envelope.id(),
            record_id("edge-1", TS + 7, 103, Some(b"k"), b"reading")
        );
        assert_eq!(envelope.mac(), None);
        assert_eq!(payload, b"reading");
    }

    #[test]
    fn tagged_record_keeps_its_origin_and_gains_a_hop() {
        let mut c = chain("origin-tag", &[("cluster", "home")]);
        let input = tagged(&["edge-1"], b"reading", None);
        let (out, _) = one(&mut c, &input);
        let Decoded::Tagged { envelope, payload } = decode(out[0].value.as_ref()).unwrap() else {
            panic!()
        };
        let Decoded::Tagged {
            envelope: before, ..
        } = decode(&input).unwrap()
        else {
            panic!()
        };
        assert_eq!(envelope.path(), ["edge-1", "home"]);
        assert_eq!(envelope.hops(), 1);
        assert_eq!(envelope.id(), before.id());
        assert_eq!(envelope.timestamp(), before.timestamp());
        assert_eq!(payload, b"reading");
    }

    #[test]
    fn a_path_already_ending_here_is_left_unchanged() {
        let mut c = chain("origin-tag", &[("cluster", "home")]);
        let input = tagged(&["edge-1", "home"], b"x", None);
        let (out, _) = one(&mut c, &input);
        assert_eq!(out[0].value.as_ref(), &input[..]);
    }

    #[test]
    fn with_a_secret_the_tag_is_sealed_and_forged_tags_are_refused() {
        let mut c = chain("origin-tag", &[("cluster", "home"), ("secret", SECRET)]);
        let (out, err) = one(&mut c, b"fresh");
        assert!(err.is_none());
        assert!(verifies(out[0].value.as_ref(), SECRET));

        let (out, err) = one(&mut c, &tagged(&["edge-1"], b"x", Some(SECRET)));
        assert!(err.is_none());
        assert!(
            verifies(out[0].value.as_ref(), SECRET),
            "re-sealed after the hop"
        );
        assert_eq!(tag(out[0].value.as_ref()).0, ["edge-1", "home"]);

        for forged in [
            tagged(&["edge-1"], b"x", Some("another secret of 16+")),
            tagged(&["edge-1"], b"x", None),
        ] {
            let (out, err) = run(
                &mut c,
                vec![record(None, b"ok", 0, 0), record(None, &forged, 1, 0)],
            );
            let err = err.expect("refused");
            assert_eq!(out.len(), 1, "records before the bad one are kept");
            assert_eq!(err.offset, 101);
            assert!(
                err.hint
                    .starts_with("origin-tag: record at offset 101 has an invalid origin tag"),
                "{}",
                err.hint
            );
        }
    }

    #[test]
    fn a_malformed_tag_is_refused_not_wrapped_again() {
        let mut c = chain("origin-tag", &[("cluster", "home")]);
        let mut truncated = tagged(&["edge-1"], b"", None);
        truncated.truncate(6);
        for bad in [truncated, vec![0xFF, 0x6F, 0x09, 1, 2]] {
            let (_, err) = one(&mut c, &bad);
            let hint = err.expect("refused").hint;
            assert!(
                hint.contains("invalid origin tag") && hint.contains("refusing to wrap"),
                "{hint}"
            );
        }
    }

    #[test]
    fn a_full_path_is_refused() {
        let mut c = chain("origin-tag", &[("cluster", "c16")]);
        let path: Vec<String> = (0..16).map(|i| format!("c{i}")).collect();
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let (_, err) = one(&mut c, &tagged(&path, b"x", None));
        assert!(err
            .expect("refused")
            .hint
            .contains("passed through 16 clusters"));
    }

    #[test]
    fn carrier_key_tags_the_key_and_remembers_an_absent_one() {
        let mut c = chain("origin-tag", &[("cluster", "edge-1"), ("carrier", "key")]);
        let (out, _) = run(
            &mut c,
            vec![record(Some(b"k"), b"v", 0, 0), record(None, b"w", 1, 0)],
        );
        assert_eq!(out[0].value.as_ref(), b"v");
        let (path, flags, payload) = tag(out[0].key.as_ref().unwrap().as_ref());
        assert_eq!(
            (path, flags, payload),
            (vec!["edge-1".to_string()], 0, b"k".to_vec())
        );
        let (_, flags, payload) = tag(out[1].key.as_ref().unwrap().as_ref());
        assert_eq!(flags, FLAG_NO_KEY);
        assert!(payload.is_empty());
    }

    #[test]
    fn bad_params_fail_at_init_naming_the_param() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[],
                "origin-tag: missing param 'cluster' (this cluster's id",
            ),
            (
                &[("cluster", "")],
                "origin-tag: bad param 'cluster'='': cluster id is empty",
            ),
            (
                &[("cluster", "a b")],
                "origin-tag: bad param 'cluster'='a b': cluster id holds a character outside",
            ),
            (
                &[("cluster", "a"), ("carrier", "header")],
                "origin-tag: bad param 'carrier'='header': not value or key",
            ),
            (
                &[("cluster", "a"), ("secret", "")],
                "origin-tag: bad param 'secret'='***': shorter than 16 bytes",
            ),
            (
                &[("cluster", "a"), ("secret", "fifteen-bytes!!")],
                "origin-tag: bad param 'secret'='***': shorter than 16 bytes (the secret shared",
            ),
            (
                &[("cluster", "a"), ("scope", "orders")],
                "origin-tag: param 'scope' has no effect without 'secret'",
            ),
            (
                &[("cluster", "a"), ("secret", SECRET), ("scope", "")],
                "origin-tag: bad param 'scope'='': empty",
            ),
            (
                &[("cluster", "a"), ("mirror_of", "b")],
                "origin-tag: unknown param 'mirror_of'; known params: cluster, carrier, secret, scope",
            ),
        ];
        for (params, expected) in cases {
            let e = init_error("origin-tag", params);
            assert!(e.starts_with(expected), "{params:?}: {e}");
        }
        let long = "x".repeat(65);
        assert!(init_error("origin-tag", &[("cluster", &long)]).contains("longer than 64 bytes"));
    }
}

mod loop_guard {
    use super::*;

    #[test]
    fn untagged_and_foreign_records_pass() {
        let mut c = chain("loop-guard", &[("cluster", "a")]);
        let input = vec![
            record(None, b"plain", 0, 0),
            record(None, &tagged(&["b", "c"], b"x", None), 1, 0),
        ];
        let (out, err) = run(&mut c, input.clone());
        assert!(err.is_none());
        assert_eq!(encode_records(&out), encode_records(&input));
    }

    #[test]
    fn a_record_that_came_back_is_dropped_or_refused() {
        let back = tagged(&["a", "b"], b"x", None);
        let mut c = chain("loop-guard", &[("cluster", "a")]);
        let (out, err) = run(
            &mut c,
            vec![record(None, &back, 0, 0), record(None, b"keep", 1, 0)],
        );
        assert!(err.is_none());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].value.as_ref(), b"keep");

        let mut c = chain("loop-guard", &[("cluster", "a"), ("on_loop", "reject")]);
        let (_, err) = one(&mut c, &back);
        assert_eq!(
            err.expect("refused").hint,
            "loop-guard: record at offset 100 came back to cluster 'a' it already passed through (path: a > b)"
        );
    }

    #[test]
    fn a_path_ending_here_is_not_a_loop() {
        let mut c = chain("loop-guard", &[("cluster", "a")]);
        let (out, _) = one(&mut c, &tagged(&["a"], b"x", None));
        assert_eq!(out.len(), 1);
        let (out, _) = one(&mut c, &tagged(&["a", "b", "a"], b"x", None));
        assert_eq!(
            out.len(),
            0,
            "a earlier on the path is a loop even if it is also last"
        );
    }

    #[test]
    fn max_hops_stops_long_paths() {
        let mut c = chain("loop-guard", &[("cluster", "z"), ("max_hops", "2")]);
        let (out, _) = one(&mut c, &tagged(&["a", "b"], b"x", None));
        assert_eq!(out.len(), 1, "1 hop passes");
        let (out, _) = one(&mut c, &tagged(&["a", "b", "c"], b"x", None));
        assert_eq!(out.len(), 0, "2 hops reached max_hops=2");
        let mut c = chain(
            "loop-guard",
            &[("cluster", "z"), ("max_hops", "2"), ("on_loop", "reject")],
        );
        let (_, err) = one(&mut c, &tagged(&["a", "b", "c"], b"x", None));
        assert_eq!(err.unwrap().hint, "loop-guard: record at offset 100 has made 2 hops, the limit is max_hops=2 (path: a > b > c)");
    }

    #[test]
    fn default_max_hops_is_eight() {
        let mut c = chain("loop-guard", &[("cluster", "z")]);
        let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (out, _) = one(&mut c, &tagged(&names[..8], b"x", None));
        assert_eq!(out.len(), 1, "7 hops pass");
        let (out, _) = one(&mut c, &tagged(&names[..9], b"x", None));
        assert_eq!(out.len(), 0, "8 hops stop");
    }

    #[test]
    fn without_a_secret_malformed_tags_are_payload() {
        let mut c = chain("loop-guard", &[("cluster", "a")]);
        let (out, err) = one(&mut c, &[0xFF, 0x6F, 0x01]);
        assert!(err.is_none());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn with_a_secret_forged_or_malformed_tags_are_refused_and_untagged_pass() {
        let mut c = chain("loop-guard", &[("cluster", "a"), ("secret", SECRET)]);
        let (out, err) = run(
            &mut c,
            vec![
                record(None, b"plain", 0, 0),
                record(None, &tagged(&["b"], b"x", Some(SECRET)), 1, 0),
            ],
        );
        assert!(err.is_none());
        assert_eq!(out.len(), 2);
        for bad in [
            tagged(&["b"], b"x", None),
            tagged(&["b"], b"x", Some("another-secret-of-16-bytes")),
            vec![0xFF, 0x6F, 0x01],
        ] {
            let (_, err) = one(&mut c, &bad);
            assert!(err
                .expect("refused")
                .hint
                .starts_with("loop-guard: record at offset 100 has an invalid origin tag"));
        }
    }

    #[test]
    fn bad_params_fail_at_init() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "loop-guard: missing param 'cluster'"),
            (
                &[("cluster", "a"), ("max_hops", "0")],
                "loop-guard: bad param 'max_hops'='0': not a number from 1 to 15",
            ),
            (
                &[("cluster", "a"), ("max_hops", "16")],
                "loop-guard: bad param 'max_hops'='16'",
            ),
            (
                &[("cluster", "a"), ("max_hops", "eight")],
                "loop-guard: bad param 'max_hops'='eight'",
            ),
            (
                &[("cluster", "a"), ("on_loop", "warn")],
                "loop-guard: bad param 'on_loop'='warn': not drop or reject",
            ),
            (
                &[("cluster", "a"), ("mode", "audit")],
                "loop-guard: unknown param 'mode'",
            ),
        ];
        for (params, expected) in cases {
            let e = init_error("loop-guard", params);
            assert!(e.starts_with(expected), "{params:?}: {e}");
        }
    }
}

mod mirror_guard {
    use super::*;

    const GUARD: &[(&str, &str)] = &[
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", "orders"),
    ];

    #[test]
    fn mirror_traffic_passes_by_origin_or_previous_hop() {
        let mut c = chain("mirror-guard", GUARD);
        let input = vec![
            record(None, &tagged(&["edge-1"], b"x", None), 0, 0),
            record(None, &tagged(&["far", "edge-1"], b"y", None), 1, 0),
        ];
        let (out, err) = run(&mut c, input.clone());
        assert!(err.is_none());
        assert_eq!(
            encode_records(&out),
            encode_records(&input),
            "passed byte for byte"
        );
    }

    #[test]
    fn a_local_write_is_refused_with_a_message_a_producer_understands() {
        let mut c = chain("mirror-guard", GUARD);
        for value in [
            b"plain".to_vec(),
            tagged(&["elsewhere"], b"x", None),
            vec![0xFF, 0x6F, 0x01],
        ] {
            let (out, err) = run(&mut c, vec![record(Some(b"k"), &value, 4, 0)]);
            assert!(out.is_empty());
            let err = err.expect("refused");
            assert_eq!(err.hint, "cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from 'edge-1'; produce there instead");
            assert_eq!(err.offset, 104);
            assert_eq!(
                err.record_key.as_ref().map(|k| k.as_ref().to_vec()),
                Some(b"k".to_vec())
            );
            assert_eq!(err.record_value.as_ref(), &value[..]);
        }
    }

    #[test]
    fn several_upstreams_and_no_topic_name_read_well() {
        let mut c = chain(
            "mirror-guard",
            &[("cluster", "home"), ("mirror_of", "edge-1, edge-2")],
        );
        let (out, _) = one(&mut c, &tagged(&["edge-2"], b"x", None));
        assert_eq!(out.len(), 1);
        let (_, err) = one(&mut c, b"local");
        assert_eq!(err.unwrap().hint, "cannot produce to this mirror topic on cluster 'home': it is mirrored from 'edge-1', 'edge-2'; produce there instead");
    }

    #[test]
    fn drop_mode_filters_local_writes_out() {
        let mut c = chain(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("mode", "drop"),
            ],
        );
        let mirrored = tagged(&["edge-1"], b"m", None);
        let (out, err) = run(
            &mut c,
            vec![record(None, b"local", 0, 0), record(None, &mirrored, 1, 0)],
        );
        assert!(err.is_none());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].value.as_ref(), &mirrored[..]);
    }

    #[test]
    fn audit_mode_lets_local_writes_through_marked_as_violations() {
        let mut c = chain(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("mode", "audit"),
            ],
        );
        let (out, err) = run(
            &mut c,
            vec![
                record(None, b"local", 0, 0),
                record(None, &tagged(&["other"], b"o", None), 1, 0),
                record(None, &tagged(&["edge-1"], b"m", None), 2, 0),
            ],
        );
        assert!(err.is_none());
        assert_eq!(out.len(), 3);
        assert_eq!(
            tag(out[0].value.as_ref()),
            (vec!["home".into()], FLAG_VIOLATION, b"local".to_vec())
        );
        assert_eq!(
            tag(out[1].value.as_ref()),
            (vec!["other".into()], FLAG_VIOLATION, b"o".to_vec()),
            "flagged, no hop added"
        );
        assert_eq!(
            tag(out[2].value.as_ref()).1,
            0,
            "mirror traffic is not flagged"
        );
    }

    #[test]
    fn with_a_secret_forged_provenance_does_not_pass_in_any_mode() {
        for mode in ["reject", "drop", "audit"] {
            let mut c = chain(
                "mirror-guard",
                &[
                    ("cluster", "home"),
                    ("mirror_of", "edge-1"),
                    ("mode", mode),
                    ("secret", SECRET),
                ],
            );
            let (out, err) = one(&mut c, &tagged(&["edge-1"], b"x", Some(SECRET)));
            assert!(
                err.is_none() && out.len() == 1,
                "{mode}: genuine mirror traffic passes"
            );
            let (_, err) = one(&mut c, &tagged(&["edge-1"], b"x", None));
            assert!(
                err.expect("forged tag refused")
                    .hint
                    .contains("not sealed for this record with this cluster's secret"),
                "{mode}"
            );
        }
        let mut c = chain(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("mode", "audit"),
                ("secret", SECRET),
            ],
        );
        let (out, _) = one(&mut c, b"local");
        assert!(
            verifies(out[0].value.as_ref(), SECRET),
            "audit tags are sealed"
        );
    }

    #[test]
    fn bad_params_fail_at_init() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("cluster", "home")], "mirror-guard: missing param 'mirror_of' (comma-separated upstream cluster ids, e.g. -e mirror_of=edge-1)"),
            (&[("mirror_of", "edge-1")], "mirror-guard: missing param 'cluster'"),
            (&[("cluster", "home"), ("mirror_of", "home")], "mirror-guard: bad param 'mirror_of'='home': names this cluster itself"),
            (&[("cluster", "home"), ("mirror_of", "edge-1,")], "mirror-guard: bad param 'mirror_of'='edge-1,': cluster id is empty"),
            (&[("cluster", "home"), ("mirror_of", "e"), ("mode", "warn")], "mirror-guard: bad param 'mode'='warn': not reject, drop or audit"),
            (&[("cluster", "home"), ("mirror_of", "e"), ("max_hops", "3")], "mirror-guard: unknown param 'max_hops'"),
        ];
        for (params, expected) in cases {
            let e = init_error("mirror-guard", params);
            assert!(e.starts_with(expected), "{params:?}: {e}");
        }
    }
}

mod origin_strip {
    use super::*;

    #[test]
    fn tags_are_removed_and_everything_else_passes_unchanged() {
        let mut c = chain("origin-strip", &[]);
        let input = vec![
            record(Some(b"k"), &tagged(&["a", "b"], b"payload", None), 0, 0),
            record(None, b"untagged", 1, 0),
            record(None, &[0xFF, 0x6F, 0x02, 9], 2, 0),
            record(None, &tagged(&["a"], b"", None), 3, 0),
        ];
        let (out, err) = run(&mut c, input.clone());
        assert!(err.is_none());
        assert_eq!(out[0].value.as_ref(), b"payload");
        assert_eq!(out[0].key.as_ref().unwrap().as_ref(), b"k");
        assert_eq!(encode_records(&out[1..3]), encode_records(&input[1..3]));
        assert_eq!(out[3].value.as_ref(), b"");
    }

    #[test]
    fn key_carrier_restores_the_key_absent_or_not() {
        let mut tagger = chain("origin-tag", &[("cluster", "a"), ("carrier", "key")]);
        let input = vec![
            record(Some(b"k"), b"v", 0, 0),
            record(None, b"w", 1, 0),
            record(Some(b""), b"e", 2, 0),
        ];
        let (tagged_out, _) = run(&mut tagger, input.clone());
        let mut strip = chain("origin-strip", &[("carrier", "key")]);
        let (out, _) = run(&mut strip, tagged_out);
        assert_eq!(encode_records(&out), encode_records(&input));
    }

    #[test]
    fn bad_params_fail_at_init() {
        assert!(init_error("origin-strip", &[("carrier", "both")])
            .starts_with("origin-strip: bad param 'carrier'='both'"));
        assert!(init_error("origin-strip", &[("cluster", "a")])
            .starts_with("origin-strip: unknown param 'cluster'; known params: carrier"));
    }
}

mod mirror_policy {
    use super::*;

    #[test]
    fn the_topic_hook_params_count_and_age_are_accepted() {
        let mut c = chain(
            "mirror-policy",
            &[("cluster", "home"), ("count", "1"), ("age", "60000")],
        );
        let (out, _) = one(&mut c, b"x");
        assert_eq!(tag(out[0].value.as_ref()).0, ["home"]);
    }

    /// Without `dedup`, the hook's `count` is the window: it holds what a restart refills it
    /// with. `dedup=0` turns it off; a `dedup` over `count` would forget at every restart.
    #[test]
    fn the_hooks_count_sets_the_window_unless_dedup_does() {
        let copy = tagged(&["edge-1"], b"x", None);
        let twice = || vec![record(None, &copy, 0, 0), record(None, &copy, 1, 0)];
        let mut c = chain("mirror-policy", &[("cluster", "home"), ("count", "100")]);
        assert_eq!(run(&mut c, twice()).0.len(), 1, "count sets a window");
        let off = &[("cluster", "home"), ("count", "100"), ("dedup", "0")];
        assert_eq!(run(&mut chain("mirror-policy", off), twice()).0.len(), 2);
        let e = init_error(
            "mirror-policy",
            &[("cluster", "home"), ("count", "10"), ("dedup", "11")],
        );
        assert!(
            e.starts_with(
                "mirror-policy: bad param 'dedup'='11': larger than the topic hook's count"
            ),
            "{e}"
        );
        let e = init_error(
            "mirror-policy",
            &[("cluster", "home"), ("count", "2000000")],
        );
        assert!(
            e.starts_with("mirror-policy: bad param 'count'='2000000'"),
            "{e}"
        );
    }

    /// Without `max_age`, the hook's `age` (ms) bounds how late a tagged record may arrive.
    #[test]
    fn the_hooks_age_bounds_how_late_a_record_arrives_unless_max_age_does() {
        // The record reaches home 10 minutes after its origin timestamp.
        let late = tagged(&["edge-1"], b"late", None);
        let at = |c: &mut SmartModuleChainInstance| {
            process(c, vec![record(None, &late, 0, 600_000)], 100, TS, 22).successes
        };
        let hook = &[("cluster", "home"), ("count", "1"), ("age", "60000")];
        assert!(
            at(&mut chain("mirror-policy", hook)).is_empty(),
            "older than age"
        );
        let wide = &[("cluster", "home"), ("age", "60000"), ("max_age", "1h")];
        assert_eq!(
            at(&mut chain("mirror-policy", wide)).len(),
            1,
            "max_age wins"
        );
    }

    #[test]
    fn local_writes_are_refused_and_mirror_writes_tagged_with_a_hop() {
        let mut c = chain(
            "mirror-policy",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("topic", "orders"),
                ("count", "5"),
            ],
        );
        let (out, err) = one(&mut c, &tagged(&["edge-1"], b"m", None));
        assert!(err.is_none());
        assert_eq!(
            tag(out[0].value.as_ref()),
            (vec!["edge-1".into(), "home".into()], 0, b"m".to_vec())
        );
        let (_, err) = one(&mut c, b"local");
        assert_eq!(err.unwrap().hint, "cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from 'edge-1'; produce there instead");
    }

    #[test]
    fn loops_are_stopped_before_the_guard() {
        let mut c = chain("mirror-policy", &[("cluster", "a"), ("mirror_of", "b")]);
        let (out, err) = one(&mut c, &tagged(&["a", "b"], b"x", None));
        assert!(
            err.is_none() && out.is_empty(),
            "dropped as a loop, not refused as a local write"
        );
    }

    #[test]
    fn without_mirror_of_it_tags_and_stops_loops_only() {
        let mut c = chain("mirror-policy", &[("cluster", "a")]);
        let (out, _) = run(
            &mut c,
            vec![
                record(None, b"local", 0, 0),
                record(None, &tagged(&["a", "b"], b"x", None), 1, 0),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(tag(out[0].value.as_ref()).0, ["a"]);
    }

    #[test]
    fn mode_and_topic_need_mirror_of_and_unknown_params_are_refused() {
        assert!(
            init_error("mirror-policy", &[("cluster", "a"), ("mode", "audit")])
                .starts_with("mirror-policy: param 'mode' has no effect without 'mirror_of'")
        );
        assert!(
            init_error("mirror-policy", &[("cluster", "a"), ("bounds", "1")])
                .starts_with("mirror-policy: unknown param 'bounds'")
        );
        assert!(init_error("mirror-policy", &[("count", "1")])
            .starts_with("mirror-policy: missing param 'cluster'"));
    }

    /// mirror-policy decides as the chain loop-guard | mirror-guard | origin-tag.
    #[test]
    fn it_equals_the_chain_of_the_single_modules() {
        let corpus: Vec<Record> = vec![
            record(None, b"local", 0, 0),
            record(Some(b"k"), &tagged(&["edge-1"], b"m", None), 1, 0),
            record(None, &tagged(&["other"], b"o", None), 2, 0),
            record(None, &tagged(&["home", "edge-1"], b"loop", None), 3, 0),
            record(None, &tagged(&["x", "edge-1"], b"via", None), 4, 0),
            record(None, &[0xFF, 0x6F, 1], 5, 0),
        ];
        for mode in ["reject", "audit", "drop"] {
            for secret in [None, Some(SECRET)] {
                let mut guard = vec![("cluster", "home"), ("mirror_of", "edge-1"), ("mode", mode)];
                let mut single_params = vec![("cluster", "home")];
                if let Some(s) = secret {
                    guard.push(("secret", s));
                    single_params.push(("secret", s));
                }
                let mut single =
                    official_chain(integration::wasm("mirror-policy"), &guard, 22).unwrap();
                let mut chained = official_chain_of(
                    vec![
                        (integration::wasm("loop-guard"), single_params.clone()),
                        (integration::wasm("mirror-guard"), guard.clone()),
                        (integration::wasm("origin-tag"), single_params.clone()),
                    ],
                    22,
                )
                .unwrap();
                for r in &corpus {
                    let (a, ea) = run(&mut single, vec![r.clone()]);
                    let (b, eb) = run(&mut chained, vec![r.clone()]);
                    assert_eq!(
                        encode_records(&a),
                        encode_records(&b),
                        "{mode} {secret:?} {r:?}"
                    );
                    // Same refusal, whichever module of the chain spoke.
                    let unprefixed = |e: Option<SmartModuleTransformRuntimeError>| {
                        e.map(|e| {
                            (
                                e.offset,
                                e.hint
                                    .split_once(": record")
                                    .map_or(e.hint.clone(), |(_, h)| h.to_string()),
                            )
                        })
                    };
                    assert_eq!(unprefixed(ea), unprefixed(eb), "{mode} {secret:?} {r:?}");
                }
            }
        }
    }
}

/// Every vector of docs/FORMAT.md through every module: the bad-tag rules hold for each kind
/// of malformed tag, not just the ones written by hand above.
mod format_vectors {
    use super::*;

    /// (name, bytes, expected) from the ```vectors block.
    fn vectors() -> Vec<(String, Vec<u8>, String)> {
        let doc =
            std::fs::read_to_string(integration::workspace_root().join("docs/FORMAT.md")).unwrap();
        let block = doc
            .split("```vectors\n")
            .nth(1)
            .expect("vectors block")
            .split("```")
            .next()
            .unwrap();
        block
            .lines()
            .map(|l| {
                let parts: Vec<&str> = l.split(" | ").map(str::trim).collect();
                (
                    parts[0].to_string(),
                    hex::decode(parts[1]).unwrap(),
                    parts[2].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn each_malformed_vector_is_refused_by_tagging_and_by_checks_with_a_secret() {
        let bad: Vec<_> = vectors()
            .into_iter()
            .filter(|v| v.2.starts_with("error="))
            .collect();
        assert!(bad.len() >= 10);
        let mut tag = chain("origin-tag", &[("cluster", "home")]);
        let mut checked = chain("loop-guard", &[("cluster", "home"), ("secret", SECRET)]);
        let mut open = chain("loop-guard", &[("cluster", "home")]);
        let mut strip = chain("origin-strip", &[]);
        let mut drop = chain(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "us-east"),
                ("mode", "drop"),
            ],
        );
        let mut audit = chain(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "us-east"),
                ("mode", "audit"),
            ],
        );
        for (name, bytes, expected) in &bad {
            let (_, err) = one(&mut tag, bytes);
            let hint = err
                .unwrap_or_else(|| panic!("{name}: origin-tag must refuse"))
                .hint;
            assert!(hint.contains("has an invalid origin tag"), "{name}: {hint}");
            let (_, err) = one(&mut checked, bytes);
            assert!(
                err.is_some(),
                "{name}: loop-guard with a secret must refuse"
            );
            let (out, err) = one(&mut open, bytes);
            assert!(
                err.is_none() && out.len() == 1,
                "{name}: without a secret it is payload ({expected})"
            );
            let (out, _) = one(&mut strip, bytes);
            assert_eq!(
                out[0].value.as_ref(),
                &bytes[..],
                "{name}: strip leaves it alone"
            );
            let (out, err) = one(&mut drop, bytes);
            assert!(
                err.is_none() && out.is_empty(),
                "{name}: a local write in drop mode"
            );
            let (out, _) = one(&mut audit, bytes);
            let (path, flags, payload) = super::tag(out[0].value.as_ref());
            assert_eq!(
                (path, flags, &payload),
                (vec!["home".to_string()], FLAG_VIOLATION, bytes),
                "{name}: audit wraps it whole"
            );
        }
    }

    #[test]
    fn each_valid_vector_is_stripped_to_its_payload() {
        let mut strip = chain("origin-strip", &[]);
        for (name, bytes, expected) in vectors() {
            let (out, _) = one(&mut strip, &bytes);
            let want = match expected.split_once("payload=") {
                Some((_, rest)) => hex::decode(rest.split(' ').next().unwrap()).unwrap(),
                None => bytes.clone(),
            };
            assert_eq!(out[0].value.as_ref(), &want[..], "{name}");
        }
    }
}

/// mirror-policy's `dedup` window: a record that reaches a cluster over two routes, or is
/// replayed after a link outage, is stored once, also across a restart.
mod dedup {
    use super::*;
    use fluvio_smartengine::{Lookback, SmartEngine, SmartModuleChainBuilder, SmartModuleConfig};

    const HOME: &[(&str, &str)] = &[("cluster", "home"), ("dedup", "100"), ("count", "100")];

    #[test]
    fn a_record_arriving_over_two_routes_is_stored_once() {
        let mut c = chain("mirror-policy", HOME);
        let direct = tagged(&["edge-1"], b"x", None);
        let via_relay = tagged(&["edge-1", "relay"], b"x", None);
        let other = tagged(&["edge-1"], b"y", None);
        let (out, err) = run(
            &mut c,
            vec![
                record(None, &direct, 0, 0),
                record(None, &via_relay, 1, 0),
                record(None, &other, 2, 0),
            ],
        );
        assert!(err.is_none());
        assert_eq!(out.len(), 2, "the copy via the relay is a duplicate");
        let (out, _) = run(&mut c, vec![record(None, &direct, 0, 0)]);
        assert!(
            out.is_empty(),
            "a replay in a later batch is a duplicate too"
        );
    }

    #[test]
    fn local_records_are_remembered_once_tagged() {
        let mut c = chain("mirror-policy", HOME);
        let (stored, _) = run(&mut c, vec![record(None, b"local", 0, 0)]);
        let (again, _) = run(&mut c, stored.clone());
        assert!(
            again.is_empty(),
            "the stored copy coming back is a duplicate"
        );
    }

    /// Regression: the window once remembered the good records of a refused batch, so a
    /// producer that sent them again lost them.
    #[test]
    fn records_of_a_refused_batch_are_accepted_when_sent_again() {
        let mut c = chain(
            "mirror-policy",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("dedup", "100"),
            ],
        );
        let mirrored = tagged(&["edge-1"], b"x", None);
        let (_, err) = run(
            &mut c,
            vec![record(None, &mirrored, 0, 0), record(None, b"local", 1, 0)],
        );
        assert!(err.is_some(), "the batch is refused");
        let (out, err) = run(&mut c, vec![record(None, &mirrored, 0, 0)]);
        assert!(err.is_none());
        assert_eq!(out.len(), 1, "sent again alone, it is stored");
        let (out, _) = run(&mut c, vec![record(None, &mirrored, 0, 0)]);
        assert!(out.is_empty(), "and only then is a third copy a duplicate");
    }

    #[test]
    fn without_dedup_nothing_is_dropped_as_a_duplicate() {
        let mut c = chain("mirror-policy", &[("cluster", "home")]);
        let direct = tagged(&["edge-1"], b"x", None);
        let (out, _) = run(
            &mut c,
            vec![record(None, &direct, 0, 0), record(None, &direct, 1, 0)],
        );
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn the_window_is_rebuilt_from_look_back_after_a_restart() {
        let stored = vec![record(
            None,
            &tagged(&["edge-1", "home"], b"old", None),
            0,
            0,
        )];
        let engine = SmartEngine::new();
        let mut config = SmartModuleConfig::builder();
        config
            .smartmodule_names(vec!["mirror-policy".to_string()])
            .version(22i16)
            .lookback(Some(Lookback::Last(100)));
        for (k, v) in HOME {
            config.param(*k, *v);
        }
        let mut builder = SmartModuleChainBuilder::default();
        builder.add_smart_module(config.build().unwrap(), integration::wasm("mirror-policy"));
        let mut c = builder.initialize(&engine).unwrap();
        let replay = stored.clone();
        block_on(c.look_back(move |lookback| {
            assert_eq!(lookback, Lookback::Last(100));
            let records = replay.clone();
            async move { Ok(records) }
        }))
        .expect("look_back");
        let (out, err) = run(
            &mut c,
            vec![record(None, &tagged(&["edge-1"], b"old", None), 0, 0)],
        );
        assert!(err.is_none());
        assert!(
            out.is_empty(),
            "stored before the restart, so a duplicate after it"
        );
    }

    #[test]
    fn bad_dedup_values_fail_at_init() {
        assert!(
            init_error("mirror-policy", &[("cluster", "a"), ("dedup", "many")])
                .starts_with("mirror-policy: bad param 'dedup'='many'")
        );
        assert!(
            init_error("mirror-policy", &[("cluster", "a"), ("dedup", "1000001")])
                .contains("not a number from 0 to 1000000")
        );
        assert!(
            init_error("origin-tag", &[("cluster", "a"), ("dedup", "10")])
                .starts_with("origin-tag: unknown param 'dedup'")
        );
    }

    /// The look-back future is ready at once; poll it without an async runtime.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
