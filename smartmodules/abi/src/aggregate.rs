//! Aggregates: a module that folds every record into a running value the host keeps.
//!
//! The host calls `aggregate(ptr, len, version)` with a `SmartModuleAggregateInput`: the
//! `SmartModuleInput` of a transform, then the accumulator (`Vec<u8>`: an `i32` count, then
//! the bytes). It reads back a `SmartModuleAggregateOutput`: the `SmartModuleOutput` of a
//! transform, then (from version 16) the new accumulator, which it hands to the next call.
//! The first call gets what the consumer gave (`fluvio consume --aggregate-initial TEXT`
//! passes TEXT's bytes; without it, nothing). A refused batch hands the accumulator back
//! unchanged, so that nothing the host holds is lost.

use alloc::string::String;
use alloc::vec::Vec;

use crate::input::Input;
use crate::output::{OutputWriter, RuntimeError};
use crate::record::RawRecord;
use crate::runtime::{decode_hint, for_each_record, Emit, SmartModule};
use crate::wire::Reader;

/// First version whose aggregate output carries the accumulator.
const ACCUMULATOR_MIN_VERSION: u32 = 16;

/// A [`SmartModule`] of kind `Aggregate`: its `process` sees each record (and may emit on it),
/// and these hooks take up the accumulator before a batch and hand it back after.
pub trait Aggregate: SmartModule {
    /// Takes up the accumulator the host holds, before the batch's records. An `Err` refuses
    /// the batch: its hint reaches the consumer as a runtime error.
    fn resume(&mut self, accumulator: &[u8]) -> Result<(), String>;

    /// Every record of the batch was processed; `last` emits on the batch's last record (none
    /// for an empty batch).
    fn end_of_batch(&mut self, last: Option<&mut Emit<'_, '_, '_, '_>>);

    /// The accumulator to hand back to the host.
    fn accumulator(&mut self) -> &[u8];
}

/// An aggregate call: every outcome is a `SmartModuleAggregateOutput` with status 0.
pub fn run_aggregate<M: Aggregate>(
    state: &mut Option<M>,
    input: &[u8],
    version: u32,
    out: &mut Vec<u8>,
) -> i32 {
    let mut reader = Reader::new(input);
    let decoded = Input::read(&mut reader, version)
        .and_then(|batch| Ok((batch, reader.byte_vec("accumulator")?)));
    let (batch, given) = match decoded {
        Ok(found) => found,
        Err(e) => {
            let hint = decode_hint("SmartModule aggregate input", e);
            return refused(out, version, M::KIND, &hint, 0, &[]);
        }
    };
    if state.is_none() {
        // No `init` call happened: build from the params inside the input, if any.
        match M::init(&batch.params.clone().unwrap_or_default()) {
            Ok(m) => *state = Some(m),
            Err(hint) => return refused(out, version, M::KIND, &hint, batch.base_offset, given),
        }
    }
    let Some(module) = state.as_mut() else {
        return 0;
    };
    if let Err(hint) = module.resume(given) {
        return refused(out, version, M::KIND, &hint, batch.base_offset, given);
    }
    let mut writer = OutputWriter::new(out, 0);
    let mut last: Option<RawRecord<'_>> = None;
    let walked = for_each_record(&batch, |record| {
        last = Some(*record.raw);
        module.process(
            record,
            &mut Emit {
                out: &mut writer,
                record: record.raw,
            },
        )
    });
    let error = match walked {
        Ok(()) => {
            let mut emit = last.as_ref().map(|record| Emit {
                out: &mut writer,
                record,
            });
            module.end_of_batch(emit.as_mut());
            None
        }
        Err(stop) => Some(stop),
    };
    writer.finish(
        error
            .as_ref()
            .map(|stop| RuntimeError {
                hint: &stop.hint,
                offset: stop.offset,
                kind: M::KIND,
                key: stop.key,
                value: stop.value,
            })
            .as_ref(),
    );
    put_accumulator(out, version, module.accumulator());
    0
}

/// A batch refused before any record: no records, the hint, and `accumulator` handed back.
fn refused(
    out: &mut Vec<u8>,
    version: u32,
    kind: crate::Kind,
    hint: &str,
    offset: i64,
    accumulator: &[u8],
) -> i32 {
    OutputWriter::new(out, 0).finish(Some(&RuntimeError {
        hint,
        offset,
        kind,
        key: None,
        value: &[],
    }));
    put_accumulator(out, version, accumulator);
    0
}

/// Appends the output's accumulator field (a `Vec<u8>`), from the version that has it.
fn put_accumulator(out: &mut Vec<u8>, version: u32, accumulator: &[u8]) {
    if version >= ACCUMULATOR_MIN_VERSION {
        out.extend_from_slice(&(accumulator.len() as i32).to_be_bytes());
        out.extend_from_slice(accumulator);
    }
}

/// The `aggregate` export's glue.
///
/// # Safety
/// Called by the host with a buffer it filled through `alloc`.
#[cfg(target_arch = "wasm32")]
pub unsafe fn transform<M: Aggregate>(
    state: &crate::guest::Slot<M>,
    ptr: *mut u8,
    len: usize,
    version: u32,
) -> i32 {
    // SAFETY: the host's buffer, as `call` requires.
    unsafe { crate::guest::call(state, run_aggregate::<M>, ptr, len, version) }
}
