//! Two clusters, each taking writes, each bridging `orders` to the other (A -> B -> A), with
//! mirror-policy at every topic hook: a de-duplication window and, on a mirror topic, the
//! guard. Every record written on either side is stored once on both, the copies that come
//! back are dropped as loops, and a local write to the mirror topic is refused.
//!
//! a -> b runs from a config file with two links (`orders`, and `payments` into a mirror
//! topic); b -> a from flags.

use std::time::Duration;

use crate::world::{assert_exactly_once, assert_in_order, finished, lines, say, World};

const WINDOW: &str = "5000";

pub fn both_ways(w: &mut World) {
    w.guarded_topic("a", "orders", &[("dedup", WINDOW)]);
    w.guarded_topic("b", "orders", &[("dedup", WINDOW)]);
    w.guarded_topic("a", "payments", &[]);
    w.guarded_topic(
        "b",
        "payments",
        &[("dedup", WINDOW), ("mirror_of", "a"), ("topic", "payments")],
    );

    // Keyed records on a, unkeyed on b: keys travel byte for byte.
    let a_orders: Vec<String> = (0..300).map(|i| format!("a-key-{i}:a order {i}")).collect();
    let b_orders = lines("b order", 0..300);
    let payments = lines("payment", 0..100);
    w.produce("a", "orders", &a_orders[..150], true, &[]);
    w.produce("b", "orders", &b_orders[..150], false, &[]);
    w.produce("a", "payments", &payments[..50], false, &[]);

    let config = w.file(
        "a-to-b.yaml",
        &format!(
            "{}links:\n  - {{ from: a, to: b, topic: orders }}\n  - {{ from: a, to: b, topic: \
             payments }}\n",
            w.clusters_yaml()
        ),
    );
    let ab = w.bridge(
        "a-to-b",
        &[
            "--config".into(),
            config.display().to_string(),
            "--progress-secs".into(),
            "1".into(),
        ],
    );
    let ba = w.bridge("b-to-a", &w.link_args("b", "a", "orders"));

    // More writes on both sides while the bridges run.
    w.produce("a", "orders", &a_orders[150..], true, &[]);
    w.produce("b", "orders", &b_orders[150..], false, &[]);
    w.produce("a", "payments", &payments[50..], false, &[]);
    let took = w.wait_for_counts(
        "active-active",
        &[
            ("a", "orders", 600),
            ("b", "orders", 600),
            ("b", "payments", 100),
        ],
    );
    say!(
        "bridge-tests: both sides settled {:.1} s after the last write",
        took.as_secs_f64()
    );

    // Nothing loops: the copies keep going round and are dropped; counts stay put.
    std::thread::sleep(Duration::from_secs(2));
    for (c, t, n) in [
        ("a", "orders", 600),
        ("b", "orders", 600),
        ("b", "payments", 100),
    ] {
        assert_eq!(w.stored(c, t), n, "{c}/{t} grew after settling: a loop");
    }

    // A local write to the mirror topic is refused at its hook, and nothing is stored.
    let out = w
        .cluster("b")
        .fluvio(&["produce", "payments"], Some(b"typed on b\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !out.success(),
        "a local write to b's mirror topic was accepted"
    );
    assert!(out.text().contains("storage error"), "{}", out.describe());
    assert_eq!(w.stored("b", "payments"), 100);

    let (ab_status, ab_out) = ab.stop();
    let (ba_status, ba_out) = ba.stop();
    assert_eq!(ab_status.code(), Some(0), "a -> b on SIGTERM:\n{ab_out}");
    assert_eq!(ba_status.code(), Some(0), "b -> a on SIGTERM:\n{ba_out}");
    // Each bridge sent every record its source stored, its own copies of the other side's
    // records included: those came back and the hook dropped them as loops.
    let ab_orders = finished(&ab_out, "a->b:orders");
    let ba_orders = finished(&ba_out, "b->a");
    for (f, out) in [(ab_orders, &ab_out), (ba_orders, &ba_out)] {
        assert!(f.delivered >= 600 && f.refused == 0, "{f:?}:\n{out}");
    }
    assert!(
        ab_out.contains("origin-bridge: a->b:orders orders -> orders: delivered "),
        "no progress line (--progress-secs 1):\n{ab_out}"
    );

    let mut all: Vec<String> = a_orders
        .iter()
        .map(|l| l.split_once(':').map_or(l.clone(), |(_, v)| v.to_string()))
        .collect();
    let a_values = all.clone();
    all.extend(b_orders.iter().cloned());
    for side in ["a", "b"] {
        let stored = w.read(side, "orders", 0);
        assert_exactly_once(&format!("{side}/orders"), &stored, &all);
        assert_in_order(&format!("a's records on {side}"), &stored, &a_values);
        assert_in_order(&format!("b's records on {side}"), &stored, &b_orders);
        for r in &stored {
            let value = String::from_utf8_lossy(&r.value);
            let want = value.strip_prefix("a order ").map(|i| format!("a-key-{i}"));
            assert_eq!(r.key, want, "{side}: the key of {value:?}");
        }
    }
    let stored = w.read("b", "payments", 0);
    assert_exactly_once("b/payments", &stored, &payments);
    assert_in_order("b/payments", &stored, &payments);
}
