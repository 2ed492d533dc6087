//! origin-stats in the official engine, `fluvio-smartengine`, as `fluvio consume
//! --smartmodule origin-stats --aggregate-initial '{}'` runs it: the summary's numbers against
//! counts computed here from how each record of generated traffic was made (untagged, tagged,
//! looped, flagged, malformed, forged), over several batches; one summary per batch, or every
//! N records; resuming from a printed summary; a foreign accumulator refused; params checked
//! at init; and the accumulator bounded over 100,000 records on 10,000 paths.

use std::collections::{BTreeMap, HashMap};

use fluvio_protocol::record::Record;
use fluvio_smartengine::{
    SmartEngine, SmartModuleChainBuilder, SmartModuleChainInstance, SmartModuleConfig,
    SmartModuleInitialData,
};
use host_harness::simulate::random::Rng;
use origin::{wrap, Binding, Carrier, Envelope, SealKey};
use serde_json::Value;

use crate::common::*;

const TS: i64 = 1_700_000_000_000;
const SECRET: &str = "shared-secret-of-all-clusters";

/// The documented lag buckets' upper bounds (docs/POLICIES.md), in ms.
const LAG_BOUNDS: [i64; 23] = [
    -1, 0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000,
    300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000,
];

/// An origin-stats chain in the official engine, given `initial` as the accumulator
/// (`--aggregate-initial`), none when `None`.
fn chain(params: &[(&str, &str)], initial: Option<&[u8]>) -> SmartModuleChainInstance {
    try_chain(integration::wasm("origin-stats"), params, initial).unwrap_or_else(|e| panic!("{e}"))
}

fn try_chain(
    wasm: Vec<u8>,
    params: &[(&str, &str)],
    initial: Option<&[u8]>,
) -> Result<SmartModuleChainInstance, String> {
    let mut config = SmartModuleConfig::builder();
    config.smartmodule_names(vec!["origin-stats".to_string()]);
    for (k, v) in params {
        config.param(*k, *v);
    }
    if let Some(initial) = initial {
        config.initial_data(SmartModuleInitialData::with_aggregate(initial.to_vec()));
    }
    let mut builder = SmartModuleChainBuilder::default();
    builder.add_smart_module(config.build().expect("config"), wasm);
    builder
        .initialize(&SmartEngine::new())
        .map_err(|e| format!("{e:#}"))
}

/// How a generated record was made: what the summary must count it as.
#[derive(Debug, Clone)]
enum Made {
    Untagged,
    Tagged {
        path: Vec<&'static str>,
        violation: bool,
        lag: i64,
    },
    Malformed,
    /// A tag without a MAC, or sealed under another secret.
    Forged,
}

/// A generated record: its bytes, and how it was made.
struct Sent {
    record: Record,
    made: Made,
}

const CLUSTERS: [&str; 5] = ["edge-1", "edge-2", "home", "dc.east", "dc_west"];

/// A lag (ms): mostly small, some of seconds, a few negative (clocks apart) or of hours.
fn lag(rng: &mut Rng) -> i64 {
    match rng.below(100) {
        0..=59 => rng.below(20) as i64,
        60..=89 => rng.range(100, 5_000) as i64,
        90..=94 => -(rng.range(1, 300) as i64),
        _ => rng.range(3_600_000, 90_000_000) as i64,
    }
}

/// A path of 1 to 4 clusters, some of which loop back (a cluster twice).
fn path(rng: &mut Rng) -> Vec<&'static str> {
    let len = 1 + rng.below(4) as usize;
    let mut path: Vec<&'static str> = Vec::new();
    while path.len() < len {
        let next = CLUSTERS[rng.below(CLUSTERS.len() as u64) as usize];
        let looped = path.len() >= 2 && path[0] == next;
        if !path.contains(&next) || (looped && rng.chance(50)) {
            path.push(next);
        }
    }
    path
}

