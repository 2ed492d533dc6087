//! The record a stage decides on, borrowed, and its carrier decoded once for every stage.

use origin::{decode, Decoded, Envelope, EnvelopeError};

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

/// Which part of a record carries the tag (`carrier`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// The value (the default).
    #[default]
    Value,
    /// The key; a record without one is untagged.
    Key,
}

impl Carrier {
    /// `carrier`: `value` (default) or `key`.
    #[inline]
    pub fn from_params(p: &Params<'_>) -> Result<Self, ParamError> {
        match p.get(&CARRIER) {
            None | Some("value") => Ok(Carrier::Value),
            Some("key") => Ok(Carrier::Key),
            Some(v) => Err(p.bad(&CARRIER, v, "not value or key")),
        }
    }

    /// The carrier bytes of a record, if it has them (a record may have no key).
    #[inline]
    pub fn of<'a>(self, key: Option<&'a [u8]>, value: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            Carrier::Value => Some(value),
            Carrier::Key => key,
        }
    }

    /// `value` or `key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Value => "value",
            Carrier::Key => "key",
        }
    }

    /// Decodes what the record's carrier holds.
    #[inline]
    pub fn read<'a>(self, rec: &RecordView<'a>) -> Carried<'a> {
        let Some(field) = self.of(rec.key, rec.value) else {
            return Carried {
                found: Found::Untagged,
                payload: &[],
            };
        };
        match decode(field) {
            Ok(Decoded::Tagged { envelope, payload }) => Carried {
                found: Found::Tagged(envelope),
                payload,
            },
            Ok(Decoded::Untagged) => Carried {
                found: Found::Untagged,
                payload: field,
            },
            Err(e) => Carried {
                found: Found::Malformed(e),
                payload: field,
            },
        }
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

/// A record's carrier, decoded: the tag found and the bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried<'a> {
    /// What the carrier starts with.
    pub found: Found<'a>,
    /// The producer's bytes: what follows a tag, else the whole carrier (empty without a key).
    pub payload: &'a [u8],
}

impl<'a> Carried<'a> {
    /// The tag, when the carrier holds a valid one.
    #[inline]
    pub fn tag(&self) -> Option<&Envelope<'a>> {
        match &self.found {
            Found::Tagged(env) => Some(env),
            _ => None,
        }
    }
}
