//! loop-guard (filter): stops records that come back to a cluster they already passed
//! through, so A -> B -> A loops cannot happen.
//!
//! Params: `cluster` (required), `max_hops` (default 8, 1 to 15), `max_age` (e.g. `10m`),
//! `on_loop` = `drop` (default) | `reject`, `secret` (optional, at least 16 bytes), `scope`,
//! `carrier` = `value` (default) | `key`.
//!
//! - Tagged record whose path holds `cluster` before its last hop, or whose hops reached
//!   `max_hops`, or that arrives more than `max_age` after its origin timestamp: dropped, or
//!   refused with `on_loop=reject`.
//! - Untagged record: passes. Without `secret` a malformed tag is payload and passes too.
//! - With `secret`: a tag whose MAC does not verify, or a malformed one, is refused.
//!
//! Run it before origin-tag in a chain: origin-tag appends this cluster to the path.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::{CARRIER, CLUSTER, MAX_AGE, MAX_HOPS, ON_LOOP, SCOPE, SECRET};
use policy::{carrier_from_params, secret_from_params, Carried, Carrier, Keep, Kind, Known};
use policy::{LoopCheck, ParamError, Params};
use policy::{Policy, RecordView, Summary, TagBuf, Verdict, Verify};

pub struct LoopGuard {
    carrier: Carrier,
    verify: Verify,
    loop_check: LoopCheck,
}

impl Policy for LoopGuard {
    const NAME: &'static str = "loop-guard";
    const KIND: Kind = Kind::Filter;
    const PARAMS: Known = Known {
        required: &[&CLUSTER],
        optional: &[&MAX_HOPS, &MAX_AGE, &ON_LOOP, &SECRET, &SCOPE, &CARRIER],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        let cluster = p.cluster()?;
        Ok(LoopGuard {
            carrier: carrier_from_params(p)?,
            verify: Verify::new(Self::NAME, secret_from_params(p)?),
            loop_check: LoopCheck::from_params(p, &cluster)?,
        })
    }

    fn carrier(&self) -> Carrier {
        self.carrier
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, _: &mut TagBuf) -> Verdict<'a> {
        let found = Carried::of(self.carrier, rec);
        self.verify.check(rec, &found)?;
        self.loop_check.check(rec, &found)?;
        Ok(Keep::AsIs)
    }

    fn summary(&self) -> Summary<'_> {
        Summary {
            carrier: self.carrier,
            verifies: self.verify.is_on(),
            loop_check: Some(&self.loop_check),
            ..Summary::default()
        }
    }
}

policy::export!(filter: LoopGuard);
