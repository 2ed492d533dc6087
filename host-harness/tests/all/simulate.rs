//! `harness simulate` on the example topologies, from the built binary, and the simulator's
//! invariants shown to fail when a topology breaks them.

use std::path::PathBuf;
use std::process::Output;

use host_harness::chain_file::StepsDoc;
use host_harness::simulate::{self, Report, Topology, TopologyError, TopologyFile};
use host_harness::{ChainFileError, Engine};
use serde_json::Value;

use crate::support::{harness, modules_dir, resolver, stderr, stdout};

fn topologies() -> PathBuf {
    integration::workspace_root().join("examples/topologies")
}

/// `harness simulate ARGS` on the built modules.
fn simulate(args: &[&str]) -> Output {
    let dir = modules_dir();
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend(["--modules-dir", dir.to_str().unwrap()]);
    harness(&all, "")
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(topologies())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_topology_passes_every_invariant() {
    let names: Vec<String> = examples()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "active-active",
        "diamond",
        "forged-secrets",
        "ring-4",
        "star-native",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing example {expected}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    for file in examples() {
        let report = tmp.path().join("report.json");
        let out = simulate(&[file.to_str().unwrap(), "--report", report.to_str().unwrap()]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}:\n{text}\n{}",
            file.display(),
            stderr(&out)
        );
        assert!(text.contains("result: PASS"), "{text}");
        assert!(text.contains("every record came to rest"), "{text}");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(doc["passed"], true);
        assert_eq!(doc["settled"], true);
        let invariants = doc["invariants"].as_array().unwrap();
        assert_eq!(invariants.len(), 6);
        for inv in invariants {
            assert_eq!(inv["violations"], 0, "{}: {inv}", file.display());
        }
        // Something flowed on every link.
        for link in doc["links"].as_array().unwrap() {
            assert!(
                link["delivered"].as_u64().unwrap() > 0,
                "{}: link {} carried nothing",
                file.display(),
                link["name"]
            );
        }
    }
}

#[test]
fn the_examples_exercise_what_they_claim() {
    let engine = Engine::shared().unwrap();
    let resolver = resolver();
    let run = |name: &str| -> Report {
        let t = Topology::load(topologies().join(name), &resolver).unwrap();
        simulate::run(&engine, &t, t.seed, &mut |_| {}).unwrap()
    };
    let invariant = |r: &Report, name: &str| {
        r.invariants
            .iter()
            .find(|i| i.name == name)
            .cloned()
            .unwrap()
    };

    let ring = run("ring-4.yaml");
    assert!(ring.nodes.iter().all(|n| n.stats.dropped_loop > 0));
    assert!(
        ring.links.iter().any(|l| l.stats.resent > 0),
        "a link replays"
    );
    assert!(ring.nodes.iter().any(|n| n.stats.dropped_duplicate > 0));
    assert!(ring.faults.iter().any(|f| f.contains("look_back fed")));

    let diamond = run("diamond.yaml");
    let sink = diamond.nodes.iter().find(|n| n.cluster == "sink").unwrap();
    assert!(
        sink.stats.dropped_duplicate >= 50,
        "the second route is de-duplicated"
    );

    let star = run("star-native.yaml");
    let home = star.nodes.iter().find(|n| n.cluster == "home").unwrap();
    assert_eq!(
        home.stats.refused, 3,
        "the platform refuses producers on home"
    );
    assert!(star.links.iter().any(|l| l.stats.resyncs > 0));
    assert!(invariant(&star, "native-mirror-alignment").applies);

    let forged = run("forged-secrets.yaml");
    let f = invariant(&forged, "forged-tags-refused");
    assert!(f.applies && f.checked == 10 && f.holds());
    let m = invariant(&forged, "mirror-protection");
    assert!(m.applies && m.checked > 9 && m.holds());

    let aa = run("active-active.yaml");
    assert!(aa.nodes.iter().all(|n| n.stats.dropped_loop > 0));
}

