//! Chains of modules and chain files (Fluvio's transforms YAML).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fluvio_protocol::record::Record;
use host_harness::{
    Batch, Chain, ChainFailure, ChainFile, ChainFileError, ChainOptions, Engine, Fate,
    HarnessError, ModuleResolver, ModuleSpec, Outcome,
};

use crate::support::{misbehave, values};

fn sdk_hello() -> ModuleSpec {
    ModuleSpec::new("sdk-hello", integration::wasm("sdk-hello"))
}

fn two_module_chain() -> Chain {
    Chain::new(
        &Engine::shared().unwrap(),
        &[misbehave("refuse").param("word", "rotten"), sdk_hello()],
        &ChainOptions::default(),
    )
    .unwrap()
}

#[test]
fn two_modules_feed_each_other_and_keep_the_base_offset() {
    let mut c = two_module_chain();
    assert_eq!(c.names(), ["misbehave", "sdk-hello"]);
    let batch = Batch::new(
        ["apple", "fig", "banana"]
            .into_iter()
            .map(Record::new)
            .collect(),
        500,
        1_700_000_000_000,
    );
    let run = c.run(&batch);
    assert!(run.outcome.is_written());
    assert_eq!(run.steps.len(), 2);
    assert_eq!(values(&run.steps[0].output), ["apple", "fig", "banana"]);
    assert_eq!(run.steps[1].input, 3);
    assert_eq!(values(run.output()), ["apple", "banana"]);
    // Offsets survive re-encoding between modules: banana is still base + 2.
    assert_eq!(run.output()[1].preamble.offset_delta(), 2);
    let fates: Vec<&Fate> = run.fates.iter().map(|f| &f.fate).collect();
    assert_eq!(
        fates,
        [
            &Fate::Passed,
            &Fate::Dropped {
                module: "sdk-hello".into()
            },
            &Fate::Passed
        ]
    );
    assert_eq!(values(&run.fates[2].outputs), ["banana"]);
}

#[test]
fn a_runtime_error_stops_the_chain_and_refuses_the_batch() {
    let mut c = two_module_chain();
    let batch = Batch::new(
        ["apple", "rotten pear", "banana"]
            .into_iter()
            .map(Record::new)
            .collect(),
        10,
        0,
    );
    let run = c.run(&batch);
    assert_eq!(run.steps.len(), 1, "sdk-hello never ran");
    let Outcome::Refused(err) = &run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(err.module, "misbehave");
    assert_eq!(err.offset(), 11);
    assert!(run.output().is_empty());
    let refused_here: Vec<bool> = run
        .fates
        .iter()
        .map(|f| match &f.fate {
            Fate::Refused {
                module,
                this_record,
                ..
            } => {
                assert_eq!(module, "misbehave");
                *this_record
            }
            other => panic!("expected refused, got {other:?}"),
        })
        .collect();
    assert_eq!(refused_here, [false, true, false]);
    match c.process(&batch) {
        Err(ChainFailure::Refused(e)) => assert_eq!(e.module, "misbehave"),
        other => panic!("{other:?}"),
    }
    // The chain goes on with the next batch.
    assert_eq!(
        values(&c.process(&Batch::from_values(["grape"])).unwrap()),
        ["grape"]
    );
}

#[test]
fn a_wasi_module_chains_with_an_abi_module() {
    let mut c = Chain::new(
        &Engine::shared().unwrap(),
        &[
            ModuleSpec::new("sdk-hello-wasi", integration::wasi_wasm("sdk-hello")),
            misbehave("pass"),
        ],
        &ChainOptions::default(),
    )
    .unwrap();
    let out = c.process(&Batch::from_values(["kiwi", "mango"])).unwrap();
    assert_eq!(values(&out), ["mango"]);
}

#[test]
fn an_empty_chain_writes_its_input() {
    let mut c = Chain::new(&Engine::shared().unwrap(), &[], &ChainOptions::default()).unwrap();
    let run = c.run(&Batch::from_values(["x"]));
    assert_eq!(values(run.output()), ["x"]);
    assert_eq!(run.fates[0].fate, Fate::Passed);
}

// ---- chain files ----

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn parse(text: &str) -> Result<ChainFile, ChainFileError> {
    ChainFile::parse(text, "chain.yaml")
}

