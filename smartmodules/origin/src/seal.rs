//! Sealing and verifying tags, and record ids nobody can aim, under a shared secret (feature
//! `mac`). The keys are derived from the secret and the data set's scope once, with
//! HMAC-SHA256; the MAC, computed for every record, is SipHash-2-4's 128-bit output over the
//! tag, the whole record and the carrier (FORMAT.md §7): a fraction of HMAC-SHA256's cost on
//! short records.

use core::fmt;

use crate::record_id::{fields, origin_block};
use crate::sha256::HmacSha256;
use crate::{Carrier, Envelope, EnvelopeError, SipHasher, TagBuf, MAC_LEN};

/// Shortest secret accepted: 16 bytes, 128 bits when random.
pub const SECRET_MIN_LEN: usize = 16;

/// Why a secret cannot key a [`SealKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretError {
    /// Fewer than [`SECRET_MIN_LEN`] bytes; holds the length given.
    TooShort(usize),
}

impl SecretError {
    /// A short description, without the length.
    pub fn as_str(&self) -> &'static str {
        match self {
            SecretError::TooShort(_) => "shorter than 16 bytes",
        }
    }
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::TooShort(len) => write!(f, "{} ({len} bytes)", self.as_str()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SecretError {}

/// What a tag's MAC binds besides the tag and the carrier's payload: where the tag travels,
/// and the other half of the record (the key when the tag is in the value, the value when
/// it is in the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    /// Where the tag travels.
    pub carrier: Carrier,
    /// The other half of the record, `None` for an absent key.
    pub other: Option<&'a [u8]>,
}

impl<'a> Binding<'a> {
    /// The binding of a record with this key and value.
    #[inline]
    pub fn of(carrier: Carrier, key: Option<&'a [u8]>, value: &'a [u8]) -> Self {
        Binding {
            carrier,
            other: carrier.other(key, value),
        }
    }
}

/// The keys of one replicated data set, derived once from the secret every cluster shares and
/// the scope naming the data set (FORMAT.md §7): SHA-256 runs here, never per record.
#[derive(Clone)]
pub struct SealKey {
    mac: [u64; 2],
    id: [u64; 2],
    slot: [u64; 2],
}

/// Never prints the keys.
impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// The first two little-endian words of `bytes`, as a SipHash key.
fn words(bytes: &[u8]) -> [u64; 2] {
    let word = |at: usize| {
        let b = bytes.get(at..at + 8).unwrap_or(&[0; 8]);
        u64::from_le_bytes(<[u8; 8]>::try_from(b).unwrap_or_default())
    };
    [word(0), word(8)]
}

impl SealKey {
    /// The keys of `scope` (empty when the clusters set none) under `secret`, which must be at
    /// least [`SECRET_MIN_LEN`] bytes.
    pub fn new(secret: &[u8], scope: &str) -> Result<Self, SecretError> {
        if secret.len() < SECRET_MIN_LEN {
            return Err(SecretError::TooShort(secret.len()));
        }
        let derive = |label: &[u8]| {
            let mut h = HmacSha256::new(secret);
            h.update(label);
            h.update(&[0]);
            h.update(scope.as_bytes());
            h.finalize()
        };
        let mac = derive(b"fluvio-origin/v2/mac");
        let ids = derive(b"fluvio-origin/v2/id");
        Ok(SealKey {
            mac: words(&mac),
            id: words(&ids),
            slot: words(ids.get(16..).unwrap_or_default()),
        })
    }

