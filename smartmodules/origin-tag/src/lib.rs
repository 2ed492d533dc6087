//! origin-tag (map): tags each record with its origin, so that loops and duplicates can be
//! told downstream.
//!
//! Params: `cluster` (required), `carrier` = `value` (default) | `key`, `secret` (optional, at
//! least 16 bytes), `scope` (with `secret`: the data set, the same on every cluster).
//!
//! - Untagged record: a new tag (origin = `cluster`, hops 0, record id, origin timestamp).
//! - Tagged record: `cluster` appended to its path, unless the path already ends in it.
//! - With `secret`: a tag that does not verify is refused; a new tag's record id is keyed, and
//!   the tag is sealed for this record, this carrier and this scope.
//! - Without `secret`: a malformed tag is refused rather than wrapped in a second one.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::{CARRIER, CLUSTER, SCOPE, SECRET};
use policy::{carrier_from_params, secret_from_params, Carried, Carrier, Kind, Known, Mark};
use policy::{ParamError, Params, Policy};
use policy::{RecordView, Summary, Tag, TagBuf, Verdict, Verify};

pub struct OriginTag {
    carrier: Carrier,
    verify: Verify,
    tag: Tag,
}

impl Policy for OriginTag {
    const NAME: &'static str = "origin-tag";
    const KIND: Kind = Kind::Map;
    const PARAMS: Known = Known {
        required: &[&CLUSTER],
        optional: &[&CARRIER, &SECRET, &SCOPE],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        let cluster = p.cluster()?;
        let carrier = carrier_from_params(p)?;
        let secret = secret_from_params(p)?;
        Ok(OriginTag {
            carrier,
            verify: Verify::new(Self::NAME, secret.clone()),
            tag: Tag::new(Self::NAME, &cluster, carrier, secret),
        })
    }

    fn carrier(&self) -> Carrier {
        self.carrier
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, scratch: &mut TagBuf) -> Verdict<'a> {
        let found = Carried::of(self.carrier, rec);
        self.verify.check(rec, &found)?;
        self.tag.write(rec, &found, Mark::Clean, scratch)
    }

    fn summary(&self) -> Summary<'_> {
        Summary {
            carrier: self.carrier,
            verifies: self.verify.is_on(),
            tags: true,
            ..Summary::default()
        }
    }
}

policy::export!(map: OriginTag);