/// A value tagged with `path`, flagged when `violation`, sealed under `seal` (a secret) for
/// a record with `key`.
fn tag_value(
    path: &[&str],
    origin_ts: i64,
    violation: bool,
    payload: &[u8],
    seal: Option<(&str, Option<&[u8]>)>,
) -> Vec<u8> {
    let mut env = Envelope::new_origin(path[0], origin_ts, [9; 8]).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    if violation {
        env.set_violation();
    }
    if let Some((secret, key)) = seal {
        let secret = SealKey::new(secret.as_bytes(), "").unwrap();
        env.seal(&secret, &Binding::of(Carrier::Value, key, payload), payload);
    }
    wrap(&env, payload)
}

/// `n` records of every kind, `secret` sealing the tagged ones (and forged ones mixed in).
fn traffic(seed: u64, n: usize, secret: Option<&str>) -> Vec<Sent> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let payload = format!("order {i}").into_bytes();
            // Record i is at offset i, timestamp TS + i; keys on some.
            let key = (i % 3 == 0).then(|| format!("k{i}").into_bytes());
            let key = key.as_deref();
            let (value, made) = match rng.below(100) {
                0..=19 => (payload, Made::Untagged),
                20..=26 => {
                    let mut bad = tag_value(&["edge-1"], TS, false, &payload, None);
                    match rng.below(3) {
                        0 => bad.truncate(2 + rng.below(10) as usize),
                        1 => bad[2] = 1,
                        _ => bad[5] = 17,
                    }
                    (bad, Made::Malformed)
                }
                27..=33 if secret.is_some() => {
                    let p = path(&mut rng);
                    let other = rng
                        .chance(50)
                        .then_some(("another-secret-of-16-bytes", key));
                    (tag_value(&p, TS, false, &payload, other), Made::Forged)
                }
                _ => {
                    let path = path(&mut rng);
                    let violation = rng.chance(15);
                    let lag = lag(&mut rng);
                    let seal = secret.map(|s| (s, key));
                    let v = tag_value(&path, TS + i as i64 - lag, violation, &payload, seal);
                    (
                        v,
                        Made::Tagged {
                            path,
                            violation,
                            lag,
                        },
                    )
                }
            };
            let record = record(key, &value, i as i64, i as i64);
            Sent { record, made }
        })
        .collect()
}

/// Runs `sent` through `chain` in batches of the given sizes (offsets and deltas as a
/// partition stores them), giving each batch's output records.
fn run_batches(
    chain: &mut SmartModuleChainInstance,
    sent: &[Sent],
    sizes: &[usize],
) -> Vec<Vec<Record>> {
    let mut outputs = Vec::new();
    let mut at = 0;
    for &size in sizes {
        outputs.push(batch_at(chain, &sent[at..at + size], at));
        at += size;
    }
    assert_eq!(at, sent.len(), "the batches cover the traffic");
    outputs
}

fn summary(record: &Record) -> Value {
    serde_json::from_slice(record.value.as_ref())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(record.value.as_ref())))
}

/// Counts of one table, computed here.
type Counts = HashMap<String, u64>;

/// The percentile of `lags` as the documented rule defines it: the smallest bucket bound at
/// or above the lag of rank ceil(q n) in ascending order, at most the largest lag.
fn percentile(lags: &[i64], per_cent: usize) -> i64 {
    let mut sorted = lags.to_vec();
    sorted.sort();
    let value = sorted[(per_cent * sorted.len()).div_ceil(100).max(1) - 1];
    let max = *sorted.last().unwrap();
    LAG_BOUNDS
        .iter()
        .copied()
        .find(|&b| b >= value)
        .unwrap_or(max)
        .min(max)
}

