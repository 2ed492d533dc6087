//! `harness inspect` against the modules it speaks for, as the broker's engine
//! (`fluvio-smartengine`) runs them: `--format jsonl` prints origin-inspect's lines byte for
//! byte, and `--summary --format json` origin-stats' last summary, on a corpus of hostile
//! records, in both carriers, with and without a secret.

use std::process::Output;

use base64::Engine as _;
use fluvio_protocol::record::{Record, RecordData};
use fluvio_protocol::Encoder;
use fluvio_smartengine::{
    SmartEngine, SmartModuleChainBuilder, SmartModuleChainInstance, SmartModuleConfig,
    SmartModuleInitialData,
};
use fluvio_smartmodule::dataplane::smartmodule::SmartModuleInput;
use host_harness::simulate::random::Rng;
use origin::{wrap, Binding, Carrier, Envelope, SealKey};

use crate::support::{harness, stderr, stdout};

const TS: i64 = 1_700_000_000_000;
const SECRET: &str = "secret-of-the-clusters";

/// A record of the corpus: key, value, timestamp.
type Sent = (Option<Vec<u8>>, Vec<u8>, i64);

fn tag(
    path: &[&str],
    ts: i64,
    flags: u8,
    payload: &[u8],
    seal: Option<(&str, Carrier, Option<&[u8]>)>,
) -> Vec<u8> {
    let mut env = Envelope::from_parts(flags, path, ts, [5; 8], None).unwrap();
    if let Some((scope, carrier, other)) = seal {
        let key = SealKey::new(SECRET.as_bytes(), scope).unwrap();
        env.seal(&key, &Binding { carrier, other }, payload);
    }
    wrap(&env, payload)
}

/// Hostile and ordinary records: binary keys and values, tags with every flag, looped and
/// long paths, tags sealed for the right and the wrong scope or record, malformed tags.
fn corpus(carrier: Carrier) -> Vec<Sent> {
    let mut rng = Rng::new(42);
    let mut bytes =
        |n: u64| -> Vec<u8> { (0..rng.below(n)).map(|_| rng.below(256) as u8).collect() };
    let mut out: Vec<Sent> = Vec::new();
    let long: Vec<String> = (0..16).map(|i| format!("{i:x}").repeat(64)).collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    for i in 0..60 {
        let ts = TS + i * 7;
        let payload = match i % 4 {
            0 => format!("order \"{i}\"\n\t\\ é").into_bytes(),
            1 => bytes(40),
            2 => vec![0xFF, 0x6F, 0x02],
            _ => Vec::new(),
        };
        let other = (i % 3 != 0).then(|| bytes(12));
        let carried = match i % 6 {
            0 => payload.clone(),
            1 => tag(&["edge-1", "home"], ts - 20, 1, &payload, None),
            2 => tag(
                &["a", "b", "a"],
                ts - 900,
                0xFE,
                &payload,
                Some(("orders", carrier, other.as_deref())),
            ),
            3 => tag(
                &long,
                ts + 5,
                2,
                &payload,
                Some(("payments", carrier, other.as_deref())),
            ),
            4 => {
                let mut bad = tag(&["edge-2"], ts, 0, &payload, None);
                bad.truncate(3 + (i as usize % 9));
                bad
            }
            _ => bytes(30),
        };
        let (key, value) = match carrier {
            Carrier::Value => (other, carried),
            // A record without a key keeps its tag nowhere.
            Carrier::Key if i % 10 == 9 => (None, other.unwrap_or_default()),
            Carrier::Key => (Some(carried), other.unwrap_or_default()),
        };
        out.push((key, value, ts));
    }
    out
}

