//! origin-strip (map): removes the origin tag, so consumers read the producer's exact key and
//! value.
//!
//! Params: `carrier` = `value` (default) | `key`.
//!
//! - Tagged record: the tag is removed; a key tagged with `NO_KEY` is absent again.
//! - Untagged record, or a malformed tag: passes unchanged.
#![cfg_attr(target_arch = "wasm32", no_std)]

use policy::params::CARRIER;
use policy::Summary;
use policy::{Carried, Carrier, Kind, Known, ParamError, Params, Policy, RecordView, Strip};
use policy::{TagBuf, Verdict};

pub struct OriginStrip {
    strip: Strip,
}

impl Policy for OriginStrip {
    const NAME: &'static str = "origin-strip";
    const KIND: Kind = Kind::Map;
    const PARAMS: Known = Known {
        required: &[],
        optional: &[&CARRIER],
    };

    fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        Ok(OriginStrip {
            strip: Strip::from_params(p)?,
        })
    }

    fn carrier(&self) -> Carrier {
        self.strip.carrier()
    }

    fn decide<'a>(&mut self, rec: &RecordView<'a>, _: &mut TagBuf) -> Verdict<'a> {
        Ok(self.strip.apply(&Carried::of(self.strip.carrier(), rec)))
    }

    fn summary(&self) -> Summary<'_> {
        Summary {
            carrier: self.strip.carrier(),
            ..Summary::default()
        }
    }
}

policy::export!(map: OriginStrip);