/// Checks a table of the summary against the true counts: exact when they fit in `top`
/// entries, else within the stated bounds.
fn check_table(summary: &Value, name: &str, key: &str, truth: &Counts, top: usize) {
    let table = &summary[name];
    let listed: HashMap<String, u64> = table["top"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: {table}"))
        .iter()
        .map(|e| {
            (
                e[key].as_str().unwrap().to_string(),
                e["records"].as_u64().unwrap(),
            )
        })
        .collect();
    let other = table["other"].as_u64().unwrap();
    let under = table["undercount"].as_u64().unwrap();
    let total: u64 = truth.values().sum();
    assert_eq!(
        listed.values().sum::<u64>() + other,
        total,
        "{name}: listed + other"
    );
    assert!(listed.len() <= top, "{name}: {} entries", listed.len());
    if truth.len() <= top {
        assert_eq!(
            (&listed, other, under),
            (truth, 0, 0),
            "{name}: exact while it fits"
        );
    }
    for (k, &n) in truth {
        match listed.get(k) {
            Some(&c) => assert!(c <= n && n <= c + under, "{name}/{k}: {c} listed, {n} true"),
            None => assert!(
                n <= under,
                "{name}/{k}: {n} true, unlisted, undercount {under}"
            ),
        }
    }
}

/// Checks a summary against the traffic it covers, counted here from how each record was made.
fn check_summary(summary: &Value, sent: &[Sent], top: usize, secret: bool) {
    let count = |f: fn(&Made) -> bool| sent.iter().filter(|s| f(&s.made)).count() as u64;
    assert_eq!(summary["schema"], "origin-stats/1");
    assert_eq!(summary["top"], top as u64);
    assert_eq!(summary["records"], sent.len() as u64);
    assert_eq!(summary["untagged"], count(|m| matches!(m, Made::Untagged)));
    assert_eq!(
        summary["malformed"],
        count(|m| matches!(m, Made::Malformed))
    );
    assert_eq!(
        summary["tagged"],
        count(|m| matches!(m, Made::Tagged { .. }))
    );
    let forged = count(|m| matches!(m, Made::Forged));
    assert_eq!(
        summary["mac_failures"],
        if secret {
            Value::from(forged)
        } else {
            Value::Null
        }
    );

    let (mut origins, mut paths, mut violations) = (Counts::new(), Counts::new(), Counts::new());
    let mut hops: BTreeMap<String, u64> = BTreeMap::new();
    let mut lags = Vec::new();
    for s in sent {
        if let Made::Tagged {
            path,
            violation,
            lag,
        } = &s.made
        {
            *origins.entry(path[0].to_string()).or_default() += 1;
            *paths.entry(path.join(">")).or_default() += 1;
            *hops.entry((path.len() - 1).to_string()).or_default() += 1;
            if *violation {
                *violations
                    .entry(path.last().unwrap().to_string())
                    .or_default() += 1;
            }
            lags.push(*lag);
        }
    }
    check_table(summary, "origins", "cluster", &origins, top);
    check_table(summary, "paths", "path", &paths, top);
    check_table(summary, "violations", "cluster", &violations, top);
    assert_eq!(
        summary["violations"]["records"],
        violations.values().sum::<u64>()
    );
    assert_eq!(summary["hops"], serde_json::to_value(&hops).unwrap());
    let lag = &summary["lag_ms"];
    assert_eq!(lag["records"], lags.len() as u64);
    assert_eq!(lag["no_timestamp"], 0);
    if lags.is_empty() {
        for field in ["min", "p50", "p99", "max"] {
            assert_eq!(lag[field], Value::Null, "{field} of no lags");
        }
    } else {
        assert_eq!(lag["min"], *lags.iter().min().unwrap());
        assert_eq!(lag["max"], *lags.iter().max().unwrap());
        assert_eq!(
            lag["p50"],
            percentile(&lags, 50),
            "p50 of {} lags",
            lags.len()
        );
        assert_eq!(
            lag["p99"],
            percentile(&lags, 99),
            "p99 of {} lags",
            lags.len()
        );
    }
    let buckets: u64 = lag["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["records"].as_u64().unwrap())
        .sum();
    assert_eq!(buckets, lags.len() as u64);
    let first = &sent[0].record;
    let last = &sent[sent.len() - 1].record;
    assert_eq!(summary["first"]["offset"], first.preamble.offset_delta());
    assert_eq!(
        summary["first"]["timestamp"],
        TS + first.preamble.offset_delta()
    );
    assert_eq!(summary["last"]["offset"], last.preamble.offset_delta());
    assert_eq!(
        summary["last"]["timestamp"],
        TS + last.preamble.offset_delta()
    );
}

const SIZES: [usize; 6] = [1, 57, 200, 0, 142, 100];

#[test]
fn the_summary_counts_generated_traffic_over_several_batches() {
    for (top, secret) in [
        (10, None),
        (20, None),
        (3, Some(SECRET)),
        (10, Some(SECRET)),
    ] {
        let sent = traffic(top as u64, 500, secret);
        let top_text = top.to_string();
        let mut params = vec![("top", top_text.as_str())];
        params.extend(secret.map(|s| ("secret", s)));
        let mut chain = chain(&params, Some(b"{}"));
        let outputs = run_batches(&mut chain, &sent, &SIZES);
        let mut seen = 0;
        for (size, out) in SIZES.iter().zip(&outputs) {
            seen += size;
            if *size == 0 {
                assert!(out.is_empty(), "an empty batch gives no summary");
                continue;
            }
            assert_eq!(out.len(), 1, "one summary per batch");
            assert_eq!(out[0].key, None);
            assert_eq!(
                out[0].preamble.offset_delta(),
                *size as i64 - 1,
                "in the last record's place"
            );
            let s = summary(&out[0]);
            check_summary(&s, &sent[..seen], top, secret.is_some());
        }
    }
}

#[test]
fn known_lags_give_known_percentiles_in_the_engine() {
    // 60 lags of 4 ms, 39 of 700 ms, 1 of 2 hours: p50 is the 5 ms bucket, p99 the 1 s one.
    let lags: Vec<i64> = [4; 60]
        .into_iter()
        .chain([700; 39])
        .chain([7_200_000])
        .collect();
    let sent: Vec<Sent> = lags
        .iter()
        .enumerate()
        .map(|(i, &lag)| Sent {
            record: record(
                None,
                &tag_value(&["edge-1"], TS + i as i64 - lag, false, b"x", None),
                i as i64,
                i as i64,
            ),
            made: Made::Tagged {
                path: vec!["edge-1"],
                violation: false,
                lag,
            },
        })
        .collect();
    let mut chain = chain(&[], None);
    let out = run_batches(&mut chain, &sent, &[37, 63]);
    let s = summary(&out[1][0]);
    assert_eq!(
        (
            &s["lag_ms"]["min"],
            &s["lag_ms"]["p50"],
            &s["lag_ms"]["p99"],
            &s["lag_ms"]["max"]
        ),
        (
            &Value::from(4),
            &Value::from(5),
            &Value::from(1_000),
            &Value::from(7_200_000)
        )
    );
    check_summary(&s, &sent, 10, false);
}

#[test]
fn every_n_records_gives_a_summary_in_the_nth_records_place() {
    let sent = traffic(7, 500, None);
    let mut chain = chain(&[("every", "7")], Some(b""));
    let outputs = run_batches(&mut chain, &sent, &SIZES);
    let mut at = 0;
    let mut summaries = 0;
    for (size, out) in SIZES.iter().zip(&outputs) {
        let due: Vec<i64> = (at..at + size)
            .filter(|i| (i + 1) % 7 == 0)
            .map(|i| (i - at) as i64)
            .collect();
        let deltas: Vec<i64> = out.iter().map(|r| r.preamble.offset_delta()).collect();
        assert_eq!(deltas, due, "batch at {at}");
        for r in out {
            let s = summary(r);
            let covered = at + r.preamble.offset_delta() as usize + 1;
            assert_eq!(s["records"], covered as u64);
            check_summary(&s, &sent[..covered], 10, false);
            summaries += 1;
        }
        at += size;
    }
    assert_eq!(summaries, 500 / 7);
}

#[test]
fn a_consumer_resumes_from_the_last_summary_it_printed() {
    let sent = traffic(11, 400, Some(SECRET));
    let params = [("secret", SECRET), ("top", "4")];
    let mut whole = chain(&params, Some(b"{}"));
    let all = run_batches(&mut whole, &sent, &[150, 250]);
    let mut first = chain(&params, Some(b"{}"));
    let part = run_batches(&mut first, &sent[..150], &[150]);
    let printed = part[0][0].value.as_ref().to_vec();
    // Printed, then handed back pretty-printed by another tool: the same state.
    let pretty = serde_json::to_vec_pretty(&summary(&part[0][0])).unwrap();
    for initial in [printed, pretty] {
        let mut resumed = chain(&params, Some(&initial));
        let rest: Vec<Sent> = sent[150..]
            .iter()
            .map(|s| Sent {
                record: s.record.clone(),
                made: s.made.clone(),
            })
            .collect();
        let out = batch_at(&mut resumed, &rest, 150);
        assert_eq!(
            out[0].value.as_ref(),
            all[1][0].value.as_ref(),
            "resumed, the summary is the one of a single run"
        );
    }
}

/// `sent` as one batch at offset `base` (offsets and timestamps `base` on, deltas from 0, as
/// a partition stores them), giving its output records.
fn batch_at(chain: &mut SmartModuleChainInstance, sent: &[Sent], base: usize) -> Vec<Record> {
    let batch: Vec<Record> = sent
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let mut r = s.record.clone();
            r.preamble.set_offset_delta(j as i64);
            r.preamble.set_timestamp_delta(j as i64);
            r
        })
        .collect();
    let out = process(chain, batch, base as i64, TS + base as i64, 22);
    assert!(out.error.is_none(), "batch at {base}: {:?}", out.error);
    out.successes
}

