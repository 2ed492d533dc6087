//! The record a stage decides on, borrowed, and its carrier decoded once for every stage.

use origin::{decode, Carrier, Decoded, Envelope, EnvelopeError, MAGIC};

use crate::params::{Params, CARRIER};
use crate::ParamError;

/// The parts of a record a decision reads, borrowed from the host's input.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// The key, if the record has one.
    pub key: Option<&'a [u8]>,
    /// The value.
    pub value: &'a [u8],
    /// Absolute, in ms since the Unix epoch (the timestamp delta alone before input version 22).
    pub timestamp: i64,
    /// Absolute: the batch's base offset plus the record's offset delta.
    pub offset: i64,
}

/// `carrier`: `value` (default) or `key`.
#[inline]
pub fn carrier_from_params(p: &Params<'_>) -> Result<Carrier, ParamError> {
    match p.get(&CARRIER) {
        None | Some("value") => Ok(Carrier::Value),
        Some("key") => Ok(Carrier::Key),
        Some(v) => Err(p.bad(&CARRIER, v, "not value or key")),
    }
}

/// What a carrier starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// No tag (no magic bytes, or no key under `carrier=key`).
    Untagged,
    /// A tag that decodes; its MAC is checked by [`Verify`](crate::Verify), if at all.
    Tagged(Envelope<'a>),
    /// Starts like a tag but is not one. With a secret it is refused; without, it is payload
    /// that happens to start with the magic bytes.
    Malformed(EnvelopeError),
}

/// A record's carrier, decoded: the tag found, the bytes after it, and what a MAC binds
/// besides them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried<'a> {
    /// What the carrier starts with.
    pub found: Found<'a>,
    /// The producer's bytes: what follows a tag, else the whole carrier (empty without a key).
    pub payload: &'a [u8],
    /// Where the tag travels.
    pub carrier: Carrier,
    /// The other half of the record: its key (`carrier=value`) or its value (`carrier=key`).
    pub other: Option<&'a [u8]>,
}

impl<'a> Carried<'a> {
    /// Decodes what `rec`'s carrier holds.
    #[inline]
    pub fn of(carrier: Carrier, rec: &RecordView<'a>) -> Self {
        let other = carrier.other(rec.key, rec.value);
        let (found, payload) = match carrier.of(rec.key, rec.value) {
            None => (Found::Untagged, &[][..]),
            // Most records a policy sees first are untagged: told by two bytes, without a call.
            Some(field) if !field.starts_with(&MAGIC) => (Found::Untagged, field),
            Some(field) => match decode(field) {
                Ok(Decoded::Tagged { envelope, payload }) => (Found::Tagged(envelope), payload),
                Ok(Decoded::Untagged) => (Found::Untagged, field),
                Err(e) => (Found::Malformed(e), field),
            },
        };
        Carried {
            found,
            payload,
            carrier,
            other,
        }
    }

    /// The tag, when the carrier holds a valid one.
    #[inline]
    pub fn tag(&self) -> Option<&Envelope<'a>> {
        match &self.found {
            Found::Tagged(env) => Some(env),
            _ => None,
        }
    }
}
