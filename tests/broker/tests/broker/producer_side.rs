//! Producer side: the chain a producer sends with its records (`--smartmodule-path`,
//! `--smartmodule`, `--transform`, `--transforms-file`), which the SPU builds for every produce
//! request. A refusal reaches the producer in full, exit code 1.

use crate::suite::{check_doc_block, tag_of, Suite};

/// POLICIES.md's line before the refusal a producer-side chain prints.
const REFUSAL_MARKER: &str = "A refused write then prints, on stderr:";
/// POLICIES.md's line before a chain whose params are wrong.
const INIT_ERROR_MARKER: &str =
    "A module whose params are wrong refuses the chain before it reads a record (exit code 1):";

/// The first line of a producer-side refusal: the prefix Fluvio puts before the module's hint.
fn refusal_line(hint: &str) -> String {
    format!("Producer error: Producer received an error code: SmartModule transform error {hint}")
}

/// Each module alone, loaded from its file with `--smartmodule-path X.wasm -e k=v`.
pub fn each_module_from_its_file(s: &mut Suite) {
    let from_edge = s.tagged_on(&["edge-1"], &["order 1"]).remove(0);
    let edge_tag = tag_of(&from_edge).expect("tagged on edge-1");
    let looped = s.tagged_on(&["home", "edge-1"], &["order 2"]).remove(0);

    // origin-tag: an untagged record is tagged here; a tagged one gets this cluster appended.
    let topic = s.create_topic("orders");
    s.produce(&topic)
        .module_path("origin-tag", &[("cluster", "edge-1")])
        .lines(&["order 1"])
        .run()
        .expect_ok();
    s.produce(&topic)
        .module_path("origin-tag", &[("cluster", "home")])
        .raw(&from_edge, "order-1-from-edge-1.bin")
        .run()
        .expect_ok();
    let stored = s.records(&topic);
    assert_eq!(stored.len(), 2);
    let fresh = tag_of(&stored[0].value).expect("origin-tag tags an untagged record");
    assert_eq!((fresh.origin.as_str(), fresh.hops), ("edge-1", 0));
    assert_eq!(fresh.path, ["edge-1"]);
    assert_eq!(fresh.payload, b"order 1");
    let hopped = tag_of(&stored[1].value).expect("still tagged");
    assert_eq!(hopped.path, ["edge-1", "home"]);
    assert_eq!(hopped.hops, edge_tag.hops + 1);
    assert_eq!(hopped.id, edge_tag.id, "the record id is kept at every hop");
    assert_eq!(hopped.payload, b"order 1");

    // loop-guard: a record that came back is dropped (the write succeeds, nothing is stored),
    // anything else passes byte for byte; with on_loop=reject the producer is told why.
    let topic = s.create_topic("orders");
    let guard = [("cluster", "home")];
    for (bytes, shown) in [
        (&looped, "looped.bin"),
        (&from_edge, "order-1-from-edge-1.bin"),
    ] {
        s.produce(&topic)
            .module_path("loop-guard", &guard)
            .raw(bytes, shown)
            .run()
            .expect_ok();
    }
    s.produce(&topic)
        .module_path("loop-guard", &guard)
        .lines(&["untagged"])
        .run()
        .expect_ok();
    let values: Vec<Vec<u8>> = s.records(&topic).into_iter().map(|r| r.value).collect();
    assert_eq!(values, [from_edge.clone(), b"untagged".to_vec()]);
    let refused = s
        .produce(&topic)
        .module_path("loop-guard", &[("cluster", "home"), ("on_loop", "reject")])
        .raw(&looped, "looped.bin")
        .run()
        .expect_refused();
    assert_eq!(
        refused.lines().next(),
        Some(refusal_line(
            "loop-guard: record at offset 0 came back to cluster 'home' it already passed \
             through (path: home > edge-1)"
        ))
        .as_deref(),
        "{refused}"
    );
    assert_eq!(s.stored(&topic), 2, "a refused write stores nothing");

    // mirror-guard: a local write is refused with the text POLICIES.md shows; mirror traffic
    // passes untouched.
    let topic = s.create_topic("orders");
    let guard = [
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", "orders"),
    ];
    let refused = s
        .produce(&topic)
        .module_path("mirror-guard", &guard)
        .lines(&["typed by hand on home"])
        .run()
        .expect_refused();
    check_doc_block(REFUSAL_MARKER, &refused);
    s.produce(&topic)
        .module_path("mirror-guard", &guard)
        .raw(&from_edge, "order-1-from-edge-1.bin")
        .run()
        .expect_ok();
    let values: Vec<Vec<u8>> = s.records(&topic).into_iter().map(|r| r.value).collect();
    assert_eq!(values, std::slice::from_ref(&from_edge));

    // origin-strip: the producer's bytes without the tag.
    let topic = s.create_topic("orders");
    s.produce(&topic)
        .module_path("origin-strip", &[])
        .raw(&from_edge, "order-1-from-edge-1.bin")
        .run()
        .expect_ok();
    assert_eq!(s.records(&topic)[0].value, b"order 1");

    // mirror-policy: mirror traffic is stored with one hop more; a local write is refused.
    let topic = s.create_topic("orders");
    let policy = [
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", "orders"),
    ];
    s.produce(&topic)
        .module_path("mirror-policy", &policy)
        .raw(&from_edge, "order-1-from-edge-1.bin")
        .run()
        .expect_ok();
    let refused = s
        .produce(&topic)
        .module_path("mirror-policy", &policy)
        .lines(&["typed by hand on home"])
        .run()
        .expect_refused();
    assert!(
        refused.starts_with(&refusal_line(
            "cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from \
             'edge-1'; produce there instead"
        )),
        "{refused}"
    );
    assert!(refused.contains("Type: FilterMap"), "{refused}");
    let stored = s.records(&topic);
    assert_eq!(stored.len(), 1, "the refused write stored nothing");
    let tag = tag_of(&stored[0].value).expect("tagged");
    assert_eq!(tag.path, ["edge-1", "home"]);
    assert_eq!((tag.hops, tag.id), (edge_tag.hops + 1, edge_tag.id));
}

