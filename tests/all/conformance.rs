//! The harness against the official engine, `fluvio-smartengine`: every module of this
//! workspace and a foreign SDK-built filter, over a varied corpus and every input version
//! the broker can send, give byte-identical outputs and the same errors.

use fluvio_protocol::link::smartmodule::SmartModuleTransformRuntimeError;
use fluvio_protocol::record::Record;
use host_harness::{Batch, Chain, ChainOptions, Engine, ModuleSpec, Outcome};

use crate::common::*;
use crate::policies::tagged;

/// Each module with params that exercise its decisions.
/// A module under test: a label, its wasm and its params.
type Case = (&'static str, Vec<u8>, Vec<(&'static str, &'static str)>);

pub(crate) fn modules() -> Vec<Case> {
    vec![
        ("passthrough", integration::wasm("passthrough"), vec![]),
        (
            "origin-tag",
            integration::wasm("origin-tag"),
            vec![("cluster", "here")],
        ),
        (
            "origin-tag+secret",
            integration::wasm("origin-tag"),
            vec![("cluster", "here"), ("secret", "secret-of-16-bytes")],
        ),
        (
            "origin-tag key",
            integration::wasm("origin-tag"),
            vec![("cluster", "here"), ("carrier", "key")],
        ),
        (
            "loop-guard",
            integration::wasm("loop-guard"),
            vec![("cluster", "here"), ("max_hops", "3")],
        ),
        (
            "loop-guard reject",
            integration::wasm("loop-guard"),
            vec![("cluster", "here"), ("on_loop", "reject")],
        ),
        (
            "mirror-guard audit",
            integration::wasm("mirror-guard"),
            vec![("cluster", "here"), ("mirror_of", "up"), ("mode", "audit")],
        ),
        (
            "mirror-guard reject",
            integration::wasm("mirror-guard"),
            vec![("cluster", "here"), ("mirror_of", "up"), ("topic", "t")],
        ),
        ("origin-strip", integration::wasm("origin-strip"), vec![]),
        (
            "mirror-policy",
            integration::wasm("mirror-policy"),
            vec![
                ("cluster", "here"),
                ("mirror_of", "up"),
                ("mode", "drop"),
                ("dedup", "50"),
                ("count", "50"),
            ],
        ),
        (
            "origin-stats",
            integration::wasm("origin-stats"),
            vec![("top", "3")],
        ),
        (
            "origin-stats+secret",
            integration::wasm("origin-stats"),
            vec![("secret", "secret-of-16-bytes"), ("every", "9")],
        ),
        (
            "origin-inspect",
            integration::wasm("origin-inspect"),
            vec![],
        ),
        ("sdk-hello", integration::wasm("sdk-hello"), vec![]),
        (
            "sdk-hello wasip1",
            integration::wasi_wasm("sdk-hello"),
            vec![],
        ),
    ]
}

/// Batches that pass, drop, rewrite and refuse: plain records of every shape, tagged ones from
/// upstream, loops, a forged tag and a malformed one.
pub(crate) fn batches() -> Vec<Vec<Record>> {
    let mut plain = corpus();
    plain.truncate(60);
    let mut tagged_up: Vec<Record> = (0..40)
        .map(|i| {
            record(
                if i % 2 == 0 { Some(b"k") } else { None },
                &tagged(&["up"], format!("apple {i}").as_bytes(), None),
                i,
                i,
            )
        })
        .collect();
    tagged_up.push(record(None, &tagged(&["up"], b"apple 0", None), 40, 0)); // duplicate
    vec![
        plain,
        tagged_up,
        vec![
            record(None, &tagged(&["here", "up"], b"a loop", None), 0, 0),
            record(None, b"after", 1, 0),
        ],
        vec![record(
            None,
            &tagged(&["a", "b", "c", "d"], b"far", None),
            0,
            0,
        )],
        vec![record(
            Some(b"k"),
            &tagged(&["up"], b"forged", Some("another-secret-of-16-bytes")),
            0,
            0,
        )],
        vec![
            record(None, b"banana", 0, 0),
            record(None, &[0xFF, 0x6F, 0x01, 0x00], 1, 0),
        ],
        vec![],
    ]
}

type Result = (Vec<Record>, Option<SmartModuleTransformRuntimeError>);

fn harness_chain(
    engine: &Engine,
    name: &str,
    wasm: &[u8],
    params: &[(&str, &str)],
    version: i16,
) -> Chain {
    let mut spec = ModuleSpec::new(name, wasm.to_vec());
    for (k, v) in params {
        spec = spec.param(*k, *v);
    }
    let options = ChainOptions {
        version,
        ..ChainOptions::default()
    };
    Chain::new(engine, &[spec], &options).expect("harness chain")
}

fn harness_run(chain: &mut Chain, batch: &[Record]) -> Result {
    let run = chain.run(&Batch {
        base_offset: 500,
        base_timestamp: 1_700_000_000_000,
        records: batch.to_vec(),
    });
    let last = run
        .steps
        .last()
        .map(|s| s.output.clone())
        .unwrap_or_default();
    match run.outcome {
        Outcome::Written => (run.output().to_vec(), None),
        Outcome::Refused(e) => (last, Some(*e.error)),
        Outcome::Failed(e) => panic!("harness call failed: {e}"),
    }
}

/// One chain per module and version in each engine, fed the batches in the same order (so
/// state such as mirror-policy's dedup window evolves alike).
#[test]
fn every_module_gives_byte_identical_results_in_both_engines() {
    let engine = Engine::new().expect("engine");
    let batches = batches();
    let mut compared = 0;
    for (name, wasm, params) in modules() {
        for version in VERSIONS {
            let mut official =
                official_chain(wasm.clone(), &params, version).expect("official chain");
            let mut ours = harness_chain(&engine, name, &wasm, &params, version);
            for (i, batch) in batches.iter().enumerate() {
                let expected = process(
                    &mut official,
                    batch.clone(),
                    500,
                    1_700_000_000_000,
                    version,
                );
                let (out, err) = harness_run(&mut ours, batch);
                assert_eq!(
                    err, expected.error,
                    "{name} v{version} batch {i}: errors differ"
                );
                assert_eq!(
                    encode_records(&out),
                    encode_records(&expected.successes),
                    "{name} v{version} batch {i}: outputs differ"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 15 * VERSIONS.len() * 7);
}

#[test]
fn init_errors_agree() {
    let engine = Engine::new().expect("engine");
    for (module, params) in [
        ("mirror-guard", vec![("cluster", "home")]),
        ("loop-guard", vec![("cluster", "a"), ("max_hops", "99")]),
        ("origin-tag", vec![("cluster", "a"), ("colour", "red")]),
    ] {
        let official =
            official_chain(integration::wasm(module), &params, 22).expect_err("official refuses");
        let mut spec = ModuleSpec::new(module, integration::wasm(module));
        for (k, v) in &params {
            spec = spec.param(*k, *v);
        }
        let ours = Chain::new(&engine, &[spec], &ChainOptions::default())
            .expect_err("harness refuses")
            .to_string();
        let hint = official.lines().next().unwrap();
        assert!(
            ours.contains(hint),
            "{module}: official {official:?}, harness {ours:?}"
        );
    }
}
