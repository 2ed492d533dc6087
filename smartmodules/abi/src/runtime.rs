//! The entry points' logic over plain byte slices, so it runs and is tested natively; the wasm
//! exports in `guest` only turn pointers into slices and hand the output to the host.

use alloc::string::String;
use alloc::vec::Vec;

use crate::input::{Input, Params};
use crate::output::{write_init_error, write_look_back_error, Kind, OutputWriter, RuntimeError};
use crate::record::RawRecord;
use crate::wire::DecodeError;
use smartmodule_text::Text;

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
    pub(crate) out: &'o mut OutputWriter<'b>,
    pub(crate) record: &'r RawRecord<'a>,
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

pub(crate) fn decode_hint(context: &str, e: DecodeError) -> String {
    Text::new("malformed ")
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
        |writer: OutputWriter<'_>, hint: &str, offset: i64, key: Option<&[u8]>, value: &[u8]| {
            writer.finish(Some(&RuntimeError {
                hint,
                offset,
                kind: M::KIND,
                key,
                value,
            }));
            0
        };
    let batch = match Input::decode(input, version) {
        Ok(b) => b,
        Err(e) => return refuse(writer, &decode_hint("SmartModule input", e), 0, None, &[]),
    };
    if state.is_none() {
        // No `init` call happened: build from the params inside the input, if any.
        let params = batch.params.clone().unwrap_or_default();
        match M::init(&params) {
            Ok(m) => *state = Some(m),
            Err(hint) => return refuse(writer, &hint, batch.base_offset, None, &[]),
        }
    }
    let Some(module) = state.as_mut() else {
        return 0;
    };
    let walked = for_each_record(&batch, |record| {
        let mut emit = Emit {
            out: &mut writer,
            record: record.raw,
        };
        module.process(record, &mut emit)
    });
    module.end_batch(walked.is_ok());
    match walked {
        Ok(()) => {
            writer.finish(None);
            0
        }
        Err(stop) => refuse(writer, &stop.hint, stop.offset, stop.key, stop.value),
    }
}

/// Why a walk over a batch stopped: the hint for the host, the offset it names, and the key
/// and value of the record a module refused (none and empty when the bytes did not decode).
pub(crate) struct Stop<'a> {
    pub(crate) hint: String,
    pub(crate) offset: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: &'a [u8],
}

/// Hands every record of `batch` to `visit`, in order. The first record that does not decode,
/// or that `visit` refuses, ends the walk.
#[inline(always)]
pub(crate) fn for_each_record<'a>(
    batch: &Input<'a>,
    mut visit: impl FnMut(&Record<'_, 'a>) -> Result<(), String>,
) -> Result<(), Stop<'a>> {
    let undecodable = |what: &str, e: DecodeError| Stop {
        hint: decode_hint(what, e),
        offset: batch.base_offset,
        key: None,
        value: &[],
    };
    let records = batch.records().map_err(|e| undecodable("record list", e))?;
    for item in records {
        let raw = item.map_err(|e| undecodable("record", e))?;
        let record = Record {
            raw: &raw,
            base_offset: batch.base_offset,
            base_timestamp: batch.base_timestamp,
        };
        if let Err(hint) = visit(&record) {
            return Err(Stop {
                hint,
                offset: record.offset(),
                key: raw.key,
                value: raw.value,
            });
        }
    }
    Ok(())
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
    if let Err(stop) = for_each_record(&batch, |record| module.look_back(record)) {
        write_look_back_error(out, &stop.hint, stop.offset, stop.key, stop.value);
        return LOOK_BACK_ERROR;
    }
    out.clear();
    0
}
