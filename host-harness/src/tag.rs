//! Origin tags (the `origin` crate's envelope) as the harness shows them.

use serde::Serialize;

pub use policy::Carrier;

/// A decoded tag, owned and ready to print or serialise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagView {
    /// Cluster the record was first produced on.
    pub origin: String,
    /// Hops after the origin.
    pub hops: u8,
    /// Clusters passed through, origin first.
    pub path: Vec<String>,
    /// All flag bits.
    pub flags: u8,
    /// Whether the VIOLATION flag is set.
    pub violation: bool,
    /// Origin timestamp, ms since the Unix epoch.
    pub timestamp: i64,
    /// Record id, 16 hex digits (the little-endian u64).
    pub id: String,
    /// The MAC in hex, if the tag carries one.
    pub mac: Option<String>,
}

impl std::fmt::Display for TagView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "origin={} hops={} path={} flags=0x{:02x}{} timestamp={} id={} mac={}",
            self.origin,
            self.hops,
            self.path.join(">"),
            self.flags,
            if self.violation { "(violation)" } else { "" },
            self.timestamp,
            self.id,
            self.mac.as_deref().unwrap_or("none")
        )
    }
}

/// What a carrier holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagState {
    /// No tag: the carrier does not start with the tag's magic bytes.
    Untagged,
    /// A valid tag and the original payload after it.
    Tagged { tag: TagView, payload: Vec<u8> },
    /// Starts like a tag but is not a valid one.
    Malformed { error: String },
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TagView {
    /// The view of a decoded tag.
    pub fn of(envelope: &origin::Envelope<'_>) -> Self {
        TagView {
            origin: envelope.origin().to_string(),
            hops: envelope.hops(),
            path: envelope.path().iter().map(|s| s.to_string()).collect(),
            flags: envelope.flags(),
            violation: envelope.is_violation(),
            timestamp: envelope.timestamp(),
            id: format!("{:016x}", envelope.id_u64()),
            mac: envelope.mac().map(|m| hex(m)),
        }
    }
}

/// Decodes the tag at the start of `carrier` with the `origin` crate.
pub fn decode_tag(carrier: &[u8]) -> TagState {
    match origin::decode(carrier) {
        Ok(origin::Decoded::Untagged) => TagState::Untagged,
        Ok(origin::Decoded::Tagged { envelope, payload }) => TagState::Tagged {
            tag: TagView::of(&envelope),
            payload: payload.to_vec(),
        },
        Err(e) => TagState::Malformed {
            error: e.to_string(),
        },
    }
}
