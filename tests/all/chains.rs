//! Whole paths through several clusters' chains in the official engine: edge to home and
//! back, consumers stripping tags, and foreign modules built with the official SDK around ours.

use fluvio_protocol::record::Record;

use crate::common::*;
use crate::policies::{run, tag};

fn producer_corpus() -> Vec<Record> {
    vec![
        record(Some(b"order-1"), br#"{"id":1,"item":"apple"}"#, 0, 0),
        record(None, b"no key at all", 1, 3),
        record(Some(b""), b"", 2, 4),
        record(Some(b"bin"), &[0xFF, 0x00, 0x6F, 0x01], 3, 5),
        record(None, &vec![b'a'; 20_000], 4, 6),
    ]
}

#[test]
fn tag_on_a_then_mirror_policy_on_b_then_strip_gives_back_the_producers_records() {
    for version in VERSIONS {
        let mut edge = official_chain(
            integration::wasm("origin-tag"),
            &[("cluster", "a"), ("secret", "secret-of-16-bytes")],
            version,
        )
        .unwrap();
        let mut home = official_chain(
            integration::wasm("mirror-policy"),
            &[
                ("cluster", "b"),
                ("mirror_of", "a"),
                ("secret", "secret-of-16-bytes"),
                ("count", "10"),
            ],
            version,
        )
        .unwrap();
        let mut consumer = official_chain(integration::wasm("origin-strip"), &[], version).unwrap();

        let input = producer_corpus();
        let on_a = process(&mut edge, input.clone(), 0, 1_700_000_000_000, version);
        assert!(on_a.error.is_none(), "v{version}");
        let on_b = process(&mut home, on_a.successes, 0, 1_700_000_000_000, version);
        assert!(on_b.error.is_none(), "v{version}: {:?}", on_b.error);
        for r in &on_b.successes {
            assert_eq!(tag(r.value.as_ref()).0, ["a", "b"], "v{version}");
        }
        let consumed = process(&mut consumer, on_b.successes, 0, 0, version);
        assert_eq!(
            encode_records(&consumed.successes),
            encode_records(&input),
            "v{version}"
        );
    }
}

#[test]
fn a_local_write_on_the_mirror_is_refused_with_the_documented_text() {
    let mut home = official_chain(
        integration::wasm("mirror-policy"),
        &[("cluster", "b"), ("mirror_of", "a"), ("topic", "orders")],
        22,
    )
    .unwrap();
    let (out, err) = run(
        &mut home,
        vec![record(Some(b"k"), b"typed by hand on b", 0, 0)],
    );
    assert!(out.is_empty());
    let err = err.expect("refused");
    assert_eq!(err.hint, "cannot produce to mirror topic 'orders' on cluster 'b': it is mirrored from 'a'; produce there instead");
    assert_eq!(
        err.to_string().lines().next(),
        Some(err.hint.as_str()),
        "the producer's first line is the hint"
    );
}

#[test]
fn a_record_that_went_a_to_b_to_a_is_stopped_on_a() {
    // Active-active: each side mirrors the other and tags what it stores.
    let mut on_a = official_chain(
        integration::wasm("mirror-policy"),
        &[("cluster", "a"), ("mirror_of", "b"), ("mode", "audit")],
        22,
    )
    .unwrap();
    let mut on_b = official_chain(
        integration::wasm("mirror-policy"),
        &[("cluster", "b"), ("mirror_of", "a"), ("mode", "audit")],
        22,
    )
    .unwrap();
    let stored_a = process(
        &mut on_a,
        vec![record(None, b"produced on a", 0, 0)],
        0,
        0,
        22,
    )
    .successes;
    assert_eq!(tag(stored_a[0].value.as_ref()).0, ["a"]);
    let stored_b = process(&mut on_b, stored_a, 0, 0, 22).successes;
    assert_eq!(tag(stored_b[0].value.as_ref()).0, ["a", "b"]);
    let back_on_a = process(&mut on_a, stored_b, 0, 0, 22);
    assert!(back_on_a.error.is_none());
    assert!(back_on_a.successes.is_empty(), "the loop is stopped on a");
}

#[test]
fn a_loop_through_a_bridge_with_plain_loop_guards_is_stopped() {
    let hop = |cluster: &str, records: Vec<Record>| {
        let mut chain = official_chain_of(
            vec![
                (integration::wasm("loop-guard"), vec![("cluster", cluster)]),
                (integration::wasm("origin-tag"), vec![("cluster", cluster)]),
            ],
            22,
        )
        .unwrap();
        process(&mut chain, records, 0, 0, 22).successes
    };
    let a = hop("a", vec![record(None, b"x", 0, 0)]);
    let b = hop("b", a);
    let c = hop("c", b);
    assert_eq!(tag(c[0].value.as_ref()).0, ["a", "b", "c"]);
    assert!(hop("a", c).is_empty(), "a ring a > b > c > a is cut at a");
}

#[test]
fn foreign_sdk_modules_run_before_and_after_the_policy_modules() {
    // sdk-hello keeps values containing 'a'; it runs on plain values only, so it goes before
    // tagging and after stripping.
    for (name, sdk) in [
        ("unknown-unknown", integration::wasm("sdk-hello")),
        ("wasip1", integration::wasi_wasm("sdk-hello")),
    ] {
        let mut chain = official_chain_of(
            vec![
                (sdk.clone(), vec![]),
                (integration::wasm("origin-tag"), vec![("cluster", "a")]),
                (
                    integration::wasm("mirror-policy"),
                    vec![("cluster", "b"), ("mirror_of", "a")],
                ),
                (integration::wasm("origin-strip"), vec![]),
                (sdk, vec![]),
            ],
            22,
        )
        .unwrap();
        let input = vec![
            record(None, b"apple", 0, 0),
            record(None, b"plum", 1, 0),
            record(Some(b"k"), b"banana", 2, 0),
        ];
        let out = process(&mut chain, input.clone(), 0, 0, 22);
        assert!(out.error.is_none(), "{name}: {:?}", out.error);
        assert_eq!(
            encode_records(&out.successes),
            encode_records(&[input[0].clone(), input[2].clone()]),
            "{name}"
        );
    }
}

#[test]
fn a_foreign_module_that_reads_tagged_values_as_text_reports_its_own_error() {
    // What a user sees when a text-only module is put after origin-tag: the SDK's error, not ours.
    let mut chain = official_chain_of(
        vec![
            (integration::wasm("origin-tag"), vec![("cluster", "a")]),
            (integration::wasm("sdk-hello"), vec![]),
        ],
        22,
    )
    .unwrap();
    let out = process(&mut chain, vec![record(None, b"apple", 0, 0)], 0, 0, 22);
    assert!(out.error.is_some(), "tagged values are not UTF-8");
}

#[test]
fn producer_side_tagging_then_the_topic_hook_on_the_same_cluster_tags_once() {
    let mut producer =
        official_chain(integration::wasm("origin-tag"), &[("cluster", "a")], 22).unwrap();
    let mut hook = official_chain(
        integration::wasm("mirror-policy"),
        &[("cluster", "a"), ("count", "1")],
        22,
    )
    .unwrap();
    let once = process(&mut producer, vec![record(None, b"x", 0, 0)], 0, 0, 22).successes;
    let twice = process(&mut hook, once.clone(), 0, 0, 22).successes;
    assert_eq!(encode_records(&once), encode_records(&twice));
    assert_eq!(tag(twice[0].value.as_ref()).0, ["a"]);
}

/// The modules' own allocator (size classes, reused blocks) under many batches of every shape:
/// tagging then stripping gives back every record, batch after batch.
#[test]
fn tag_then_strip_holds_over_many_batches_of_every_size() {
    let mut chain = official_chain_of(
        vec![
            (
                integration::wasm("mirror-policy"),
                vec![("cluster", "a"), ("dedup", "500")],
            ),
            (integration::wasm("origin-strip"), vec![]),
        ],
        22,
    )
    .unwrap();
    let mut rng = host_harness::simulate::random::Rng::new(0x2545_f491_4f6c_dd1d);
    let mut next = move |n: u64| rng.below(n);
    for batch in 0..300 {
        let count = next(120) as i64;
        let input: Vec<Record> = (0..count)
            .map(|i| {
                let len = match next(10) {
                    0 => next(70_000),
                    1..=3 => next(2_000),
                    _ => next(80),
                } as usize;
                let value: Vec<u8> = (0..len).map(|j| (j as u64 ^ next(256)) as u8).collect();
                let key = (next(2) == 0).then(|| format!("k{batch}-{i}").into_bytes());
                record(key.as_deref(), &value, i, i)
            })
            .collect();
        let out = process(&mut chain, input.clone(), batch * 1000, 0, 22);
        assert!(out.error.is_none(), "batch {batch}: {:?}", out.error);
        assert_eq!(
            encode_records(&out.successes),
            encode_records(&input),
            "batch {batch}"
        );
    }
}