#[test]
fn a_ring_with_the_loop_check_removed_fails_with_a_loop_counter_example() {
    let file = topologies().join("broken/ring-4-without-guard.yaml");
    let out = simulate(&[file.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(4), "{text}\n{}", stderr(&out));
    assert!(text.contains("FAIL no-loop"), "{text}");
    assert!(
        text.contains("came back to d and was stored again (path d > a > b > c > d)"),
        "{text}"
    );
    assert!(text.contains("FAIL no-duplicate"), "{text}");
    assert!(
        text.contains("result: FAIL (no-loop, no-duplicate)"),
        "{text}"
    );

    // The same, built from the passing ring by editing the file in the test.
    let ring = std::fs::read_to_string(topologies().join("ring-4.yaml")).unwrap();
    let guard = "          - uses: mirror-policy\n            with: { cluster: b, dedup: \"10000\" }\n            lookback: { last: 10000 }\n";
    assert!(ring.contains(guard));
    let broken = ring.replace(
        guard,
        "          - uses: origin-tag\n            with: { cluster: b }\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ring.yaml");
    std::fs::write(&path, broken).unwrap();
    let out = simulate(&[path.to_str().unwrap(), "-q"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("came back to b and was stored again"),
        "{text}"
    );
}

#[test]
fn records_circulating_without_any_loop_check_stop_the_run_and_fail_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bare.yaml");
    std::fs::write(
        &path,
        "clusters:\n  - {id: a, topics: [{name: t}]}\n  - {id: b, topics: [{name: t}]}\n\
         links:\n  - {from: a, to: b, topic: t}\n  - {from: b, to: a, topic: t}\n\
         producers:\n  - {cluster: a, topic: t, records: 5}\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = simulate(&[path.to_str().unwrap(), "-q"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("STOPPED before records came to rest"),
        "{text}"
    );
    assert!(text.contains("FAIL no-loop"), "{text}");
    assert!(text.contains("the run did not come to rest ("), "{text}");
    assert!(text.contains("records circulate"), "{text}");
    assert!(text.contains("FAIL no-duplicate"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn pictures_and_reports_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dot = tmp.path().join("t.dot");
    let svg = tmp.path().join("t.svg");
    let report = tmp.path().join("t.json");
    let file = topologies().join("diamond.yaml");
    let out = simulate(&[
        file.to_str().unwrap(),
        "--dot",
        dot.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--seed",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dot = std::fs::read_to_string(dot).unwrap();
    assert!(dot.starts_with("digraph \"diamond\" {"), "{dot}");
    assert!(
        dot.contains("\"src\" -> \"left\" [label=\"orders (bridge)\\n"),
        "{dot}"
    );
    assert_eq!(dot.matches(" -> ").count(), 5);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("marker-end=").count(), 5);
    for id in ["src", "left", "right", "sink"] {
        assert!(svg.contains(&format!(">{id}</text>")), "{id}");
    }
    assert!(svg.contains("diamond, seed 3: <tspan"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(doc["seed"], 3);
    assert_eq!(doc["nodes"].as_array().unwrap().len(), 4);
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let file = topologies().join("active-active.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for (i, seed) in ["9", "9", "10"].iter().enumerate() {
        let report = tmp.path().join(format!("{i}.json"));
        let out = simulate(&[
            file.to_str().unwrap(),
            "--seed",
            seed,
            "--report",
            report.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        reports.push(std::fs::read_to_string(report).unwrap());
    }
    assert_eq!(reports[0], reports[1]);
    // Another seed: other jitter, sizes and reordering, so other counts.
    let counts = |text: &str| {
        let mut doc: Value = serde_json::from_str(text).unwrap();
        doc.as_object_mut().unwrap().remove("seed");
        doc
    };
    assert_ne!(counts(&reports[0]), counts(&reports[2]));
}

#[test]
fn bad_topology_files_exit_3_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "clusters:\n  - id: a\n    topics: [{name: t, transform: []}]\n",
            "unknown field `transform`",
        ),
        (
            "clusters:\n  - id: a\n    topics: [{name: t}]\nlinks:\n  - {from: a, to: z, topic: t}\n",
            "no cluster \"z\"",
        ),
        (
            "clusters:\n  - id: a\n    topics:\n      - name: t\n        transforms:\n          - uses: mirror-polcy\n            with: {cluster: a}\n",
            "module `mirror-polcy` not found",
        ),
        (
            "clusters:\n  - id: a\n    topics:\n      - name: t\n        transforms:\n          - uses: mirror-policy\n            with: {cluster: a, dedup: lots}\n",
            "bad param 'dedup'='lots'",
        ),
        (
            "clusters:\n  - id: a\n    topics:\n      - name: t\n        transforms:\n          - uses: mirror-policy\n            with: {cluster: a, mirror_of: b}\n  - id: b\n    topics: [{name: t}]\nproducers:\n  - {cluster: a, topic: t, records: 3}\n",
            "Set `local_writes_to_mirror: true`",
        ),
        (
            "clusters:\n  - id: a\n    topics: [{name: t}]\nfaults:\n  - {kind: link-down, link: a->b, at_ms: 1, for_ms: 2}\n",
            "no link named \"a->b\"",
        ),
        ("clusters: []\n", "at least one cluster"),
        (
            "clusters:\n  - id: a b\n    topics: [{name: t}]\n",
            "cluster #1 id \"a b\"",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("bad{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let out = simulate(&[path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "case {i}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "case {i}: expected {expected:?} in {}",
            stderr(&out)
        );
    }
    let out = simulate(&[tmp.path().join("missing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot read topology file"));
}

#[test]
fn topology_errors_are_typed() {
    let check = |transforms: &str| {
        let text = format!("clusters:\n  - id: a\n    topics:\n      - name: t\n        transforms: {transforms}\n");
        Topology::from_file(TopologyFile::parse(&text).unwrap(), None, &resolver()).unwrap_err()
    };
    let e = check("[{uses: mirror-polcy, with: {cluster: a}}]");
    assert!(e.is_module_not_found(), "{e}");
    assert!(
        matches!(&e, TopologyError::Chain { source: ChainFileError::ModuleNotFound { name, .. }, .. } if name == "mirror-polcy"),
        "{e:?}"
    );
    let e = check("[{uses: mirror-policy, with: {cluster: a, dedup: lots}}]");
    assert!(
        matches!(&e, TopologyError::Params { step, error, .. }
            if step == "mirror-policy" && error.param() == "dedup"),
        "{e:?}"
    );
    assert!(!e.is_module_not_found());
    let e = check("[{uses: mirror-policy, with: {dedup: 5}}]");
    assert!(
        matches!(
            &e,
            TopologyError::Chain {
                source: ChainFileError::Step { index: 1, .. },
                ..
            }
        ),
        "{e:?}"
    );
    let e = check("{uses: mirror-policy}");
    assert!(
        matches!(&e, TopologyError::TransformsNotAList { .. }),
        "{e:?}"
    );
    assert!(matches!(
        TopologyFile::parse("clusters: 5\n"),
        Err(TopologyError::Syntax(_))
    ));
}

#[test]
fn without_built_modules_the_error_says_how_to_build_them_and_no_seed_runs() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    for args in [
        &[
            "simulate",
            "--random",
            "--seeds",
            "0..3",
            "--modules-dir",
            dir,
        ][..],
        &["simulate", "--random", "--seed", "3", "--modules-dir", dir],
    ] {
        let out = harness(args, "");
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("module `mirror-policy` not found")
                && stderr(&out).contains("the policy modules are not built in"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn help_documents_the_command_and_its_exit_codes() {
    let out = harness(&["simulate", "--help"], "");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in [
        "--seed",
        "--report",
        "--dot",
        "--svg",
        "--modules-dir",
        "--random",
        "--seeds",
        "no-loop",
        "native-mirror-alignment",
        "4  an invariant failed",
        "3  bad topology file",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// The invariants have teeth: each topology below breaks one on purpose.
fn run_edited(name: &str, edit: impl FnOnce(&mut TopologyFile)) -> Report {
    let path = topologies().join(name);
    let mut file = TopologyFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut file);
    let t = Topology::from_file(file, Some(&path), &resolver()).unwrap();
    simulate::run(&Engine::shared().unwrap(), &t, t.seed, &mut |_| {}).unwrap()
}

fn with_param(file: &mut TopologyFile, cluster: &str, topic: &str, key: &str, value: Option<&str>) {
    let c = file.clusters.iter_mut().find(|c| c.id == cluster).unwrap();
    let t = c.topics.iter_mut().find(|t| t.name == topic).unwrap();
    let Some(StepsDoc::List(steps)) = t.transforms.as_mut() else {
        panic!("{cluster}/{topic} has a write path")
    };
    steps[0].set_param(key, value);
}

#[test]
fn without_dedup_the_diamond_stores_duplicates() {
    let r = run_edited("diamond.yaml", |f| {
        with_param(f, "sink", "orders", "dedup", None);
    });
    assert_eq!(r.failed(), ["no-duplicate"], "{:#?}", r.invariants);
    let dup = &r.invariants[1];
    assert!(
        dup.examples
            .iter()
            .any(|e| e.starts_with("sink/orders: record src#")
                && e.contains("via link left->sink")
                && e.contains("via link right->sink")),
        "{:?}",
        dup.examples
    );
}

#[test]
fn a_dedup_window_smaller_than_the_replays_lets_duplicates_through() {
    // The ring's replays re-send records older than a two-record window.
    let r = run_edited("ring-4.yaml", |f| {
        for c in ["a", "b", "c", "d"] {
            with_param(f, c, "orders", "dedup", Some("2"));
        }
    });
    assert!(r.failed().contains(&"no-duplicate"), "{:#?}", r.invariants);
}

#[test]
fn without_secrets_a_forged_tag_passes_for_mirror_traffic() {
    let r = run_edited("forged-secrets.yaml", |f| {
        for c in &mut f.clusters {
            c.secret = None;
        }
    });
    assert!(
        r.failed().contains(&"mirror-protection"),
        "{:#?}",
        r.invariants
    );
    let m = r
        .invariants
        .iter()
        .find(|i| i.name == "mirror-protection")
        .unwrap();
    assert!(
        m.examples.iter().any(|e| e
            .contains("(forged tag) to mirror topic west/orders-mirror (reject mode) was stored")),
        "{:?}",
        m.examples
    );
}

#[test]
fn a_native_mirror_target_that_drops_mirror_records_breaks_alignment() {
    // home accepts only edge-1 as upstream, and drops the rest.
    let r = run_edited("star-native.yaml", |f| {
        with_param(f, "home", "sensors", "mirror_of", Some("edge-1"));
        with_param(f, "home", "sensors", "mode", Some("drop"));
    });
    let failed = r.failed();
    // Not loss: the guard makes home unreachable for edge-2's and edge-3's records.
    assert_eq!(failed, ["mirror-protection", "native-mirror-alignment"]);
    let a = r
        .invariants
        .iter()
        .find(|i| i.name == "native-mirror-alignment")
        .unwrap();
    assert!(
        a.examples
            .iter()
            .all(|e| e.contains("did not store edge-") && e.contains("dropped as a local write")),
        "{:?}",
        a.examples
    );
}

#[test]
fn a_bridge_into_a_mirror_topic_from_a_non_upstream_is_warned_about_and_refused() {
    // west's orders accepts only `nobody` upstream: east's bridged records are refused.
    let path = topologies().join("active-active.yaml");
    let mut file = TopologyFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    with_param(&mut file, "west", "orders", "mirror_of", Some("nobody"));
    file.producers.retain(|p| p.cluster != "west");
    let t = Topology::from_file(file, Some(&path), &resolver()).unwrap();
    assert!(
        t.warnings
            .iter()
            .any(|w| w
                .starts_with("link east->west: west/orders is a mirror of nobody but east is not")),
        "{:?}",
        t.warnings
    );
    let r = simulate::run(&Engine::shared().unwrap(), &t, 1, &mut |_| {}).unwrap();
    let west = r.nodes.iter().find(|n| n.cluster == "west").unwrap();
    assert_eq!(west.stats.stored, 0);
    assert!(west.stats.refused >= 60, "{}", west.stats.refused);
    // The guard makes west unreachable for east's records, so this is not loss; the refusals
    // show in the tables and the warning.
    assert!(r.passed, "{:#?}", r.invariants);
}