#[test]
fn a_foreign_accumulator_is_a_runtime_error_with_the_fix() {
    let sent = traffic(3, 5, None);
    for initial in [
        &b"0"[..],
        b"{\"count\":3}",
        b"{\"schema\":\"origin-stats/1\",\"top\":20}",
        &[0xff, 0x00],
    ] {
        let mut c = chain(&[], Some(initial));
        let batch: Vec<Record> = sent.iter().map(|s| s.record.clone()).collect();
        let out = process(&mut c, batch, 0, TS, 22);
        assert!(out.successes.is_empty(), "{initial:?}");
        let err = out
            .error
            .unwrap_or_else(|| panic!("{initial:?} must be refused"));
        assert!(
            err.hint.starts_with("origin-stats: the accumulator "),
            "{}",
            err.hint
        );
        assert!(
            err.hint
                .ends_with("or start afresh with --aggregate-initial '{}'"),
            "{}",
            err.hint
        );
    }
    // `{}`, nothing and whitespace are fresh starts.
    for initial in [None, Some(&b"{}"[..]), Some(b" { } ")] {
        let mut c = chain(&[], initial);
        let out = process(&mut c, vec![record(None, b"plain", 0, 0)], 0, TS, 22);
        assert_eq!(summary(&out.successes[0])["untagged"], 1, "{initial:?}");
    }
}

