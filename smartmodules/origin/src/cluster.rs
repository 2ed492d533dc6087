//! Cluster id rules: non-empty, at most [`MAX_ID_LEN`] bytes, only `[A-Za-z0-9._-]`.

use core::fmt;

use crate::MAX_ID_LEN;

/// Why a string is not a valid cluster id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterIdError {
    /// The id is the empty string.
    Empty,
    /// The id is longer than [`MAX_ID_LEN`] bytes; holds its length in bytes.
    TooLong(usize),
    /// The id holds a character outside `[A-Za-z0-9._-]`; holds the first such character.
    BadChar(char),
}

impl ClusterIdError {
    /// A short description, without the details a variant holds.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClusterIdError::Empty => "cluster id is empty",
            ClusterIdError::TooLong(_) => "cluster id is longer than 64 bytes",
            ClusterIdError::BadChar(_) => "cluster id holds a character outside [A-Za-z0-9._-]",
        }
    }
}

impl fmt::Display for ClusterIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterIdError::Empty => f.write_str(self.as_str()),
            ClusterIdError::TooLong(len) => write!(f, "{} ({len} bytes)", self.as_str()),
            ClusterIdError::BadChar(c) => write!(f, "{}: {c:?}", self.as_str()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ClusterIdError {}

/// `true` for the bytes a cluster id may hold: `[A-Za-z0-9._-]`. A lookup in two 64-bit
/// masks, since every byte of every id on a tag's path is checked as the tag is read.
#[inline]
pub(crate) fn is_id_byte(b: u8) -> bool {
    /// Bytes 0 to 63: `-`, `.` and `0`-`9`.
    const LOW: u64 = (1 << b'-') | (1 << b'.') | (0x3FF << b'0');
    /// Bytes 64 to 127: `A`-`Z`, `_` and `a`-`z`.
    const HIGH: u64 =
        (0x3FF_FFFF << (b'A' - 64)) | (1 << (b'_' - 64)) | (0x3FF_FFFF << (b'a' - 64));
    match b {
        0..64 => LOW >> b & 1 == 1,
        64..128 => HIGH >> (b - 64) & 1 == 1,
        _ => false,
    }
}

/// Checks a cluster id: non-empty, at most [`MAX_ID_LEN`] bytes, only `[A-Za-z0-9._-]`.
///
/// The checks run in that order, so an over-long id with a bad character reports
/// [`ClusterIdError::TooLong`].
///
/// ```
/// use origin::{validate_cluster_id, ClusterIdError};
/// assert_eq!(validate_cluster_id("eu-west-1.prod"), Ok(()));
/// assert_eq!(validate_cluster_id(""), Err(ClusterIdError::Empty));
/// assert_eq!(validate_cluster_id("a/b"), Err(ClusterIdError::BadChar('/')));
/// ```
pub fn validate_cluster_id(id: &str) -> Result<(), ClusterIdError> {
    if id.is_empty() {
        return Err(ClusterIdError::Empty);
    }
    if id.len() > MAX_ID_LEN {
        return Err(ClusterIdError::TooLong(id.len()));
    }
    match id.chars().find(|&c| !(c.is_ascii() && is_id_byte(c as u8))) {
        Some(c) => Err(ClusterIdError::BadChar(c)),
        None => Ok(()),
    }
}

/// The same rules as [`validate_cluster_id`], as a plain yes/no for the decode path.
#[inline]
pub(crate) fn is_valid_cluster_id(id: &str) -> bool {
    is_valid_cluster_id_bytes(id.as_bytes())
}

/// [`is_valid_cluster_id`] on bytes, as the decoder reads them.
pub(crate) fn is_valid_cluster_id_bytes(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.iter().all(|b| is_id_byte(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masks_hold_exactly_the_documented_bytes() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-';
            assert_eq!(is_id_byte(b), expected, "byte {b}");
        }
    }

    #[test]
    fn accepts_allowed_characters() {
        assert_eq!(validate_cluster_id("a"), Ok(()));
        assert_eq!(validate_cluster_id("AZaz09._-"), Ok(()));
        let max = "x".repeat(MAX_ID_LEN);
        assert_eq!(validate_cluster_id(&max), Ok(()));
        assert!(is_valid_cluster_id(&max));
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(validate_cluster_id(""), Err(ClusterIdError::Empty));
        assert!(!is_valid_cluster_id(""));
    }

    #[test]
    fn rejects_too_long() {
        let long = "x".repeat(MAX_ID_LEN + 1);
        assert_eq!(validate_cluster_id(&long), Err(ClusterIdError::TooLong(65)));
        assert!(!is_valid_cluster_id(&long));
    }

    #[test]
    fn rejects_bad_characters() {
        for (id, c) in [
            ("a b", ' '),
            ("a/b", '/'),
            ("é", 'é'),
            ("ok:", ':'),
            ("a\0", '\0'),
            ("x+y", '+'),
        ] {
            assert_eq!(
                validate_cluster_id(id),
                Err(ClusterIdError::BadChar(c)),
                "{id:?}"
            );
            assert!(!is_valid_cluster_id(id));
        }
    }

    #[test]
    fn error_texts() {
        extern crate alloc;
        use alloc::string::ToString;
        assert_eq!(ClusterIdError::Empty.to_string(), "cluster id is empty");
        assert_eq!(
            ClusterIdError::TooLong(70).to_string(),
            "cluster id is longer than 64 bytes (70 bytes)"
        );
        assert_eq!(
            ClusterIdError::BadChar('/').to_string(),
            "cluster id holds a character outside [A-Za-z0-9._-]: '/'"
        );
    }
}
