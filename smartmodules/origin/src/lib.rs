//! The origin envelope: the provenance tag a Fluvio record carries inside its
//! value (by default) or its key, since Fluvio records have no headers.
//!
//! A tagged carrier is laid out as
//!
//! ```text
//! MAGIC (0xFF 0x6F) | VERSION (0x02) | postcard body | original payload bytes
//! ```
//!
//! and anything that does not start with [`MAGIC`] is untagged. The byte
//! layout, limits, versioning rules and test vectors are specified in
//! `docs/FORMAT.md` at the root of the workspace.
//!
//! Cargo features: `mac` (on by default) adds `SealKey`: `Envelope::seal`, verification and
//! keyed record ids (SipHash-2-4 under keys derived with HMAC-SHA256); `std` (off by default) adds
//! `std::error::Error` impls.
//!
//! The crate is `no_std` (with `alloc`) so that it compiles into
//! `wasm32-unknown-unknown` SmartModules as well as native host code.
//! [`decode`] is total: every byte string gives [`Decoded::Untagged`],
//! [`Decoded::Tagged`] or an [`EnvelopeError`], without panicking.
//!
//! ```
//! use origin::{decode, record_id, wrap, Decoded, Envelope};
//!
//! let value = br#"{"temp":21}"#;
//! let id = record_id("us-east", 1_700_000_000_000, 0, None, value);
//! let tag = Envelope::new_origin("us-east", 1_700_000_000_000, id).unwrap();
//! let tagged = wrap(&tag, value);
//!
//! // One hop later, on the mirror:
//! let Decoded::Tagged { envelope, payload } = decode(&tagged).unwrap() else { panic!() };
//! assert_eq!(envelope.origin(), "us-east");
//! assert_eq!(payload, value);
//! let forwarded = envelope.with_hop("eu-west").unwrap();
//! assert_eq!(forwarded.path(), ["us-east", "eu-west"]);
//! assert_eq!(forwarded.hops(), 1);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod carrier;
mod cluster;
mod envelope;
mod error;
mod fresh;
mod record_id;
#[cfg(feature = "mac")]
mod seal;
#[cfg(feature = "mac")]
mod sha256;
mod siphash;
mod tag_buf;

pub use carrier::Carrier;
pub use cluster::{validate_cluster_id, ClusterIdError};
pub use envelope::{decode, wrap, Decoded, Envelope};
pub use error::EnvelopeError;
pub use fresh::Fresh;
pub use record_id::{hash64, record_id};
#[cfg(feature = "mac")]
pub use seal::{Binding, SealKey, SecretError, SECRET_MIN_LEN};
pub use siphash::SipHasher;
pub use tag_buf::TagBuf;

/// First two bytes of every tagged carrier. `0xFF` never occurs in UTF-8, so
/// no UTF-8 text (and no JSON document) starts with it.
pub const MAGIC: [u8; 2] = [0xFF, 0x6F];

/// Format version byte that follows [`MAGIC`]. This crate reads and writes only this version;
/// version 1, never released, is refused like any other.
pub const VERSION: u8 = 0x02;

/// Most cluster ids a path may hold (the origin plus 15 hops).
pub const MAX_PATH: usize = 16;

/// Longest cluster id, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Length of a tag's MAC (SipHash-2-4-128), in bytes.
pub const MAC_LEN: usize = 16;

/// Flag bit 0: set by mirror-guard in audit mode on a local write it would have refused.
pub const FLAG_VIOLATION: u8 = 0x01;

/// Flag bit 1: the carrier was the key and the record had no key, so removing the tag gives
/// back an absent key rather than an empty one.
pub const FLAG_NO_KEY: u8 = 0x02;

/// Bytes before the postcard body: [`MAGIC`] and [`VERSION`].
pub const PREFIX_LEN: usize = 3;

/// Largest possible tag (prefix + body), without a MAC: 16 ids of 64 bytes
/// and a 10-byte timestamp varint.
pub const MAX_TAG_LEN_NO_MAC: usize = PREFIX_LEN
    + 1 // flags
    + 1 // hops
    + 1 // path count (<= 16, one varint byte)
    + MAX_PATH * (1 + MAX_ID_LEN) // length byte + id bytes
    + 10 // timestamp, zigzag varint of an i64
    + 8 // record id
    + 1; // mac option tag (None)

/// Largest possible tag (prefix + body), with a MAC.
pub const MAX_TAG_LEN: usize = MAX_TAG_LEN_NO_MAC + MAC_LEN;
