//! The policy decisions as plain functions, natively: what every module decides is tested here
//! without wasm (the integration tests run the same decisions inside the official engine).

use origin::policy::{Dropped, Module, Outcome, Policy, RecordView};
use origin::{decode, record_id, wrap, Decoded, Envelope, FLAG_VIOLATION};

fn policy(module: Module, params: &[(&str, &str)]) -> Policy {
    Policy::from_params(module, params.iter().copied()).expect("valid params")
}

fn view(value: &[u8]) -> RecordView<'_> {
    RecordView {
        key: None,
        value,
        timestamp: 1_000,
        offset: 7,
    }
}

fn tagged(path: &[&str], payload: &[u8]) -> Vec<u8> {
    let mut env =
        Envelope::new_origin(path[0], 1, record_id(path[0], 1, 0, None, payload)).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    wrap(&env, payload)
}

/// The record as it would be stored after a `Rewrite`: the new tag, then the payload.
fn stored(scratch: &[u8], outcome: &Outcome<'_>) -> Vec<u8> {
    match outcome {
        Outcome::Rewrite { payload, .. } => [scratch, payload].concat(),
        other => panic!("expected a rewrite, got {other:?}"),
    }
}

#[test]
fn tagging_an_untagged_record_records_its_origin() {
    let mut p = policy(Module::OriginTag, &[("cluster", "edge")]);
    let mut scratch = Vec::new();
    let out = p.decide(&view(b"v"), &mut scratch);
    let bytes = stored(&scratch, &out);
    let Ok(Decoded::Tagged { envelope, payload }) = decode(&bytes) else {
        panic!()
    };
    assert_eq!(
        (envelope.path(), envelope.timestamp(), payload),
        (vec!["edge"], 1_000, &b"v"[..])
    );
    assert_eq!(envelope.id(), record_id("edge", 1_000, 7, None, b"v"));
}

#[test]
fn a_returning_record_is_a_loop_and_a_path_ending_here_is_not() {
    let mut p = policy(Module::LoopGuard, &[("cluster", "a")]);
    let mut scratch = Vec::new();
    assert_eq!(
        p.decide(&view(&tagged(&["a", "b"], b"x")), &mut scratch),
        Outcome::Drop(Dropped::Loop)
    );
    assert_eq!(
        p.decide(&view(&tagged(&["a"], b"x")), &mut scratch),
        Outcome::Pass
    );
    assert_eq!(
        p.decide(&view(&tagged(&["b", "c"], b"x")), &mut scratch),
        Outcome::Pass
    );
}

#[test]
fn audit_flags_local_writes_and_leaves_mirror_traffic_alone() {
    let mut p = policy(
        Module::MirrorGuard,
        &[
            ("cluster", "home"),
            ("mirror_of", "edge"),
            ("mode", "audit"),
        ],
    );
    let mut scratch = Vec::new();
    let out = p.decide(&view(b"local"), &mut scratch);
    let bytes = stored(&scratch, &out);
    let Ok(Decoded::Tagged { envelope, .. }) = decode(&bytes) else {
        panic!()
    };
    assert_eq!(envelope.flags(), FLAG_VIOLATION);
    assert_eq!(
        p.decide(&view(&tagged(&["edge"], b"m")), &mut scratch),
        Outcome::Pass
    );
}

#[test]
fn the_dedup_window_drops_a_second_arrival_and_is_refilled_by_remember() {
    let record = tagged(&["edge"], b"x");
    let mut p = policy(
        Module::MirrorPolicy,
        &[("cluster", "home"), ("dedup", "10")],
    );
    let mut scratch = Vec::new();
    assert!(matches!(
        p.decide(&view(&record), &mut scratch),
        Outcome::Rewrite { .. }
    ));
    assert_eq!(
        p.decide(&view(&record), &mut scratch),
        Outcome::Drop(Dropped::Duplicate)
    );

    let mut restarted = policy(
        Module::MirrorPolicy,
        &[("cluster", "home"), ("dedup", "10")],
    );
    restarted.remember(&view(&tagged(&["edge", "home"], b"x")));
    assert_eq!(restarted.remembered(), 1);
    assert_eq!(
        restarted.decide(&view(&record), &mut scratch),
        Outcome::Drop(Dropped::Duplicate)
    );
}

#[test]
fn a_refused_batch_is_not_remembered() {
    let record = tagged(&["edge"], b"x");
    let mut p = policy(
        Module::MirrorPolicy,
        &[("cluster", "home"), ("mirror_of", "edge"), ("dedup", "10")],
    );
    let mut scratch = Vec::new();
    assert!(matches!(
        p.decide(&view(&record), &mut scratch),
        Outcome::Rewrite { .. }
    ));
    assert!(matches!(
        p.decide(&view(b"local"), &mut scratch),
        Outcome::Refuse(_)
    ));
    p.end_batch(false);
    assert!(
        matches!(
            p.decide(&view(&record), &mut scratch),
            Outcome::Rewrite { .. }
        ),
        "sent again after the refusal, it is stored"
    );
}

#[test]
fn every_module_names_itself_and_its_param_in_errors() {
    for module in Module::ALL {
        let err = Policy::from_params(module, [("no_such_param", "1")]).unwrap_err();
        assert!(err.starts_with(&format!("{}: ", module.name())), "{err}");
    }
}
