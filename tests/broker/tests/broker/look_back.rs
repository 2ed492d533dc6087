//! A restart does not forget: mirror-policy at the topic hook with a de-duplication window
//! refills it at start-up from the records the hook's look-back replays (the last
//! `bounds.count` stored records). Records tagged upstream are copied in as a bridge copies
//! them, the SPU is stopped and started again, and copies replayed after the restart are
//! dropped while they are in the window and stored once they have left it.
//!
//! Each case is a row of [`CASES`]; all cases share one restart.

use std::time::Duration;

use crate::suite::{say, tag_of, Suite};

/// One topic with the hook, the records bridged into it, and what replays do after a restart.
struct LookBackCase {
    name: &'static str,
    /// The hook's `bounds.count`: how many stored records the look-back replays at start-up.
    count: u32,
    /// mirror-policy's `dedup` param; `None` leaves it out (the hook's `count` then decides).
    dedup: Option<u32>,
    /// How many tagged records are bridged in before the restart.
    records: usize,
    /// After the restart, in order: which record is copied in again, and whether it is dropped.
    replays: &'static [(usize, Replay)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    Dropped,
    Stored,
}

const CASES: &[LookBackCase] = &[
    LookBackCase {
        name: "dedup 5, count 5: every record is in the window",
        count: 5,
        dedup: Some(5),
        records: 5,
        replays: &[(0, Replay::Dropped), (4, Replay::Dropped)],
    },
    LookBackCase {
        name: "no dedup, count 4: the hook's count is the window",
        count: 4,
        dedup: None,
        records: 5,
        replays: &[
            (4, Replay::Dropped),
            (1, Replay::Dropped),
            (0, Replay::Stored),
            (0, Replay::Dropped),
        ],
    },
    LookBackCase {
        name: "dedup 3, count 3: the oldest records have left the window",
        count: 3,
        dedup: Some(3),
        records: 5,
        replays: &[
            (4, Replay::Dropped),
            (0, Replay::Stored),
            (0, Replay::Dropped),
        ],
    },
];

fn hook_config(topic: &str, case: &LookBackCase) -> String {
    let mut yaml = format!(
        "version: 0.1.0\nmeta:\n  name: {topic}\ndeduplication:\n  bounds:\n    count: {}\n  \
         filter:\n    transform:\n      uses: mirror-policy\n      with:\n        cluster: \
         \"home\"\n        mirror_of: \"edge-1\"\n",
        case.count
    );
    if let Some(dedup) = case.dedup {
        yaml.push_str(&format!("        dedup: \"{dedup}\"\n"));
    }
    yaml
}

pub fn replays_after_a_restart_are_still_dropped(s: &mut Suite) {
    let mut prepared = Vec::new();
    for case in CASES {
        let topic = s.home.unique_topic("orders-mirror");
        s.home
            .create_topic_from_config(&topic, &hook_config(&topic, case))
            .unwrap_or_else(|e| panic!("{}: cannot create {topic}: {e}", case.name));
        let values: Vec<String> = (0..case.records)
            .map(|i| format!("{topic} order {i}"))
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let copies = s.tagged_on(&["edge-1"], &values);
        for (i, copy) in copies.iter().enumerate() {
            s.produce(&topic)
                .raw(copy, &format!("copy-{i}.bin"))
                .run()
                .expect_ok();
        }
        let stored = s.records(&topic);
        assert_eq!(
            stored.len(),
            case.records,
            "{}: stored before the restart",
            case.name
        );
        for record in &stored {
            let tag = tag_of(&record.value).expect("stored tagged");
            assert_eq!(tag.path, ["edge-1", "home"], "{}", case.name);
        }
        // Before the restart the window is in memory: the newest copy is a duplicate.
        let last = copies.len() - 1;
        s.produce(&topic)
            .raw(&copies[last], "replay.bin")
            .run()
            .expect_ok();
        assert_eq!(
            s.stored(&topic),
            case.records as i64,
            "{}: a replay before the restart is dropped",
            case.name
        );
        prepared.push((case, topic, copies));
    }

    let before = s.home.pids().to_vec();
    let took = s
        .home
        .restart_spu()
        .unwrap_or_else(|e| panic!("cannot restart the SPU: {e}"));
    // A new process, the old one gone: the window cannot have survived in memory.
    let old_spu = before[before.len() - 1];
    let new_spu = s.home.pids()[before.len()];
    assert!(
        !std::path::Path::new(&format!("/proc/{old_spu}")).exists(),
        "the SPU before the restart (pid {old_spu}) still runs"
    );
    say!(
        "broker-tests: SPU of `home` restarted in {:.1} s (pid {old_spu} -> {new_spu})",
        took.as_secs_f64()
    );

    for (case, topic, copies) in &prepared {
        let mut expected = case.records as i64;
        for &(index, outcome) in case.replays {
            s.produce(topic)
                .raw(&copies[index], "replay.bin")
                .run_until_accepted(Duration::from_secs(30));
            if outcome == Replay::Stored {
                expected += 1;
            }
            assert_eq!(
                s.stored(topic),
                expected,
                "{}: record {index} replayed after the restart should be {outcome:?}",
                case.name
            );
        }
    }
}
