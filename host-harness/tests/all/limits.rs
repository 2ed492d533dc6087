//! Limits that hold: an infinite loop, a memory bomb and a trap each end their call with a
//! typed error naming the module, and the next call in the same process works; every case of
//! the hostile corpus (`tests/fixtures/hostile/*.wat`) ends with its typed error, and the
//! process stays within the memory cap while it runs them all.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use host_harness::{
    Batch, Chain, ChainFailure, ChainOptions, Engine, EngineError, Limits, Lookback, ModuleSpec,
    Outcome, Record, Resource, DEFAULT_FUEL, DEFAULT_MEMORIES, DEFAULT_MEMORY, DEFAULT_TABLES,
    DEFAULT_TABLE_ELEMENTS, DEFAULT_TIMEOUT,
};

use crate::support::misbehave;

fn chain_with(spec: ModuleSpec, limits: Limits) -> Chain {
    Chain::new(
        &Engine::shared().unwrap(),
        &[spec],
        &ChainOptions {
            limits,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Small limits so the tests are quick: 10^8 fuel (a few tens of ms), 5 s, 32 MiB.
fn tight() -> Limits {
    Limits {
        fuel: Some(100_000_000),
        timeout: Some(Duration::from_secs(5)),
        memory: Some(32 << 20),
        ..Limits::default()
    }
}

fn failure(chain: &mut Chain, value: &str) -> EngineError {
    match chain.run(&Batch::from_values([value])).outcome {
        Outcome::Failed(e) => e,
        other => panic!("expected a failed call for {value:?}, got {other:?}"),
    }
}

fn passes(chain: &mut Chain, value: &str) {
    let out = chain
        .process(&Batch::from_values([value]))
        .unwrap_or_else(|e| panic!("the call after a failure should work: {e}"));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].value.as_ref(), value.as_bytes());
}

#[test]
fn defaults_are_documented_values() {
    let d = Limits::default();
    assert_eq!(d.fuel, Some(DEFAULT_FUEL));
    assert_eq!(d.fuel, Some(10_000_000_000));
    assert_eq!(d.timeout, Some(DEFAULT_TIMEOUT));
    assert_eq!(d.timeout, Some(Duration::from_secs(10)));
    assert_eq!(d.memory, Some(DEFAULT_MEMORY));
    assert_eq!(d.memory, Some(1_000_000_000));
    assert_eq!(d.table_elements, Some(DEFAULT_TABLE_ELEMENTS));
    assert_eq!(d.table_elements, Some(1_000_000));
    assert_eq!((d.memories, d.tables, d.instances), (16, 16, 1));
    assert_eq!((DEFAULT_MEMORIES, DEFAULT_TABLES), (16, 16));
    assert_eq!(Limits::broker().fuel, None);
    assert_eq!(Limits::broker().timeout, None);
    assert_eq!(Limits::broker().table_elements, None);
}

#[test]
fn infinite_loop_runs_out_of_fuel_and_the_module_recovers() {
    let mut c = chain_with(misbehave("input"), tight());
    passes(&mut c, "before");
    let started = Instant::now();
    let err = failure(&mut c, "spin");
    assert_eq!(
        err,
        EngineError::OutOfFuel {
            module: "misbehave".into(),
            fuel: 100_000_000
        }
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    passes(&mut c, "after");
    assert_eq!(c.modules()[0].instantiations(), 2, "renewed once");
}

#[test]
fn infinite_loop_without_fuel_limit_hits_the_wall_time_limit() {
    let limits = Limits {
        fuel: None,
        timeout: Some(Duration::from_millis(200)),
        memory: Some(32 << 20),
        ..Limits::default()
    };
    let mut c = chain_with(misbehave("input"), limits);
    let started = Instant::now();
    let err = failure(&mut c, "spin");
    let took = started.elapsed();
    assert_eq!(
        err,
        EngineError::Timeout {
            module: "misbehave".into(),
            timeout: Duration::from_millis(200)
        }
    );
    assert!(
        took >= Duration::from_millis(180),
        "stopped too early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "stopped too late: {took:?}");
    passes(&mut c, "after");
}

#[test]
fn memory_bomb_hits_the_memory_limit_and_the_module_recovers() {
    let mut c = chain_with(misbehave("input"), tight());
    match failure(&mut c, "grow") {
        EngineError::MemoryLimit {
            module,
            requested,
            limit,
        } => {
            assert_eq!(module, "misbehave");
            assert_eq!(limit, 32 << 20);
            assert!(requested > limit);
        }
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
    passes(&mut c, "after");
}

#[test]
fn trap_is_a_typed_error_and_the_module_recovers() {
    let mut c = chain_with(misbehave("input"), tight());
    match failure(&mut c, "trap") {
        EngineError::Trap {
            module, message, ..
        } => {
            assert_eq!(module, "misbehave");
            assert!(message.contains("unreachable"), "{message}");
        }
        other => panic!("expected Trap, got {other:?}"),
    }
    passes(&mut c, "after");
    // Failing again and again does not wear anything out.
    for _ in 0..3 {
        assert!(matches!(failure(&mut c, "trap"), EngineError::Trap { .. }));
        passes(&mut c, "again");
    }
}

#[test]
fn modules_that_misbehave_from_init_fail_each_call_and_the_process_carries_on() {
    for (mode, check) in [
        (
            "spin",
            (|e: &EngineError| matches!(e, EngineError::OutOfFuel { .. }))
                as fn(&EngineError) -> bool,
        ),
        ("grow", |e| matches!(e, EngineError::MemoryLimit { .. })),
        ("trap", |e| matches!(e, EngineError::Trap { .. })),
    ] {
        let mut c = chain_with(misbehave(mode), tight());
        for _ in 0..2 {
            let err = failure(&mut c, "x");
            assert!(check(&err), "mode {mode}: {err:?}");
            assert_eq!(err.module(), Some("misbehave"));
            assert!(err.is_call_failure());
        }
        // Another chain in the same process still works.
        let mut ok = chain_with(misbehave("pass"), tight());
        passes(&mut ok, mode);
    }
}

#[test]
fn fuel_is_reset_before_each_call() {
    // A module whose calls cost in proportion to the batch: `refuse` walks every record.
    let walker = || misbehave("refuse").param("word", "never-there");
    let batch = Batch::from_values((0..200).map(|i| format!("record number {i}")));
    let run = |c: &mut Chain| c.run(&batch).outcome;
    // Measure one call, then give each call twice that: ten calls burn far more than one
    // budget, and all pass because the budget is renewed per call.
    let mut probe = chain_with(walker(), tight());
    assert!(run(&mut probe).is_written());
    let per_call = probe.modules()[0].last_call().fuel;
    assert!(per_call > 10_000, "{per_call}");
    let budget = per_call * 2;
    let mut c = chain_with(
        walker(),
        Limits {
            fuel: Some(budget),
            ..tight()
        },
    );
    let mut total = 0;
    for _ in 0..10 {
        assert!(run(&mut c).is_written());
        total += c.modules()[0].last_call().fuel;
    }
    assert!(total > budget * 4, "{total} vs {budget}");
    // A budget below one call's needs stops it.
    let mut starved = chain_with(
        walker(),
        Limits {
            fuel: Some(per_call / 2),
            ..tight()
        },
    );
    assert!(matches!(
        run(&mut starved),
        Outcome::Failed(EngineError::OutOfFuel { .. })
    ));
}

#[test]
fn a_failed_call_stops_the_chain_at_that_module() {
    let limits = tight();
    let mut c = Chain::new(
        &Engine::shared().unwrap(),
        &[misbehave("input"), misbehave("pass")],
        &ChainOptions {
            limits,
            ..Default::default()
        },
    )
    .unwrap();
    let run = c.run(&Batch::from_values(["trap"]));
    assert!(matches!(
        run.outcome,
        Outcome::Failed(EngineError::Trap { .. })
    ));
    assert!(run.steps.is_empty(), "no module finished");
    assert!(run.output().is_empty());
    passes(&mut c, "fine");
}

// ---- one budget per call, recovery included ----

/// `init` and `filter` each burn the same fuel; the second `filter` call of an instance traps.
const BURNER: &str = r#"(module
  (import "env" "copy_records" (func $copy (param i32 i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func $burn (local $i i32)
    (local.set $i (i32.const 100000))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i))))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "init") (param i32 i32 i32) (result i32) (call $burn) (i32.const 0))
  (func (export "filter") (param i32 i32 i32) (result i32)
    (call $burn)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eq (global.get $calls) (i32.const 2)) (then unreachable))
    (call $copy (i32.const 0) (i32.const 5))
    (i32.const 0)))"#;

