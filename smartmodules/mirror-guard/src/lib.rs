//! mirror-guard (filter): a mirror topic accepts writes only from its upstream clusters.
//!
//! Params: `cluster` (required), `mirror_of` (required: comma-separated upstream cluster
//! ids), `topic` (optional, for messages), `mode` = `reject` (default) | `drop` | `audit`,
//! `secret` (optional, at least 16 bytes), `scope`, `carrier` = `value` (default) | `key`.
//!
//! - Mirror traffic: a tag (verified, with `secret`) whose origin or previous hop is in
//!   `mirror_of`, and that no guard flagged as a local write. It passes.
//! - Anything else is a local write to a mirror topic. `reject` refuses it with
//!   `cannot produce to mirror topic 'orders' on cluster 'home': it is mirrored from
//!   'edge-1'; produce there instead`; `drop` filters it out; `audit` lets it through with
//!   the tag's violation flag set (tagging it if untagged) to find would-be refusals first.
//! - With `secret`: a tag whose MAC does not verify, or a malformed one, is refused in every
//!   mode; without, a malformed tag is payload, so the record is a local write.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::{CARRIER, CLUSTER, MIRROR_OF, MODE, SCOPE, SECRET, TOPIC};
use policy::{carrier_from_params, secret_from_params, Carried, Carrier, Guard, Kind, Known};
use policy::{ParamError, Params, Policy};
use policy::{RecordView, Summary, Tag, TagBuf, Verdict, Verify};

pub struct MirrorGuard {
    carrier: Carrier,
    verify: Verify,
    guard: Guard,
    /// Writes the VIOLATION flag on what `mode=audit` lets through; tags nothing else.
    marks: Tag,
}

impl Policy for MirrorGuard {
    const NAME: &'static str = "mirror-guard";
    const KIND: Kind = Kind::Filter;
    const PARAMS: Known = Known {
        required: &[&CLUSTER, &MIRROR_OF],
        optional: &[&TOPIC, &MODE, &SECRET, &SCOPE, &CARRIER],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        let cluster = p.cluster()?;
        let carrier = carrier_from_params(p)?;
        let secret = secret_from_params(p)?;
        Ok(MirrorGuard {
            carrier,
            verify: Verify::new(Self::NAME, secret.clone()),
            guard: Guard::required(p, &cluster)?,
            marks: Tag::new(Self::NAME, &cluster, carrier, secret),
        })
    }

    fn carrier(&self) -> Carrier {
        self.carrier
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a> {
        let found = Carried::of(self.carrier, rec);
        self.verify.check(rec, &found)?;
        let mark = self.guard.check(&found)?;
        Ok(self.marks.mark(rec, &found, mark, scratch))
    }

    fn summary(&self) -> Summary<'_> {
        Summary {
            carrier: self.carrier,
            verifies: self.verify.is_on(),
            guard: self.guard.config(),
            ..Summary::default()
        }
    }
}

policy::export!(filter: MirrorGuard);
