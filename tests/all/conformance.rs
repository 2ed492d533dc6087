//! The harness against the official engine, `fluvio-smartengine`: every module of this
//! workspace and a foreign SDK-built filter, over a varied corpus and every input version
//! the broker can send, give byte-identical outputs and the same errors.

use fluvio_protocol::link::smartmodule::SmartModuleTransformRuntimeError;
use fluvio_protocol::record::Record;
use host_harness::simulate::random::Rng;
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
    harness_run_at(chain, batch, 500)
}

fn harness_run_at(chain: &mut Chain, batch: &[Record], base_offset: i64) -> Result {
    let run = chain.run(&Batch {
        base_offset,
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

/// A batch of hostile records: valid tags (in keys and values, one to five hops, some sealed)
/// damaged as a producer could damage them: a flipped bit, a cut, a byte added or removed, a
/// byte overwritten with an extreme value, random bytes behind the magic, a tag whose varints
/// claim the most they can; keys absent, empty and huge.
fn hostile_batch(rng: &mut Rng) -> Vec<Record> {
    const CLUSTERS: [&str; 5] = ["up", "here", "a", "b", "edge-1.x_y"];
    let count = rng.range(1, 23) as usize;
    (0..count)
        .map(|i| {
            let hops = rng.range(1, 5) as usize;
            let path: Vec<&str> = (0..hops)
                .map(|_| CLUSTERS[rng.below(CLUSTERS.len() as u64) as usize])
                .collect();
            let payload: Vec<u8> = (0..rng.below(40)).map(|_| rng.next_u64() as u8).collect();
            let secret = rng.chance(30).then_some("secret-of-16-bytes");
            let mut tag = tagged(&path, &payload, secret);
            match rng.below(8) {
                0 => {}
                1 => {
                    let at = rng.below(tag.len() as u64) as usize;
                    tag[at] ^= 1 << rng.below(8);
                }
                2 => tag.truncate(rng.below(tag.len() as u64) as usize),
                3 => {
                    let at = rng.below(tag.len() as u64) as usize;
                    tag.insert(at, rng.next_u64() as u8);
                }
                4 => {
                    tag.remove(rng.below(tag.len() as u64) as usize);
                }
                5 => {
                    let at = rng.range(2, tag.len() as u64 - 1) as usize;
                    tag[at] = [0x00, 0x7F, 0x80, 0xFF][rng.below(4) as usize];
                }
                6 => {
                    tag.truncate(3);
                    tag.extend((0..rng.below(30)).map(|_| rng.next_u64() as u8));
                }
                _ => {
                    tag.truncate(5);
                    tag.extend([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
                }
            }
            let (key, value): (Option<Vec<u8>>, Vec<u8>) = match rng.below(5) {
                0 => (Some(tag), b"value".to_vec()),
                1 => (None, tag),
                2 => (Some(Vec::new()), tag),
                3 => (Some(vec![0xFF; 3000]), tag),
                _ => (Some(b"k".to_vec()), tag),
            };
            let delta = rng.below(1 << 20) as i64 - (1 << 19);
            record(key.as_deref(), &value, i as i64, delta)
        })
        .collect()
}

/// Hostile records through every module in both engines: the official engine never traps
/// (`process` fails the test on an engine error), and the harness gives the same bytes and
/// the same refusals, batch after batch (so the windows and accumulators evolve alike).
#[test]
fn hostile_records_never_trap_and_give_identical_results_in_both_engines() {
    let engine = Engine::new().expect("engine");
    let mut rng = Rng::new(0x5eed_0f40);
    let batches: Vec<Vec<Record>> = (0..40).map(|_| hostile_batch(&mut rng)).collect();
    let (mut refused, mut records) = (0, 0);
    for (name, wasm, params) in modules() {
        for version in [18, 25] {
            let mut official =
                official_chain(wasm.clone(), &params, version).expect("official chain");
            let mut ours = harness_chain(&engine, name, &wasm, &params, version);
            for (i, batch) in batches.iter().enumerate() {
                let expected = process(&mut official, batch.clone(), 7, 1_700_000_000_000, version);
                let (out, err) = harness_run_at(&mut ours, batch, 7);
                assert_eq!(
                    err, expected.error,
                    "{name} v{version} batch {i}: errors differ"
                );
                assert_eq!(
                    encode_records(&out),
                    encode_records(&expected.successes),
                    "{name} v{version} batch {i}: outputs differ"
                );
                refused += usize::from(err.is_some());
                records += batch.len();
            }
        }
    }
    // The damage is real: some batches are refused, most records are seen.
    assert!(refused > 0, "no hostile batch was refused by any module");
    assert!(records > 15 * 2 * 40, "{records} records");
}
