//! Property tests: random topologies (2 to 8 clusters, bridges in random graphs with cycles
//! and diamonds, mirror-guarded clusters, native-mirror stars, secrets and forgers, links
//! going down and replaying, clusters restarting, reordering) must keep every invariant.
//!
//! `SIMULATE_SEEDS=A..B cargo test -p host-harness --test all simulate_random` runs other
//! seeds (default 0..200); `harness simulate --random --seeds 0..10000` is the long run.

use std::collections::BTreeMap;

use host_harness::simulate::{self, command::parse_seeds, random, Report, Topology, TopologyFile};
use host_harness::Engine;

use crate::support::{harness, modules_dir, resolver, stdout};

fn seeds() -> std::ops::Range<u64> {
    match std::env::var("SIMULATE_SEEDS") {
        Ok(text) => parse_seeds(&text).expect("SIMULATE_SEEDS"),
        Err(_) => 0..200,
    }
}

fn run(seed: u64) -> (Topology, Report) {
    let topology = simulate::random_topology(seed, &resolver())
        .unwrap_or_else(|e| panic!("seed {seed}: the generator made a bad topology: {e}"));
    let report = simulate::run(&Engine::shared().unwrap(), &topology, seed, &mut |_| {})
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    (topology, report)
}

#[test]
fn random_topologies_keep_every_invariant() {
    let started = std::time::Instant::now();
    let seeds = seeds();
    let mut failures = Vec::new();
    // What the seeds exercised: each must show up, or the property is weaker than it says.
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    let mut count = |what: &'static str, yes: bool| {
        if yes {
            *seen.entry(what).or_default() += 1;
        }
    };
    for seed in seeds.clone() {
        let (topology, report) = run(seed);
        if !report.passed {
            failures.push(format!(
                "seed {seed}: {}\n{}\ntopology:\n{}",
                report.failed().join(", "),
                report.text(&topology, false),
                topology.file.to_yaml()
            ));
        }
        let n = topology.clusters.len();
        count("2 clusters", n == 2);
        count("8 clusters", n == 8);
        count("diamond", has_diamond(&topology));
        count(
            "dropped as loop",
            report.nodes.iter().any(|r| r.stats.dropped_loop > 0),
        );
        count(
            "dropped as duplicate",
            report.nodes.iter().any(|r| r.stats.dropped_duplicate > 0),
        );
        count(
            "re-sent after an outage",
            report.links.iter().any(|l| l.stats.resent > 0),
        );
        count(
            "lost in flight",
            report.links.iter().any(|l| l.stats.lost_in_flight > 0),
        );
        count(
            "native mirror resync",
            report.links.iter().any(|l| l.stats.resyncs > 0),
        );
        count(
            "restart with look_back",
            report.faults.iter().any(|f| f.contains("look_back fed")),
        );
        for (name, what) in [
            ("mirror-protection", "mirror topic"),
            ("native-mirror-alignment", "native mirror"),
            ("forged-tags-refused", "forger"),
        ] {
            count(
                what,
                report
                    .invariants
                    .iter()
                    .any(|i| i.name == name && i.applies),
            );
        }
        for role in ["mirror (reject)", "mirror (drop)", "mirror (audit)"] {
            count(role, report.nodes.iter().any(|r| r.role == role));
        }
        count(
            "carrier key",
            topology
                .nodes
                .iter()
                .any(|n| n.carrier == host_harness::tag::Carrier::Key),
        );
        count("secrets", topology.nodes.iter().any(|n| n.has_secret));
    }
    eprintln!(
        "{} random topologies in {:.1} s; exercised: {seen:?}",
        seeds.end - seeds.start,
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} seed(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    if seeds.end - seeds.start >= 200 {
        for what in [
            "2 clusters",
            "8 clusters",
            "diamond",
            "dropped as loop",
            "dropped as duplicate",
            "re-sent after an outage",
            "lost in flight",
            "native mirror resync",
            "restart with look_back",
            "mirror topic",
            "native mirror",
            "forger",
            "mirror (reject)",
            "mirror (drop)",
            "mirror (audit)",
            "carrier key",
            "secrets",
        ] {
            assert!(
                seen.get(what).copied().unwrap_or(0) >= 3,
                "{what}: {seen:?}"
            );
        }
    }
}

/// Two different routes from one cluster to another (a -> b -> d and a -> c -> d).
fn has_diamond(t: &Topology) -> bool {
    let next = |c: usize| -> Vec<usize> {
        t.links
            .iter()
            .filter(|l| l.from == c)
            .map(|l| l.to)
            .collect()
    };
    (0..t.clusters.len()).any(|a| {
        let mids = next(a);
        mids.iter().enumerate().any(|(i, &b)| {
            mids[i + 1..]
                .iter()
                .any(|&c| next(b).iter().any(|d| *d != a && next(c).contains(d)))
        })
    })
}

#[test]
fn the_same_seed_gives_the_same_topology_and_the_same_run() {
    for seed in [3, 41, 977] {
        assert_eq!(
            random::topology(seed).to_yaml(),
            random::topology(seed).to_yaml()
        );
        let (_, a) = run(seed);
        let (_, b) = run(seed);
        assert_eq!(a.json(), b.json(), "seed {seed}");
    }
    assert_ne!(random::topology(1).to_yaml(), random::topology(2).to_yaml());
}

#[test]
fn a_random_topology_written_out_runs_the_same_from_its_file() {
    let resolver = resolver();
    for seed in [5, 123] {
        let (_, direct) = run(seed);
        let yaml = random::topology(seed).to_yaml();
        let file = TopologyFile::parse(&yaml).unwrap();
        let topology = Topology::from_file(file, None, &resolver).unwrap();
        let again =
            simulate::run(&Engine::shared().unwrap(), &topology, seed, &mut |_| {}).unwrap();
        assert_eq!(direct.json(), again.json(), "seed {seed}");
    }
}

#[test]
fn the_long_run_command_reports_every_seed() {
    let dir = modules_dir();
    let dir = dir.to_str().unwrap();
    let out = harness(
        &[
            "simulate",
            "--random",
            "--seeds",
            "0..5",
            "--modules-dir",
            dir,
        ],
        "",
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("random topologies, seeds 0..5: 5 run(s), 5 passed, 0 failed;"),
        "{text}"
    );
    let out = harness(
        &["simulate", "--random", "--seed", "4", "--print-topology"],
        "",
    );
    assert_eq!(stdout(&out), random::topology(4).to_yaml());
}