    /// The record id an origin with this key gives a record: SipHash-2-4 of the fields
    /// [`record_id`](crate::record_id) hashes (FORMAT.md §6), so that nobody without the
    /// secret can write a record whose id equals another's.
    pub fn record_id(
        &self,
        origin: &str,
        timestamp: i64,
        offset: i64,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> [u8; 8] {
        let mut h = SipHasher::new(self.id);
        origin_block(origin, |w| h.write_u64(w));
        fields(timestamp, offset, key, |w| h.write_u64(w));
        h.write(value);
        h.finish().to_le_bytes()
    }

    /// The keyed record-id hash, fed nothing yet.
    pub(crate) fn id_hasher(&self) -> SipHasher {
        SipHasher::new(self.id)
    }

    /// A SipHash key for the positions of a de-duplication window's slots, which nobody
    /// without the secret can predict. Not part of the format.
    pub fn slot_key(&self) -> [u64; 2] {
        self.slot
    }

    /// The MAC of the MAC input: the tag without a MAC, then the binding, then the payload.
    fn mac(&self, unsealed: &[&[u8]], bind: &Binding<'_>, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut h = SipHasher::new128(self.mac);
        for part in unsealed {
            h.write(part);
        }
        h.write(&[bind.carrier.byte()]);
        match bind.other {
            None => h.write(&[0]),
            Some(other) => {
                h.write(&[1]);
                h.write_u64(other.len() as u64);
                h.write(other);
            }
        }
        h.write(payload);
        h.finish128()
    }

    /// Seals the tag `buf` holds (written with no MAC): its last byte, the MAC option, becomes
    /// `0x01`, followed by the MAC. The tag is written once, for the record and for the MAC.
    pub fn seal_in_place(&self, buf: &mut TagBuf, bind: &Binding<'_>, payload: &[u8]) {
        let mac = self.mac(&[buf.as_slice()], bind, payload);
        if buf.pop().is_some() {
            buf.push(1);
            buf.put(&mac);
        }
    }

    /// Checks a tag's MAC, in constant time: [`EnvelopeError::MissingMac`] if it has none,
    /// [`EnvelopeError::BadMac`] if it does not match the tag, the record and the scope.
    pub fn verify(
        &self,
        env: &Envelope<'_>,
        bind: &Binding<'_>,
        payload: &[u8],
    ) -> Result<(), EnvelopeError> {
        let Some(mac) = env.mac() else {
            return Err(EnvelopeError::MissingMac);
        };
        // A decoded tag's own bytes; a built one is written again.
        let expected = match env.unsealed() {
            Some(before_option) => self.mac(&[before_option, &[0]], bind, payload),
            None => {
                let mut unsealed = TagBuf::new();
                env.write(env.flags(), None, None, &mut unsealed);
                self.mac(&[unsealed.as_slice()], bind, payload)
            }
        };
        if equal_ct(&expected, mac) {
            Ok(())
        } else {
            Err(EnvelopeError::BadMac)
        }
    }
}

impl Envelope<'_> {
    /// Seals the tag with `key` for a record whose carrier holds it followed by `payload`:
    /// the MAC binds the tag, `bind` and `payload`. Changing the tag after sealing (a hop, a
    /// flag) drops the MAC: seal again.
    pub fn seal(&mut self, key: &SealKey, bind: &Binding<'_>, payload: &[u8]) {
        let mut unsealed = TagBuf::new();
        self.write(self.flags(), None, None, &mut unsealed);
        self.set_mac(Some(key.mac(&[unsealed.as_slice()], bind, payload)));
    }
}

