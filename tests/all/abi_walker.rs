//! The guest ABI crate against `fluvio-protocol`'s own encoder: every input the host can
//! encode is walked and written back byte for byte, and no byte string makes it panic.

use fluvio_protocol::link::smartmodule::{SmartModuleKind, SmartModuleTransformRuntimeError};
use fluvio_protocol::record::Record;
use fluvio_protocol::Decoder;
use fluvio_protocol::Encoder;
use fluvio_smartmodule::dataplane::smartmodule::{
    Lookback, SmartModuleExtraParams, SmartModuleInitInput, SmartModuleInput, SmartModuleOutput,
};
use proptest::prelude::*;
use smartmodule_abi::{
    Emit, Input, Kind, OutputWriter, Params, Record as GuestRecord, RuntimeError, SmartModule,
};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{encode_records, record};

/// A `SmartModuleInput` as the host encodes it at `version`.
fn encode_input(
    records: &[Record],
    base_offset: i64,
    base_timestamp: i64,
    version: i16,
) -> Vec<u8> {
    let mut raw = Vec::new();
    records.to_vec().encode(&mut raw, version).unwrap();
    let mut bytes = Vec::new();
    SmartModuleInput::new(raw, base_offset, base_timestamp)
        .encode(&mut bytes, version)
        .unwrap();
    bytes
}

/// Walks an input and writes every record back untouched.
fn walk_and_copy(bytes: &[u8], version: u32) -> Vec<u8> {
    let input = Input::decode(bytes, version).expect("input decodes");
    let mut out = Vec::new();
    let mut w = OutputWriter::new(&mut out, bytes.len());
    for r in input.records().unwrap() {
        w.pass(&r.unwrap());
    }
    w.finish(None);
    out
}

fn arb_record() -> impl Strategy<Value = Record> {
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        proptest::collection::vec(any::<u8>(), 0..300),
        -1_000_000i64..1_000_000,
        -(1i64 << 40)..(1i64 << 40),
    )
        .prop_map(|(k, v, off, ts)| record(k.as_deref(), &v, off, ts))
}

#[test]
fn input_header_fields_are_read_for_every_version() {
    for version in [16i16, 18, 19, 20, 21, 22, 23, 24, 25] {
        let records = vec![record(Some(b"k"), b"v", 3, 9)];
        let bytes = encode_input(&records, 42, 1_700_000_000_123, version);
        let input = Input::decode(&bytes, version as u32).expect("decodes");
        assert_eq!(input.base_offset, 42, "v{version}");
        let expect_ts = if version >= 22 { 1_700_000_000_123 } else { 0 };
        assert_eq!(input.base_timestamp, expect_ts, "v{version}");
        assert_eq!(input.params.is_some(), version <= 22, "v{version}");
        let recs: Vec<_> = input.records().unwrap().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].key, Some(&b"k"[..]));
        assert_eq!(recs[0].value, b"v");
        assert_eq!(recs[0].offset_delta, 3);
        assert_eq!(recs[0].timestamp_delta, 9);
    }
}

#[test]
fn init_params_decode_with_lookback_for_every_version() {
    for version in [16i16, 19, 20, 21, 22, 25] {
        let mut map = BTreeMap::new();
        map.insert("cluster".to_string(), "edge-1".to_string());
        map.insert("mode".to_string(), "audit".to_string());
        let extra = SmartModuleExtraParams::new(
            map,
            Some(Lookback {
                last: 100,
                age: Some(Duration::from_millis(2500)),
            }),
        );
        let mut bytes = Vec::new();
        SmartModuleInitInput { params: extra }
            .encode(&mut bytes, version)
            .unwrap();
        let params = Params::decode(&bytes, version as u32).expect("params decode");
        assert_eq!(params.get("cluster"), Some("edge-1"));
        assert_eq!(params.get("mode"), Some("audit"));
        assert_eq!(params.get("missing"), None);
        match version {
            v if v < 20 => assert_eq!(params.lookback, None),
            20 => assert_eq!(
                params.lookback,
                Some(smartmodule_abi::Lookback {
                    last: 100,
                    age_ms: None
                })
            ),
            _ => assert_eq!(
                params.lookback,
                Some(smartmodule_abi::Lookback {
                    last: 100,
                    age_ms: Some(2500)
                })
            ),
        }
    }
}

