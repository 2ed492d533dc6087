//! The engine against real modules: encodings, init, look_back, WASI, the cache, and the
//! typed errors bad modules get.

use fluvio_protocol::record::{Record, RecordData};
use host_harness::{
    Batch, Chain, ChainOptions, Engine, EngineError, Lookback, ModuleSpec, Outcome, TransformKind,
};

use crate::support::{chain, misbehave, values};

fn build_err(spec: ModuleSpec) -> EngineError {
    Chain::new(
        &Engine::shared().unwrap(),
        &[spec],
        &ChainOptions::default(),
    )
    .unwrap_err()
}

#[test]
fn pass_hands_back_the_records_byte_for_byte() {
    let mut c = chain(&[misbehave("pass")]);
    let mut records = vec![
        Record::new_key_value("k1", "v1"),
        Record::new(RecordData::from(vec![0xff, 0x00, 0x80])),
    ];
    records[1].preamble.set_timestamp_delta(1234);
    let batch = Batch::new(records, 100, 1_700_000_000_000);
    let out = c.process(&batch).unwrap();
    assert_eq!(out.len(), 2);
    for (a, b) in out.iter().zip(&batch.records) {
        assert_eq!(a.key, b.key);
        assert_eq!(a.value.as_ref(), b.value.as_ref());
        assert_eq!(a.preamble.offset_delta(), b.preamble.offset_delta());
        assert_eq!(
            a.preamble.get_timestamp_delta(),
            b.preamble.get_timestamp_delta()
        );
    }
}

#[test]
fn runtime_error_comes_back_with_module_hint_offset_key_value() {
    let mut c = chain(&[misbehave("refuse").param("word", "rotten")]);
    let batch = Batch::new(
        vec![
            Record::new("fresh"),
            Record::new_key_value("k", "rotten egg"),
            Record::new("never reached"),
        ],
        40,
        0,
    );
    let run = c.run(&batch);
    let Outcome::Refused(err) = &run.outcome else {
        panic!("expected a refusal, got {:?}", run.outcome)
    };
    assert_eq!(err.module, "misbehave");
    assert_eq!(
        err.hint(),
        "misbehave refused a record containing the forbidden word"
    );
    assert_eq!(err.offset(), 41);
    assert_eq!(
        err.error.record_key.as_ref().map(|k| k.as_ref().to_vec()),
        Some(b"k".to_vec())
    );
    assert_eq!(err.error.record_value.as_ref(), b"rotten egg");
    // The records before the refused one come back with the error, as the SDK does.
    assert_eq!(values(&run.steps[0].output), ["fresh"]);
    // The producer-side text names the module and shows the SmartModule info block.
    let shown = err.to_string();
    assert!(shown.contains("module `misbehave`"), "{shown}");
    assert!(shown.contains("Offset: 41"), "{shown}");
    assert!(shown.contains("Value: rotten egg"), "{shown}");
    assert!(run.output().is_empty());
}

