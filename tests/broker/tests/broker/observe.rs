//! Consumer side, watching provenance with Fluvio's own CLI: `fluvio consume --smartmodule
//! origin-stats --aggregate-initial '{}'` sums up a topic whose hook runs mirror-policy in
//! audit mode, `--smartmodule origin-inspect` shows each record's tag, and the operator's
//! loop (audit, watch the VIOLATION counts, fix the writers, see them at zero, reject) runs
//! as POLICIES.md tells it. The docs' blocks are this run's output; the figures that move
//! from run to run (origin times and the record ids derived from them) are left out of the
//! comparison.

use serde_json::Value;

use crate::suite::{case, check_doc_block_with, Suite};
use crate::topic_side::hook_config;

/// POLICIES.md's line before the summary of the copied records.
const SUMMARY_MARKER: &str =
    "The summary of the copies, from a real run (pretty-printed, keys in the module's order):";
/// POLICIES.md's line before origin-inspect's lines.
const INSPECT_MARKER: &str = "origin-inspect on the same topic, from a real run:";
/// POLICIES.md's line before the loop's transcript.
const LOOP_MARKER: &str =
    "The loop on a real cluster (summaries cut to the fields that matter here):";

/// The audited topic's name in the docs.
const SHOWN: &str = "orders";

fn consume(s: &Suite, topic: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["consume", topic, "-d", "-O", "raw"];
    if !extra.contains(&"--start") {
        args.push("-B");
    }
    args.extend_from_slice(extra);
    let out = s
        .home
        .fluvio_ok(&args)
        .unwrap_or_else(|e| panic!("`fluvio {}` failed: {e}", args.join(" ")));
    String::from_utf8(out.stdout)
        .expect("the observing modules print UTF-8")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The last summary a consumer printed: the one of every record it read.
fn last_summary(s: &Suite, topic: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--smartmodule", "origin-stats", "--aggregate-initial", "{}"];
    args.extend_from_slice(extra);
    let lines = consume(s, topic, &args);
    let summaries: Vec<Value> = lines.iter().map(|l| json(l)).collect();
    let counts: Vec<u64> = summaries
        .iter()
        .map(|v| v["records"].as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "one summary per stored batch, each of every record so far: {counts:?}"
    );
    summaries.last().cloned().expect("a summary")
}

/// The fields of a summary the loop's block shows.
fn cut(v: &Value) -> String {
    format!(
        "{{\"records\":{},\"tagged\":{},\"violations\":{},\"by_cluster\":{}}}",
        v["records"], v["tagged"], v["violations"]["records"], v["violations"]["top"]
    )
}

pub fn stats_and_inspect_watch_an_audited_topic(s: &mut Suite) {
    let from_edge = s.tagged_on(&["edge-1"], &["order 1", "order 2", "order 3"]);
    let with = [
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", SHOWN),
        ("mode", "audit"),
    ];
    let topic = s.home.unique_topic("orders");
    s.home
        .create_topic_from_config(
            &topic,
            &hook_config(&topic, "mirror-policy", 1, None, &with),
        )
        .unwrap_or_else(|e| panic!("cannot create {topic}: {e}"));
    // A bridge copies three records from edge-1; two writers type on home.
    for (i, value) in from_edge.iter().enumerate() {
        s.produce(&topic)
            .raw(value, &format!("order-{i}.bin"))
            .run()
            .expect_ok();
    }
    for line in ["typed on home", "typed again"] {
        s.produce(&topic).lines(&[line]).run().expect_ok();
    }

    {
        let plain = s.create_topic("plain");
        s.produce(&plain).lines(&["p1"]).run().expect_ok();
        s.produce(&plain)
            .module("origin-tag", &[("cluster", "x")])
            .lines(&["p2"])
            .run()
            .expect_ok();
        for t in [&plain, &topic] {
            let out = s
                .home
                .fluvio_ok(&[
                    "consume",
                    t.as_str(),
                    "-B",
                    "-d",
                    "-F",
                    "{{offset}} {{time}}",
                ])
                .unwrap();
            eprintln!("PROBE {t}: {}", String::from_utf8_lossy(&out.stdout));
            eprintln!(
                "PROBE stats {t}: {:?}",
                consume(
                    s,
                    t,
                    &["--smartmodule", "origin-stats", "--aggregate-initial", "{}"]
                )
            );
        }
    }
    let summary = last_summary(s, &topic, &[]);
    assert_eq!(summary["records"], 5);
    assert_eq!(summary["tagged"], 5);
    assert_eq!(summary["untagged"], 0);
    assert_eq!(
        summary["origins"]["top"],
        serde_json::json!([{"cluster":"edge-1","records":3},{"cluster":"home","records":2}])
    );
    assert_eq!(
        summary["paths"]["top"],
        serde_json::json!([{"path":"edge-1>home","records":3},{"path":"home","records":2}])
    );
    assert_eq!(summary["hops"], serde_json::json!({"0": 2, "1": 3}));
    assert_eq!(summary["violations"]["records"], 2);
    assert_eq!(summary["violations"]["top"][0]["cluster"], "home");
    // Fluvio stores what a SmartModule chain wrote (here the hook) without a timestamp
    // (`fluvio consume -F '{{time}}'` prints NA): no lag can be measured, none is made up.
    assert_eq!(summary["lag_ms"]["records"], 0);
    assert_eq!(summary["lag_ms"]["no_timestamp"], 5);
    assert_eq!(summary["first"]["timestamp"], Value::Null);
    assert_eq!(summary["first"]["offset"], 0);
    assert_eq!(summary["last"]["offset"], 4);

    // A bridge copies the five stored records to a topic without a hook, with a plain
    // write and a malformed one: written without a chain, they keep a timestamp, so lags show.
    let bridged = s.create_topic("orders-copy");
    for (i, r) in s.records(&topic).iter().enumerate() {
        s.produce(&bridged)
            .raw(&r.value, &format!("copy-{i}.bin"))
            .run()
            .expect_ok();
    }
    s.produce(&bridged).lines(&["plain"]).run().expect_ok();
    s.produce(&bridged)
        .raw(&[0xFF, 0x6F, 0x01, 0x00], "broken.bin")
        .run()
        .expect_ok();
    let copied = last_summary(s, &bridged, &[]);
    assert_eq!(
        (
            &copied["records"],
            &copied["tagged"],
            &copied["untagged"],
            &copied["malformed"]
        ),
        (&7.into(), &5.into(), &1.into(), &1.into())
    );
    assert_eq!(copied["violations"], summary["violations"]);
    assert_eq!(copied["paths"], summary["paths"]);
    assert_eq!(
        (
            &copied["lag_ms"]["records"],
            &copied["lag_ms"]["no_timestamp"]
        ),
        (&5.into(), &0.into())
    );
    assert!(copied["lag_ms"]["min"].as_i64().unwrap() >= 0, "{copied}");
    assert!(copied["first"]["timestamp"].as_i64().is_some(), "{copied}");
    let printed = consume(
        s,
        &bridged,
        &["--smartmodule", "origin-stats", "--aggregate-initial", "{}"],
    );
    let last = printed.last().expect("a summary");
    check_doc_block_with(SUMMARY_MARKER, &pretty(last), mask);

    let lines = consume(s, &topic, &["--smartmodule", "origin-inspect"]);
    assert_eq!(lines.len(), 5, "one line per record: {lines:?}");
    let read: Vec<Value> = lines.iter().map(|l| json(l)).collect();
    for (i, line) in read.iter().enumerate() {
        assert_eq!(line["offset"], i);
        assert_eq!(line["status"], "tagged");
        assert_eq!(line["tag"]["violation"], i >= 3, "{line}");
    }
    let payloads: Vec<&str> = read
        .iter()
        .map(|l| l["payload"].as_str().unwrap())
        .collect();
    assert_eq!(
        payloads,
        [
            "order 1",
            "order 2",
            "order 3",
            "typed on home",
            "typed again"
        ]
    );
    let shown = format!(
        "$ fluvio consume {SHOWN} -B -d --smartmodule origin-inspect\n{}\n",
        lines.join("\n")
    );
    check_doc_block_with(INSPECT_MARKER, &shown, mask);

    // The writers are fixed: they produce on edge-1, whose records the bridge copies.
    let fixed = s.tagged_on(&["edge-1"], &["order 4", "order 5"]);
    for (i, value) in fixed.iter().enumerate() {
        s.produce(&topic)
            .raw(value, &format!("order-{}.bin", i + 4))
            .run()
            .expect_ok();
    }
    let all = last_summary(s, &topic, &[]);
    assert_eq!(
        all["violations"]["records"], 2,
        "the earlier ones are still there"
    );
    let since = last_summary(s, &topic, &["--start", "5"]);
    assert_eq!(
        (&since["records"], &since["violations"]["records"]),
        (&2.into(), &0.into())
    );
    assert_eq!(since["first"]["offset"], 5);
    let mut transcript = format!(
        "# mode: audit; a bridge copies three records from edge-1, two writers type on home\n\
         $ fluvio consume {SHOWN} -B -d --smartmodule origin-stats --aggregate-initial '{{}}' | tail -1\n\
         {}\n\n\
         # the writers moved to edge-1; two more records bridged; read from offset 5 on\n\
         $ fluvio consume {SHOWN} --start 5 -d --smartmodule origin-stats --aggregate-initial '{{}}' | tail -1\n\
         {}\n",
        cut(&summary),
        cut(&since),
    );
    // Enforced: the topic that replaces it has the hook in reject mode.
    let with = [
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", SHOWN),
    ];
    let enforced = s.home.unique_topic("orders");
    s.home
        .create_topic_from_config(
            &enforced,
            &hook_config(&enforced, "mirror-policy", 1, None, &with),
        )
        .unwrap_or_else(|e| panic!("cannot create {enforced}: {e}"));
    let refused = s
        .produce(&enforced)
        .shown_as(SHOWN)
        .lines(&["typed on home"])
        .run();
    assert_eq!(refused.out.code, Some(1), "{}", refused.out.describe());
    assert!(
        refused.out.text().contains("a storage error occurred"),
        "{}",
        refused.out.describe()
    );
    assert_eq!(s.stored(&enforced), 0);
    case(
        &mut transcript,
        "mode: reject; a writer that was missed types on home",
        &refused,
        "nothing stored",
    );
    check_doc_block_with(LOOP_MARKER, &transcript, mask);
}

/// JSON text indented two spaces a level, keys left in their order (as `jq .` prints it).
fn pretty(compact: &str) -> String {
    let mut out = String::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' if matches!(chars.peek(), Some('}' | ']')) => {
                out.push(c);
                out.push(chars.next().unwrap_or_default());
            }
            '{' | '[' => {
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// A doc block with the figures that move from run to run left out: times, lags and record
/// ids.
fn mask(text: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return masked(v).to_string() + "\n";
    }
    text.lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(v) => masked(v).to_string(),
            Err(_) => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn masked(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        for (key, field) in m.iter_mut() {
            match key.as_str() {
                "timestamp" | "id" | "min" | "p50" | "p99" | "max" => *field = Value::Null,
                "buckets" => {
                    let n: u64 = field
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|b| b["records"].as_u64())
                        .sum();
                    *field = n.into();
                }
                _ => *field = masked(field.take()),
            }
        }
    }
    v
}