#[test]
fn runtime_error_output_decodes_in_the_protocol_crate() {
    let records = vec![
        record(Some(b"key"), b"value", 0, 0),
        record(None, b"second", 1, 0),
    ];
    let bytes = encode_input(&records, 10, 0, 22);
    let input = Input::decode(&bytes, 22).unwrap();
    let recs: Vec<_> = input.records().unwrap().map(Result::unwrap).collect();
    for (kind, tag) in [
        (Kind::Filter, SmartModuleKind::Filter),
        (Kind::Map, SmartModuleKind::Map),
        (Kind::ArrayMap, SmartModuleKind::ArrayMap),
        (Kind::FilterMap, SmartModuleKind::FilterMap),
        (Kind::Aggregate, SmartModuleKind::Aggregate),
    ] {
        let mut out = Vec::new();
        let mut w = OutputWriter::new(&mut out, 0);
        w.pass(&recs[1]);
        w.emit(&recs[0], None, &[b"new ", b"value"]);
        w.finish(Some(&RuntimeError {
            hint: "refused: ünïcode",
            offset: 10,
            kind,
            key: recs[0].key,
            value: recs[0].value,
        }));
        let decoded = SmartModuleOutput::decode_from(&mut std::io::Cursor::new(&out), 22)
            .expect("protocol decodes our output");
        assert_eq!(decoded.successes.len(), 2);
        assert_eq!(decoded.successes[0].value.as_ref(), b"second");
        assert_eq!(decoded.successes[1].value.as_ref(), b"new value");
        assert_eq!(decoded.successes[1].key, None);
        assert_eq!(decoded.successes[1].preamble.offset_delta(), 0);
        assert_eq!(
            decoded.error,
            Some(SmartModuleTransformRuntimeError {
                hint: "refused: ünïcode".into(),
                offset: 10,
                kind: tag,
                record_key: Some(b"key".to_vec().into()),
                record_value: b"value".to_vec().into(),
            })
        );
    }
}

/// A module that upper-cases values, to test `emit` against the protocol's encoder.
struct Upper;
impl SmartModule for Upper {
    const KIND: Kind = Kind::Map;
    fn init(_: &Params<'_>) -> Result<Self, String> {
        Ok(Upper)
    }
    fn process(
        &mut self,
        r: &GuestRecord<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        if r.value() == b"refuse me" {
            return Err(format!("refused at {}", r.offset()));
        }
        let upper = r.value().to_ascii_uppercase();
        out.emit_value(&[&upper]);
        Ok(())
    }
}

#[test]
fn emitted_records_equal_what_the_protocol_encoder_writes() {
    let records: Vec<Record> = crate::common::corpus();
    let bytes = encode_input(&records, 5, 77, 25);
    let mut out = Vec::new();
    let mut state = None;
    assert_eq!(
        smartmodule_abi::run_transform::<Upper>(&mut state, &bytes, 25, &mut out),
        0
    );
    let decoded = SmartModuleOutput::decode_from(&mut std::io::Cursor::new(&out), 25).unwrap();
    let expected: Vec<Record> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.value = r.value.as_ref().to_ascii_uppercase().into();
            r
        })
        .collect();
    assert_eq!(
        encode_records(&decoded.successes),
        encode_records(&expected)
    );
    // And the raw output bytes are exactly the protocol's encoding of that output.
    let mut protocol = Vec::new();
    SmartModuleOutput::new(expected)
        .encode(&mut protocol, 25)
        .unwrap();
    assert_eq!(out, protocol);
}

#[test]
fn a_refusal_keeps_earlier_records_and_names_the_offset() {
    let records = vec![
        record(None, b"a", 0, 0),
        record(Some(b"k"), b"refuse me", 1, 0),
        record(None, b"c", 2, 0),
    ];
    let bytes = encode_input(&records, 100, 0, 22);
    let mut out = Vec::new();
    smartmodule_abi::run_transform::<Upper>(&mut None, &bytes, 22, &mut out);
    let decoded = SmartModuleOutput::decode_from(&mut std::io::Cursor::new(&out), 22).unwrap();
    assert_eq!(decoded.successes.len(), 1);
    let err = decoded.error.expect("error");
    assert_eq!(err.hint, "refused at 101");
    assert_eq!(err.offset, 101);
    assert_eq!(err.kind, SmartModuleKind::Map);
    assert_eq!(err.record_key, Some(b"k".to_vec().into()));
}

