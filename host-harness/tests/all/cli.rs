//! The `harness` binary as a user runs it: stdout, stderr and exit codes.

use std::process::Output;

use base64::Engine as _;
use serde_json::Value;

use crate::support::{harness, modules_dir, stderr, stdout};

/// `harness test` with the workspace's modules dir.
fn test(args: &[&str], stdin: &str) -> Output {
    let dir = modules_dir();
    let mut all = vec!["test", "--modules-dir", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    harness(&all, stdin)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn chain_file(dir: &tempfile::TempDir, text: &str) -> String {
    let p = dir.path().join("chain.yaml");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

const TWO_MODULES: &str = "transforms:
  - uses: misbehave
    with:
      mode: refuse
      word: rotten
  - uses: sdk-hello
";

#[test]
fn help_is_there_for_every_command_with_exit_codes() {
    let top = harness(&["--help"], "");
    assert_eq!(code(&top), 0);
    assert!(stdout(&top).contains("test"), "{}", stdout(&top));
    assert!(stdout(&top).contains("inspect"));
    let t = harness(&["test", "--help"], "");
    assert_eq!(code(&t), 0);
    let text = stdout(&t);
    for needle in [
        "--chain",
        "--module",
        "--fuel",
        "--timeout",
        "--memory",
        "Exit codes:",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    assert!(text.contains("2  a write was refused"), "{text}");
    assert!(text.contains("3  the chain could not be loaded"), "{text}");
    let i = harness(&["inspect", "--help"], "");
    assert_eq!(code(&i), 0);
    assert!(stdout(&i).contains("--carrier"));
    assert!(stdout(&i).contains("Exit codes:"));
}

#[test]
fn usage_errors_exit_1() {
    let o = harness(&["test"], "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--chain"), "{}", stderr(&o));
    let o = test(&["--module", "misbehave", "--version", "99"], "");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("16..=25") || stderr(&o).contains("99"),
        "{}",
        stderr(&o)
    );
    let o = test(&["--module", "misbehave", "--fuel", "lots"], "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--fuel"), "{}", stderr(&o));
    let o = harness(&["frobnicate"], "");
    assert_eq!(code(&o), 1);
}

#[test]
fn a_module_that_passes_everything_exits_0() {
    let o = test(
        &["--module", "misbehave", "-e", "mode=pass"],
        "apple\nfig\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("chain: misbehave (filter; mode=pass)"),
        "{out}"
    );
    assert!(out.contains("#0 offset 0 value=\"apple\": passed"), "{out}");
    assert!(out.contains("  -> offset 1 value=\"fig\""), "{out}");
    assert!(
        out.contains("summary: 2 in, 2 out: 2 passed, 0 changed, 0 dropped, 0 refused, 0 failed"),
        "{out}"
    );
}

#[test]
fn chain_file_shows_each_records_fate_and_exits_2_on_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_file(&dir, TWO_MODULES);
    let o = test(&["--chain", &chain], "apple\nfig\nrotten pear\n");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("chain: misbehave (filter; mode=refuse, word=rotten) -> sdk-hello (filter)"),
        "{out}"
    );
    assert!(out.contains("value=\"apple\": passed"), "{out}");
    assert!(out.contains("value=\"fig\": dropped by sdk-hello"), "{out}");
    assert!(
        out.contains("value=\"rotten pear\": refused by misbehave: misbehave refused a record containing the forbidden word"),
        "{out}"
    );
    // Without the bad record, the same chain exits 0.
    let o = test(&["--chain", &chain], "apple\nfig\n");
    assert_eq!(code(&o), 0);
}

#[test]
fn json_output_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_file(&dir, TWO_MODULES);
    let o = test(
        &[
            "--chain",
            &chain,
            "--format",
            "json",
            "--base-offset",
            "100",
        ],
        "apple\nfig\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(doc["chain"][0]["name"], "misbehave");
    assert_eq!(doc["chain"][1]["kind"], "filter");
    assert_eq!(doc["records"][0]["fate"], "passed");
    assert_eq!(doc["records"][0]["offset"], 100);
    assert_eq!(doc["records"][0]["outputs"][0]["value"], "apple");
    assert_eq!(doc["records"][0]["outputs"][0]["offset"], 100);
    assert_eq!(doc["records"][1]["fate"], "dropped");
    assert_eq!(doc["records"][1]["module"], "sdk-hello");
    assert_eq!(doc["summary"]["passed"], 1);
    assert_eq!(doc["summary"]["dropped"], 1);
    assert_eq!(doc["exit_code"], 0);
}