fn burner(fuel: u64) -> Chain {
    chain_with(
        ModuleSpec::new("burner", BURNER.as_bytes().to_vec()),
        Limits {
            fuel: Some(fuel),
            ..tight()
        },
    )
}

#[test]
fn recovery_after_a_failed_call_draws_on_the_next_calls_budget() {
    let x = Batch::from_values(["x"]);
    // Measured with room to spare: the load (instantiate + init) and one call.
    let mut c = burner(100_000_000);
    let load = c.modules()[0].last_call().fuel;
    assert!(c.process(&x).is_ok());
    let call = c.modules()[0].last_call().fuel;
    assert!(load > 100_000 && call > 100_000, "{load} {call}");
    assert!(matches!(
        c.process(&x),
        Err(ChainFailure::Failed(EngineError::Trap { .. }))
    ));
    // The next call renews the instance (init again) and calls filter: one budget for both.
    assert!(c.process(&x).is_ok());
    let recovering = c.modules()[0].last_call().fuel;
    assert!(
        recovering >= load + call - 1000,
        "{recovering} vs {load} + {call}"
    );
    assert_eq!(c.modules()[0].instantiations(), 2);

    // A budget that covers the load and a call, but not both at once.
    let budget = load.max(call) + load.min(call) / 2;
    let mut c = burner(budget);
    assert!(c.process(&x).is_ok());
    assert!(c.process(&x).is_err(), "the second call traps");
    for _ in 0..3 {
        match c.process(&x) {
            Err(ChainFailure::Failed(EngineError::OutOfFuel { module, fuel })) => {
                assert_eq!(module, "burner");
                assert_eq!(fuel, budget);
            }
            other => panic!("recovery and call share one budget: {other:?}"),
        }
        assert!(c.modules()[0].last_call().fuel <= budget);
    }
}

