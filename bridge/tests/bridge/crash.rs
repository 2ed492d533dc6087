//! A bridge killed with SIGKILL in the middle of a long copy and started again: it resumes
//! from the offset committed on the source, re-sends what it had delivered since (the commit
//! is stored only at the end of a round here, so that is everything of the interrupted run),
//! and mirror-policy's window on the target drops those copies. Nothing is lost, nothing is
//! stored twice, the order is kept.
//!
//! The copy is slowed by small writes through a producer-side chain (the passthrough fixture,
//! sent as a .wasm file with every request, which the target compiles each time).

use crate::world::{assert_exactly_once, assert_in_order, finished, lines, say, World};

const FIRST: usize = 2_000;
const TOTAL: usize = 8_000;

pub fn killed_and_restarted(w: &mut World) {
    w.guarded_topic("a", "long", &[]);
    w.guarded_topic("b", "long", &[("dedup", "20000")]);
    let values = lines("long record", 0..TOTAL);
    let passthrough = integration::wasm_path("passthrough");
    let args = |w: &World| -> Vec<String> {
        let mut args = w.link_args("a", "b", "long");
        args.extend([
            "--transform".into(),
            format!("{{\"uses\":\"{}\"}}", passthrough.display()),
            "--batch".into(),
            "40".into(),
            // Offsets stored only when a round ends: a kill loses every commit of its round.
            "--commit-ms".into(),
            "600000".into(),
        ]);
        args
    };

    // A first run copies what is there and stores its offset.
    w.produce("a", "long", &values[..FIRST], false, &[]);
    let out = w.bridge_until_caught_up(&args(w));
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(finished(&out.text(), "a->b").delivered, FIRST as u64);

    // A long copy, killed half way.
    w.produce("a", "long", &values[FIRST..], false, &[]);
    let bridge = w.bridge("crash", &args(w));
    let at_kill = w.wait_for_at_least("b", "long", (FIRST + 400) as i64, &bridge);
    let killed_log = bridge.kill();
    let at_kill = at_kill.max(w.stored("b", "long"));
    assert!(
        at_kill < TOTAL as i64,
        "the copy was over before the kill ({at_kill} stored); the scenario needs a slower \
         copy:\n{killed_log}"
    );
    say!("bridge-tests: killed the bridge with {at_kill} of {TOTAL} records on b");

    // The restart resumes from the commit of the first run and re-sends the killed run's.
    let out = w.bridge_until_caught_up(&args(w));
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let resumed = finished(&out.text(), "a->b");
    assert_eq!(
        resumed.delivered,
        (TOTAL - FIRST) as u64,
        "the restart should resume at offset {FIRST}, the last stored commit"
    );
    let stored = w.read("b", "long", 0);
    assert_exactly_once("b/long after the restart", &stored, &values);
    assert_in_order("b/long", &stored, &values);
    say!(
        "bridge-tests: the restart re-sent {} record(s) the killed run had delivered; all dropped",
        at_kill - FIRST as i64
    );
}