#[test]
fn transforms_file_parses_like_fluvio_reads_it() {
    let file = parse(
        r#"
transforms:
  - uses: infinyon/jolt@0.4.1
    with:
      spec:
        - operation: default
          spec:
            source: "http"
      plain: text
  - uses: dedup
    lookback:
      last: 100
      age: 1h 30m
  - uses: ./local.wasm
"#,
    )
    .unwrap();
    assert_eq!(file.transforms.len(), 3);
    let jolt = &file.transforms[0];
    assert_eq!(jolt.uses, "infinyon/jolt@0.4.1");
    assert_eq!(jolt.with["plain"], "text");
    // Lists and maps reach init as JSON text, as Fluvio passes them.
    assert_eq!(
        jolt.with["spec"],
        r#"[{"operation":"default","spec":{"source":"http"}}]"#
    );
    let lb = file.transforms[1].lookback.clone().unwrap();
    assert_eq!(lb.last, 100);
    assert_eq!(lb.age, Some(Duration::from_secs(5400)));
    assert!(file.transforms[2].with.is_empty());
    assert!(file.warnings.is_empty());
}

#[test]
fn bad_chain_files_get_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("- uses: a\n", "not a map with a `transforms` list"),
        ("steps: []\n", "there is no `transforms` key"),
        ("transforms: []\n", "`transforms` is empty"),
        ("transforms: loop-guard\n", "not a list of steps"),
        (
            "transforms:\n  - with: {a: b}\n",
            "transform #1 has no `uses`",
        ),
        ("transforms:\n  - uses: [a]\n", "`uses` is a list"),
        (
            "transforms:\n  - uses: a\n    with:\n      count: 5\n",
            "`with.count` is a number; quote it (\"5\")",
        ),
        (
            "transforms:\n  - uses: a\n    with: just-a-string\n",
            "`with` is a string, expected a map of params",
        ),
        (
            "transforms:\n  - uses: a\n    lookback:\n      age: soon\n",
            "`lookback.age` \"soon\"",
        ),
        (
            "transforms:\n  - uses: a\n    lookback:\n      last: -1\n",
            "`lookback.last` is a number, expected a whole number",
        ),
        ("transforms: [\n", "chain.yaml"),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text).to_string();
        assert!(
            err.contains(expected),
            "for {text:?}\nexpected {expected:?} in:\n{err}"
        );
    }
}