// ---- the hostile corpus ----

/// The limits of the corpus runs: small fuel, a 64 MiB memory cap, the rest at defaults.
const CORPUS_MEMORY: usize = 64 << 20;

fn corpus_limits() -> Limits {
    Limits {
        fuel: Some(100_000_000),
        timeout: Some(Duration::from_secs(5)),
        memory: Some(CORPUS_MEMORY),
        ..Limits::default()
    }
}

fn corpus_dir() -> PathBuf {
    integration::workspace_root().join("tests/fixtures/hostile")
}

fn corpus_case(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(format!("{name}.wat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

type Expect = fn(&EngineError) -> bool;

/// Each case of the corpus and the typed error it ends with.
fn expectations() -> Vec<(&'static str, Expect)> {
    vec![
        ("spin-start", |e| matches!(e, EngineError::OutOfFuel { .. })),
        ("spin-init", |e| matches!(e, EngineError::OutOfFuel { .. })),
        ("spin-look-back", |e| {
            matches!(e, EngineError::OutOfFuel { .. })
        }),
        ("spin-transform", |e| {
            matches!(e, EngineError::OutOfFuel { .. })
        }),
        ("sleep-wasi", |e| {
            matches!(
                e,
                EngineError::Blocking {
                    call: "poll_oneoff",
                    ..
                }
            )
        }),
        ("table-grow", |e| {
            matches!(e, EngineError::TableLimit { requested: 100_000_001, limit, .. }
                if *limit == DEFAULT_TABLE_ELEMENTS)
        }),
        ("two-memories", |e| {
            matches!(e, EngineError::MemoryLimit { requested, limit, .. }
                if *limit == CORPUS_MEMORY && *requested == 96 << 20)
        }),
        ("many-memories", |e| {
            matches!(
                e,
                EngineError::ResourceCount {
                    resource: Resource::Memories,
                    count: 64,
                    limit: DEFAULT_MEMORIES,
                    ..
                }
            )
        }),
        (
            "memory64",
            |e| matches!(e, EngineError::MemoryLimit { requested, .. } if *requested > 64 << 30),
        ),
        ("copy-negative-ptr", |e| {
            matches!(
                e,
                EngineError::CopyRecordsRange {
                    ptr: -8,
                    len: 5,
                    ..
                }
            )
        }),
        ("copy-negative-len", |e| {
            matches!(
                e,
                EngineError::CopyRecordsRange {
                    ptr: 0,
                    len: -1,
                    ..
                }
            )
        }),
        ("copy-huge", |e| {
            matches!(
                e,
                EngineError::CopyRecordsRange {
                    len: i32::MAX,
                    memory: 65_536,
                    ..
                }
            )
        }),
        ("copy-out-of-bounds", |e| {
            matches!(
                e,
                EngineError::CopyRecordsRange {
                    ptr: 65_534,
                    len: 5,
                    ..
                }
            )
        }),
        ("huge-record", |e| {
            matches!(e, EngineError::OutputLength { field: "record value", claimed, left: 2, .. }
                if *claimed == 1 << 61)
        }),
        ("negative-record", |e| {
            matches!(e, EngineError::OutputLength { claimed: -1, .. })
        }),
        ("output-flood", |e| {
            matches!(
                e,
                EngineError::OutputLimit {
                    records: 1_190_000,
                    ..
                }
            )
        }),
        ("deep-recursion", |e| {
            matches!(e, EngineError::StackOverflow { .. })
        }),
        (
            "wrong-signature",
            |e| matches!(e, EngineError::BadSignature { export, .. } if export == "filter"),
        ),
        ("alloc-out-of-bounds", |e| {
            matches!(
                e,
                EngineError::AllocOutOfBounds {
                    ptr: 0x7fff_0000,
                    memory: 65_536,
                    ..
                }
            )
        }),
        ("wait-shared", |e| matches!(e, EngineError::Compile { .. })),
        ("no-copy-records", |e| {
            matches!(
                e,
                EngineError::NoOutput {
                    what: "SmartModuleOutput",
                    ..
                }
            )
        }),
    ]
}

/// A case as the broker meets it: chain built (instantiate, `init`), one record to
/// `look_back`, then a call of the transform, twice (the second renews the instance).
fn drive(engine: &Engine, name: &str, limits: Limits) -> Result<(), EngineError> {
    let spec = ModuleSpec::new(name, corpus_case(name)).lookback(Lookback::last(1));
    let options = ChainOptions {
        limits,
        ..ChainOptions::default()
    };
    let mut chain = Chain::new(engine, &[spec], &options)?;
    chain.look_back(&[Record::new("history")], 0)?;
    let mut last = Ok(());
    for _ in 0..2 {
        last = match chain.process(&Batch::from_values(["record"])) {
            Ok(_) => Ok(()),
            Err(ChainFailure::Failed(e)) => Err(e),
            Err(ChainFailure::Refused(r)) => panic!("{name}: refused a record: {r}"),
        };
    }
    last
}

fn run_the_corpus(engine: &Engine) {
    let limits = corpus_limits();
    for (name, expected) in expectations() {
        let started = Instant::now();
        let err = drive(engine, name, limits)
            .err()
            .unwrap_or_else(|| panic!("{name}: ran without an error"));
        let took = started.elapsed();
        assert!(expected(&err), "{name}: {err:?}");
        assert_eq!(err.module(), Some(name), "{name}: {err:?}");
        // The error names the module and says what to do.
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
        assert!(
            took < limits.timeout.unwrap_or(Duration::MAX),
            "{name}: took {took:?}, past the wall-time limit"
        );
    }
}

#[test]
fn every_case_of_the_corpus_is_expected() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = expectations()
        .into_iter()
        .map(|(n, _)| n.to_string())
        .collect();
    expected.sort();
    assert_eq!(on_disk, expected);
}

#[test]
fn every_hostile_case_ends_with_its_typed_error_within_the_limits() {
    run_the_corpus(&Engine::new().unwrap());
}

#[test]
fn spinning_cases_hit_the_wall_time_limit_without_a_fuel_limit() {
    let engine = Engine::new().unwrap();
    let limits = Limits {
        fuel: None,
        timeout: Some(Duration::from_millis(200)),
        ..corpus_limits()
    };
    for name in [
        "spin-start",
        "spin-init",
        "spin-look-back",
        "spin-transform",
    ] {
        let started = Instant::now();
        let err = drive(&engine, name, limits).unwrap_err();
        assert!(
            matches!(&err, EngineError::Timeout { module, timeout }
                if module == name && *timeout == Duration::from_millis(200)),
            "{name}: {err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");
    }
}

/// Set in the child process that runs the corpus for the resident-memory measurement.
const RSS_CHILD: &str = "HARNESS_RSS_CHILD";
const PEAK_MARK: &str = "peak-resident-bytes: ";

fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// The whole corpus, twice per case, in a process of its own (so no other test's memory
/// counts): its peak resident memory stays under the memory cap plus 256 MB.
#[test]
fn the_process_stays_within_the_memory_cap_whatever_the_corpus_does() {
    if std::env::var_os(RSS_CHILD).is_some() {
        run_the_corpus(&Engine::new().unwrap());
        println!("\n{PEAK_MARK}{}", peak_resident_bytes());
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            // The test's path in this binary, `module::name`.
            "limits::the_process_stays_within_the_memory_cap_whatever_the_corpus_does",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(RSS_CHILD, "1")
        .output()
        .expect("run the test binary as a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the corpus run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix(PEAK_MARK))
        .expect("the child reports its peak")
        .trim()
        .parse()
        .unwrap();
    let bound = CORPUS_MEMORY as u64 + 256_000_000;
    println!(
        "peak resident memory over the corpus: {} MB",
        peak / 1_000_000
    );
    assert!(peak < bound, "peak {peak} bytes, bound {bound}");
}
