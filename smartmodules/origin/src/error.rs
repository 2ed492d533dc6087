//! Errors of decoding, building and verifying an envelope.

use core::fmt;

use crate::ClusterIdError;

/// Why a carrier that starts with [`MAGIC`](crate::MAGIC) is not a valid tag,
/// why an envelope cannot be built, or why a MAC does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The input ends before the tag does.
    Truncated,
    /// The version byte is not [`VERSION`](crate::VERSION); holds the byte found.
    UnknownVersion(u8),
    /// The path holds more than [`MAX_PATH`](crate::MAX_PATH) cluster ids.
    PathTooLong,
    /// The path holds no cluster id.
    EmptyPath,
    /// The hop count is not the path length minus one.
    HopsMismatch,
    /// A cluster id in the path breaks the cluster id rules.
    BadClusterId,
    /// The body is not a canonical postcard encoding of a tag (bad UTF-8, bad
    /// option tag, varint overflow, over-long varint, ...).
    Malformed,
    /// `Envelope::verify` was asked of a tag that carries no MAC.
    MissingMac,
    /// The MAC does not match the tag and payload under the given secret.
    BadMac,
}

impl EnvelopeError {
    /// A short human description.
    pub fn as_str(&self) -> &'static str {
        match self {
            EnvelopeError::Truncated => "origin tag truncated",
            EnvelopeError::UnknownVersion(_) => "unsupported origin tag version",
            EnvelopeError::PathTooLong => "origin path longer than 16 clusters",
            EnvelopeError::EmptyPath => "origin path is empty",
            EnvelopeError::HopsMismatch => "origin hop count does not match its path",
            EnvelopeError::BadClusterId => "invalid cluster id in origin path",
            EnvelopeError::Malformed => "malformed origin tag",
            EnvelopeError::MissingMac => "origin tag carries no MAC",
            EnvelopeError::BadMac => "origin tag MAC does not verify",
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::UnknownVersion(v) => write!(
                f,
                "{} {v} (this build reads version {})",
                self.as_str(),
                crate::VERSION
            ),
            _ => f.write_str(self.as_str()),
        }
    }
}

impl From<ClusterIdError> for EnvelopeError {
    fn from(_: ClusterIdError) -> Self {
        EnvelopeError::BadClusterId
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EnvelopeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn display_uses_short_text() {
        assert_eq!(EnvelopeError::Truncated.to_string(), "origin tag truncated");
        assert_eq!(
            EnvelopeError::UnknownVersion(1).to_string(),
            "unsupported origin tag version 1 (this build reads version 2)"
        );
        assert_eq!(
            EnvelopeError::BadMac.to_string(),
            EnvelopeError::BadMac.as_str()
        );
    }

    #[test]
    fn cluster_id_errors_convert() {
        assert_eq!(
            EnvelopeError::from(ClusterIdError::Empty),
            EnvelopeError::BadClusterId
        );
    }
}
