//! A poison record: a local write into a topic that is bridged into a mirror topic. The
//! target's chain refuses it (mirror-policy's guard: it carries no tag from the upstream),
//! the bridge goes on with the records after it, counts it, and writes it to the dead-letter
//! topic on the source with the hint. Three ways: refused by a chain the bridge sends (the
//! hint comes back), refused at the target topic's hook (Fluvio only says "a storage error
//! occurred"), and `--on-refusal stop`.

use base64::Engine as _;

use crate::world::{assert_exactly_once, assert_in_order, finished, lines, World};

const POISON: &str = "typed by hand on a";

pub fn poison_records(w: &mut World) {
    w.topic("a", "pay");
    w.topic("a", "pay-dead");
    w.topic("b", "pay");
    w.guarded_topic(
        "b",
        "pay-hooked",
        &[
            ("dedup", "1000"),
            ("mirror_of", "a"),
            ("topic", "pay-hooked"),
        ],
    );
    w.topic("b", "pay-stop");

    // Good records are tagged on a by a producer-side chain; the poison is not.
    let good = lines("payment", 0..40);
    let tag = ["--smartmodule", "origin-tag", "-e", "cluster=a"];
    w.produce("a", "pay", &good[..20], false, &tag);
    w.produce("a", "pay", &[POISON.to_string()], false, &[]);
    w.produce("a", "pay", &good[20..], false, &tag);

    let link = |w: &World, to_topic: &str| -> Vec<String> {
        let mut args = w.link_args("a", "b", "pay");
        args.extend([
            "--to-topic".into(),
            to_topic.into(),
            "--dead-letter".into(),
            "pay-dead".into(),
        ]);
        args
    };
    let guard = r#"{"uses":"mirror-policy","with":{"cluster":"b","mirror_of":"a","topic":"pay"}}"#;

    // Refused by the chain the bridge sends.
    let mut args = link(w, "pay");
    args.extend(["--transform".into(), guard.into()]);
    let out = w.bridge_until_caught_up(&args);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let text = out.text();
    let counts = finished(&text, "a->b");
    assert_eq!((counts.delivered, counts.refused), (40, 1), "{text}");
    assert!(text.contains("refused 1 (1 dead-lettered)"), "{text}");
    assert!(
        text.contains(
            "record at offset 20 refused by 'b': cannot produce to mirror topic 'pay' on \
             cluster 'b': it is mirrored from 'a'; produce there instead"
        ),
        "{text}"
    );
    let stored = w.read("b", "pay", 0);
    assert_exactly_once("b/pay", &stored, &good);
    assert_in_order("b/pay", &stored, &good);

    // Refused at the target topic's hook.
    let out = w.bridge_until_caught_up(&link(w, "pay-hooked"));
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let text = out.text();
    let counts = finished(&text, "a->b");
    assert_eq!((counts.delivered, counts.refused), (40, 1), "{text}");
    let stored = w.read("b", "pay-hooked", 0);
    assert_exactly_once("b/pay-hooked", &stored, &good);
    assert_in_order("b/pay-hooked", &stored, &good);

    // Both refusals are in the dead-letter topic, with the poison's bytes and the hint.
    let letters = w.read_raw("a", "pay-dead");
    assert_eq!(letters.len(), 2, "{letters:?}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut hints = Vec::new();
    for letter in &letters {
        let doc: serde_json::Value = serde_json::from_slice(&letter.value)
            .unwrap_or_else(|e| panic!("a dead letter that is not JSON ({e}): {letter:?}"));
        assert_eq!(doc["topic"], "pay");
        assert_eq!(doc["partition"], 0);
        assert_eq!(doc["offset"], 20);
        assert_eq!(doc["target"], "b");
        assert_eq!(doc["key_base64"], serde_json::Value::Null);
        let value = b64
            .decode(doc["value_base64"].as_str().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(value, POISON.as_bytes());
        hints.push(doc["hint"].as_str().unwrap_or_default().to_string());
    }
    assert!(
        hints[0].contains("cannot produce to mirror topic 'pay'"),
        "{hints:?}"
    );
    assert!(
        hints[1].contains("SPU"),
        "the hook's refusal points at the SPU log: {hints:?}"
    );

    // --on-refusal stop: the records before the poison are stored, then the bridge stops.
    let mut args = link(w, "pay-stop");
    args.extend([
        "--transform".into(),
        guard.replace("\"pay\"", "\"pay-stop\""),
        "--on-refusal".into(),
        "stop".into(),
    ]);
    let out = w.bridge_until_caught_up(&args);
    assert_eq!(out.code, Some(6), "{}", out.describe());
    assert!(
        out.text()
            .contains("record at offset 20 refused by the target (on_refusal: stop)"),
        "{}",
        out.describe()
    );
    let stored = w.read("b", "pay-stop", 0);
    assert_exactly_once("b/pay-stop", &stored, &good[..20]);
    assert_eq!(
        w.read_raw("a", "pay-dead").len(),
        2,
        "stop writes no dead letter"
    );

    // A chain the target cannot build stops the bridge with exit code 5, nothing written:
    // a module that is not registered there, and params its init refuses.
    w.topic("b", "pay-never");
    for (chain, says) in [
        (r#"{"uses":"no-such-module"}"#, "no-such-module"),
        (
            r#"{"uses":"mirror-policy","with":{"mode":"audit"}}"#,
            "missing param 'cluster'",
        ),
    ] {
        let mut args = link(w, "pay-never");
        args.extend(["--transform".into(), chain.into()]);
        let out = w.bridge_until_caught_up(&args);
        assert_eq!(out.code, Some(5), "{}", out.describe());
        assert!(
            out.text().contains("the target refused the chain") && out.text().contains(says),
            "{}",
            out.describe()
        );
    }
    assert_eq!(w.stored("b", "pay-never"), 0);
}
