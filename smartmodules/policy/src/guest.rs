//! A [`Policy`] run as a SmartModule: the record is borrowed from the input, the policy
//! decides, and the verdict is written back as the same bytes (kept as is), nothing (dropped),
//! a runtime error (refused), or the new tag in front of the untouched payload (rewritten).

use alloc::boxed::Box;
use alloc::string::String;

use smartmodule_abi::{Emit, Kind, Params, Record, SmartModule};

use crate::{Carrier, Keep, Policy, RecordView, Stop, TagBuf};

/// The SmartModule of a policy, with the scratch buffer its tags are written to (on the
/// heap: in the module's static state it would be a kilobyte of data segment).
pub struct Guest<P> {
    policy: P,
    scratch: Box<TagBuf>,
}

impl<P: Policy> SmartModule for Guest<P> {
    const KIND: Kind = P::KIND;

    fn init(params: &Params<'_>) -> Result<Self, String> {
        match P::build(params.iter()) {
            Ok(policy) => Ok(Guest {
                policy,
                scratch: Box::new(TagBuf::new()),
            }),
            Err(e) => Err(e.message()),
        }
    }

    fn process(
        &mut self,
        record: &Record<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        self.scratch.clear();
        match self.policy.decide(&view(record), &mut self.scratch) {
            Ok(Keep::AsIs) => out.pass(),
            Ok(Keep::Rewrite {
                payload, absent, ..
            }) => match self.policy.carrier() {
                Carrier::Value => out.emit_value(&[self.scratch.as_slice(), payload]),
                Carrier::Key if absent => out.emit(None, &[record.value()]),
                Carrier::Key => {
                    out.emit(Some(&[self.scratch.as_slice(), payload]), &[record.value()])
                }
            },
            Err(Stop::Drop(_)) => {}
            Err(Stop::Refuse(hint)) => return Err(hint),
        }
        Ok(())
    }

    fn end_batch(&mut self, written: bool) {
        self.policy.end_batch(written);
    }

    fn look_back(&mut self, record: &Record<'_, '_>) -> Result<(), String> {
        self.policy.look_back(&view(record));
        Ok(())
    }
}

#[inline]
fn view<'a>(record: &Record<'_, 'a>) -> RecordView<'a> {
    RecordView {
        key: record.key(),
        value: record.value(),
        timestamp: record.timestamp(),
        offset: record.offset(),
    }
}
