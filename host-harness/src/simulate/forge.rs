//! Forged origin tags: what a producer that claims another origin writes. Sealed with the
//! secret it guesses (FORMAT.md §7, computed here apart from the codec's own: HMAC-SHA256
//! written from the RFC for the key, the `siphasher` crate for the MAC), or with no MAC.

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

/// Where a forged tag travels, and the record's other half the MAC binds (FORMAT.md §7).
pub struct Bound<'a> {
    /// The tag is in the key (else the value).
    pub in_key: bool,
    /// The key when the tag is in the value, the value when it is in the key.
    pub other: Option<&'a [u8]>,
}

/// A carrier holding a tag that claims `claim` as origin (path `[claim]`), followed by
/// `payload`; sealed with `secret` (no scope) for a record `bound` describes, when given.
pub fn tag(
    claim: &str,
    timestamp: i64,
    id: [u8; 8],
    secret: Option<&[u8]>,
    bound: &Bound<'_>,
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
    let mac_key = hmac_sha256(secret, b"fluvio-origin/v2/mac\0");
    let mut input = unsealed.clone();
    input.push(u8::from(bound.in_key));
    match bound.other {
        None => input.push(0),
        Some(other) => {
            input.push(1);
            input.extend_from_slice(&(other.len() as u64).to_le_bytes());
            input.extend_from_slice(other);
        }
    }
    input.extend_from_slice(payload);
    let word = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&mac_key[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    let mut hasher = siphasher::sip128::SipHasher24::new_with_keys(word(0), word(8));
    std::hash::Hasher::write(&mut hasher, &input);
    let mac = siphasher::sip128::Hasher128::finish128(&hasher).as_bytes();
    // The sealed tag is the unsealed one with the final `00` (no MAC) replaced by `01` and
    // the 16 MAC bytes.
    unsealed.pop();
    unsealed.push(1);
    unsealed.extend_from_slice(&mac);
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

    const VALUE: Bound<'static> = Bound {
        in_key: false,
        other: None,
    };

    #[test]
    fn a_forgery_sealed_with_the_real_secret_verifies_as_the_codec_says() {
        let secret = b"the-real-secret-of-16+";
        let bound = Bound {
            in_key: false,
            other: Some(b"k"),
        };
        let carrier = tag("east", 5, [1; 8], Some(secret), &bound, b"hello");
        let Ok(origin::Decoded::Tagged { envelope, payload }) = origin::decode(&carrier) else {
            panic!("not a tag");
        };
        let key = origin::SealKey::new(secret, "").unwrap();
        let bind = origin::Binding::of(origin::Carrier::Value, Some(b"k"), b"");
        assert_eq!(key.verify(&envelope, &bind, payload), Ok(()));
        let other = origin::Binding::of(origin::Carrier::Value, Some(b"j"), b"");
        assert!(key.verify(&envelope, &other, payload).is_err());
    }

    #[test]
    fn a_sealed_forgery_decodes_with_a_mac() {
        let carrier = tag("east", 5, [1; 8], Some(b"guess"), &VALUE, b"hello");
        let Ok(origin::Decoded::Tagged { envelope, payload }) = origin::decode(&carrier) else {
            panic!("not a tag");
        };
        assert_eq!(envelope.origin(), "east");
        assert!(envelope.mac().is_some());
        assert_eq!(payload, b"hello");
        let bare = tag("east", 5, [1; 8], None, &VALUE, b"hello");
        let Ok(origin::Decoded::Tagged { envelope, .. }) = origin::decode(&bare) else {
            panic!("not a tag");
        };
        assert!(envelope.mac().is_none());
    }
}
