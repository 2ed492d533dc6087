//! Connection loss: while a bridge copies, the target's SPU is restarted (the write in flight
//! fails or is answered late), then the source's (the read in flight ends). The bridge retries
//! from its last acknowledged record; the target's mirror-policy, refilled by its look-back at
//! the restart, drops what it sends again. Then both SCs are restarted, and records written
//! after that still cross. Nothing is lost, nothing is stored twice, the order is kept, and the
//! bridge still stops cleanly.

use std::time::Duration;

use crate::world::{assert_exactly_once, assert_in_order, lines, say, World};

const TOTAL: usize = 6_000;
/// Written after the SCs restarted.
const MORE: usize = 500;

pub fn spu_restarts_while_copying(w: &mut World) {
    w.guarded_topic("a", "outage", &[]);
    w.guarded_topic("b", "outage", &[("dedup", "20000")]);
    let values = lines("outage record", 0..TOTAL);
    w.produce("a", "outage", &values, false, &[]);
    let passthrough = integration::wasm_path("passthrough");
    // Small writes through a producer-side chain keep the copy going for several seconds.
    let mut args = w.link_args("a", "b", "outage");
    args.extend([
        "--transform".into(),
        format!("{{\"uses\":\"{}\"}}", passthrough.display()),
        "--batch".into(),
        "40".into(),
        "--progress-secs".into(),
        "1".into(),
    ]);
    let bridge = w.bridge("outage", &args);

    for (id, after) in [("b", 1_000), ("a", 3_000)] {
        let stored = w.wait_for_at_least("b", "outage", after, &bridge);
        let took = w.restart_spu(id);
        say!(
            "bridge-tests: SPU of `{id}` restarted in {:.1} s with {stored} of {TOTAL} records on b",
            took.as_secs_f64()
        );
        assert!(
            (stored as usize) < TOTAL,
            "the copy was over before the restart of `{id}`; the scenario needs a slower copy"
        );
    }

    let settled = w.wait_for_counts("after two SPU restarts", &[("b", "outage", TOTAL as i64)]);
    say!(
        "bridge-tests: every record once on b, {:.1} s after the second SPU restart",
        settled.as_secs_f64()
    );

    // Then the SCs, one after the other, while the bridge waits for more: the records written
    // after the restarts still reach b.
    for id in ["b", "a"] {
        let took = w.restart_sc(id);
        say!(
            "bridge-tests: SC of `{id}` restarted in {:.1} s",
            took.as_secs_f64()
        );
    }
    let more = lines("after the SC restarts", 0..MORE);
    w.produce("a", "outage", &more, false, &[]);
    let all: Vec<String> = values.iter().chain(&more).cloned().collect();
    let settled = w.wait_for_counts(
        "after two SC restarts",
        &[("b", "outage", (TOTAL + MORE) as i64)],
    );
    std::thread::sleep(Duration::from_secs(2));
    let (status, log) = bridge.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    let stored = w.read("b", "outage", 0);
    assert_exactly_once("b/outage after SPU and SC restarts", &stored, &all);
    assert_in_order("b/outage", &stored, &all);
    let retries = log
        .lines()
        .rev()
        .find_map(|l| l.split("retries ").nth(1))
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or("?");
    say!(
        "bridge-tests: the records written after the SC restarts reached b {:.1} s later, each \
         once; the bridge's last count of retries: {retries}",
        settled.as_secs_f64()
    );
}
