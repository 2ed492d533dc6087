//! Verify: with a `secret`, a tag is accepted only if its MAC verifies; a tag without a MAC,
//! with a wrong one, or a malformed one is refused, in every mode. Without a secret the stage
//! lets everything through: tags are unauthenticated claims.

use crate::params::{ParamErrorKind, Params, SECRET};
use crate::record::{Carried, Found, RecordView};
use crate::{text, ParamError, Stop};
use origin::{EnvelopeError, TagBuf};

/// The shared secret, keyed once at init (HMAC's key schedule does not run per record).
#[cfg(feature = "mac")]
pub type Secret = origin::MacKey;

/// A build without MAC support holds no secret: [`Secret::from_params`] refuses the param,
/// and every stage's MAC code folds away.
#[cfg(not(feature = "mac"))]
#[derive(Debug, Clone)]
pub enum Secret {}

/// `secret`: none, or the shared secret.
#[inline]
pub fn secret_from_params(p: &Params<'_>) -> Result<Option<Secret>, ParamError> {
    match p.get(&SECRET) {
        None => Ok(None),
        Some("") => Err(p.bad(&SECRET, "", "empty")),
        Some(v) => keyed(v.as_bytes())
            .map(Some)
            .ok_or_else(|| ParamErrorKind::NoMacSupport { module: p.module() }.into()),
    }
}

#[cfg(feature = "mac")]
fn keyed(secret: &[u8]) -> Option<Secret> {
    Secret::new(secret)
}

#[cfg(not(feature = "mac"))]
fn keyed(_: &[u8]) -> Option<Secret> {
    None
}

/// The verify stage.
#[derive(Debug, Clone)]
pub struct Verify {
    module: &'static str,
    secret: Option<Secret>,
}

/// The hint's ending when a MAC does not verify: the likely cause.
const NOT_OUR_SECRET: &str =
    "; it was not tagged with this cluster's secret (forged, or the clusters' secrets differ)";

impl Verify {
    /// Checks tags against `secret`, when given; `module` names the refusals.
    pub fn new(module: &'static str, secret: Option<Secret>) -> Self {
        Verify { module, secret }
    }

    /// Whether tags are checked (a secret is set).
    pub fn is_on(&self) -> bool {
        self.secret.is_some()
    }

    /// The carrier as found, or a refusal of a tag that is forged or malformed.
    #[inline]
    pub fn check<'a>(&self, rec: &RecordView<'_>, c: Carried<'a>) -> Result<Carried<'a>, Stop> {
        let Some(secret) = &self.secret else {
            return Ok(c);
        };
        let refuse = |e: EnvelopeError| {
            let then = match e {
                EnvelopeError::BadMac | EnvelopeError::MissingMac => NOT_OUR_SECRET,
                _ => "",
            };
            Stop::Refuse(text::bad_tag(self.module, rec, e, then))
        };
        match &c.found {
            Found::Untagged => Ok(c),
            Found::Tagged(env) => match verify(env, secret, c.payload) {
                Ok(()) => Ok(c),
                Err(e) => Err(refuse(e)),
            },
            Found::Malformed(e) => Err(refuse(*e)),
        }
    }
}

#[cfg(feature = "mac")]
#[inline]
fn verify(
    env: &origin::Envelope<'_>,
    secret: &Secret,
    payload: &[u8],
) -> Result<(), EnvelopeError> {
    env.verify_decoded(secret, payload)
}

#[cfg(not(feature = "mac"))]
fn verify(_: &origin::Envelope<'_>, secret: &Secret, _: &[u8]) -> Result<(), EnvelopeError> {
    match *secret {}
}

/// Seals the tag `scratch` holds (written with no MAC) for `payload`.
#[cfg(feature = "mac")]
#[inline]
pub(crate) fn seal(secret: &Secret, scratch: &mut TagBuf, payload: &[u8]) {
    secret.seal_in_place(scratch, payload);
}

#[cfg(not(feature = "mac"))]
pub(crate) fn seal(secret: &Secret, _: &mut TagBuf, _: &[u8]) {
    match *secret {}
}
