//! Reading a record's provenance as the policy modules read it: the carrier decoded once
//! (`policy::Carried`) and, with a secret, the tag's MAC checked by the same `Verify` stage.

use origin::{Carrier, Envelope, EnvelopeError};
use policy::{carrier_from_params, secret_from_params, Carried, Found, Params, RecordView};
use policy::{ParamError, Secret, Verify};

/// Where tags travel and, with a secret, how they are checked.
#[derive(Debug, Clone)]
pub struct TagReader {
    carrier: Carrier,
    verify: Verify,
}

/// What a record's carrier holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance<'a> {
    /// No tag; the record has no key under `carrier=key`.
    Untagged,
    /// A valid tag; `verified` is `None` without a secret, else whether its MAC verifies.
    Tagged {
        /// The tag.
        tag: Envelope<'a>,
        /// Whether its MAC verifies for this record under the secret, if one is set.
        verified: Option<bool>,
    },
    /// Starts like a tag but is not one.
    Malformed(EnvelopeError),
}

/// A record read: its provenance, and the carrier's payload (none for a missing key).
#[derive(Debug, Clone)]
pub struct Reading<'a> {
    /// What the carrier holds.
    pub provenance: Provenance<'a>,
    /// The carrier's bytes after the tag (all of them when untagged or malformed); `None`
    /// when the carrier is a key the record lacks.
    pub payload: Option<&'a [u8]>,
}

impl TagReader {
    /// Tags in `carrier`, checked against `secret` when given.
    pub fn new(module: &'static str, carrier: Carrier, secret: Option<Secret>) -> Self {
        TagReader {
            carrier,
            verify: Verify::new(module, secret),
        }
    }

    /// From the `carrier`, `secret` and `scope` params.
    pub fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        Ok(Self::new(
            p.module(),
            carrier_from_params(p)?,
            secret_from_params(p)?,
        ))
    }

    /// Where tags travel.
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// Whether MACs are checked (a secret is set).
    pub fn verifies(&self) -> bool {
        self.verify.is_on()
    }

    /// What `rec`'s carrier holds.
    #[inline]
    pub fn read<'a>(&self, rec: &RecordView<'a>) -> Reading<'a> {
        let carried = Carried::of(self.carrier, rec);
        let payload = self.carrier.of(rec.key, rec.value).map(|_| carried.payload);
        let verified = self
            .verify
            .is_on()
            .then(|| self.verify.verdict(&carried).is_ok());
        let provenance = match carried.found {
            Found::Untagged => Provenance::Untagged,
            Found::Tagged(tag) => Provenance::Tagged { tag, verified },
            Found::Malformed(e) => Provenance::Malformed(e),
        };
        Reading {
            provenance,
            payload,
        }
    }
}
