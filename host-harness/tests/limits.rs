//! Limits that hold: an infinite loop, a memory bomb and a trap each end their call with a
//! typed error naming the module, and the next call in the same process works.

use std::time::{Duration, Instant};

use host_harness::{
    Batch, Chain, ChainOptions, Engine, EngineError, Limits, ModuleSpec, Outcome, DEFAULT_FUEL,
    DEFAULT_MEMORY, DEFAULT_TIMEOUT,
};

fn misbehave(mode: &str) -> ModuleSpec {
    ModuleSpec::new("misbehave", integration::wasm("misbehave")).param("mode", mode)
}

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
    assert_eq!(Limits::broker().fuel, None);
    assert_eq!(Limits::broker().timeout, None);
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