/// The corpus as `harness inspect` reads it: JSON lines, base64.
fn jsonl(sent: &[Sent]) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    sent.iter()
        .map(|(k, v, ts)| {
            serde_json::json!({
                "key": k.as_deref().map(b64), "value": b64(v), "timestamp": ts, "encoding": "base64"
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn official(
    module: &str,
    params: &[(&str, &str)],
    initial: Option<&[u8]>,
) -> SmartModuleChainInstance {
    let mut config = SmartModuleConfig::builder();
    config.smartmodule_names(vec![module.to_string()]);
    for (k, v) in params {
        config.param(*k, *v);
    }
    if let Some(initial) = initial {
        config.initial_data(SmartModuleInitialData::with_aggregate(initial.to_vec()));
    }
    let mut builder = SmartModuleChainBuilder::default();
    builder.add_smart_module(config.build().unwrap(), integration::wasm(module));
    builder.initialize(&SmartEngine::new()).unwrap()
}

/// Runs `sent[from..to]` as one batch: offsets from `from`, timestamps the records' own.
fn batch(
    chain: &mut SmartModuleChainInstance,
    sent: &[Sent],
    from: usize,
    to: usize,
) -> Vec<Record> {
    let records: Vec<Record> = sent[from..to]
        .iter()
        .enumerate()
        .map(|(j, (k, v, ts))| {
            let mut r = Record::new(RecordData::from(v.clone()));
            r.key = k.clone().map(RecordData::from);
            r.preamble.set_offset_delta(j as i64);
            r.preamble.set_timestamp_delta(ts - TS);
            r
        })
        .collect();
    let mut raw = Vec::new();
    records.encode(&mut raw, 22).unwrap();
    let out = chain
        .process(SmartModuleInput::new(raw, from as i64, TS))
        .unwrap();
    assert!(out.error.is_none(), "{:?}", out.error);
    out.successes
}

/// The flags of `harness inspect` for a carrier and an optional (secret, scope).
fn flags(
    carrier: Carrier,
    secret: Option<(&'static str, &'static str)>,
) -> (Vec<&'static str>, Vec<(&'static str, &'static str)>) {
    let mut args = vec!["--carrier", carrier.as_str()];
    let mut params = vec![("carrier", carrier.as_str())];
    if let Some((secret, scope)) = secret {
        args.extend(["--secret", secret, "--scope", scope]);
        params.extend([("secret", secret), ("scope", scope)]);
    }
    (args, params)
}

fn run(args: &[&str], input: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.jsonl");
    std::fs::write(&path, input).unwrap();
    let mut all = vec!["inspect", "--input", path.to_str().unwrap()];
    all.extend_from_slice(args);
    harness(&all, "")
}

const CASES: [(Carrier, Option<(&str, &str)>); 4] = [
    (Carrier::Value, None),
    (Carrier::Key, None),
    (Carrier::Value, Some((SECRET, "orders"))),
    (Carrier::Key, Some((SECRET, "payments"))),
];

#[test]
fn jsonl_lines_are_origin_inspects_byte_for_byte() {
    for (carrier, secret) in CASES {
        let sent = corpus(carrier);
        let (args, params) = flags(carrier, secret);
        let mut args = args;
        args.extend(["--format", "jsonl"]);
        let o = run(&args, &jsonl(&sent));
        assert_eq!(
            o.status.code(),
            Some(2),
            "malformed tags exit 2: {}",
            stderr(&o)
        );
        let ours = stdout(&o);
        let mut chain = official("origin-inspect", &params, None);
        let theirs: String = [
            batch(&mut chain, &sent, 0, 25),
            batch(&mut chain, &sent, 25, sent.len()),
        ]
        .concat()
        .iter()
        .map(|r| String::from_utf8(r.value.as_ref().to_vec()).unwrap() + "\n")
        .collect();
        assert_eq!(ours, theirs, "{carrier:?} {secret:?}");
        assert_eq!(ours.lines().count(), sent.len());
    }
}

#[test]
fn the_summary_is_origin_stats_last_summary_byte_for_byte() {
    for (carrier, secret) in CASES {
        let sent = corpus(carrier);
        let (mut args, mut params) = flags(carrier, secret);
        args.extend(["--summary", "--top", "3", "--format", "json"]);
        params.push(("top", "3"));
        let o = run(&args, &jsonl(&sent));
        let ours = stdout(&o);
        let mut chain = official("origin-stats", &params, Some(b"{}"));
        batch(&mut chain, &sent, 0, 17);
        let last = batch(&mut chain, &sent, 17, sent.len());
        let theirs = String::from_utf8(last[0].value.as_ref().to_vec()).unwrap() + "\n";
        assert_eq!(ours, theirs, "{carrier:?} {secret:?}");
        let doc: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(doc["records"], sent.len());
        assert_eq!(doc["mac_failures"].is_null(), secret.is_none());
    }
}

#[test]
fn the_summary_table_shows_every_count() {
    let sent = corpus(Carrier::Value);
    let o = run(&["--summary", "--top", "2"], &jsonl(&sent));
    let text = stdout(&o);
    for needle in [
        "60 records (offsets 0 to 59, 2023-11-14T22:13:20.000Z to 2023-11-14T22:13:20.413Z)",
        "  MAC failures   not checked (no --secret)",
        "  origin ",
        "  path ",
        "(more distinct values than --top: each count may be short by up to ",
        "VIOLATION-flagged: ",
        "replication lag (record timestamp - origin timestamp), ",
        "<= 20 ms",
    ] {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
}

#[test]
fn a_weak_secret_is_refused_and_a_tag_that_does_not_verify_exits_2() {
    let o = run(&["--secret", "short"], "{\"value\":\"x\"}\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--secret: shorter than 16 bytes (5 bytes)"),
        "{}",
        stderr(&o)
    );
    let sealed = tag(&["a"], TS, 0, b"p", Some(("", Carrier::Value, None)));
    let input = jsonl(&[(None, sealed, TS)]);
    assert_eq!(run(&["--secret", SECRET], &input).status.code(), Some(0));
    let o = run(&["--secret", "another-secret-of-16-bytes"], &input);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains(" MAC DOES NOT VERIFY payload=\"p\""),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        run(&[], &input).status.code(),
        Some(0),
        "without a secret nothing is checked"
    );
}

/// The line before the README's summary block.
const README_MARKER: &str = "and a malformed value. Summed up (real output):";

/// host-harness/README.md shows what `harness inspect --summary` prints for the example
/// dump; `BLESS=1` rewrites the block.
#[test]
fn the_readme_shows_what_the_summary_prints() {
    let root = integration::workspace_root();
    let command = "harness inspect --input examples/orders-dump.jsonl --summary";
    let dump = root.join("examples/orders-dump.jsonl");
    let o = harness(
        &["inspect", "--input", dump.to_str().unwrap(), "--summary"],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "the dump holds a malformed value");
    let printed = format!("$ {command}\n{}", stdout(&o));
    let path = root.join("host-harness/README.md");
    let readme = std::fs::read_to_string(&path).expect("host-harness/README.md");
    let block = integration::fenced_block_after(&readme, README_MARKER)
        .unwrap_or_else(|e| panic!("host-harness/README.md: {e}"));
    if integration::blessing() {
        let text = format!(
            "{}{printed}{}",
            &readme[..block.start],
            &readme[block.end..]
        );
        std::fs::write(&path, text).expect("write host-harness/README.md");
        return;
    }
    assert_eq!(
        &readme[block], printed,
        "host-harness/README.md's summary (left) is not what the command prints (right); if \
         the command is right, rerun with BLESS=1 to rewrite the block"
    );
}
