//! Partition i goes to partition i; several processes share a link by partition ranges,
//! each with its own committed offsets; a target whose partition count differs, a missing
//! topic and an unreachable cluster stop the bridge at start with exit code 4.

use crate::world::{assert_exactly_once, assert_in_order, finished, lines, World};

pub fn partition_mapping(w: &mut World) {
    for c in ["a", "b"] {
        w.topic_with_partitions(c, "parts", 2);
    }
    w.topic_with_partitions("b", "parts3", 3);
    let p0 = lines("partition 0 record", 0..30);
    let p1 = lines("partition 1 record", 0..20);
    w.produce("a", "parts", &p0, false, &["-p", "0"]);
    w.produce("a", "parts", &p1, false, &["-p", "1"]);

    let link = |w: &World, to_topic: &str| -> Vec<String> {
        let mut args = w.link_args("a", "b", "parts");
        args.extend(["--to-topic".into(), to_topic.into()]);
        args
    };

    // One process takes partition 1 only.
    let mut args = link(w, "parts");
    args.extend(["--partitions".into(), "1".into()]);
    let out = w.bridge_until_caught_up(&args);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(finished(&out.text(), "a->b").delivered, 20);
    assert_eq!(
        w.read("b", "parts", 0).len(),
        0,
        "partition 0 was not this process's"
    );
    let stored = w.read("b", "parts", 1);
    assert_exactly_once("b/parts partition 1", &stored, &p1);
    assert_in_order("b/parts partition 1", &stored, &p1);

    // Another takes both: partition 1 resumes from its commit, partition 0 starts.
    let out = w.bridge_until_caught_up(&link(w, "parts"));
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(finished(&out.text(), "a->b").delivered, 30);
    let stored = w.read("b", "parts", 0);
    assert_exactly_once("b/parts partition 0", &stored, &p0);
    assert_in_order("b/parts partition 0", &stored, &p0);
    assert_eq!(w.read("b", "parts", 1).len(), 20);

    // Partition counts that differ.
    let out = w.bridge_until_caught_up(&link(w, "parts3"));
    assert_eq!(out.code, Some(4), "{}", out.describe());
    assert!(
        out.text().contains(
            "'parts' has 2 partition(s) on 'a' but 'parts3' has 3 on 'b'; partition i is \
             copied to partition i, so create the target with 2 partition(s)"
        ),
        "{}",
        out.describe()
    );
    // A partition range outside the topic.
    let mut args = link(w, "parts");
    args.extend(["--partitions".into(), "1-2".into()]);
    let out = w.bridge_until_caught_up(&args);
    assert_eq!(out.code, Some(4), "{}", out.describe());
    assert!(
        out.text().contains("partitions 1-2 are outside 'parts'"),
        "{}",
        out.describe()
    );
    // A topic that does not exist.
    let out = w.bridge_until_caught_up(&link(w, "nowhere"));
    assert_eq!(out.code, Some(4), "{}", out.describe());
    assert!(
        out.text()
            .contains("topic 'nowhere' does not exist on cluster 'b'"),
        "{}",
        out.describe()
    );
    // A cluster nobody answers on.
    let mut args = link(w, "parts");
    args[5] = "127.0.0.1:1".into();
    args.extend(["--connect-timeout".into(), "1".into()]);
    let out = w.bridge_until_caught_up(&args);
    assert_eq!(out.code, Some(4), "{}", out.describe());
    assert!(
        out.text().contains("cannot reach cluster 'b'"),
        "{}",
        out.describe()
    );
}
