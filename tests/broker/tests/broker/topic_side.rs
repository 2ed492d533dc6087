//! Topic side: mirror-policy registered with `fluvio smartmodule create` and attached by
//! `fluvio topic create --config` (the topic's `deduplication` hook), which the partition
//! leader applies to every write. What the producer sees in each case is written into
//! POLICIES.md from this run.

use crate::suite::{case, check_doc_block, show, tag_of, wait_spu_hint, Suite, TagFacts};

/// POLICIES.md's line before the block of topic-hook outcomes.
const OUTCOMES_MARKER: &str = "what the producer sees in each case, from a real run:";
/// POLICIES.md's line before the block showing which params the hook passes.
const HOOK_PARAMS_MARKER: &str =
    "module that refuses unknown params cannot be attached; origin-tag at the hook, from a real run:";

/// The name the docs give the guarded topic.
const SHOWN: &str = "orders-mirror";

/// A topic config whose `deduplication` hook runs `uses` with `with` as params.
pub(crate) fn hook_config(
    topic: &str,
    uses: &str,
    count: u32,
    age: Option<&str>,
    with: &[(&str, &str)],
) -> String {
    let mut yaml = format!(
        "version: 0.1.0\nmeta:\n  name: {topic}\ndeduplication:\n  bounds:\n    count: {count}\n"
    );
    if let Some(age) = age {
        yaml.push_str(&format!("    age: {age}\n"));
    }
    yaml.push_str(&format!(
        "  filter:\n    transform:\n      uses: {uses}\n      with:\n"
    ));
    for (k, v) in with {
        // A JSON string is a YAML double-quoted scalar: `with` values are strings.
        yaml.push_str(&format!("        {k}: {}\n", serde_json::Value::from(*v)));
    }
    yaml
}

/// mirror-policy's params at the hook of a topic mirrored from edge-1 onto home.
fn policy(mode: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut with = vec![
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", SHOWN),
    ];
    with.extend(mode.map(|m| ("mode", m)));
    with
}

fn hooked_topic(s: &mut Suite, yaml: impl FnOnce(&str) -> String) -> String {
    let topic = s.home.unique_topic("orders-mirror");
    s.home
        .create_topic_from_config(&topic, &yaml(&topic))
        .unwrap_or_else(|e| panic!("cannot create {topic} with a topic hook: {e}"));
    topic
}

fn stored_one(s: &Suite, topic: &str) -> TagFacts {
    let stored = s.records(topic);
    assert_eq!(stored.len(), 1, "one record stored in {topic}");
    tag_of(&stored[0].value).expect("every record the hook stores is tagged")
}