#[test]
fn params_are_checked_at_init_in_the_modules_words() {
    let wasm = integration::wasm("origin-stats");
    for (params, expected) in [
        (vec![("cluster", "home")], "origin-stats: unknown param 'cluster'; known params: carrier, secret, scope, top, every"),
        (vec![("top", "0")], "origin-stats: bad param 'top'='0': not a number from 1 to 20 (entries kept in each table of the summary (origins, paths, violations), 1 to 20, e.g. -e top=10)"),
        (vec![("top", "21")], "origin-stats: bad param 'top'='21'"),
        (vec![("every", "0")], "origin-stats: bad param 'every'='0': not a number from 1 to 1000000"),
        (vec![("every", "ten")], "origin-stats: bad param 'every'='ten'"),
        (vec![("carrier", "header")], "origin-stats: bad param 'carrier'='header': not value or key"),
        (vec![("secret", "short")], "origin-stats: bad param 'secret'='***': shorter than 16 bytes"),
        (vec![("scope", "orders")], "origin-stats: param 'scope' has no effect without 'secret'"),
    ] {
        let err = try_chain(wasm.clone(), &params, Some(b"{}")).err().unwrap_or_else(|| panic!("{params:?} must fail"));
        assert!(err.starts_with(expected), "{params:?}: {err}");
    }
    try_chain(
        wasm,
        &[("top", "20"), ("every", "1000000"), ("carrier", "key")],
        None,
    )
    .expect("good params");
}