/// Registered modules (`fluvio smartmodule create`) by name and in `--transform` chains: the
/// chain and the refusal POLICIES.md shows, and a module whose params are wrong.
pub fn registered_chains(s: &mut Suite) {
    let from_edge = s.tagged_on(&["edge-1"], &["order 1"]).remove(0);
    let looped = s.tagged_on(&["home", "edge-1"], &["order 2"]).remove(0);

    let topic = s.create_topic("orders");
    let chain = s
        .produce(&topic)
        .shown_as("orders")
        .transform("loop-guard", &[("cluster", "home")])
        .transform(
            "mirror-guard",
            &[
                ("cluster", "home"),
                ("mirror_of", "edge-1"),
                ("topic", "orders"),
            ],
        )
        .transform("origin-tag", &[("cluster", "home")]);
    let produced = chain.clone().lines(&["typed by hand on home"]).run();
    assert!(
        produced.out.stderr.starts_with(b"Producer error: ") && produced.out.stdout.is_empty(),
        "the CLI prints a refusal on stderr: {}",
        produced.out.describe()
    );
    let refused = produced.expect_refused();
    check_doc_block(REFUSAL_MARKER, &refused);
    chain.clone().raw(&looped, "looped.bin").run().expect_ok();
    chain
        .clone()
        .raw(&from_edge, "order-1-from-edge-1.bin")
        .run()
        .expect_ok();
    let stored = s.records(&topic);
    assert_eq!(
        stored.len(),
        1,
        "only the mirror traffic is stored: the local write was refused, the loop dropped"
    );
    let tag = tag_of(&stored[0].value).expect("tagged");
    assert_eq!(tag.path, ["edge-1", "home"]);
    assert_eq!(tag.payload, b"order 1");

    // The same chain from the repository's example file refuses the same way.
    let example = integration::workspace_root().join("examples/home-guard.yaml");
    let from_file = s
        .produce(&topic)
        .args(&["--transforms-file", &example.to_string_lossy()])
        .lines(&["typed by hand on home"])
        .run()
        .expect_refused();
    assert_eq!(from_file, refused);

    // A registered module by name.
    let topic = s.create_topic("orders");
    s.produce(&topic)
        .module("origin-tag", &[("cluster", "edge-1")])
        .lines(&["order 1"])
        .run()
        .expect_ok();
    let tag = tag_of(&s.records(&topic)[0].value).expect("tagged");
    assert_eq!(tag.path, ["edge-1"]);

    // Wrong params: the chain fails at init, before any record, with the module's message.
    let init_error = s
        .produce(&topic)
        .shown_as("orders")
        .module("origin-tag", &[])
        .lines(&["order 1"])
        .run();
    let transcript = init_error.transcript();
    let text = init_error.expect_refused();
    assert!(
        text.contains(
            "origin-tag: missing param 'cluster' (this cluster's id, [A-Za-z0-9._-], at most 64 \
             bytes, e.g. -e cluster=home)"
        ),
        "{text}"
    );
    check_doc_block(INIT_ERROR_MARKER, &transcript);
    assert_eq!(s.stored(&topic), 1, "nothing more was stored");
}

/// What the SPU does with a batch when a producer-side module refuses one of its records, or
/// traps: nothing of the batch is stored. Shown with the `misbehave` fixture, which refuses a
/// record holding a word, or executes `unreachable`.
pub fn a_refusal_refuses_its_whole_batch(s: &mut Suite) {
    let topic = s.create_topic("orders");
    // A linger long enough that the three lines travel in one request.
    let produced = s
        .produce(&topic)
        .module_path("misbehave", &[("mode", "refuse")])
        .args(&["--linger", "500ms"])
        .file_lines(&["good 1", "bad 2", "good 3"], "orders.txt")
        .run();
    let text = produced.expect_refused();
    assert!(
        text.starts_with(&refusal_line("")) && text.contains("Value: bad 2"),
        "{text}"
    );
    // "good 1" was sent before "bad 2": had it gone in a batch of its own, it would be
    // stored. The file's lines share one batch, which is refused whole.
    assert_eq!(
        s.stored(&topic),
        0,
        "the record before the refused one is not stored either: {text}"
    );

    let produced = s
        .produce(&topic)
        .module_path("misbehave", &[("mode", "trap")])
        .lines(&["any"])
        .run();
    let text = produced.expect_refused();
    assert!(
        text.starts_with(
            "Producer error: Producer received an error code: Other error: smartmodule chain \
             failed: "
        ),
        "{text}"
    );
    assert_eq!(s.stored(&topic), 0);
}