#[test]
fn init_refusal_is_a_typed_error_with_the_hint() {
    let err = build_err(ModuleSpec::new("misbehave", integration::wasm("misbehave")));
    match &err {
        EngineError::Init { module, hint } => {
            assert_eq!(module, "misbehave");
            assert!(hint.contains("needs the param mode"), "{hint}");
        }
        other => panic!("expected Init, got {other:?}"),
    }
    let err = build_err(misbehave("sideways"));
    assert!(matches!(err, EngineError::Init { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown mode"), "{err}");
}

#[test]
fn wasi_module_built_by_the_official_sdk_runs() {
    let engine = Engine::shared().unwrap();
    let wasm = integration::wasi_wasm("sdk-hello");
    let compiled = engine.compile("sdk-hello", &wasm).unwrap();
    assert!(compiled.uses_wasi(), "the wasip1 build imports WASI");
    assert_eq!(compiled.kind(), TransformKind::Filter);
    let mut c = chain(&[ModuleSpec::new("sdk-hello", wasm)]);
    let out = c
        .process(&Batch::from_values(["apple", "fig", "banana"]))
        .unwrap();
    assert_eq!(values(&out), ["apple", "banana"]);
}

#[test]
fn sdk_module_for_unknown_unknown_runs_at_every_supported_version() {
    for version in host_harness::MIN_VERSION..=host_harness::MAX_VERSION {
        let mut c = Chain::new(
            &Engine::shared().unwrap(),
            &[ModuleSpec::new("sdk-hello", integration::wasm("sdk-hello"))],
            &ChainOptions {
                version,
                ..Default::default()
            },
        )
        .unwrap();
        let out = c.process(&Batch::from_values(["cat", "dog"])).unwrap();
        assert_eq!(values(&out), ["cat"], "version {version}");
    }
}

#[test]
fn unsupported_version_is_refused() {
    let err = Chain::new(
        &Engine::shared().unwrap(),
        &[misbehave("pass")],
        &ChainOptions {
            version: 12,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, EngineError::UnsupportedVersion { version: 12 });
    assert!(err.to_string().contains("16..=25"), "{err}");
}

#[test]
fn compiled_modules_are_cached_by_content() {
    let engine = Engine::new().unwrap();
    let bytes = integration::wasm("misbehave");
    let a = engine.compile("one-name", &bytes).unwrap();
    let before = engine.cached_modules();
    let b = engine.compile("another-name", &bytes).unwrap();
    assert_eq!(engine.cached_modules(), before);
    assert_eq!(a.hash(), b.hash());
    // Building chains on the same engine compiles nothing new.
    for _ in 0..3 {
        Chain::new(&engine, &[misbehave("pass")], &ChainOptions::default()).unwrap();
    }
    assert_eq!(engine.cached_modules(), before);
    engine
        .compile("sdk", &integration::wasm("sdk-hello"))
        .unwrap();
    assert_eq!(engine.cached_modules(), before + 1);
}

#[test]
fn look_back_records_reach_the_module_through_the_window() {
    let mut c = chain(&[misbehave("dedup").lookback(Lookback::last(2))]);
    let history: Vec<Record> = ["a", "b", "c"].into_iter().map(Record::new).collect();
    let fed = c.look_back(&history, 0).unwrap();
    assert_eq!(fed, ["misbehave"]);
    // The window is the last 2: "b" and "c" were seen, "a" was not.
    let out = c
        .process(&Batch::from_values(["a", "b", "c", "d"]))
        .unwrap();
    assert_eq!(values(&out), ["a", "d"]);
}

#[test]
fn look_back_is_skipped_without_a_window_and_refusals_are_typed() {
    let mut c = chain(&[misbehave("dedup")]);
    assert!(c.look_back(&[Record::new("a")], 0).unwrap().is_empty());
    assert_eq!(
        values(&c.process(&Batch::from_values(["a"])).unwrap()),
        ["a"]
    );

    let mut c = chain(&[misbehave("refuse").lookback(Lookback::last(10))]);
    let err = c
        .look_back(&[Record::new("ok"), Record::new("bad one")], 0)
        .unwrap_err();
    match err {
        EngineError::LookBack { module, error } => {
            assert_eq!(module, "misbehave");
            assert_eq!(error.hint, "misbehave look_back found the forbidden word");
            assert_eq!(error.offset, 1);
            assert_eq!(error.record_value.as_ref(), b"bad one");
        }
        other => panic!("expected LookBack, got {other:?}"),
    }
}

// ---- bad modules, written in WAT ----

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

const COPY_IMPORT: &str = r#"(import "env" "copy_records" (func $copy (param i32 i32)))"#;
const MEMORY_ALLOC: &str = r#"
    (memory (export "memory") 1)
    (func (export "alloc") (param i32) (result i32) i32.const 1024)"#;

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    let err = build_err(ModuleSpec::new("text", b"transforms: []".to_vec()));
    assert_eq!(
        err,
        EngineError::NotWasm {
            module: "text".into()
        }
    );
    let err = build_err(ModuleSpec::new(
        "truncated",
        b"\0asm\x01\0\0\0\x01".to_vec(),
    ));
    assert!(matches!(err, EngineError::Compile { .. }), "{err:?}");
}

#[test]
fn module_without_copy_records_is_refused() {
    let bytes = wat(&format!(
        r#"(module {MEMORY_ALLOC}
            (func (export "filter") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let err = build_err(ModuleSpec::new("mute", bytes));
    assert_eq!(
        err,
        EngineError::MissingCopyRecords {
            module: "mute".into()
        }
    );
    assert!(err.to_string().contains("copy_records"));
}

#[test]
fn module_without_transform_memory_or_alloc_is_refused() {
    let no_transform = wat(&format!("(module {COPY_IMPORT} {MEMORY_ALLOC})"));
    assert_eq!(
        build_err(ModuleSpec::new("idle", no_transform)),
        EngineError::NoTransform {
            module: "idle".into()
        }
    );
    let no_alloc = wat(&format!(
        r#"(module {COPY_IMPORT} (memory (export "memory") 1)
            (func (export "map") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let err = build_err(ModuleSpec::new("noalloc", no_alloc));
    assert!(
        matches!(&err, EngineError::MissingExport { export, .. } if export == "alloc"),
        "{err:?}"
    );
    let no_memory = wat(&format!(
        r#"(module {COPY_IMPORT}
            (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "map") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let err = build_err(ModuleSpec::new("nomem", no_memory));
    assert!(
        matches!(&err, EngineError::MissingExport { export, .. } if export == "memory"),
        "{err:?}"
    );
}

#[test]
fn transform_with_the_wrong_signature_is_refused() {
    let bytes = wat(&format!(
        r#"(module {COPY_IMPORT} {MEMORY_ALLOC}
            (func (export "filter") (param i32 i32) (result i32) i32.const 0))"#
    ));
    match build_err(ModuleSpec::new("twoargs", bytes)) {
        EngineError::BadSignature {
            module,
            export,
            found,
            ..
        } => {
            assert_eq!(module, "twoargs");
            assert_eq!(export, "filter");
            assert_eq!(found, "(i32, i32) -> (i32)");
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

#[test]
fn module_importing_something_else_cannot_be_instantiated() {
    let bytes = wat(&format!(
        r#"(module {COPY_IMPORT}
            (import "env" "sneaky" (func (param i32)))
            {MEMORY_ALLOC}
            (func (export "filter") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let err = build_err(ModuleSpec::new("sneaky", bytes));
    assert!(matches!(err, EngineError::Instantiate { .. }), "{err:?}");
    assert!(err.to_string().contains("sneaky"), "{err}");
}

/// A transform that hands back a fixed output from a data segment.
fn fixed_output(export: &str, output: &[u8]) -> Vec<u8> {
    let data: String = output.iter().map(|b| format!("\\{b:02x}")).collect();
    wat(&format!(
        r#"(module {COPY_IMPORT} {MEMORY_ALLOC}
            (data (i32.const 16) "{data}")
            (func (export "{export}") (param i32 i32 i32) (result i32)
                (call $copy (i32.const 16) (i32.const {len}))
                i32.const 0))"#,
        len = output.len()
    ))
}

#[test]
fn transforms_are_probed_in_the_brokers_order() {
    let empty_output = [0, 0, 0, 0, 0]; // no successes, no error
    for (export, kind) in [
        ("map", TransformKind::Map),
        ("filter_map", TransformKind::FilterMap),
        ("array_map", TransformKind::ArrayMap),
    ] {
        let engine = Engine::shared().unwrap();
        let compiled = engine
            .compile(export, &fixed_output(export, &empty_output))
            .unwrap();
        assert_eq!(compiled.kind(), kind);
        let mut c = chain(&[ModuleSpec::new(export, fixed_output(export, &empty_output))]);
        assert!(c.process(&Batch::from_values(["x"])).unwrap().is_empty());
    }
    // filter wins over map when both are exported.
    let both = wat(&format!(
        r#"(module {COPY_IMPORT} {MEMORY_ALLOC}
            (func (export "map") (param i32 i32 i32) (result i32) unreachable)
            (func (export "filter") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let compiled = Engine::shared().unwrap().compile("both", &both).unwrap();
    assert_eq!(compiled.kind(), TransformKind::Filter);
}

#[test]
fn aggregate_keeps_the_accumulator_between_calls() {
    // SmartModuleAggregateOutput: no successes, no error, accumulator "acc".
    let output = [0, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'c', b'c'];
    let mut spec = ModuleSpec::new("agg", fixed_output("aggregate", &output));
    spec.initial_accumulator = b"seed".to_vec();
    let mut c = chain(&[spec]);
    assert_eq!(c.modules()[0].kind(), TransformKind::Aggregate);
    assert_eq!(c.modules()[0].accumulator(), b"seed");
    c.process(&Batch::from_values(["x"])).unwrap();
    assert_eq!(c.modules()[0].accumulator(), b"acc");
}

#[test]
fn output_that_does_not_decode_is_a_typed_error() {
    let mut c = chain(&[ModuleSpec::new(
        "garbled",
        fixed_output("filter", &[0, 0, 0, 9]),
    )]);
    let err = c.process(&Batch::from_values(["x"])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("module `garbled`"), "{text}");
    assert!(text.contains("SmartModuleOutput"), "{text}");

    let silent = wat(&format!(
        r#"(module {COPY_IMPORT} {MEMORY_ALLOC}
            (func (export "filter") (param i32 i32 i32) (result i32) i32.const 0))"#
    ));
    let mut c = chain(&[ModuleSpec::new("silent", silent)]);
    let err = c.process(&Batch::from_values(["x"])).unwrap_err();
    assert!(
        err.to_string().contains("without calling copy_records"),
        "{err}"
    );
}

#[test]
fn negative_status_is_a_typed_error_with_its_meaning() {
    let bytes = wat(&format!(
        r#"(module {COPY_IMPORT} {MEMORY_ALLOC}
            (func (export "filter") (param i32 i32 i32) (result i32) i32.const -22))"#
    ));
    let mut c = chain(&[ModuleSpec::new("status", bytes)]);
    let run = c.run(&Batch::from_values(["x"]));
    match run.outcome {
        Outcome::Failed(EngineError::Status {
            module,
            status,
            meaning,
        }) => {
            assert_eq!(module, "status");
            assert_eq!(status, -22);
            assert_eq!(meaning, "failed to decode SmartModule record input");
        }
        other => panic!("expected Status, got {other:?}"),
    }
}
