//! Sealing and verifying tags with a truncated HMAC-SHA256 (feature `mac`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::envelope::Sink;
use crate::{Envelope, EnvelopeError, MAC_LEN};

type HmacSha256 = Hmac<Sha256>;

/// The encoded tag goes straight into the HMAC, without a buffer.
impl Sink for HmacSha256 {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Envelope<'_> {
    /// HMAC state over the canonical MAC input: the tag exactly as on the wire, with the
    /// given flags and hop, but with `mac = None`, followed by the payload. `None` only if
    /// the key is refused, which HMAC never does.
    fn mac_state(
        &self,
        flags: u8,
        hop: Option<&str>,
        secret: &[u8],
        payload: &[u8],
    ) -> Option<HmacSha256> {
        let mut state = <HmacSha256 as Mac>::new_from_slice(secret).ok()?;
        self.write(flags, hop, None, &mut state);
        state.update(payload);
        Some(state)
    }

    /// The MAC of this tag with `flags` and one more `hop` on its path, as
    /// [`seal`](Self::seal) would give the tag so changed: lets a policy write a forwarded
    /// tag without building it.
    pub(crate) fn mac_for(
        &self,
        flags: u8,
        hop: Option<&str>,
        secret: &[u8],
        payload: &[u8],
    ) -> Option<[u8; MAC_LEN]> {
        self.mac_state(flags, hop, secret, payload).map(|state| {
            let full = state.finalize().into_bytes();
            let mut tag = [0u8; MAC_LEN];
            for (dst, src) in tag.iter_mut().zip(full.iter()) {
                *dst = *src;
            }
            tag
        })
    }

    /// Sets the MAC to the first [`MAC_LEN`] bytes of HMAC-SHA256(`secret`,
    /// tag-without-MAC ‖ `payload`). `payload` is the carrier's payload: the
    /// bytes [`wrap`](crate::wrap) puts after the tag.
    pub fn seal(&mut self, secret: &[u8], payload: &[u8]) {
        let tag = self.mac_for(self.flags(), None, secret, payload);
        self.set_mac(tag);
    }

    /// Checks the MAC against `secret` and `payload`, in constant time.
    ///
    /// Fails with [`EnvelopeError::MissingMac`] if the tag carries no MAC and
    /// with [`EnvelopeError::BadMac`] if it does not match.
    pub fn verify(&self, secret: &[u8], payload: &[u8]) -> Result<(), EnvelopeError> {
        let Some(tag) = self.mac() else {
            return Err(EnvelopeError::MissingMac);
        };
        let state = self
            .mac_state(self.flags(), None, secret, payload)
            .ok_or(EnvelopeError::BadMac)?;
        state
            .verify_truncated_left(tag)
            .map_err(|_| EnvelopeError::BadMac)
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
        let mut reference = <HmacSha256 as Mac>::new_from_slice(SECRET).unwrap();
        reference.update(&input);
        let full = reference.finalize().into_bytes();
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
