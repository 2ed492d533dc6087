//! `origin-bridge` between real Fluvio clusters: four clusters (SC + SPU each, on loopback)
//! started from the binaries found through `FLUVIO_BIN` (else on `PATH`), bridges run as the
//! built binary. Without binaries the suite prints one line saying it did not run and passes;
//! with `FLUVIO_BIN` set to a directory that lacks them, it fails.
//!
//! Run it: `FLUVIO_BIN=/path/to/dir cargo test -p origin-bridge --test bridge`;
//! `BRIDGE_ONLY=text` runs only the scenarios whose name holds `text`.
//!
//! One `#[test]` runs every scenario against the same clusters, each with its own topics, so
//! that the clusters are stopped by PID when the scenarios end (also when one panics: each
//! runs under `catch_unwind`), after which the test checks that no broker and no bridge it
//! started is left running.

mod active_active;
mod crash;
mod outage;
mod partitions;
mod refusals;
mod ring_diamond;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use broker_tests::locate_for_suite;

use world::{say, World};

type Scenario = (&'static str, fn(&mut World));

const SCENARIOS: &[Scenario] = &[
    (
        "active-active: two clusters bridged both ways, mirror-policy at every hook",
        active_active::both_ways,
    ),
    (
        "crash: SIGKILL in the middle of a long copy, then a restart",
        crash::killed_and_restarted,
    ),
    (
        "connection loss: SPUs restarted during a copy, then SCs",
        outage::spu_restarts_while_copying,
    ),
    (
        "topologies: a ring of three and a diamond, from topology files",
        ring_diamond::ring_and_diamond,
    ),
    (
        "refusals: poison records skipped and dead-lettered, or the bridge stops",
        refusals::poison_records,
    ),
    (
        "partitions: i to i, a range per process, counts that differ",
        partitions::partition_mapping,
    ),
];

#[test]
fn origin_bridge_between_real_fluvio_clusters() {
    let Some(bins) = locate_for_suite("bridge-tests", "real-cluster suite") else {
        return;
    };
    let started = Instant::now();
    integration::build_all();
    let only = std::env::var("BRIDGE_ONLY").ok();
    let (chosen, left_out): (Vec<&Scenario>, Vec<&Scenario>) = SCENARIOS
        .iter()
        .partition(|(name, _)| only.as_deref().is_none_or(|o| name.contains(o)));
    for (name, _) in &left_out {
        say!("bridge-tests: NOT RUN {name} (BRIDGE_ONLY={only:?})");
    }
    assert!(
        !chosen.is_empty(),
        "BRIDGE_ONLY={only:?} matches no scenario"
    );

    let mut world = World::start(&bins);
    let mut failed = Vec::new();
    for (name, scenario) in chosen {
        let began = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| scenario(&mut world)));
        let took = began.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => say!("bridge-tests: ok     {name} ({took:.1} s)"),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".into());
                say!("bridge-tests: FAILED {name} ({took:.1} s)");
                failed.push(format!("{name}: {why}"));
            }
        }
    }

    let kept = world.scratch.clone();
    let bridges_left: Vec<u32> = world
        .bridge_pids
        .iter()
        .copied()
        .filter(|pid| still_running(*pid))
        .collect();
    let mut reports = Vec::new();
    for mut cluster in std::mem::take(&mut world.clusters) {
        if !failed.is_empty() {
            cluster.keep_dir();
        }
        reports.push(cluster.stop());
    }
    let leftovers = broker_tests::cluster::processes_of_this_run();
    let left_behind: Vec<String> = reports.iter().flat_map(|r| r.left_behind.clone()).collect();
    say!(
        "bridge-tests: clusters stopped; {}; suite took {:.1} s",
        if leftovers.is_empty() && left_behind.is_empty() && bridges_left.is_empty() {
            "no process left behind".to_string()
        } else {
            format!("LEFT BEHIND: {leftovers:?} {left_behind:?} bridges {bridges_left:?}")
        },
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed (bridge configs and logs are kept in {}):\n\n{}",
        failed.len(),
        SCENARIOS.len(),
        kept.display(),
        failed.join("\n\n")
    );
    assert!(
        leftovers.is_empty() && left_behind.is_empty() && bridges_left.is_empty(),
        "processes left behind: {leftovers:?} {left_behind:?} bridges {bridges_left:?}"
    );
}

/// Whether `pid` is a live process (not a zombie) running the bridge.
fn still_running(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("origin-bridge"))
        .unwrap_or(false)
}