#[test]
fn every_wrong_shape_names_the_transform_and_the_key() {
    let cases: &[(&str, &str)] = &[
        ("", "the top level is empty"),
        (
            "transforms:\n  - uses: a\n  - just-a-name\n",
            "transform #2 is a string, not a map",
        ),
        (
            "transforms:\n  - uses: \"  \"\n",
            "`uses` is a string, expected a module name",
        ),
        (
            "transforms:\n  - uses: !Thing a\n",
            "`uses` is a tagged value",
        ),
        (
            "transforms:\n  - uses: a\n    with:\n      on: true\n",
            "`with.on` is a boolean; quote it (\"true\")",
        ),
        (
            "transforms:\n  - uses: a\n    with:\n      ratio: 5.0\n",
            "quote it (\"5.0\")",
        ),
        (
            "transforms:\n  - uses: a\n    with:\n      gap:\n",
            "`with.gap` is empty; params are strings, maps or lists",
        ),
        (
            "transforms:\n  - uses: a\n    lookback: 5\n",
            "`lookback` is a number, expected a map",
        ),
        (
            "transforms:\n  - uses: a\n    lookback:\n      age: 30\n",
            "`lookback.age` is a number, expected a duration",
        ),
        (
            "transforms:\n  - uses: a\n    lookback:\n      last: \"5\"\n",
            "`lookback.last` is a string",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert!(
            matches!(
                err,
                ChainFileError::Parse { .. } | ChainFileError::Step { .. }
            ),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(
            err.contains(expected),
            "for {text:?}\nexpected {expected:?} in:\n{err}"
        );
    }
    // Step errors carry the transform's number and module.
    let err = parse("transforms:\n  - uses: a\n  - uses: b\n    with: [x]\n").unwrap_err();
    assert!(
        matches!(&err, ChainFileError::Step { index: 2, uses, .. } if uses == "b"),
        "{err:?}"
    );
    // Keys of a map param are read as strings, as Fluvio's `JsonString` reads them.
    let file = parse("transforms:\n  - uses: a\n    with:\n      m: {1: x}\n").unwrap();
    assert_eq!(file.transforms[0].with["m"], r#"{"1":"x"}"#);
}

#[test]
fn a_lookback_with_only_an_age_or_nothing_set() {
    let file = parse("transforms:\n  - uses: a\n    lookback:\n      age: 15m\n      lats: 3\n  - uses: b\n    lookback:\n    with:\n").unwrap();
    let lb = file.transforms[0].lookback.clone().unwrap();
    assert_eq!((lb.last, lb.age), (0, Some(Duration::from_secs(900))));
    assert_eq!(file.transforms[1].lookback, None);
    assert!(file.transforms[1].with.is_empty());
    assert_eq!(file.warnings.len(), 1);
    assert!(
        file.warnings[0].contains("lookback key `lats`"),
        "{:?}",
        file.warnings
    );
}

#[test]
fn unknown_keys_are_warnings_not_errors() {
    let file = parse("transforms:\n  - uses: a\n    wiht: {x: y}\n").unwrap();
    assert_eq!(file.warnings.len(), 1);
    assert!(file.warnings[0].contains("`wiht`"), "{:?}", file.warnings);
}

#[test]
fn resolver_finds_modules_by_name_path_and_hub_form() {
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir(&modules).unwrap();
    std::fs::write(modules.join("loop_guard.wasm"), b"x").unwrap();
    std::fs::write(modules.join("origin-tag.wasm"), b"x").unwrap();
    let r = ModuleResolver::new(&modules);
    assert_eq!(
        r.resolve("loop-guard").unwrap(),
        modules.join("loop_guard.wasm")
    );
    assert_eq!(
        r.resolve("loop_guard").unwrap(),
        modules.join("loop_guard.wasm")
    );
    assert_eq!(
        r.resolve("origin_tag").unwrap(),
        modules.join("origin-tag.wasm")
    );
    assert_eq!(
        r.resolve("acme/loop-guard@1.2.3").unwrap(),
        modules.join("loop_guard.wasm")
    );
    let explicit = dir.path().join("custom.wasm");
    std::fs::write(&explicit, b"x").unwrap();
    assert_eq!(r.resolve(explicit.to_str().unwrap()).unwrap(), explicit);
    // Relative paths in a chain file are relative to the file first.
    assert_eq!(
        r.resolve_from("custom.wasm", Some(dir.path())).unwrap(),
        dir.path().join("custom.wasm")
    );

    let err = r.resolve("mirror-guard").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("module `mirror-guard` not found"), "{text}");
    assert!(text.contains("mirror_guard.wasm"), "{text}");
    assert!(text.contains("available: loop_guard, origin-tag"), "{text}");
    let ChainFileError::ModuleNotFound { available, .. } = err else {
        panic!()
    };
    assert_eq!(available, ["loop_guard", "origin-tag"]);

    let empty = ModuleResolver::new(dir.path().join("nowhere"));
    let text = empty.resolve("x").unwrap_err().to_string();
    assert!(text.contains("cargo build-modules"), "{text}");
}

#[test]
fn chain_from_file_builds_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let modules = integration::wasm_path("misbehave")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = write(
        dir.path(),
        "chain.yaml",
        "transforms:\n  - uses: misbehave\n    with:\n      mode: refuse\n      word: rotten\n  - uses: sdk-hello\n",
    );
    let mut c = Chain::from_file(
        &Engine::shared().unwrap(),
        &path,
        &ModuleResolver::new(&modules),
        &ChainOptions::default(),
    )
    .unwrap();
    assert_eq!(c.names(), ["misbehave", "sdk-hello"]);
    assert_eq!(c.modules()[0].params()["word"], "rotten");
    let out = c.process(&Batch::from_values(["pear", "plum"])).unwrap();
    assert_eq!(values(&out), ["pear"]);

    let missing = write(dir.path(), "missing.yaml", "transforms:\n  - uses: nope\n");
    let err = Chain::from_file(
        &Engine::shared().unwrap(),
        &missing,
        &ModuleResolver::new(&modules),
        &ChainOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            HarnessError::ChainFile(ChainFileError::ModuleNotFound { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("misbehave"),
        "lists what is available: {err}"
    );

    let init_fails = write(
        dir.path(),
        "init.yaml",
        "transforms:\n  - uses: misbehave\n",
    );
    let err = Chain::from_file(
        &Engine::shared().unwrap(),
        &init_fails,
        &ModuleResolver::new(&modules),
        &ChainOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs the param mode"), "{err}");
}
