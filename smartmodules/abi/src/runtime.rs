//! The entry points' logic over plain byte slices, so it runs and is tested natively; the wasm
//! exports in `guest` only turn pointers into slices and hand the output to the host.

use alloc::string::String;
use alloc::vec::Vec;

use crate::input::{Input, Params};
use crate::output::{write_init_error, write_look_back_error, Kind, OutputWriter, RuntimeError};
use crate::record::RawRecord;
use crate::text::Hint;
use crate::wire::DecodeError;

/// `SmartModuleInitErrorStatus::InitError`: the host reads the hint from the output.
pub const INIT_ERROR: i32 = -2;
/// `SmartModuleLookbackErrorStatus::PropagatedError`: the host reads the error from the output.
pub const LOOK_BACK_ERROR: i32 = -99;

/// A record handed to a policy, with its absolute offset and timestamp.
#[derive(Debug, Clone, Copy)]
pub struct Record<'r, 'a> {
    pub raw: &'r RawRecord<'a>,
    pub base_offset: i64,
    pub base_timestamp: i64,
}

impl<'a> Record<'_, 'a> {
    #[inline]
    pub fn key(&self) -> Option<&'a [u8]> {
        self.raw.key
    }

    #[inline]
    pub fn value(&self) -> &'a [u8] {
        self.raw.value
    }

    /// The offset the host reports for this record: base offset plus offset delta.
    #[inline]
    pub fn offset(&self) -> i64 {
        self.base_offset.saturating_add(self.raw.offset_delta)
    }

    /// Base timestamp plus timestamp delta (the delta alone before input version 22).
    #[inline]
    pub fn timestamp(&self) -> i64 {
        self.base_timestamp.saturating_add(self.raw.timestamp_delta)
    }
}

/// Where a policy puts its verdict on one record: nothing (dropped), `pass`, or `emit`.
pub struct Emit<'o, 'b, 'r, 'a> {
    out: &'o mut OutputWriter<'b>,
    record: &'r RawRecord<'a>,
}

impl Emit<'_, '_, '_, '_> {
    /// Keeps the record byte for byte.
    pub fn pass(&mut self) {
        self.out.pass(self.record);
    }

    /// Writes the record with a new key and value, each as pieces laid end to end.
    pub fn emit(&mut self, key: Option<&[&[u8]]>, value: &[&[u8]]) {
        self.out.emit(self.record, key, value);
    }

    /// Writes the record with a new value and its key unchanged.
    pub fn emit_value(&mut self, value: &[&[u8]]) {
        match self.record.key {
            Some(k) => self.out.emit(self.record, Some(&[k]), value),
            None => self.out.emit(self.record, None, value),
        }
    }
}

