//! Sealing and verifying tags with a truncated HMAC-SHA256 (feature `mac`).

use core::fmt;

use crate::sha256::{starts_with_ct, HmacSha256};
use crate::{Envelope, EnvelopeError, TagBuf, MAC_LEN};

/// A shared secret, keyed once: HMAC's key schedule (two SHA-256 blocks) runs when a policy
/// is built, and each tag clones the keyed state, instead of hashing the key for every record.
#[derive(Clone)]
pub struct MacKey {
    keyed: HmacSha256,
}

impl MacKey {
    /// Always `Some`: HMAC takes a key of any length. The `Option` matches the builds
    /// without MAC support, where there is no key.
    pub fn new(secret: &[u8]) -> Option<Self> {
        Some(MacKey {
            keyed: HmacSha256::new(secret),
        })
    }

    /// HMAC-SHA256 of `parts` laid end to end: a tag as encoded with no MAC, then the payload.
    fn full(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut state = self.keyed.clone();
        for part in parts {
            state.update(part);
        }
        state.finalize()
    }

    /// The MAC of a tag: its first [`MAC_LEN`] bytes.
    pub(crate) fn mac(&self, unsealed: &[u8], payload: &[u8]) -> [u8; MAC_LEN] {
        let full = self.full(&[unsealed, payload]);
        let mut tag = [0u8; MAC_LEN];
        for (dst, src) in tag.iter_mut().zip(full) {
            *dst = src;
        }
        tag
    }

    /// Seals the tag `buf` holds (encoded with no MAC): its last byte, the MAC option, becomes
    /// `0x01`, followed by the MAC. The tag is written once, for the record and for the MAC.
    pub fn seal_in_place(&self, buf: &mut TagBuf, payload: &[u8]) {
        let mac = self.mac(buf.as_slice(), payload);
        if buf.pop().is_some() {
            buf.push(1);
            buf.put(&mac);
        }
    }
}

/// Never prints the secret.
impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(..)")
    }
}

impl Envelope<'_> {
    /// Compares the tag's MAC, in constant time, with the one `key` gives for `before_option`
    /// (the tag's bytes before its MAC option byte, which the MAC reads as `0x00`) and
    /// `payload`.
    fn check_mac(
        &self,
        key: &MacKey,
        before_option: &[u8],
        payload: &[u8],
    ) -> Result<(), EnvelopeError> {
        let Some(tag) = self.mac() else {
            return Err(EnvelopeError::MissingMac);
        };
        if starts_with_ct(&key.full(&[before_option, &[0], payload]), tag) {
            Ok(())
        } else {
            Err(EnvelopeError::BadMac)
        }
    }

    /// [`verify`](Self::verify) of a decoded tag with a keyed secret: the MAC covers the tag's
    /// own bytes, so nothing is encoded again.
    pub fn verify_decoded(&self, key: &MacKey, payload: &[u8]) -> Result<(), EnvelopeError> {
        if self.mac().is_none() {
            return Err(EnvelopeError::MissingMac);
        }
        let before_option = self.unsealed().ok_or(EnvelopeError::BadMac)?;
        self.check_mac(key, before_option, payload)
    }

    /// Sets the MAC to the first [`MAC_LEN`] bytes of HMAC-SHA256(`secret`,
    /// tag-without-MAC ‖ `payload`). `payload` is the carrier's payload: the
    /// bytes [`wrap`](crate::wrap) puts after the tag.
    pub fn seal(&mut self, secret: &[u8], payload: &[u8]) {
        let mut unsealed = TagBuf::new();
        self.write(self.flags(), None, None, &mut unsealed);
        let mac = MacKey::new(secret).map(|key| key.mac(unsealed.as_slice(), payload));
        self.set_mac(mac);
    }

    /// Checks the MAC against `secret` and `payload`, in constant time.
    ///
    /// Fails with [`EnvelopeError::MissingMac`] if the tag carries no MAC and
    /// with [`EnvelopeError::BadMac`] if it does not match.
    pub fn verify(&self, secret: &[u8], payload: &[u8]) -> Result<(), EnvelopeError> {
        if self.mac().is_none() {
            return Err(EnvelopeError::MissingMac);
        }
        let key = MacKey::new(secret).ok_or(EnvelopeError::BadMac)?;
        match self.unsealed() {
            Some(before_option) => self.check_mac(&key, before_option, payload),
            None => {
                let mut unsealed = TagBuf::new();
                self.write(self.flags(), None, None, &mut unsealed);
                unsealed.pop();
                self.check_mac(&key, unsealed.as_slice(), payload)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, wrap, Decoded};
    use alloc::vec::Vec;

    const SECRET: &[u8] = b"shared mirror secret";

    fn sealed(payload: &[u8]) -> Vec<u8> {
        let mut env = Envelope::new_origin("us-east", 42, [9; 8])
            .unwrap()
            .with_hop("eu-west")
            .unwrap();
        env.seal(SECRET, payload);
        wrap(&env, payload)
    }

    fn verify_bytes(bytes: &[u8], secret: &[u8]) -> Result<(), EnvelopeError> {
        match decode(bytes)? {
            Decoded::Tagged { envelope, payload } => envelope.verify(secret, payload),
            Decoded::Untagged => Err(EnvelopeError::MissingMac),
        }
    }

    #[test]
    fn seal_then_verify() {
        let bytes = sealed(b"{\"x\":1}");
        assert_eq!(verify_bytes(&bytes, SECRET), Ok(()));
        assert_eq!(
            verify_bytes(&bytes, b"other secret"),
            Err(EnvelopeError::BadMac)
        );
        let empty = sealed(b"");
        assert_eq!(verify_bytes(&empty, SECRET), Ok(()));
    }

    #[test]
    fn mac_is_truncated_hmac_of_the_unsealed_encoding() {
        let payload = b"abc";
        let mut env = Envelope::new_origin("a", 1, [0; 8]).unwrap();
        let mut input = wrap(&env, payload);
        env.seal(SECRET, payload);
        let mut reference =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(SECRET).unwrap();
        hmac::Mac::update(&mut reference, &input);
        let full = hmac::Mac::finalize(reference).into_bytes();
        assert_eq!(env.mac().unwrap().as_slice(), &full[..MAC_LEN]);
        // The sealed encoding is the unsealed one with the option tag set and the MAC after it.
        let sealed = wrap(&env, payload);
        let tag_end = input.len() - payload.len();
        input.truncate(tag_end - 1);
        input.push(1);
        input.extend_from_slice(&full[..MAC_LEN]);
        input.extend_from_slice(payload);
        assert_eq!(sealed, input);
    }

    #[test]
    fn missing_mac() {
        let env = Envelope::new_origin("a", 1, [0; 8]).unwrap();
        assert_eq!(env.verify(SECRET, b""), Err(EnvelopeError::MissingMac));
    }

    #[test]
    fn every_flipped_bit_fails() {
        let bytes = sealed(b"payload");
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(verify_bytes(&b, SECRET).is_err(), "bit {i}");
        }
    }

    #[test]
    fn hop_needs_a_new_seal() {
        let bytes = sealed(b"p");
        let Ok(Decoded::Tagged { envelope, payload }) = decode(&bytes) else {
            panic!("tagged")
        };
        let mut next = envelope.with_hop("ap-south").unwrap();
        assert_eq!(next.verify(SECRET, payload), Err(EnvelopeError::MissingMac));
        next.seal(SECRET, payload);
        assert_eq!(next.verify(SECRET, payload), Ok(()));
    }
}
