//! The guest ABI's aggregates against `fluvio-protocol`'s own encodings: the accumulator comes
//! in after the input and goes back after the output at every version, a refused accumulator
//! is handed back untouched, and no byte string makes the walker panic.

use fluvio_protocol::link::smartmodule::SmartModuleKind;
use fluvio_protocol::record::Record;
use fluvio_protocol::{Decoder, Encoder};
use fluvio_smartmodule::dataplane::smartmodule::{
    SmartModuleAggregateInput, SmartModuleAggregateOutput, SmartModuleInput,
};
use proptest::prelude::*;
use smartmodule_abi::{Aggregate, Emit, Kind, Params, Record as GuestRecord, SmartModule};

use crate::common::record;

/// Sums the lengths of the values; the accumulator is the sum in decimal. A record whose value
/// is `refuse me` is refused; an accumulator that is not a number refuses the batch. Every
/// value `emit` emits the sum on its record; the batch's end emits it on the last record.
struct Lengths {
    sum: u64,
    text: String,
}

impl SmartModule for Lengths {
    const KIND: Kind = Kind::Aggregate;
    fn init(_: &Params<'_>) -> Result<Self, String> {
        Ok(Lengths {
            sum: 0,
            text: String::new(),
        })
    }
    fn process(
        &mut self,
        r: &GuestRecord<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        if r.value() == b"refuse me" {
            return Err(format!("refused at {}", r.offset()));
        }
        self.sum += r.value().len() as u64;
        if r.value() == b"emit" {
            out.emit(None, &[self.sum.to_string().as_bytes()]);
        }
        Ok(())
    }
}

impl Aggregate for Lengths {
    fn resume(&mut self, accumulator: &[u8]) -> Result<(), String> {
        self.sum = match std::str::from_utf8(accumulator).ok() {
            Some("") => 0,
            Some(t) => t.parse().map_err(|_| format!("not a sum: {t:?}"))?,
            None => return Err("not text".into()),
        };
        Ok(())
    }
    fn end_of_batch(&mut self, last: Option<&mut Emit<'_, '_, '_, '_>>) {
        if let Some(out) = last {
            out.emit(Some(&[b"sum"]), &[self.sum.to_string().as_bytes()]);
        }
    }
    fn accumulator(&mut self) -> &[u8] {
        self.text = self.sum.to_string();
        self.text.as_bytes()
    }
}

/// A `SmartModuleAggregateInput` as the host encodes it at `version`.
fn encode(records: &[Record], accumulator: &[u8], version: i16) -> Vec<u8> {
    let mut raw = Vec::new();
    records.to_vec().encode(&mut raw, version).unwrap();
    let input = SmartModuleAggregateInput {
        base: SmartModuleInput::new(raw, 40, 1_700_000_000_000),
        accumulator: accumulator.to_vec(),
    };
    let mut bytes = Vec::new();
    input.encode(&mut bytes, version).unwrap();
    bytes
}

fn call(state: &mut Option<Lengths>, bytes: &[u8], version: i16) -> SmartModuleAggregateOutput {
    let mut out = Vec::new();
    let status = smartmodule_abi::run_aggregate::<Lengths>(state, bytes, version as u32, &mut out);
    assert_eq!(status, 0);
    let mut cursor = std::io::Cursor::new(&out);
    let decoded = SmartModuleAggregateOutput::decode_from(&mut cursor, version)
        .expect("the protocol decodes the output");
    assert_eq!(cursor.position() as usize, out.len(), "no bytes left over");
    decoded
}

#[test]
fn the_accumulator_goes_in_after_the_input_and_back_after_the_output() {
    for version in [16i16, 18, 20, 21, 22, 25] {
        let mut state = None;
        let records = vec![
            record(None, b"ab", 0, 0),
            record(Some(b"k"), b"emit", 1, 3),
            record(None, b"xyz", 2, 5),
        ];
        let out = call(&mut state, &encode(&records, b"10", version), version);
        assert_eq!(out.accumulator, b"19", "v{version}");
        assert!(out.base.error.is_none());
        let emitted: Vec<(Option<Vec<u8>>, Vec<u8>, i64)> = out
            .base
            .successes
            .iter()
            .map(|r| {
                (
                    r.key.as_ref().map(|k| k.as_ref().to_vec()),
                    r.value.as_ref().to_vec(),
                    r.preamble.offset_delta(),
                )
            })
            .collect();
        assert_eq!(
            emitted,
            [
                (None, b"16".to_vec(), 1),
                (Some(b"sum".to_vec()), b"19".to_vec(), 2)
            ],
            "v{version}: the emitted records keep their record's preamble"
        );
        // The next call gets what the host holds; an empty batch emits nothing.
        let out = call(&mut state, &encode(&[], b"19", version), version);
        assert!(out.base.successes.is_empty());
        assert_eq!(out.accumulator, b"19");
    }
}

#[test]
fn a_refused_accumulator_is_handed_back_untouched() {
    let mut state = None;
    let out = call(
        &mut state,
        &encode(&[record(None, b"a", 0, 0)], b"garbage", 22),
        22,
    );
    assert!(out.base.successes.is_empty());
    assert_eq!(out.accumulator, b"garbage");
    let err = out.base.error.expect("refused");
    assert_eq!(err.hint, "not a sum: \"garbage\"");
    assert_eq!(err.offset, 40);
    assert_eq!(err.kind, SmartModuleKind::Aggregate);
}

#[test]
fn a_refused_record_ends_the_batch_with_what_was_counted() {
    let mut state = None;
    let records = vec![
        record(None, b"emit", 0, 0),
        record(None, b"refuse me", 1, 0),
        record(None, b"never", 2, 0),
    ];
    let out = call(&mut state, &encode(&records, b"", 22), 22);
    assert_eq!(
        out.base.successes.len(),
        1,
        "the record emitted before the refusal"
    );
    assert_eq!(out.base.error.expect("refused").hint, "refused at 41");
    assert_eq!(out.accumulator, b"4");
}

proptest! {
    #[test]
    fn random_bytes_never_panic_an_aggregate(bytes in proptest::collection::vec(any::<u8>(), 0..300), version in 16i16..26) {
        let mut out = Vec::new();
        let status = smartmodule_abi::run_aggregate::<Lengths>(&mut None, &bytes, version as u32, &mut out);
        prop_assert_eq!(status, 0);
        prop_assert!(SmartModuleAggregateOutput::decode_from(&mut std::io::Cursor::new(&out), version).is_ok());
    }
}
