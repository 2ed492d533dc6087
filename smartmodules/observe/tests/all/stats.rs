//! The summary: tables exact while they fit and within their stated bounds past that, lag
//! percentiles from the buckets, a document that reads back to the same state, and a size
//! bounded whatever the records hold.

use observe::{
    max_document_len, Json, Lag, ResumeError, Stats, Summarizer, TagReader, TopTable, LAG_BOUNDS,
    MAX_TOP, PATH_KEY_MAX,
};
use origin::Carrier;
use proptest::prelude::*;
use std::collections::HashMap;

use crate::{tagged, view, TS};

fn reader() -> TagReader {
    TagReader::new("test", Carrier::Value, None)
}

fn doc(stats: &Stats) -> String {
    let mut j = Json::new();
    stats.write(&mut j);
    j.0
}

fn json(stats: &Stats) -> serde_json::Value {
    serde_json::from_str(&doc(stats)).expect("the summary is JSON")
}

#[test]
fn a_table_is_exact_while_its_keys_fit() {
    let mut t = TopTable::default();
    for (key, n) in [("a", 5), ("b", 3), ("c", 3), ("d", 1)] {
        for _ in 0..n {
            t.add(key, 4);
        }
    }
    let ranked: Vec<(&str, u64)> = t.ranked().collect();
    assert_eq!(ranked, [("a", 5), ("b", 3), ("c", 3), ("d", 1)]);
    assert_eq!((t.other(), t.undercount(), t.total()), (0, 0, 12));
}

proptest! {
    /// Whatever the stream: listed counts plus `other` are the total, no listed count is
    /// above its key's true count nor more than `undercount` below it, and every key seen
    /// more than `undercount` times is listed.
    #[test]
    fn a_full_table_keeps_its_stated_bounds(
        keys in proptest::collection::vec(0u32..40, 0..600),
        top in 1usize..=MAX_TOP,
    ) {
        let mut t = TopTable::default();
        let mut truth: HashMap<String, u64> = HashMap::new();
        for k in &keys {
            // Skewed: small keys come often.
            let key = format!("k{}", k % (k / 4 + 1));
            t.add(&key, top);
            *truth.entry(key).or_default() += 1;
        }
        let listed: HashMap<&str, u64> = t.ranked().collect();
        prop_assert!(listed.len() <= top);
        prop_assert_eq!(t.total(), keys.len() as u64);
        for (key, &n) in &truth {
            match listed.get(key.as_str()) {
                Some(&c) => prop_assert!(c <= n && n <= c + t.undercount(), "{key}: {c} of {n}"),
                None => prop_assert!(n <= t.undercount(), "{key} ({n}) unlisted"),
            }
        }
        let counts: Vec<u64> = t.ranked().map(|(_, n)| n).collect();
        prop_assert!(counts.windows(2).all(|w| w[0] >= w[1]), "ranked: {counts:?}");
    }
}

/// The percentile of `lags` as the summary defines it, computed from the sorted values: the
/// smallest bucket bound at or above the value of rank ceil(q n), at most the largest lag.
fn expected_percentile(lags: &[i64], per_cent: usize) -> i64 {
    let mut sorted = lags.to_vec();
    sorted.sort();
    let rank = (per_cent * sorted.len()).div_ceil(100).max(1);
    let value = sorted[rank - 1];
    let max = *sorted.last().unwrap();
    LAG_BOUNDS
        .iter()
        .copied()
        .find(|&b| b >= value)
        .unwrap_or(max)
        .min(max)
}

proptest! {
    #[test]
    fn lag_percentiles_follow_the_buckets(
        lags in proptest::collection::vec(
            prop_oneof![-5_000i64..5_000, 0i64..200_000_000, Just(i64::MIN), Just(i64::MAX)],
            1..300,
        ),
    ) {
        let mut lag = Lag::default();
        for &l in &lags {
            lag.add(l);
        }
        prop_assert_eq!(lag.records(), lags.len() as u64);
        prop_assert_eq!(lag.min(), lags.iter().copied().min());
        prop_assert_eq!(lag.max(), lags.iter().copied().max());
        prop_assert_eq!(lag.percentile(50), Some(expected_percentile(&lags, 50)));
        prop_assert_eq!(lag.percentile(99), Some(expected_percentile(&lags, 99)));
    }
}

