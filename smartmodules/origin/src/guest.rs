//! Runs a [`Policy`] as a SmartModule over the guest ABI: the record is borrowed from the
//! input, the decision is made by [`Policy::decide`], and the outcome is written back as the
//! same bytes (pass), nothing (drop), a runtime error (refuse) or a new tag in front of the
//! untouched payload (rewrite).

use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;

use smartmodule_abi::{Emit, Kind, Params, Record, SmartModule};

use crate::policy::{Carrier, Module, Outcome, Policy, RecordView};

/// Which module a crate builds, and the transform it exports as.
pub trait Spec {
    /// The module whose params and stages apply.
    const MODULE: Module;
    /// The transform export: `filter`, `map` or `filter_map`.
    const KIND: Kind;
}

/// A policy SmartModule: `export!(filter: PolicyModule<LoopGuard>)`.
pub struct PolicyModule<S> {
    policy: Policy,
    scratch: Vec<u8>,
    spec: PhantomData<S>,
}

impl<S: Spec> SmartModule for PolicyModule<S> {
    const KIND: Kind = S::KIND;

    fn init(params: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            policy: Policy::from_params(S::MODULE, params.iter())?,
            scratch: Vec::new(),
            spec: PhantomData,
        })
    }

    fn process(
        &mut self,
        record: &Record<'_, '_>,
        out: &mut Emit<'_, '_, '_, '_>,
    ) -> Result<(), String> {
        match self
            .policy
            .decide_as(S::MODULE, &view(record), &mut self.scratch)
        {
            Outcome::Pass => out.pass(),
            Outcome::Drop(_) => {}
            Outcome::Refuse(hint) => return Err(hint),
            Outcome::Rewrite { payload, absent } => match self.policy.carrier() {
                Carrier::Value => out.emit_value(&[&self.scratch, payload]),
                Carrier::Key if absent => out.emit(None, &[record.value()]),
                Carrier::Key => out.emit(Some(&[&self.scratch, payload]), &[record.value()]),
            },
        }
        Ok(())
    }

    fn end_batch(&mut self, written: bool) {
        // Only a `dedup` window needs to hear of it; other modules leave its code out.
        if S::MODULE.dedups() {
            self.policy.end_batch(written);
        }
    }

    /// The topic's last stored records, replayed at start-up, refill the `dedup` window.
    fn look_back(&mut self, record: &Record<'_, '_>) -> Result<(), String> {
        self.policy.remember(&view(record));
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