/// A SmartModule written as plain Rust: built from its params once, then asked about each
/// record. An `Err` refuses the write: the host gets a runtime error with the record's
/// offset, key and value, and records after it are not processed.
pub trait SmartModule: Sized {
    const KIND: Kind;
    fn init(params: &Params<'_>) -> Result<Self, String>;
    fn process(
        &mut self,
        record: &Record<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String>;
    /// The batch ended: `written` unless a record of it was refused, in which case the host
    /// stores none of it.
    fn end_batch(&mut self, _written: bool) {}
    /// Sees the records the host replays at start-up (the topic's last records).
    fn look_back(&mut self, _record: &Record<'_, '_>) -> Result<(), String> {
        Ok(())
    }
}

fn decode_hint(context: &str, e: DecodeError) -> String {
    Hint::new("malformed ")
        .push(context)
        .push(": cannot read ")
        .push(e.what)
        .push(" at byte ")
        .int(e.at as i64)
        .into()
}

/// `init`: decodes `SmartModuleInitInput` and builds the module.
pub fn run_init<M: SmartModule>(
    state: &mut Option<M>,
    input: &[u8],
    version: u32,
    out: &mut Vec<u8>,
) -> i32 {
    let result = match Params::decode(input, version) {
        Ok(params) => M::init(&params),
        Err(e) => Err(decode_hint("SmartModule init input", e)),
    };
    match result {
        Ok(module) => {
            *state = Some(module);
            out.clear();
            0
        }
        Err(hint) => {
            write_init_error(out, &hint);
            INIT_ERROR
        }
    }
}

/// A transform call (`filter`, `map`, `filter_map`, `array_map`): every outcome, a malformed
/// input included, is a `SmartModuleOutput` with status 0, so the producer sees a hint.
pub fn run_transform<M: SmartModule>(
    state: &mut Option<M>,
    input: &[u8],
    version: u32,
    out: &mut Vec<u8>,
) -> i32 {
    let mut writer = OutputWriter::new(out, input.len());
    let refuse =
        |writer: OutputWriter<'_>, hint: &str, offset: i64, rec: Option<&RawRecord<'_>>| {
            writer.finish(Some(&RuntimeError {
                hint,
                offset,
                kind: M::KIND,
                key: rec.and_then(|r| r.key),
                value: rec.map_or(&[], |r| r.value),
            }));
            0
        };
    let batch = match Input::decode(input, version) {
        Ok(b) => b,
        Err(e) => return refuse(writer, &decode_hint("SmartModule input", e), 0, None),
    };
    if state.is_none() {
        // No `init` call happened: build from the params inside the input, if any.
        let params = batch.params.clone().unwrap_or_default();
        match M::init(&params) {
            Ok(m) => *state = Some(m),
            Err(hint) => return refuse(writer, &hint, batch.base_offset, None),
        }
    }
    let Some(module) = state.as_mut() else {
        return 0;
    };
    let records = match batch.records() {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                writer,
                &decode_hint("record list", e),
                batch.base_offset,
                None,
            )
        }
    };
    for item in records {
        let raw = match item {
            Ok(raw) => raw,
            Err(e) => {
                module.end_batch(false);
                return refuse(writer, &decode_hint("record", e), batch.base_offset, None);
            }
        };
        let record = Record {
            raw: &raw,
            base_offset: batch.base_offset,
            base_timestamp: batch.base_timestamp,
        };
        let mut emit = Emit {
            out: &mut writer,
            record: &raw,
        };
        if let Err(hint) = module.process(&record, &mut emit) {
            module.end_batch(false);
            return refuse(writer, &hint, record.offset(), Some(&raw));
        }
    }
    module.end_batch(true);
    writer.finish(None);
    0
}

/// `look_back`: feeds the replayed records to the module.
pub fn run_look_back<M: SmartModule>(
    state: &mut Option<M>,
    input: &[u8],
    version: u32,
    out: &mut Vec<u8>,
) -> i32 {
    let batch = match Input::decode(input, version) {
        Ok(b) => b,
        Err(e) => {
            write_look_back_error(out, &decode_hint("look-back input", e), 0, None, &[]);
            return LOOK_BACK_ERROR;
        }
    };
    let Some(module) = state.as_mut() else {
        write_look_back_error(
            out,
            "look_back called before init",
            batch.base_offset,
            None,
            &[],
        );
        return LOOK_BACK_ERROR;
    };
    let records = match batch.records() {
        Ok(r) => r,
        Err(e) => {
            write_look_back_error(
                out,
                &decode_hint("record list", e),
                batch.base_offset,
                None,
                &[],
            );
            return LOOK_BACK_ERROR;
        }
    };
    for item in records {
        let raw = match item {
            Ok(raw) => raw,
            Err(e) => {
                write_look_back_error(out, &decode_hint("record", e), batch.base_offset, None, &[]);
                return LOOK_BACK_ERROR;
            }
        };
        let record = Record {
            raw: &raw,
            base_offset: batch.base_offset,
            base_timestamp: batch.base_timestamp,
        };
        if let Err(hint) = module.look_back(&record) {
            write_look_back_error(out, &hint, record.offset(), raw.key, raw.value);
            return LOOK_BACK_ERROR;
        }
    }
    out.clear();
    0
}
