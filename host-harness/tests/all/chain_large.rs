//! Big batches through a chain: `Chain::run` traces every record and `Chain::process` takes
//! the lean path, and both must agree (a regression test for the per-record tracing that
//! once scanned every record's lineage per record). No timing is asserted.

use fluvio_protocol::record::Record;
use host_harness::{Batch, ChainFailure, Fate, ModuleSpec, Outcome};

use crate::support::chain;

const RECORDS: usize = 20_000;
const BASE_OFFSET: i64 = 1_000;

fn passthrough(name: &str) -> ModuleSpec {
    ModuleSpec::new(name, integration::wasm("passthrough"))
}

fn batch(value: impl Fn(usize) -> String) -> Batch {
    Batch::new(
        (0..RECORDS)
            .map(|i| {
                let mut r = Record::new(value(i));
                r.preamble.set_timestamp_delta(i as i64);
                r
            })
            .collect(),
        BASE_OFFSET,
        1_700_000_000_000,
    )
}

fn same(a: &[Record], b: &[Record]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.key == y.key
                && x.value.as_ref() == y.value.as_ref()
                && x.preamble.offset_delta() == y.preamble.offset_delta()
                && x.preamble.get_timestamp_delta() == y.preamble.get_timestamp_delta()
        })
}

#[test]
fn twenty_thousand_records_pass_two_passthroughs_via_run_and_process() {
    let specs = [passthrough("first"), passthrough("second")];
    let batch = batch(|i| format!("value-{i:05}"));

    let processed = chain(&specs).process(&batch).unwrap();
    let run = chain(&specs).run(&batch);

    assert!(run.outcome.is_written(), "{:?}", run.outcome);
    assert!(same(&processed, &batch.records));
    assert!(same(run.output(), &processed));
    assert_eq!(run.steps.len(), 2);
    for (step, name) in run.steps.iter().zip(["first", "second"]) {
        assert_eq!(step.module, name);
        assert_eq!(step.input, RECORDS);
        assert!(same(&step.output, &batch.records));
    }
    assert!(run.unattributed.is_empty());
    assert_eq!(run.fates.len(), RECORDS);
    for (i, fate) in run.fates.iter().enumerate() {
        assert_eq!(fate.fate, Fate::Passed, "record {i}");
        assert!(
            same(&fate.outputs, std::slice::from_ref(&batch.records[i])),
            "record {i}"
        );
    }
}

#[test]
fn twenty_thousand_records_half_dropped_agree_between_run_and_process() {
    // sdk-hello keeps the values containing an `a`: every other record.
    let specs = [
        passthrough("passthrough"),
        ModuleSpec::new("sdk-hello", integration::wasm("sdk-hello")),
    ];
    let batch = batch(|i| {
        if i % 2 == 0 {
            format!("apple-{i}")
        } else {
            format!("berry-{i}")
        }
    });
    let kept: Vec<Record> = batch.records.iter().step_by(2).cloned().collect();

    let processed = chain(&specs).process(&batch).unwrap();
    let run = chain(&specs).run(&batch);

    assert!(run.outcome.is_written(), "{:?}", run.outcome);
    assert!(same(&processed, &kept));
    assert!(same(run.output(), &processed));
    assert_eq!(run.steps[1].input, RECORDS);
    assert_eq!(run.steps[1].output.len(), RECORDS / 2);
    assert!(run.unattributed.is_empty());
    for (i, fate) in run.fates.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(fate.fate, Fate::Passed, "record {i}");
            assert!(
                same(&fate.outputs, std::slice::from_ref(&batch.records[i])),
                "record {i}"
            );
        } else {
            assert_eq!(
                fate.fate,
                Fate::Dropped {
                    module: "sdk-hello".to_string()
                },
                "record {i}"
            );
            assert!(fate.outputs.is_empty(), "record {i}");
        }
    }
}

#[test]
fn a_refusal_deep_in_a_big_batch_is_the_same_via_run_and_process() {
    const ROTTEN: usize = 15_000;
    let specs = [
        passthrough("passthrough"),
        ModuleSpec::new("misbehave", integration::wasm("misbehave"))
            .param("mode", "refuse")
            .param("word", "rotten"),
    ];
    let batch = batch(|i| {
        if i == ROTTEN {
            "rotten".to_string()
        } else {
            format!("fresh-{i}")
        }
    });

    let refused = match chain(&specs).process(&batch) {
        Err(ChainFailure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(refused.module, "misbehave");
    assert_eq!(refused.offset(), BASE_OFFSET + ROTTEN as i64);

    let run = chain(&specs).run(&batch);
    let Outcome::Refused(e) = &run.outcome else {
        panic!("expected a refusal, got {:?}", run.outcome);
    };
    assert_eq!(e.module, refused.module);
    assert_eq!(e.offset(), refused.offset());
    assert_eq!(e.hint(), refused.hint());
    assert!(run.output().is_empty());
    assert!(run.unattributed.is_empty());
    assert_eq!(run.steps.len(), 2);
    assert_eq!(run.steps[1].output.len(), ROTTEN);
    for (i, fate) in run.fates.iter().enumerate() {
        assert_eq!(
            fate.fate,
            Fate::Refused {
                module: "misbehave".to_string(),
                message: refused.hint().to_string(),
                this_record: i == ROTTEN,
            },
            "record {i}"
        );
        assert!(fate.outputs.is_empty(), "record {i}");
    }
}
