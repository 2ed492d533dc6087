//! mirror-policy (filter_map): every stage in one pass, for the topic-level hook, which takes
//! a single module (the topic config's `deduplication.filter.transform`) and runs it on every
//! write, mirror writes included: verify -> loop check -> dedup -> mirror guard -> tag.
//!
//! Params: the union of the other modules': `cluster` (required), `carrier`, `secret`,
//! `max_hops`, `on_loop`, `mirror_of` (the guard runs only when it is set), `topic`, `mode`;
//! `dedup` (a window of recently stored records: one whose origin and record id is in it is
//! dropped, so a record that arrives over two routes is stored once); `count` and `age`,
//! which the hook always passes, are accepted and ignored. The window is refilled at start-up
//! from the records the hook's look-back replays (`bounds.count` of them).
//!
//! It decides exactly as the chain `loop-guard | mirror-guard | origin-tag` with the same
//! params would.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::{AGE, CARRIER, CLUSTER, COUNT, DEDUP, MAX_HOPS, MIRROR_OF, MODE, ON_LOOP};
use policy::params::{SECRET, TOPIC};
use policy::{secret_from_params, Carrier, Dedup, Guard, Kind, Known, LoopCheck, ParamError};
use policy::{Params, Policy, RecordView, Summary, Tag, TagBuf, Verdict, Verify};

pub struct MirrorPolicy {
    carrier: Carrier,
    verify: Verify,
    loop_check: LoopCheck,
    dedup: Dedup,
    guard: Guard,
    tag: Tag,
}

impl Policy for MirrorPolicy {
    const NAME: &'static str = "mirror-policy";
    const KIND: Kind = Kind::FilterMap;
    const PARAMS: Known = Known {
        required: &[&CLUSTER],
        optional: &[
            &CARRIER, &SECRET, &MAX_HOPS, &ON_LOOP, &MIRROR_OF, &TOPIC, &MODE, &DEDUP, &COUNT, &AGE,
        ],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        let cluster = p.cluster()?;
        let carrier = Carrier::from_params(p)?;
        let secret = secret_from_params(p)?;
        Ok(MirrorPolicy {
            carrier,
            verify: Verify::new(Self::NAME, secret.clone()),
            loop_check: LoopCheck::from_params(p, &cluster)?,
            dedup: Dedup::from_params(p, &cluster)?,
            guard: Guard::from_params(p, &cluster)?,
            tag: Tag::new(Self::NAME, &cluster, carrier, secret),
        })
    }

    fn carrier(&self) -> Carrier {
        self.carrier
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a> {
        let found = self.verify.check(rec, self.carrier.read(rec))?;
        self.loop_check.check(rec, &found)?;
        self.dedup.check(&found)?;
        let mark = self.guard.check(&found)?;
        let keep = self.tag.write(rec, &found, mark, scratch)?;
        self.dedup.keep(&found, &keep);
        Ok(keep)
    }

    fn end_batch(&mut self, written: bool) {
        self.dedup.end_batch(written);
    }

    /// The topic's last stored records, replayed at start-up, refill the `dedup` window.
    fn look_back(&mut self, rec: &RecordView<'_>) {
        self.dedup.remember(&self.carrier.read(rec));
    }

    fn summary(&self) -> Summary<'_> {
        Summary {
            carrier: self.carrier,
            verifies: self.verify.is_on(),
            loop_check: Some(&self.loop_check),
            dedup: self.dedup.capacity(),
            guard: self.guard.config(),
            tags: true,
        }
    }
}

policy::export!(filter_map: MirrorPolicy, look_back);