#[test]
fn jsonl_output_is_one_line_per_input_record_and_reads_jsonl_input() {
    let input = [
        r#"{"key":"k1","value":"plain","timestamp":1700000000000}"#,
        &format!(
            r#"{{"value":"{}","encoding":"base64"}}"#,
            base64::engine::general_purpose::STANDARD.encode([0xff, 0x00, 0x01])
        ),
        r#"{"value":{"temp":21}}"#,
    ]
    .join("\n");
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=pass",
            "--input-format",
            "jsonl",
            "--format",
            "jsonl",
        ],
        &input,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["outputs"][0]["key"], "k1");
    assert_eq!(lines[0]["outputs"][0]["timestamp"], 1_700_000_000_000i64);
    assert_eq!(lines[1]["outputs"][0]["encoding"], "base64");
    assert_eq!(lines[1]["outputs"][0]["value"], "/wAB");
    assert_eq!(lines[2]["input"]["value"], r#"{"temp":21}"#);
    assert!(lines.iter().all(|l| l["fate"] == "passed"));
}

#[test]
fn key_flag_gives_every_record_a_key() {
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=pass",
            "--key",
            "sensor-7",
            "--format",
            "jsonl",
        ],
        "a\nb\n",
    );
    assert_eq!(code(&o), 0);
    for line in stdout(&o).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["outputs"][0]["key"], "sensor-7");
    }
}

#[test]
fn bad_input_line_exits_1_naming_the_line() {
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=pass",
            "--input-format",
            "jsonl",
        ],
        "{\"value\":\"ok\"}\n{\"vaule\":\"typo\"}\n",
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
    assert!(stderr(&o).contains("vaule"), "{}", stderr(&o));
}

#[test]
fn load_and_init_errors_exit_3() {
    let o = test(&["--module", "no-such-module"], "x\n");
    assert_eq!(code(&o), 3);
    let err = stderr(&o);
    assert!(err.contains("module `no-such-module` not found"), "{err}");
    assert!(
        err.contains("available:") && err.contains("misbehave"),
        "{err}"
    );

    let o = test(&["--module", "misbehave"], "x\n");
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("refused its params at init"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("needs the param mode"),
        "{}",
        stderr(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = chain_file(
        &dir,
        "transforms:\n  - uses: misbehave\n    with:\n      retries: 3\n",
    );
    let o = test(&["--chain", &bad], "x\n");
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("quote it"), "{}", stderr(&o));
}

#[test]
fn limits_stop_a_call_and_the_run_carries_on() {
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=input",
            "--fuel",
            "50000000",
            "--memory",
            "16MiB",
        ],
        "one\nspin\ntwo\ngrow\nthree\ntrap\nfour\n",
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("value=\"spin\": failed in misbehave: module `misbehave` ran out of fuel (50000000 units"), "{out}");
    assert!(
        out.contains(
            "value=\"grow\": failed in misbehave: module `misbehave` tried to grow its memory"
        ),
        "{out}"
    );
    assert!(out.contains("over the limit of 16777216 bytes"), "{out}");
    assert!(
        out.contains("value=\"trap\": failed in misbehave: module `misbehave` trapped"),
        "{out}"
    );
    for ok in ["one", "two", "three", "four"] {
        assert!(
            out.contains(&format!("value=\"{ok}\": passed")),
            "{ok}: {out}"
        );
    }
    assert!(
        out.contains("4 passed, 0 changed, 0 dropped, 0 refused, 3 failed"),
        "{out}"
    );
}

#[test]
fn wall_time_limit_stops_a_loop_when_fuel_is_off() {
    let started = std::time::Instant::now();
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=spin",
            "--fuel",
            "none",
            "--timeout",
            "150ms",
        ],
        "x\n",
    );
    assert_eq!(code(&o), 2);
    assert!(
        stdout(&o).contains("did not return within 150ms"),
        "{}",
        stdout(&o)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_wasi_module_runs_from_its_path() {
    integration::build_all();
    let path = integration::modules_dir("wasm32-wasip1").join("sdk_hello.wasm");
    let o = harness(
        &["test", "--module", path.to_str().unwrap()],
        "apple\nplum\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("value=\"apple\": passed"), "{out}");
    assert!(
        out.contains("value=\"plum\": dropped by sdk_hello"),
        "{out}"
    );
}

#[test]
fn lookback_records_reach_a_module() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.txt");
    std::fs::write(&history, "a\nb\nc\n").unwrap();
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=dedup",
            "--lookback",
            history.to_str().unwrap(),
            "--lookback-last",
            "1",
        ],
        "a\nc\nd\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("value=\"a\": passed"), "{out}");
    assert!(out.contains("value=\"c\": dropped by misbehave"), "{out}");
    assert!(out.contains("value=\"d\": passed"), "{out}");
}

/// A record produced on `east` and bridged to `west`.
fn tagged(value: &[u8]) -> Vec<u8> {
    integration::tagged(&["east", "west"], value, None)
}

fn b64_line(value: &[u8]) -> String {
    format!(
        r#"{{"value":"{}","encoding":"base64"}}"#,
        base64::engine::general_purpose::STANDARD.encode(value)
    )
}