#[test]
fn known_lags_give_known_percentiles() {
    // 90 lags of 3 ms, 9 of 150 ms, 1 of 40 s: p50 in the 5 ms bucket, p99 in the 200 ms one.
    let mut lag = Lag::default();
    for l in [3; 90].into_iter().chain([150; 9]).chain([40_000]) {
        lag.add(l);
    }
    assert_eq!(lag.percentile(50), Some(5));
    assert_eq!(lag.percentile(99), Some(200));
    assert_eq!(lag.percentile(100), Some(40_000));
    assert_eq!(Lag::default().percentile(50), None);
}

/// Records of every kind, each count known from how it was made.
#[test]
fn every_kind_of_record_is_counted_once() {
    let secret = origin::SealKey::new(b"a-secret-of-16-bytes", "").unwrap();
    let reader = TagReader::new("test", Carrier::Value, Some(secret.clone()));
    let mut stats = Stats::new(10, reader.verifies());
    let mut values: Vec<(Vec<u8>, i64)> = Vec::new();
    let sealed = |path: &[&str], ts: i64, violation: bool| {
        let mut env = origin::Envelope::new_origin(path[0], ts, [1; 8]).unwrap();
        for hop in &path[1..] {
            env = env.with_hop(hop).unwrap();
        }
        if violation {
            env.set_violation();
        }
        let bind = origin::Binding::of(Carrier::Value, None, b"p");
        env.seal(&secret, &bind, b"p");
        origin::wrap(&env, b"p")
    };
    values.push((b"plain".to_vec(), TS));
    values.push((sealed(&["a"], TS - 10, false), TS));
    values.push((sealed(&["a", "b"], TS - 300, false), TS));
    values.push((sealed(&["c", "b"], TS - 300, true), TS));
    values.push((tagged(&["a"], TS, false, b"p"), TS)); // no MAC: a MAC failure
    values.push((vec![0xFF, 0x6F, 0x02], TS)); // malformed
    for (i, (v, ts)) in values.iter().enumerate() {
        stats.count(&reader, &view(v, 100 + i as i64, *ts));
    }
    let j = json(&stats);
    assert_eq!(j["records"], 6);
    assert_eq!(j["untagged"], 1);
    assert_eq!(j["tagged"], 3);
    assert_eq!(j["malformed"], 1);
    assert_eq!(j["mac_failures"], 1);
    assert_eq!(
        j["origins"]["top"],
        serde_json::json!([{"cluster":"a","records":2},{"cluster":"c","records":1}])
    );
    assert_eq!(
        j["paths"]["top"][0],
        serde_json::json!({"path":"a","records":1})
    );
    assert_eq!(j["hops"], serde_json::json!({"0":1,"1":2}));
    assert_eq!(j["violations"]["records"], 1);
    assert_eq!(j["violations"]["top"][0]["cluster"], "b");
    assert_eq!(j["lag_ms"]["min"], 10);
    assert_eq!(j["lag_ms"]["max"], 300);
    assert_eq!(j["first"], serde_json::json!({"offset":100,"timestamp":TS}));
    assert_eq!(j["last"]["offset"], 105);
    // Without a secret the same tag without a MAC is tagged, and MACs are not counted.
    let mut plain = Stats::new(10, false);
    plain.count(
        &TagReader::new("test", Carrier::Value, None),
        &view(&values[4].0, 0, TS),
    );
    assert_eq!(json(&plain)["tagged"], 1);
    assert_eq!(json(&plain)["mac_failures"], serde_json::Value::Null);
}

