//! mirror-policy (filter_map): every stage in one pass, for the topic-level hook, which takes
//! a single module (the topic config's `deduplication.filter.transform`) and runs it on every
//! write, mirror writes included: verify -> loop check -> dedup -> mirror guard -> tag.
//!
//! Params: the union of the other modules': `cluster` (required), `carrier`, `secret`,
//! `scope`, `max_hops`, `max_age`, `on_loop`, `mirror_of` (the guard runs only when it is
//! set), `topic`, `mode`; `dedup` (a window of recently stored records: one whose origin and
//! record id is in it is dropped, so a record that arrives over two routes is stored once).
//! The hook always passes `count`, and `age` when `bounds.age` is set: without `dedup` the
//! window holds `count` records (the ones the hook replays into it at start-up, so that a
//! restart forgets nothing), and without `max_age`, `age` bounds how late a record may come.
//!
//! It decides exactly as the chain `loop-guard | mirror-guard | origin-tag` with the same
//! params would, and de-duplicates besides.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::{AGE, CARRIER, CLUSTER, COUNT, DEDUP, MAX_AGE, MAX_HOPS, MIRROR_OF};
use policy::params::{MODE, ON_LOOP, SCOPE, SECRET, TOPIC};
use policy::{carrier_from_params, secret_from_params, Carried, Carrier, Dedup, Guard, Kind};
use policy::{Known, LoopCheck, ParamError, Params, Policy, RecordView, Summary, Tag, TagBuf};
use policy::{Verdict, Verify};

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
            &CARRIER, &SECRET, &SCOPE, &MAX_HOPS, &MAX_AGE, &ON_LOOP, &MIRROR_OF, &TOPIC, &MODE,
            &DEDUP, &COUNT, &AGE,
        ],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        let cluster = p.cluster()?;
        let carrier = carrier_from_params(p)?;
        let secret = secret_from_params(p)?;
        Ok(MirrorPolicy {
            carrier,
            verify: Verify::new(Self::NAME, secret.clone()),
            loop_check: LoopCheck::from_params(p, &cluster)?,
            dedup: Dedup::from_params(p, &cluster, secret.as_ref())?,
            guard: Guard::from_params(p, &cluster)?,
            tag: Tag::new(Self::NAME, &cluster, carrier, secret),
        })
    }

    fn carrier(&self) -> Carrier {
        self.carrier
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a> {
        let found = Carried::of(self.carrier, rec);
        self.verify.check(rec, &found)?;
        self.loop_check.check(rec, &found)?;
        let seen = self.dedup.check(rec, &found)?;
        let mark = self.guard.check(&found)?;
        let keep = self.tag.write(rec, &found, mark, scratch)?;
        self.dedup.keep(rec, seen, &keep);
        Ok(keep)
    }

    fn end_batch(&mut self, written: bool) {
        self.dedup.end_batch(written);
    }

    /// The topic's last stored records, replayed at start-up, refill the `dedup` window; a
    /// stored tag that does not verify is not remembered.
    fn look_back(&mut self, rec: &RecordView<'_>) {
        let found = Carried::of(self.carrier, rec);
        if self.verify.verdict(&found).is_ok() {
            self.dedup.remember(rec, &found);
        }
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