#[test]
fn malformed_input_becomes_a_runtime_error_not_a_panic() {
    let records = vec![record(None, b"abc", 0, 0)];
    let good = encode_input(&records, 0, 0, 22);
    for cut in 0..good.len() {
        let mut out = Vec::new();
        let status = smartmodule_abi::run_transform::<Upper>(&mut None, &good[..cut], 22, &mut out);
        assert_eq!(status, 0);
        let decoded = SmartModuleOutput::decode_from(&mut std::io::Cursor::new(&out), 22).unwrap();
        let err = decoded
            .error
            .unwrap_or_else(|| panic!("cut at {cut} must be refused"));
        assert!(err.hint.starts_with("malformed"), "{}", err.hint);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn protocol_encoded_records_round_trip_byte_identically(
        records in proptest::collection::vec(arb_record(), 0..20),
        base_offset in any::<i64>(),
        version in prop::sample::select(vec![16i16, 18, 20, 21, 22, 23, 25]),
    ) {
        let bytes = encode_input(&records, base_offset, 0, version);
        let out = walk_and_copy(&bytes, version as u32);
        let mut expected = Vec::new();
        SmartModuleOutput::new(records).encode(&mut expected, version).unwrap();
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn random_bytes_never_panic_the_walker(bytes in proptest::collection::vec(any::<u8>(), 0..400), version in 0u32..40) {
        let mut out = Vec::new();
        let status = smartmodule_abi::run_transform::<Upper>(&mut None, &bytes, version, &mut out);
        prop_assert_eq!(status, 0);
        prop_assert!(SmartModuleOutput::decode_from(&mut std::io::Cursor::new(&out), 22).is_ok());
        let _ = Params::decode(&bytes, version);
        let mut st: Option<Upper> = None;
        let _ = smartmodule_abi::run_init::<Upper>(&mut st, &bytes, version, &mut out);
        let _ = smartmodule_abi::run_look_back::<Upper>(&mut st, &bytes, version, &mut out);
    }

    #[test]
    fn random_record_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200), count in -2i32..5) {
        let mut bytes = count.to_be_bytes().to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(records) = smartmodule_abi::Records::new(&bytes) {
            for r in records { let _ = r; }
        }
    }
}

/// Where memory cannot grow (`memory.grow` gives -1, which the engines' limiters never do:
/// they end the call), every module's `alloc` traps. It never hands the host a null pointer,
/// at which the host would write its input, over the module's own data.
#[test]
fn alloc_traps_when_memory_cannot_grow() {
    /// Lets a memory grow by one MiB in all, then refuses.
    struct OneMib(Option<usize>);
    impl wasmtime::ResourceLimiter for OneMib {
        fn memory_growing(
            &mut self,
            _current: usize,
            desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            let start = *self.0.get_or_insert(desired);
            Ok(desired <= start + (1 << 20))
        }
        fn table_growing(
            &mut self,
            _: usize,
            _: usize,
            _: Option<usize>,
        ) -> wasmtime::Result<bool> {
            Ok(true)
        }
    }
    let engine = wasmtime::Engine::default();
    for name in integration::POLICY_MODULES {
        for (build, wasm) in [
            ("full", integration::wasm(name)),
            ("lean", integration::lean_wasm(name)),
        ] {
            let module = wasmtime::Module::new(&engine, wasm).unwrap();
            let mut linker = wasmtime::Linker::new(&engine);
            linker
                .func_wrap("env", "copy_records", |_: i32, _: i32| {})
                .unwrap();
            let mut store = wasmtime::Store::new(&engine, OneMib(None));
            store.limiter(|l| l);
            let instance = linker.instantiate(&mut store, &module).unwrap();
            let alloc = instance
                .get_typed_func::<i32, i32>(&mut store, "alloc")
                .unwrap();
            let small = alloc.call(&mut store, 1000).unwrap();
            assert_ne!(small, 0, "{name} ({build}): a small block fits");
            let big = alloc.call(&mut store, 64 << 20);
            assert!(
                big.is_err(),
                "{name} ({build}): alloc of 64 MiB in a memory that cannot grow must trap, not \
                 return {big:?}"
            );
        }
    }
}