/// Each mode of mirror-policy at the topic hook: a local write refused (nothing stored, the
/// hint only in the SPU's log), mirror traffic stored with one hop more, a loop dropped, drop
/// and audit modes, and a hook whose params are wrong.
pub fn mirror_policy_at_the_hook(s: &mut Suite) {
    let from_edge = s.tagged_on(&["edge-1"], &["order 1"]).remove(0);
    let edge_tag = tag_of(&from_edge).expect("tagged on edge-1");
    let looped = s.tagged_on(&["home", "edge-1"], &["order 2"]).remove(0);
    let mut block = String::new();

    // reject (the default): a local write.
    let topic = hooked_topic(s, |t| {
        hook_config(t, "mirror-policy", 1, None, &policy(None))
    });
    let log_mark = s.home.spu_log().len();
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .lines(&["typed on home"])
        .run();
    let text = produced.out.text();
    assert_eq!(produced.out.code, Some(1), "{}", produced.out.describe());
    assert_eq!(
        text.trim_end(),
        "Producer error: Producer received an error code: a storage error occurred"
    );
    assert_eq!(s.stored(&topic), 0, "a refused write stores nothing");
    let hint = wait_spu_hint(&s.home, log_mark);
    assert_eq!(
        hint,
        "cannot produce to mirror topic 'orders-mirror' on cluster 'home': it is mirrored from \
         'edge-1'; produce there instead"
    );
    case(
        &mut block,
        "mode: reject (the default); a local write",
        &produced,
        &format!("nothing stored; the SPU's log holds the hint: {hint}"),
    );

    // reject: a copy of a record tagged on edge-1, as a bridge writes it.
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .raw(&from_edge, "order-1-tagged-on-edge-1.bin")
        .run()
        .expect_ok();
    let tag = stored_one(s, &topic);
    assert_eq!(tag.path, ["edge-1", "home"]);
    assert_eq!(tag.hops, edge_tag.hops + 1, "one hop more than the copy");
    assert_eq!(tag.id, edge_tag.id, "the record id is the origin's");
    assert_eq!(tag.payload, b"order 1");
    case(
        &mut block,
        "mode: reject; a bridge copies a record tagged on edge-1 (origin edge-1, hops 0)",
        &produced,
        &format!(
            "stored: {}, record id unchanged, payload {}",
            tag.summary(),
            show(&tag.payload)
        ),
    );

    // reject: a record that already passed through home comes back.
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .raw(&looped, "order-2-looped.bin")
        .run()
        .expect_ok();
    assert_eq!(s.stored(&topic), 1, "the looped record is dropped");
    case(
        &mut block,
        "mode: reject; a bridge copies a record back (path home > edge-1)",
        &produced,
        "nothing stored (dropped as a loop)",
    );

    // drop: a local write is dropped without a word.
    let topic = hooked_topic(s, |t| {
        hook_config(t, "mirror-policy", 1, None, &policy(Some("drop")))
    });
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .lines(&["typed on home"])
        .run()
        .expect_ok();
    assert_eq!(s.stored(&topic), 0, "drop mode stores nothing");
    case(
        &mut block,
        "mode: drop; a local write",
        &produced,
        "nothing stored",
    );

    // audit, from the repository's example config: stored, flagged.
    let example = integration::workspace_root().join("examples/topic-orders-mirror.yaml");
    let example = std::fs::read_to_string(&example)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", example.display()));
    assert!(example.contains("  name: orders-mirror\n") && example.contains("mode: audit"));
    let topic = hooked_topic(s, |t| {
        example.replace("  name: orders-mirror\n", &format!("  name: {t}\n"))
    });
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .lines(&["typed on home"])
        .run()
        .expect_ok();
    let tag = stored_one(s, &topic);
    assert!(tag.violation, "audit mode flags a local write");
    assert_eq!(tag.path, ["home"]);
    assert_eq!(tag.payload, b"typed on home");
    case(
        &mut block,
        "mode: audit (examples/topic-orders-mirror.yaml); a local write",
        &produced,
        &format!("stored: {}, payload {}", tag.summary(), show(&tag.payload)),
    );

    // A hook whose params are wrong: the partition never gets a working leader.
    let log_mark = s.home.spu_log().len();
    let topic = hooked_topic(s, |t| {
        hook_config(
            t,
            "mirror-policy",
            1,
            None,
            &[("cluster", "home"), ("mode", "audit")],
        )
    });
    let hint = wait_spu_hint(&s.home, log_mark);
    let produced = s
        .produce(&topic)
        .shown_as(SHOWN)
        .lines(&["typed on home"])
        .run();
    let text = produced.out.text();
    assert_eq!(produced.out.code, Some(1), "{}", produced.out.describe());
    assert_eq!(
        text.trim_end(),
        "Producer error: Producer received an error code: the given SPU is not the leader for \
         the partition"
    );
    assert_eq!(
        hint,
        "mirror-policy: param 'mode' has no effect without 'mirror_of' (comma-separated \
         upstream cluster ids, e.g. -e mirror_of=edge-1)"
    );
    assert_eq!(s.stored(&topic), 0);
    case(
        &mut block,
        "a hook whose params are wrong (mode: audit without mirror_of)",
        &produced,
        &format!("nothing stored, ever; the SPU's log holds the init error: {hint}"),
    );

    check_doc_block(OUTCOMES_MARKER, &block);
}

/// Which params the hook passes: origin-tag, which refuses params it does not know, names
/// them in its init error. Without `bounds.age` the first unknown one is `count`; with it,
/// `age` (params are passed sorted by name).
pub fn hook_passes_count_and_age(s: &mut Suite) {
    let mut block = String::new();
    for (age, unknown) in [(None, "count"), (Some("2s"), "age")] {
        let log_mark = s.home.spu_log().len();
        let topic = hooked_topic(s, |t| {
            hook_config(t, "origin-tag", 3, age, &[("cluster", "home")])
        });
        let hint = wait_spu_hint(&s.home, log_mark);
        assert_eq!(
            hint,
            format!(
                "origin-tag: unknown param '{unknown}'; known params: cluster, carrier, secret, \
                 scope"
            )
        );
        let produced = s
            .produce(&topic)
            .shown_as("orders")
            .lines(&["order 1"])
            .run();
        assert_eq!(produced.out.code, Some(1), "{}", produced.out.describe());
        assert_eq!(s.stored(&topic), 0);
        block.push_str(&format!(
            "bounds: {{ count: 3{} }}, uses: origin-tag -> {hint}\n",
            age.map(|a| format!(", age: {a}")).unwrap_or_default()
        ));
    }
    check_doc_block(HOOK_PARAMS_MARKER, &block);
}

/// The hook's `age` (`bounds.age`, passed in ms) bounds how late mirror-policy accepts a tagged
/// record when `max_age` is not set: a copy whose origin timestamp is an hour old is dropped
/// under `age: 1m`, and stored without it.
pub fn hook_age_bounds_late_records(s: &mut Suite) {
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
        - 3_600_000;
    let env = origin::Envelope::new_origin("edge-1", hour_ago, [7; 8]).expect("a valid origin");
    let late = origin::wrap(&env, b"an hour late");
    for (age, stored) in [(Some("1m"), 0), (None, 1)] {
        let topic = hooked_topic(s, |t| {
            hook_config(
                t,
                "mirror-policy",
                5,
                age,
                &[("cluster", "home"), ("mirror_of", "edge-1")],
            )
        });
        s.produce(&topic).raw(&late, "late.bin").run().expect_ok();
        assert_eq!(s.stored(&topic), stored, "bounds.age {age:?}");
    }
}
