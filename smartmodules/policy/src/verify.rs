//! Verify: with a `secret`, a tag is accepted only if its MAC verifies (for this record, this
//! carrier and this `scope`); a tag without a MAC, with a wrong one, or a malformed one is
//! refused, in every mode. Without a secret the stage lets everything through: tags are
//! claims anybody can write.

use origin::{EnvelopeError, TagBuf};

use crate::params::{ParamErrorKind, Params, SCOPE, SECRET};
use crate::record::{Carried, Found, RecordView};
use crate::{text, ParamError, Stop};

/// The keys of the data set, derived once from the secret and the scope.
#[cfg(feature = "mac")]
pub type Secret = origin::SealKey;

/// A build without MAC support holds no secret: [`secret_from_params`] refuses the param,
/// and every stage's MAC code folds away.
#[cfg(not(feature = "mac"))]
#[derive(Debug, Clone)]
pub enum Secret {}

/// `secret` (none, or at least 16 bytes) and `scope` (the data set it seals for; only with a
/// secret).
#[inline]
pub fn secret_from_params(p: &Params<'_>) -> Result<Option<Secret>, ParamError> {
    let scope = p.get(&SCOPE);
    if scope == Some("") {
        return Err(p.bad(&SCOPE, "", "empty"));
    }
    let Some(secret) = p.get(&SECRET) else {
        return match scope {
            Some(_) => Err(ParamErrorKind::NoEffect {
                module: p.module(),
                param: &SCOPE,
                needs: &SECRET,
            }
            .into()),
            None => Ok(None),
        };
    };
    keyed(p, secret, scope.unwrap_or_default()).map(Some)
}

#[cfg(feature = "mac")]
fn keyed(p: &Params<'_>, secret: &str, scope: &str) -> Result<Secret, ParamError> {
    // The error never holds the secret: it is shown as `***`.
    Secret::new(secret.as_bytes(), scope).map_err(|e| p.bad(&SECRET, "***", e.as_str()))
}

#[cfg(not(feature = "mac"))]
fn keyed(p: &Params<'_>, _: &str, _: &str) -> Result<Secret, ParamError> {
    Err(ParamErrorKind::NoMacSupport { module: p.module() }.into())
}

/// The verify stage.
#[derive(Debug, Clone)]
pub struct Verify {
    module: &'static str,
    secret: Option<Secret>,
}

/// The hint's ending when a MAC does not verify: the likely causes.
const NOT_OUR_SECRET: &str = "; it was not sealed for this record with this cluster's secret and \
    scope (forged, moved from another record, or the clusters' secrets or scopes differ)";

impl Verify {
    /// Checks tags against `secret`, when given; `module` names the refusals.
    pub fn new(module: &'static str, secret: Option<Secret>) -> Self {
        Verify { module, secret }
    }

    /// Whether tags are checked (a secret is set).
    pub fn is_on(&self) -> bool {
        self.secret.is_some()
    }

    /// Nothing, or a refusal of a tag that is forged or malformed. The carrier stays where
    /// it was decoded: a tag is a few dozen bytes that moving would copy.
    #[inline]
    pub fn check(&self, rec: &RecordView<'_>, c: &Carried<'_>) -> Result<(), Stop> {
        match self.verdict(c) {
            Ok(()) => Ok(()),
            Err(e) => {
                let then = match e {
                    EnvelopeError::BadMac | EnvelopeError::MissingMac => NOT_OUR_SECRET,
                    _ => "",
                };
                Err(Stop::Refuse(text::bad_tag(self.module, rec, e, then)))
            }
        }
    }

    /// Whether the tag holds: always without a secret; with one, its MAC must verify.
    #[inline]
    pub fn verdict(&self, c: &Carried<'_>) -> Result<(), EnvelopeError> {
        let Some(secret) = &self.secret else {
            return Ok(());
        };
        match &c.found {
            Found::Untagged => Ok(()),
            Found::Tagged(env) => verify(secret, env, c),
            Found::Malformed(e) => Err(*e),
        }
    }
}

#[cfg(feature = "mac")]
#[inline]
fn verify(
    secret: &Secret,
    env: &origin::Envelope<'_>,
    c: &Carried<'_>,
) -> Result<(), EnvelopeError> {
    secret.verify(env, &binding(c), c.payload)
}

#[cfg(not(feature = "mac"))]
fn verify(secret: &Secret, _: &origin::Envelope<'_>, _: &Carried<'_>) -> Result<(), EnvelopeError> {
    match *secret {}
}

#[cfg(feature = "mac")]
#[inline]
fn binding<'a>(c: &Carried<'a>) -> origin::Binding<'a> {
    origin::Binding {
        carrier: c.carrier,
        other: c.other,
    }
}

/// Seals the tag `scratch` holds (written with no MAC) for the record `c` is the carrier of.
#[cfg(feature = "mac")]
#[inline]
pub(crate) fn seal(secret: &Secret, scratch: &mut TagBuf, c: &Carried<'_>) {
    secret.seal_in_place(scratch, &binding(c), c.payload);
}

#[cfg(not(feature = "mac"))]
pub(crate) fn seal(secret: &Secret, _: &mut TagBuf, _: &Carried<'_>) {
    match *secret {}
}

/// New tags written at `cluster`, whose record ids are keyed by the secret when there is one,
/// so that nobody can aim an id at another record's.
#[cfg(feature = "mac")]
#[inline]
pub(crate) fn fresh(secret: Option<&Secret>, cluster: &str) -> origin::Fresh {
    match secret {
        Some(k) => origin::Fresh::keyed(cluster, k),
        None => origin::Fresh::new(cluster),
    }
}

#[cfg(not(feature = "mac"))]
#[inline]
pub(crate) fn fresh(_: Option<&Secret>, cluster: &str) -> origin::Fresh {
    origin::Fresh::new(cluster)
}

/// The key of the de-duplication window's slot positions, from the secret.
#[cfg(feature = "mac")]
pub(crate) fn slot_key(secret: &Secret) -> [u64; 2] {
    secret.slot_key()
}

#[cfg(not(feature = "mac"))]
pub(crate) fn slot_key(secret: &Secret) -> [u64; 2] {
    match *secret {}
}
