//! The stages a policy SmartModule composes, one type each, with a typed config parsed from the
//! module's params and one method that decides on a borrowed record:
//!
//! ```text
//! record -> Carrier::read   the carrier (value or key) decoded once: untagged, tagged, malformed
//!        -> Verify          with a secret: refuses tags whose MAC does not verify, and malformed ones
//!        -> LoopCheck       drops (or refuses) records that came back, or made max_hops hops
//!        -> Dedup           drops a record whose (origin, id) was stored recently
//!        -> Guard           refuses, drops or marks local writes to a mirror topic
//!        -> Tag             a new tag, or one hop more, sealed with the secret
//!      or   Strip           the producer's key and value back
//! ```
//!
//! A module (`smartmodules/<name>/src/lib.rs`) names its stages in a [`Policy`]: its `decide`
//! reads top to bottom, each stage either passing the record on or ending with a [`Stop`]
//! (`?`), the last one saying how the record is kept ([`Keep`]). A module links the code of
//! the stages it names and no other. [`export!`] runs it as a SmartModule over the guest ABI;
//! hosts (the harness, the simulator) build the very same types natively.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;

mod dedup;
mod guard;
pub mod guest;
mod loop_check;
pub mod params;
mod record;
mod strip;
mod tag;
mod text;
mod verify;

pub use dedup::{Dedup, MAX_DEDUP};
pub use guard::{Guard, GuardConfig, Mark, Mode};
pub use loop_check::{LoopCheck, OnLoop, DEFAULT_MAX_HOPS};
pub use origin::Carrier;
pub use origin::TagBuf;
pub use params::{Known, ParamError, ParamErrorKind, Params};
pub use record::{carrier_from_params, Carried, Found, RecordView};
pub use smartmodule_abi::Kind;
pub use strip::Strip;
pub use tag::Tag;
pub use verify::{secret_from_params, Secret, Verify};

#[doc(hidden)]
pub use smartmodule_abi as __abi;

/// How a record that goes on is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep<'a> {
    /// Byte for byte.
    AsIs,
    /// With its carrier replaced by the tag left in the scratch buffer followed by `payload`;
    /// or, when `absent` (carrier `key`), with no key at all.
    Rewrite {
        /// The producer's bytes, after the tag that was in the carrier (if any).
        payload: &'a [u8],
        /// The key is removed rather than rewritten (origin-strip of a `NO_KEY` tag).
        absent: bool,
        /// The record id of a tag written here for the first time (its origin is this
        /// cluster), for a de-duplication window.
        new_id: Option<[u8; 8]>,
    },
}

/// Why a stage ends a record's way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Filtered out, silently.
    Drop(Dropped),
    /// The write is refused; the hint is what the producer reads.
    Refuse(String),
}

/// Why a record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// It came back to a cluster it passed through, or made `max_hops` hops.
    Loop,
    /// A local write to a mirror topic, under `mode=drop`.
    LocalWrite,
    /// Its (origin, record id) was stored within the `dedup` window, or earlier in its batch.
    Duplicate,
    /// It arrived more than `max_age` after its origin timestamp: a late replay.
    Stale,
}

impl Dropped {
    /// `loop`, `local-write`, `duplicate` or `stale`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::Loop => "loop",
            Dropped::LocalWrite => "local-write",
            Dropped::Duplicate => "duplicate",
            Dropped::Stale => "stale",
        }
    }
}

/// The decision on one record.
pub type Verdict<'a> = Result<Keep<'a>, Stop>;

/// What a configured policy does, for hosts that reason about a chain (the simulator).
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary<'p> {
    /// Where tags travel.
    pub carrier: Carrier,
    /// Whether tags are verified (a `secret` is set).
    pub verifies: bool,
    /// The loop check, if the module runs one.
    pub loop_check: Option<&'p LoopCheck>,
    /// The size of the de-duplication window, when on.
    pub dedup: Option<usize>,
    /// The mirror guard's config, when on.
    pub guard: Option<&'p GuardConfig>,
    /// Whether records are tagged here (new tags and hops).
    pub tags: bool,
}

/// A policy SmartModule: its name, its params, and the stages it runs on each record.
pub trait Policy: Sized {
    /// The module's name, the prefix of its messages.
    const NAME: &'static str;
    /// The transform it exports.
    const KIND: Kind;
    /// The params it takes.
    const PARAMS: Known;

    /// Builds the stages from checked params.
    fn from_params(p: &Params<'_>) -> Result<Self, ParamError>;

    /// Where its tags travel.
    fn carrier(&self) -> Carrier;

    /// Decides on one record. A rewritten carrier's tag is left in `scratch`, which is empty
    /// on entry.
    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a>;

    /// The batch ended: `written` unless a record of it was refused, in which case the host
    /// stores none of it.
    fn end_batch(&mut self, _written: bool) {}

    /// A record the topic already stored, replayed at start-up.
    fn look_back(&mut self, _rec: &RecordView<'_>) {}

    /// What it does, for hosts.
    fn summary(&self) -> Summary<'_>;

    /// Checks `pairs` against [`Self::PARAMS`] and builds the stages.
    #[inline]
    fn build<'p>(pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> Result<Self, ParamError> {
        Self::from_params(&Params::new(Self::NAME, &Self::PARAMS, pairs)?)
    }
}

/// A [`Policy`] behind a pointer, for hosts that hold modules of several kinds.
pub trait AnyPolicy {
    /// [`Policy::NAME`].
    fn name(&self) -> &'static str;
    /// [`Policy::carrier`].
    fn carrier(&self) -> Carrier;
    /// [`Policy::decide`].
    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a>;
    /// [`Policy::end_batch`].
    fn end_batch(&mut self, written: bool);
    /// [`Policy::look_back`].
    fn look_back(&mut self, rec: &RecordView<'_>);
    /// [`Policy::summary`].
    fn summary(&self) -> Summary<'_>;
}

impl<P: Policy> AnyPolicy for P {
    fn name(&self) -> &'static str {
        P::NAME
    }
    fn carrier(&self) -> Carrier {
        Policy::carrier(self)
    }
    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a> {
        Policy::decide(self, rec, scratch)
    }
    fn end_batch(&mut self, written: bool) {
        Policy::end_batch(self, written)
    }
    fn look_back(&mut self, rec: &RecordView<'_>) {
        Policy::look_back(self, rec)
    }
    fn summary(&self) -> Summary<'_> {
        Policy::summary(self)
    }
}

/// Exports a [`Policy`] as a SmartModule under the transform the host probes for:
/// `policy::export!(filter: LoopGuard)`, or `policy::export!(filter_map: MirrorPolicy,
/// look_back)` to be fed the topic's last records at start-up. Nothing is exported off wasm.
#[macro_export]
macro_rules! export {
    ($kind:ident: $ty:ty $(, $lb:ident)?) => {
        $crate::__abi::export!($kind: $crate::guest::Guest<$ty> $(, $lb)?);
    };
}