/// A batch stored without a timestamp, as Fluvio stores what a SmartModule chain wrote (its
/// base timestamp -1): every record is counted, no lag is made up.
#[test]
fn a_batch_without_a_timestamp_gives_no_lag() {
    let v = tag_value(&["edge-1"], TS, false, b"x", None);
    let mut c = chain(&[], None);
    let out = process(
        &mut c,
        vec![record(None, &v, 0, 0), record(None, &v, 1, 9)],
        40,
        -1,
        22,
    );
    let s = summary(&out.successes[0]);
    assert_eq!(s["tagged"], 2);
    assert_eq!(
        (&s["lag_ms"]["records"], &s["lag_ms"]["no_timestamp"]),
        (&0.into(), &2.into())
    );
    assert_eq!(s["lag_ms"]["p50"], Value::Null);
    assert_eq!(
        s["first"],
        serde_json::json!({"offset": 40, "timestamp": null})
    );
    assert_eq!(
        s["last"],
        serde_json::json!({"offset": 41, "timestamp": null})
    );
    let mut inspect = official_chain(integration::wasm("origin-inspect"), &[], 22).unwrap();
    let out = process(&mut inspect, vec![record(None, &v, 0, 9)], 40, -1, 22);
    assert_eq!(summary(&out.successes[0])["timestamp"], Value::Null);
}

/// Tags in keys: counted from the keys, and a record without a key is untagged.
#[test]
fn with_carrier_key_the_tags_are_read_from_the_keys() {
    let k = tag_value(&["edge-2", "home"], TS - 30, true, b"k", None);
    let records = vec![
        record(Some(&k), b"value", 0, 0),
        record(None, b"no key", 1, 0),
        record(
            Some(b"plain"),
            &tag_value(&["a"], TS, false, b"v", None),
            2,
            0,
        ),
    ];
    let mut c = chain(&[("carrier", "key")], None);
    let out = process(&mut c, records, 0, TS, 22);
    let s = summary(&out.successes[0]);
    assert_eq!(
        (&s["tagged"], &s["untagged"]),
        (&Value::from(1), &Value::from(2))
    );
    assert_eq!(s["violations"]["top"][0]["cluster"], "home");
    assert_eq!(s["lag_ms"]["min"], 30);
}

/// 100,000 records over 10,000 distinct paths, one path carrying a tenth of them: the
/// accumulator (every batch's summary is it) stays under the documented bound and a few KB
/// all along, and the frequent path stays listed.
#[test]
fn the_accumulator_stays_bounded_over_100000_records_and_10000_paths() {
    let mut c = chain(&[], Some(b"{}"));
    let ids: Vec<String> = (0..100).map(|i| format!("cluster-{i:03}")).collect();
    let mut largest = 0;
    let mut last = None;
    for batch in 0..100 {
        let records: Vec<Record> = (0..1_000)
            .map(|j| {
                let i = batch * 1_000 + j;
                let p = i % 10_000;
                let path: Vec<&str> = if i % 10 == 0 {
                    vec!["hot", "home"]
                } else {
                    vec![&ids[p / 100], &ids[p % 100], "home"]
                };
                record(
                    None,
                    &tag_value(&path, TS - 5, false, b"x", None),
                    j as i64,
                    0,
                )
            })
            .collect();
        let out = process(&mut c, records, batch as i64 * 1_000, TS, 22);
        assert!(out.error.is_none());
        let value = out.successes[0].value.as_ref();
        largest = largest.max(value.len());
        last = Some(summary(&out.successes[0]));
    }
    let s = last.unwrap();
    assert_eq!(s["records"], 100_000);
    assert_eq!(s["tagged"], 100_000);
    let bound = observe::max_document_len(10);
    assert!(
        largest <= bound,
        "{largest} bytes, over the bound of {bound}"
    );
    assert!(
        largest <= 1024,
        "{largest} bytes, over the 1 KB docs/POLICIES.md gives"
    );
    assert_eq!(s["paths"]["top"][0]["path"], "hot>home");
    let hot = s["paths"]["top"][0]["records"].as_u64().unwrap();
    let under = s["paths"]["undercount"].as_u64().unwrap();
    assert!(
        hot <= 10_000 && 10_000 <= hot + under,
        "hot path: {hot} + {under}"
    );
    println!("largest accumulator over 100,000 records: {largest} bytes (bound {bound})");
}