/// Whether two MACs are equal, in time that does not depend on where they differ.
fn equal_ct(a: &[u8; MAC_LEN], b: &[u8; MAC_LEN]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, wrap, Decoded};
    use alloc::vec::Vec;

    const SECRET: &[u8] = b"shared mirror secret";

    fn key(scope: &str) -> SealKey {
        SealKey::new(SECRET, scope).unwrap()
    }

    fn value_bind(key: Option<&[u8]>) -> Binding<'_> {
        Binding {
            carrier: Carrier::Value,
            other: key,
        }
    }

    fn sealed(k: &SealKey, bind: &Binding<'_>, payload: &[u8]) -> Vec<u8> {
        let mut env = Envelope::new_origin("us-east", 42, [9; 8])
            .unwrap()
            .with_hop("eu-west")
            .unwrap();
        env.seal(k, bind, payload);
        wrap(&env, payload)
    }

    fn verify_bytes(k: &SealKey, bind: &Binding<'_>, bytes: &[u8]) -> Result<(), EnvelopeError> {
        match decode(bytes)? {
            Decoded::Tagged { envelope, payload } => k.verify(&envelope, bind, payload),
            Decoded::Untagged => Err(EnvelopeError::MissingMac),
        }
    }

    #[test]
    fn seal_then_verify_and_what_the_mac_binds() {
        let k = key("orders");
        let bind = value_bind(Some(b"k1"));
        let bytes = sealed(&k, &bind, br#"{"x":1}"#);
        assert_eq!(verify_bytes(&k, &bind, &bytes), Ok(()));
        // Another secret, another scope, another key, no key, another carrier: all fail.
        let other = SealKey::new(b"another secret of 16+", "orders").unwrap();
        assert_eq!(
            verify_bytes(&other, &bind, &bytes),
            Err(EnvelopeError::BadMac)
        );
        assert_eq!(
            verify_bytes(&key("payments"), &bind, &bytes),
            Err(EnvelopeError::BadMac)
        );
        assert_eq!(
            verify_bytes(&k, &value_bind(Some(b"k2")), &bytes),
            Err(EnvelopeError::BadMac)
        );
        assert_eq!(
            verify_bytes(&k, &value_bind(None), &bytes),
            Err(EnvelopeError::BadMac)
        );
        let as_key = Binding {
            carrier: Carrier::Key,
            other: Some(b"k1"),
        };
        assert_eq!(
            verify_bytes(&k, &as_key, &bytes),
            Err(EnvelopeError::BadMac)
        );
        // An empty key is not an absent one.
        let empty = sealed(&k, &value_bind(Some(b"")), b"v");
        assert_eq!(verify_bytes(&k, &value_bind(Some(b"")), &empty), Ok(()));
        assert_eq!(
            verify_bytes(&k, &value_bind(None), &empty),
            Err(EnvelopeError::BadMac)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(SealKey::new(b"a", "").err(), Some(SecretError::TooShort(1)));
        assert_eq!(
            SealKey::new(&[7; 15], "").err(),
            Some(SecretError::TooShort(15))
        );
        assert!(SealKey::new(&[7; 16], "").is_ok());
    }

    #[test]
    fn the_mac_is_siphash_128_of_the_documented_input_under_the_derived_key() {
        let k = key("s");
        let payload = b"abc";
        let bind = value_bind(Some(b"key"));
        let env = Envelope::new_origin("a", 1, [0; 8]).unwrap();
        let unsealed = wrap(&env, b"");
        // The derived MAC key, then the MAC input, with the reference implementations.
        use hmac::Mac as _;
        let mut derive = <hmac::Hmac<sha2::Sha256>>::new_from_slice(SECRET).unwrap();
        derive.update(b"fluvio-origin/v2/mac\0s");
        let mac_key = derive.finalize().into_bytes();
        let word = |at: usize| u64::from_le_bytes(mac_key[at..at + 8].try_into().unwrap());
        let mut reference = siphasher::sip128::SipHasher24::new_with_keys(word(0), word(8));
        use core::hash::Hasher as _;
        use siphasher::sip128::Hasher128 as _;
        reference.write(&unsealed);
        reference.write(&[0, 1]);
        reference.write(&3u64.to_le_bytes());
        reference.write(b"key");
        reference.write(payload);
        let expected = reference.finish128().as_bytes();
        let mut sealed = env.clone();
        sealed.seal(&k, &bind, payload);
        assert_eq!(sealed.mac().unwrap().as_slice(), &expected[..MAC_LEN]);
        // Sealed in place, the same bytes.
        let mut buf = TagBuf::new();
        env.write(0, None, None, &mut buf);
        k.seal_in_place(&mut buf, &bind, payload);
        assert_eq!(buf.as_slice(), wrap(&sealed, b"").as_slice());
    }

    #[test]
    fn missing_mac_and_every_flipped_bit() {
        let k = key("");
        let bind = value_bind(None);
        let env = Envelope::new_origin("a", 1, [0; 8]).unwrap();
        assert_eq!(k.verify(&env, &bind, b""), Err(EnvelopeError::MissingMac));
        let bytes = sealed(&k, &bind, b"payload");
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(verify_bytes(&k, &bind, &b).is_err(), "bit {i}");
        }
    }

    #[test]
    fn keyed_ids_are_siphash_of_the_documented_bytes() {
        let mut derive = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(SECRET).unwrap();
        hmac::Mac::update(&mut derive, b"fluvio-origin/v2/id\0orders");
        let id_key = hmac::Mac::finalize(derive).into_bytes();
        let word = |at: usize| u64::from_le_bytes(id_key[at..at + 8].try_into().unwrap());
        for (key, value) in [(None, &b""[..]), (Some(&b"k1"[..]), &b"value"[..])] {
            let mut reference = siphasher::sip::SipHasher24::new_with_keys(word(0), word(8));
            let s = crate::record_id::tests::layout("edge-1", 5, 9, key, value);
            core::hash::Hasher::write(&mut reference, &s);
            let expected = core::hash::Hasher::finish(&reference).to_le_bytes();
            assert_eq!(
                self::key("orders").record_id("edge-1", 5, 9, key, value),
                expected
            );
        }
    }

    #[test]
    fn keyed_ids_differ_from_unkeyed_ones_and_by_secret() {
        let a = key("").record_id("edge", 1, 2, None, b"v");
        let b = SealKey::new(b"another secret of 16+", "")
            .unwrap()
            .record_id("edge", 1, 2, None, b"v");
        assert_ne!(a, b);
        assert_ne!(a, crate::record_id("edge", 1, 2, None, b"v"));
        assert_eq!(a, key("").record_id("edge", 1, 2, None, b"v"));
    }
}