/// A batch stored without a timestamp (Fluvio's -1, what a SmartModule chain writes): its
/// records are counted, their lag is not.
#[test]
fn records_without_a_timestamp_are_counted_without_a_lag() {
    let mut stats = Stats::new(10, false);
    let v = tagged(&["a"], TS, false, b"x");
    stats.count(&reader(), &view(&v, 7, TS + 3));
    stats.count(&reader(), &view(&v, 8, observe::NO_TIMESTAMP));
    stats.count(&reader(), &view(b"plain", 9, -5));
    let j = json(&stats);
    assert_eq!((&j["records"], &j["tagged"]), (&3.into(), &2.into()));
    assert_eq!(
        j["lag_ms"],
        serde_json::json!({"records":1,"no_timestamp":1,"min":3,"p50":3,"p99":3,"max":3,"buckets":[{"le":5,"records":1}]})
    );
    assert_eq!(
        j["first"],
        serde_json::json!({"offset":7,"timestamp":TS + 3})
    );
    assert_eq!(j["last"], serde_json::json!({"offset":9,"timestamp":null}));
    let back = Stats::read(doc(&stats).as_bytes(), 10, false).unwrap();
    assert_eq!(doc(&back), doc(&stats));
}

#[test]
fn a_long_path_is_counted_under_a_bounded_key_that_tells_paths_apart() {
    let ids: Vec<String> = (0..16).map(|i| format!("{i:x}").repeat(64)).collect();
    let mut long: Vec<&str> = ids.iter().map(String::as_str).collect();
    let a = tagged(&long, TS, false, b"x");
    long[15] = "other";
    let b = tagged(&long, TS, false, b"x");
    let mut stats = Stats::new(5, false);
    stats.count(&reader(), &view(&a, 0, TS));
    stats.count(&reader(), &view(&b, 1, TS));
    stats.count(&reader(), &view(&a, 2, TS));
    let j = json(&stats);
    let top = j["paths"]["top"].as_array().unwrap();
    assert_eq!(top.len(), 2, "two paths, two keys: {top:?}");
    assert_eq!(top[0]["records"], 2);
    for entry in top {
        let key = entry["path"].as_str().unwrap();
        assert!(key.len() <= PATH_KEY_MAX, "{key}");
        assert!(key.starts_with(&ids[0]) && key.contains("...#"), "{key}");
    }
}

fn arb_value() -> impl Strategy<Value = Vec<u8>> {
    let id = "[a-z][a-z0-9.-]{0,6}";
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..20),
        (
            proptest::collection::vec(id, 1..5),
            -100_000i64..100_000,
            any::<bool>()
        )
            .prop_map(|(path, lag, v)| {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                tagged(&path, TS - lag, v, b"p")
            }),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(|mut b| {
            b.splice(0..0, [0xFF, 0x6F]);
            b
        }),
    ]
}

proptest! {
    /// The document is the whole state: read back, it writes the same bytes, and counting
    /// on from it gives what counting on from the original gives.
    #[test]
    fn a_summary_reads_back_to_the_same_state(
        values in proptest::collection::vec(arb_value(), 0..60),
        more in proptest::collection::vec(arb_value(), 0..20),
        top in 1usize..=MAX_TOP,
    ) {
        let r = reader();
        let mut stats = Stats::new(top, false);
        for (i, v) in values.iter().enumerate() {
            stats.count(&r, &view(v, i as i64, TS));
        }
        let text = doc(&stats);
        let mut back = Stats::read(text.as_bytes(), top, false).expect("reads back");
        prop_assert_eq!(doc(&back), text.clone());
        for (i, v) in more.iter().enumerate() {
            stats.count(&r, &view(v, 1000 + i as i64, TS));
            back.count(&r, &view(v, 1000 + i as i64, TS));
        }
        prop_assert_eq!(doc(&back), doc(&stats));
        // Pretty-printed by another tool, it still reads.
        let pretty = serde_json::to_string_pretty(&json(&stats)).unwrap();
        let again = Stats::read(pretty.as_bytes(), top, false).expect("pretty reads back");
        prop_assert_eq!(doc(&again), doc(&stats));
    }

    /// Whatever the accumulator holds, resuming from it is a fresh start, a resumption or a
    /// typed error, never a panic.
    #[test]
    fn no_accumulator_makes_resume_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut s = Summarizer::new(reader(), 10, None);
        let _ = s.resume(&bytes);
    }

    /// Cutting a valid summary anywhere gives an error, never a panic.
    #[test]
    fn a_cut_summary_is_an_error(values in proptest::collection::vec(arb_value(), 1..20), cut in 0usize..2000) {
        let mut stats = Stats::new(10, false);
        for (i, v) in values.iter().enumerate() {
            stats.count(&reader(), &view(v, i as i64, TS));
        }
        let text = doc(&stats);
        let cut = cut % text.len();
        prop_assume!(cut > 2);
        prop_assert!(Stats::read(&text.as_bytes()[..cut], 10, false).is_err());
    }
}

