//! Helpers for driving modules through the official engine, `fluvio-smartengine`.

use fluvio_protocol::record::{Record, RecordData};
use fluvio_protocol::Encoder;
use fluvio_smartengine::{
    SmartEngine, SmartModuleChainBuilder, SmartModuleChainInstance, SmartModuleConfig,
};
use fluvio_smartmodule::dataplane::smartmodule::{SmartModuleInput, SmartModuleOutput};

/// Input versions every module must handle: before and after params left the input (22),
/// with and without lookback age (21) and base timestamps (22).
pub const VERSIONS: [i16; 5] = [18, 20, 21, 22, 25];

/// Builds a one-module chain in the official engine; an error is rendered as its text.
pub fn official_chain(
    wasm: Vec<u8>,
    params: &[(&str, &str)],
    version: i16,
) -> Result<SmartModuleChainInstance, String> {
    official_chain_of(vec![(wasm, params.to_vec())], version)
}

/// A module's wasm bytes and its params.
pub type ModuleWithParams<'p> = (Vec<u8>, Vec<(&'p str, &'p str)>);

/// Builds a chain of modules in the official engine, each with its params.
pub fn official_chain_of(
    modules: Vec<ModuleWithParams<'_>>,
    version: i16,
) -> Result<SmartModuleChainInstance, String> {
    let engine = SmartEngine::new();
    let mut builder = SmartModuleChainBuilder::default();
    for (i, (wasm, params)) in modules.into_iter().enumerate() {
        let mut config = SmartModuleConfig::builder();
        config
            .smartmodule_names(vec![format!("module-{i}")])
            .version(version);
        for (k, v) in params {
            config.param(k, v);
        }
        builder.add_smart_module(config.build().expect("config"), wasm);
    }
    builder.initialize(&engine).map_err(|e| format!("{e:#}"))
}

/// Runs `records` through `chain` as one batch encoded at `version`.
pub fn process(
    chain: &mut SmartModuleChainInstance,
    records: Vec<Record>,
    base_offset: i64,
    base_timestamp: i64,
    version: i16,
) -> SmartModuleOutput {
    let mut raw = Vec::new();
    records.encode(&mut raw, version).expect("encode records");
    let input = SmartModuleInput::new(raw, base_offset, base_timestamp);
    chain.process(input).expect("engine call")
}

/// A record with the given key, value and deltas.
pub fn record(key: Option<&[u8]>, value: &[u8], offset_delta: i64, timestamp_delta: i64) -> Record {
    let mut r = Record::new(RecordData::from(value.to_vec()));
    r.key = key.map(|k| RecordData::from(k.to_vec()));
    r.preamble.set_offset_delta(offset_delta);
    r.preamble.set_timestamp_delta(timestamp_delta);
    r
}

/// Encodes records the way the host does, for byte comparisons.
pub fn encode_records(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    records.to_vec().encode(&mut out, 0).expect("encode");
    out
}

/// A varied corpus: keys and no keys, empty, binary and large values, offset and time deltas.
pub fn corpus() -> Vec<Record> {
    let mut v = vec![
        record(None, b"hello", 0, 0),
        record(Some(b"k1"), b"with a key", 1, 5),
        record(None, b"", 2, 10),
        record(Some(b""), b"empty key", 3, 15),
        record(Some(b"bin"), &[0, 0xff, 0x6f, 1, 2, 3], 4, -3),
        record(None, &vec![b'x'; 70_000], 5, 1_000_000),
        record(Some(b"json"), br#"{"a":1}"#, 6, 0),
    ];
    for i in 0..200 {
        v.push(record(None, format!("record {i}").as_bytes(), 7 + i, i));
    }
    v
}
