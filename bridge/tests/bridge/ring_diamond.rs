//! A ring of three clusters (a -> b -> c -> a) and a diamond (a -> b -> d, a -> c -> d), each
//! written as a `harness simulate` topology and run by one bridge process that names the
//! file's links. Every record is stored once on every cluster it reaches: the ring's loop
//! check stops records at their origin, the diamond's sink drops the second route's copy.

use crate::world::{assert_exactly_once, finished, lines, say, World};

const WINDOW: &str = "10000";

/// A topology file as `harness simulate` reads it: each cluster's topic guarded by
/// mirror-policy with a de-duplication window (its look-back as large), and the links.
fn topology(name: &str, topic: &str, clusters: &[&str], links: &[(&str, &str)]) -> String {
    let mut yaml = format!("name: {name}\nclusters:\n");
    for c in clusters {
        yaml.push_str(&format!(
            "  - id: {c}\n    topics:\n      - name: {topic}\n"
        ));
        yaml.push_str("        transforms:\n          - uses: mirror-policy\n");
        yaml.push_str(&format!(
            "            with: {{ cluster: {c}, dedup: \"{WINDOW}\" }}\n"
        ));
        yaml.push_str(&format!("            lookback: {{ last: {WINDOW} }}\n"));
    }
    yaml.push_str("links:\n");
    for (from, to) in links {
        yaml.push_str(&format!(
            "  - {{ from: {from}, to: {to}, topic: {topic} }}\n"
        ));
    }
    yaml
}

/// A bridge config that runs every link of `topology` by name.
fn config(w: &World, topology: &str, links: &[(&str, &str)]) -> String {
    let mut yaml = format!("topology: {topology}\n{}links:\n", w.clusters_yaml());
    for (from, to) in links {
        yaml.push_str(&format!("  - link: {from}->{to}\n"));
    }
    yaml
}

pub fn ring_and_diamond(w: &mut World) {
    const RING: &[(&str, &str)] = &[("a", "b"), ("b", "c"), ("c", "a")];
    const DIAMOND: &[(&str, &str)] = &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")];
    for c in ["a", "b", "c"] {
        w.guarded_topic(c, "ring", &[("dedup", WINDOW)]);
    }
    for c in ["a", "b", "c", "d"] {
        w.guarded_topic(c, "diamond", &[("dedup", WINDOW)]);
    }
    w.file(
        "ring.yaml",
        &topology("ring-3", "ring", &["a", "b", "c"], RING),
    );
    w.file(
        "diamond.yaml",
        &topology("diamond", "diamond", &["a", "b", "c", "d"], DIAMOND),
    );
    let ring_config = w.file("ring-bridge.yaml", &config(w, "ring.yaml", RING));
    let diamond_config = w.file("diamond-bridge.yaml", &config(w, "diamond.yaml", DIAMOND));

    let written: Vec<(&str, Vec<String>)> = ["a", "b", "c"]
        .iter()
        .map(|c| (*c, lines(&format!("ring record from {c}"), 0..100)))
        .collect();
    for (c, values) in &written {
        w.produce(c, "ring", &values[..50], false, &[]);
    }
    let from_a = lines("diamond record from a", 0..200);
    let from_b = lines("diamond record from b", 0..50);
    w.produce("a", "diamond", &from_a[..100], false, &[]);

    let ring = w.bridge(
        "ring",
        &["--config".into(), ring_config.display().to_string()],
    );
    let diamond = w.bridge(
        "diamond",
        &["--config".into(), diamond_config.display().to_string()],
    );
    for (c, values) in &written {
        w.produce(c, "ring", &values[50..], false, &[]);
    }
    w.produce("a", "diamond", &from_a[100..], false, &[]);
    w.produce("b", "diamond", &from_b, false, &[]);

    let took = w.wait_for_counts(
        "ring and diamond",
        &[
            ("a", "ring", 300),
            ("b", "ring", 300),
            ("c", "ring", 300),
            ("a", "diamond", 200),
            ("b", "diamond", 250),
            ("c", "diamond", 200),
            ("d", "diamond", 250),
        ],
    );
    say!(
        "bridge-tests: ring and diamond settled in {:.1} s",
        took.as_secs_f64()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(w.stored("a", "ring"), 300, "the ring kept going");
    assert_eq!(
        w.stored("d", "diamond"),
        250,
        "the diamond's sink kept growing"
    );

    let (status, ring_out) = ring.stop();
    assert_eq!(status.code(), Some(0), "{ring_out}");
    let (status, diamond_out) = diamond.stop();
    assert_eq!(status.code(), Some(0), "{diamond_out}");

    let all_ring: Vec<String> = written.iter().flat_map(|(_, v)| v.clone()).collect();
    for c in ["a", "b", "c"] {
        assert_exactly_once(&format!("{c}/ring"), &w.read(c, "ring", 0), &all_ring);
    }
    // Round the ring each record is sent on by every cluster, its origin's neighbour
    // included, which drops it as a loop.
    for (from, to) in RING {
        let f = finished(&ring_out, &format!("{from}->{to}"));
        assert!(f.delivered >= 300, "{from}->{to}: {f:?}");
    }
    let mut a_and_b = from_a.clone();
    a_and_b.extend(from_b.iter().cloned());
    assert_exactly_once("a/diamond", &w.read("a", "diamond", 0), &from_a);
    assert_exactly_once("b/diamond", &w.read("b", "diamond", 0), &a_and_b);
    assert_exactly_once("c/diamond", &w.read("c", "diamond", 0), &from_a);
    assert_exactly_once("d/diamond", &w.read("d", "diamond", 0), &a_and_b);
    let into_d =
        finished(&diamond_out, "b->d").delivered + finished(&diamond_out, "c->d").delivered;
    assert!(
        into_d >= 450,
        "d should have been sent a's records twice (once per route): {into_d}"
    );
}
