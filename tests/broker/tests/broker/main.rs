//! The policy modules in a running Fluvio cluster: an SC and an SPU started on loopback from
//! the `fluvio` and `fluvio-run` binaries found through `FLUVIO_BIN` (a directory), else on
//! `PATH`. Without binaries the suite prints one line saying it did not run and passes; with
//! `FLUVIO_BIN` set to a directory that lacks them, it fails.
//!
//! Run it: `FLUVIO_BIN=/path/to/dir cargo test -p broker-tests`; `BROKER_BLESS=1` rewrites the
//! blocks of docs/POLICIES.md it checks with what the run printed; `BROKER_ONLY=text` runs
//! only the scenarios whose name holds `text` (and lists the others as not run);
//! `BROKER_MEASURE=1` runs only the measurement, in full (`round_trip.rs`).
//!
//! Why one `#[test]` runs every scenario: the scenarios share one cluster, and the cluster
//! must be stopped when they are done. libtest never drops statics, so a process-wide fixture
//! in a `OnceLock` would leave its brokers running after the last test (or need an exit hook
//! that runs after libtest has already decided the result, and not at all on a signal). Here
//! the cluster lives on this test's stack: it is stopped by PID when the scenarios end, also
//! when one panics (each runs under `catch_unwind`, the rest still run, and the `Cluster`'s
//! `Drop` stops the brokers if the runner itself fails), and the test then checks that no
//! process it started is left. The brokers also get a parent-death signal, so a test process
//! killed from outside takes them with it; that signal follows the starting thread, which is
//! this test's thread for every cluster.

mod consumer_side;
mod figures;
mod look_back;
mod native_mirror;
mod observe;
mod producer_side;
mod round_trip;
mod suite;
mod topic_side;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use broker_tests::locate_for_suite;

use suite::{say, Suite};

/// A scenario: its name, and the function that runs it against the shared cluster.
type Scenario = (&'static str, fn(&mut Suite));

/// The scenarios, in order; the look-back restart comes late so that it restarts an SPU the
/// earlier scenarios have exercised, and the measurements last.
const SCENARIOS: &[Scenario] = &[
    (
        "producer side: each module from its file",
        producer_side::each_module_from_its_file,
    ),
    (
        "producer side: registered modules and chains",
        producer_side::registered_chains,
    ),
    (
        "producer side: a refusal refuses its whole batch",
        producer_side::a_refusal_refuses_its_whole_batch,
    ),
    (
        "topic side: mirror-policy at the hook, each mode",
        topic_side::mirror_policy_at_the_hook,
    ),
    (
        "topic side: the hook's age bounds late records",
        topic_side::hook_age_bounds_late_records,
    ),
    (
        "topic side: the hook passes count and age",
        topic_side::hook_passes_count_and_age,
    ),
    (
        "consumer side: origin-strip gives back the values",
        consumer_side::strip_gives_back_the_values,
    ),
    (
        "consumer side: origin-strip gives back the keys",
        consumer_side::strip_gives_back_the_keys,
    ),
    (
        "consumer side: origin-stats and origin-inspect watch an audited topic",
        observe::stats_and_inspect_watch_an_audited_topic,
    ),
    (
        "native mirroring: chains around a mirror topic",
        native_mirror::chains_around_a_native_mirror,
    ),
    (
        "look-back: replays after an SPU restart",
        look_back::replays_after_a_restart_are_still_dropped,
    ),
    (round_trip::SCENARIO, round_trip::producer_round_trip),
];

#[test]
fn policy_modules_in_a_real_fluvio_cluster() {
    let Some(bins) = locate_for_suite("broker-tests", "real-broker suite") else {
        return;
    };
    let started = Instant::now();
    integration::build_all();
    let version = bins
        .version()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bins.run.display()));
    say!(
        "broker-tests: real-broker suite with {} ({version}), wasm modules built in {:.1} s",
        bins.source,
        started.elapsed().as_secs_f64()
    );

    // `BROKER_ONLY=text` runs only the scenarios whose name holds `text`, and says so;
    // `BROKER_MEASURE=1` runs only the full measurement.
    let only = std::env::var("BROKER_ONLY").ok();
    let measure = round_trip::full_measurement().unwrap_or_else(|e| panic!("{e}"));
    if let (true, Some(o)) = (measure, &only) {
        assert!(
            round_trip::SCENARIO.contains(o.as_str()),
            "{}=1 runs the scenario `{}`, which BROKER_ONLY={o:?} leaves out; unset one of them",
            round_trip::MEASURE,
            round_trip::SCENARIO
        );
    }
    let why = if measure {
        format!("{}=1 runs the measurement alone", round_trip::MEASURE)
    } else {
        format!("BROKER_ONLY={only:?}")
    };
    let (chosen, left_out): (Vec<&Scenario>, Vec<&Scenario>) =
        SCENARIOS.iter().partition(|(name, _)| {
            if measure {
                *name == round_trip::SCENARIO
            } else {
                only.as_deref().is_none_or(|o| name.contains(o))
            }
        });
    for (name, _) in &left_out {
        say!("broker-tests: NOT RUN {name} ({why})");
    }
    assert!(
        !chosen.is_empty(),
        "BROKER_ONLY={only:?} matches no scenario"
    );

    let mut suite = Suite::start(bins);
    let mut failed = Vec::new();
    for (name, scenario) in chosen {
        let began = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| scenario(&mut suite)));
        let took = began.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => say!("broker-tests: ok     {name} ({took:.1} s)"),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".into());
                say!("broker-tests: FAILED {name} ({took:.1} s)");
                failed.push(format!("{name}: {why}"));
            }
        }
    }

    let home_dir = suite.home.dir().to_path_buf();
    if !failed.is_empty() {
        suite.home.keep_dir();
    }
    let report = suite.home.stop();
    let leftovers = broker_tests::cluster::processes_of_this_run();
    say!(
        "broker-tests: cluster `home` stopped in {:.1} s; {}; suite took {:.1} s",
        report.took.as_secs_f64(),
        if leftovers.is_empty() && report.left_behind.is_empty() {
            "no process left behind".to_string()
        } else {
            format!(
                "LEFT BEHIND: {:?}",
                [leftovers.clone(), report.left_behind.clone()].concat()
            )
        },
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed (the cluster's logs are kept in {}):\n\n{}",
        failed.len(),
        SCENARIOS.len(),
        home_dir.display(),
        failed.join("\n\n")
    );
    assert!(
        report.killed.is_empty(),
        "brokers that ignored SIGTERM: {:?}",
        report.killed
    );
    assert!(
        leftovers.is_empty() && report.left_behind.is_empty(),
        "processes left behind: {leftovers:?} {:?}",
        report.left_behind
    );
}
