//! Forged origin tags: what a producer that claims another origin writes. Sealed with the
//! secret it guesses (HMAC-SHA256 truncated to 16 bytes, FORMAT.md §7), or with no MAC.

use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A carrier holding a tag that claims `claim` as origin (path `[claim]`), followed by
/// `payload`; sealed with `secret` when given.
pub fn tag(
    claim: &str,
    timestamp: i64,
    id: [u8; 8],
    secret: Option<&[u8]>,
    payload: &[u8],
) -> Vec<u8> {
    let Ok(envelope) = origin::Envelope::new_origin(claim, timestamp, id) else {
        // The topology checks `claim`; an invalid one still makes a (malformed) forgery.
        let mut v = origin::MAGIC.to_vec();
        v.extend_from_slice(payload);
        return v;
    };
    let mut unsealed = Vec::new();
    envelope.encode_into(&mut unsealed);
    let Some(secret) = secret else {
        unsealed.extend_from_slice(payload);
        return unsealed;
    };
    let mut canonical = unsealed.clone();
    canonical.extend_from_slice(payload);
    let mac = hmac_sha256(secret, &canonical);
    // The sealed tag is the unsealed one with the final `00` (no MAC) replaced by `01` and
    // the 16 MAC bytes.
    unsealed.pop();
    unsealed.push(1);
    unsealed.extend_from_slice(&mac[..16]);
    unsealed.extend_from_slice(payload);
    unsealed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_sealed_forgery_decodes_with_a_mac() {
        let carrier = tag("east", 5, [1; 8], Some(b"guess"), b"hello");
        let Ok(origin::Decoded::Tagged { envelope, payload }) = origin::decode(&carrier) else {
            panic!("not a tag");
        };
        assert_eq!(envelope.origin(), "east");
        assert!(envelope.mac().is_some());
        assert_eq!(payload, b"hello");
        let bare = tag("east", 5, [1; 8], None, b"hello");
        let Ok(origin::Decoded::Tagged { envelope, .. }) = origin::decode(&bare) else {
            panic!("not a tag");
        };
        assert!(envelope.mac().is_none());
    }
}