#[test]
fn foreign_accumulators_are_refused_with_the_fix() {
    let mut s = Summarizer::new(reader(), 10, None);
    for fresh in [&b""[..], b"{}", b"  { }\n"] {
        s.resume(fresh).expect("a fresh start");
    }
    let base = {
        let mut st = Stats::new(10, false);
        st.count(&reader(), &view(&tagged(&["a"], TS, false, b"x"), 0, TS));
        doc(&st)
    };
    let refused = [
        r#"{"records":5}"#.to_string(),
        r#"{"schema":"origin-stats/2","top":10}"#.to_string(),
        base.replace("\"top\":10", "\"top\":20"),
        base.replace("\"records\":1,", "\"records\":-1,"),
        base.replace("\"cluster\":\"a\"", "\"cluster\":\"a b\""),
        base.replace("\"le\":0", "\"le\":3"),
        base.replace("\"hops\":{\"0\":1}", "\"hops\":{\"16\":1}"),
        base.replace("\"first\"", "\"frist\""),
        format!("{base} trailing"),
        "[1,2,3]".to_string(),
        "not json".to_string(),
        format!(
            "{{\"schema\":\"origin-stats/1\",\"top\":10,\"origins\":{{\"top\":[{}]}}}}",
            (0..11)
                .map(|i| format!("{{\"cluster\":\"c{i}\",\"records\":1}}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    ];
    for doc in &refused {
        let err = s.resume(doc.as_bytes()).expect_err(doc);
        let message = err.message("origin-stats", 10);
        assert!(
            message.starts_with("origin-stats: the accumulator "),
            "{message}"
        );
        assert!(message.ends_with("--aggregate-initial '{}'"), "{message}");
    }
    let top = s
        .resume(base.replace("\"top\":10", "\"top\":20").as_bytes())
        .unwrap_err();
    assert_eq!(top, ResumeError::Top { found: Some(20) });
    assert!(top
        .message("origin-stats", 10)
        .contains("made with top=20 and this module runs with top=10"));
    // A refused accumulator leaves the counts alone.
    s.resume(base.as_bytes()).unwrap();
    assert!(s.resume(b"nope").is_err());
    assert_eq!(s.stats().records(), 1);
}

/// The worst case: every table full of the longest keys, every hop, every bucket, counts and
/// timestamps at their widest.
#[test]
fn the_document_stays_within_its_bound_whatever_the_records() {
    for top in [1, 10, MAX_TOP] {
        let mut stats = Stats::new(top, true);
        let r = reader();
        let wide = |i: usize| format!("{i:02}").repeat(32);
        for i in 0..(3 * MAX_TOP) {
            let ids: Vec<String> = (0..16)
                .map(|h| format!("{h:x}{}", wide(i))[..64].to_string())
                .collect();
            for hops in 0..16 {
                let path: Vec<&str> = ids[..=hops].iter().map(String::as_str).collect();
                for (b, &lag) in LAG_BOUNDS.iter().chain([&i64::MAX]).enumerate() {
                    let origin_ts = if b % 2 == 0 {
                        i64::MIN + 1
                    } else {
                        i64::MAX - lag.max(0)
                    };
                    let v = tagged(&path, origin_ts, true, b"");
                    stats.count(&r, &view(&v, i64::MIN, i64::MAX - 1));
                }
            }
        }
        let len = doc(&stats).len();
        assert!(
            len <= max_document_len(top),
            "top={top}: {len} > {}",
            max_document_len(top)
        );
    }
    // The figures docs/POLICIES.md gives.
    assert_eq!(
        (max_document_len(10), max_document_len(20)),
        (6_748, 10_688)
    );
}