#[test]
fn inspect_decodes_origin_tags() {
    let value = b"{\"temp\":21}";
    let input = [b64_line(&tagged(value)), r#"{"value":"plain"}"#.to_string()].join("\n");
    let o = harness(&["inspect", "--input-format", "jsonl"], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "#0 tagged origin=east hops=1 path=east>west flags=0x00 timestamp=1700000000000 \
             id={:016x} mac=none payload=\"{{\\\"temp\\\":21}}\"",
            u64::from_le_bytes(integration::record_id("east", value))
        )),
        "{out}"
    );
    assert!(out.contains("#1 untagged \"plain\""), "{out}");
    assert!(
        out.contains("summary: 2 records: 1 tagged, 1 untagged, 0 malformed"),
        "{out}"
    );

    let o = harness(
        &["inspect", "--input-format", "jsonl", "--format", "json"],
        &input,
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["records"][0]["tag"]["path"][1], "west");
    assert_eq!(doc["records"][0]["payload"], "{\"temp\":21}");
}

#[test]
fn inspect_exits_2_on_a_malformed_tag_and_reads_keys() {
    let mut broken = tagged(b"x");
    broken.truncate(6);
    let o = harness(&["inspect", "--input-format", "jsonl"], &b64_line(&broken));
    assert_eq!(code(&o), 2);
    assert!(
        stdout(&o).contains("#0 malformed tag: origin tag truncated"),
        "{}",
        stdout(&o)
    );

    let key = base64::engine::general_purpose::STANDARD.encode(tagged(b"k"));
    let input = format!(
        "{{\"key\":\"{key}\",\"value\":\"{}\",\"encoding\":\"base64\"}}\n{{\"value\":\"no key\"}}\n",
        base64::engine::general_purpose::STANDARD.encode(b"v")
    );
    let o = harness(
        &["inspect", "--input-format", "jsonl", "--carrier", "key"],
        &input,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("#0 tagged origin=east"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("#1 no key"), "{}", stdout(&o));
}

#[test]
fn test_shows_the_tag_of_tagged_output_records() {
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=pass",
            "--input-format",
            "jsonl",
        ],
        &b64_line(&tagged(b"payload")),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("value=<tag "), "{out}");
    assert!(out.contains(">\"payload\""), "{out}");
    assert!(
        out.contains("tag origin=east hops=1 path=east>west"),
        "{out}"
    );
    let o = test(
        &[
            "--module",
            "misbehave",
            "-e",
            "mode=pass",
            "--input-format",
            "jsonl",
            "--format",
            "jsonl",
        ],
        &b64_line(&tagged(b"payload")),
    );
    let v: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(v["outputs"][0]["tag"]["origin"], "east");
    assert_eq!(v["outputs"][0]["tag"]["hops"], 1);
    assert_eq!(v["outputs"][0]["payload"], "payload");
}

fn example(name: &str) -> String {
    integration::workspace_root()
        .join("host-harness/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn hostile(name: &str) -> String {
    integration::workspace_root()
        .join("tests/fixtures/hostile")
        .join(format!("{name}.wat"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_wat_module_runs_from_its_path_without_a_toolchain() {
    let o = test(&["--module", &example("probe.wat")], "apple\nfig\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("chain: probe (filter)\n"), "{out}");
    assert!(out.contains("#1 offset 1 value=\"fig\": passed"), "{out}");
    assert!(
        out.contains("summary: 2 in, 2 out: 2 passed, 0 changed, 0 dropped, 0 refused, 0 failed"),
        "{out}"
    );
    // At every API version, in one batch.
    for version in ["16", "21", "25"] {
        let o = test(
            &[
                "--module",
                &example("probe.wat"),
                "--version",
                version,
                "--batch-size",
                "0",
            ],
            "a\nb\nc\n",
        );
        assert_eq!(code(&o), 0, "v{version}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("3 passed"),
            "v{version}: {}",
            stdout(&o)
        );
    }
    // WAT that does not parse is a load error naming the module and the line.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wat");
    std::fs::write(&bad, "(module (func").unwrap();
    let o = test(&["--module", bad.to_str().unwrap()], "x\n");
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("module `bad` is WAT text that does not parse"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_hostile_probe_fails_each_call_and_the_run_carries_on() {
    let o = test(&["--module", &hostile("table-grow")], "one\ntwo\n");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("value=\"two\": failed in table-grow: module `table-grow` tried to grow its tables to 100000001 elements, over the limit of 1000000 elements"),
        "{out}"
    );
    assert!(
        out.contains("0 passed, 0 changed, 0 dropped, 0 refused, 2 failed"),
        "{out}"
    );
    // Counts are checked at load: exit 3.
    let o = test(
        &["--module", &example("probe.wat"), "--memories", "0"],
        "x\n",
    );
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("defines too many linear memories: 1, over the limit of 0"),
        "{}",
        stderr(&o)
    );
    // A bad limit is a usage error.
    let o = test(
        &[
            "--module",
            &example("probe.wat"),
            "--table-elements",
            "lots",
        ],
        "x\n",
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--table-elements"), "{}", stderr(&o));
}
