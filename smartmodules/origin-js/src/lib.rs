//! The origin envelope codec for JavaScript: the `origin` crate compiled to
//! `wasm32-unknown-unknown` and exposed with `wasm-bindgen`, so that Node
//! services and dashboards read origin tags with the very decoder the
//! SmartModules use, byte for byte.
//!
//! `build.sh` turns this crate into an npm-shaped package (`pkg/`) with four
//! functions: `decode`, `strip`, `verify` and `tag`. See `README.md` for the API
//! and `docs/FORMAT.md` at the root of the workspace for the format (version 2).
//!
//! Nothing here panics on bad input: every decode failure becomes a thrown JS
//! `Error` whose `name` and `code` are the [`EnvelopeError`] variant's name and
//! whose `message` is its [`EnvelopeError::as_str`]; bad arguments throw a
//! `TypeError` or `RangeError` (a secret shorter than [`SECRET_MIN_LEN`] bytes is a
//! `RangeError`, as the modules refuse it at init).

use js_sys::{Array, Object, RangeError, Reflect, TypeError, Uint8Array};
use origin::{
    Binding, Carrier, Decoded, Envelope, EnvelopeError, SealKey, SecretError, FLAG_NO_KEY,
    MAX_TAG_LEN, SECRET_MIN_LEN,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Why a carrier is not a valid origin tag, or why its MAC does not verify. */
export type OriginErrorCode =
  | "Truncated"
  | "UnknownVersion"
  | "PathTooLong"
  | "EmptyPath"
  | "HopsMismatch"
  | "BadClusterId"
  | "Malformed"
  | "MissingMac"
  | "BadMac";

/** What `decode`, `strip`, `verify` and `tag` throw for a bad tag, a bad MAC or a bad cluster id. */
export interface OriginError extends Error {
  /** The reason, as named in docs/FORMAT.md (same as `code`). */
  name: OriginErrorCode;
  /** The reason, as named in docs/FORMAT.md (same as `name`). */
  code: OriginErrorCode;
  /** For `UnknownVersion` only: the version byte found (this build reads version 2). */
  version?: number;
}

/** A carrier that starts with a valid origin tag. */
export interface Tagged {
  tagged: true;
  /** The cluster the record was first produced on (`path[0]`). */
  origin: string;
  /** Record id: its 8 bytes as stored (a little-endian u64), as 16 lowercase hex digits. */
  id: string;
  /** Hops after the origin: `path.length - 1`. */
  hops: number;
  /** Cluster ids the record passed through, origin first. */
  path: string[];
  /** Origin timestamp, ms since the Unix epoch (exact for |ms| <= 2^53 - 1, i.e. any real date). */
  timestamp: number;
  /** The same timestamp, exact for every i64. */
  timestampBig: bigint;
  /** All flag bits, including bits this version does not know. */
  flags: number;
  /** Flag bit 0: a local write that mirror-guard in audit mode would have refused. */
  violation: boolean;
  /** Flag bit 1: the carrier is the key and the record had no key (treat an empty payload as no key). */
  noKey: boolean;
  /** The MAC as 32 lowercase hex digits, or null if the tag is not sealed. Not checked: see `verify`. */
  mac: string | null;
  /** The bytes after the tag: a view into the input (no copy). */
  payload: Uint8Array;
}

/** A carrier that does not start with the magic bytes 0xFF 0x6F. */
export interface Untagged {
  tagged: false;
  /** The input itself. */
  payload: Uint8Array;
}

export type Decoded = Tagged | Untagged;

/** Where an origin tag travels: the record's value (the default) or its key. */
export type Carrier = "value" | "key";

/** What the MAC of a tag is checked against, besides the carrier itself (docs/FORMAT.md §7). */
export interface VerifyOptions {
  /** The data set the clusters seal for (their `scope` param). Default: none (the empty scope). */
  scope?: string | null;
  /** Where the tag travels: the carrier passed to `verify`. Default: "value". */
  carrier?: Carrier;
  /**
   * The other half of the record (a string is used as its UTF-8 bytes). With carrier "value":
   * the record's key; absent, undefined or null for a record without a key. With carrier "key":
   * the record's value (required).
   */
  other?: string | Uint8Array | null;
}

/** What `tag` needs to build an origin tag the way the origin-tag SmartModule (carrier value) does. */
export interface TagOptions {
  /** This cluster's id: 1 to 64 bytes of [A-Za-z0-9._-]. */
  cluster: string;
  /**
   * Keys the record id and seals the tag with a MAC: at least 16 bytes. A string is used as
   * its UTF-8 bytes, as the module's `secret` param.
   */
  secret?: string | Uint8Array;
  /** The data set the tag is sealed for (the module's `scope` param); only with `secret`. Default: none. */
  scope?: string | null;
  /** Origin timestamp in ms since the Unix epoch (integer). Default: `Date.now()`. */
  timestamp?: number | bigint;
  /** The record's key: hashed into the record id, and bound by the MAC. Absent, undefined or null: no key. */
  key?: string | Uint8Array | null;
  /** The record's position in its produce batch, hashed into the record id. Default: 0. */
  offset?: number | bigint;
}
"#;

/// The name JS sees for an error: the variant's name, without its data.
pub fn error_name(e: EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::Truncated => "Truncated",
        EnvelopeError::UnknownVersion(_) => "UnknownVersion",
        EnvelopeError::PathTooLong => "PathTooLong",
        EnvelopeError::EmptyPath => "EmptyPath",
        EnvelopeError::HopsMismatch => "HopsMismatch",
        EnvelopeError::BadClusterId => "BadClusterId",
        EnvelopeError::Malformed => "Malformed",
        EnvelopeError::MissingMac => "MissingMac",
        EnvelopeError::BadMac => "BadMac",
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
}

/// A complete tagged carrier: a new origin tag for a record produced on
/// `cluster`, followed by `payload` (the record's value). This is the tag the
/// origin-tag SmartModule (carrier `value`) writes on an untagged record with
/// this value, key, timestamp and batch offset: no flags; without a key
/// ([`SealKey`]) the record id of [`origin::record_id`] and no MAC; with one the
/// keyed record id of [`SealKey::record_id`] and a MAC that binds the tag, the
/// payload, the carrier `value` and the record's key (or its absence).
///
/// Fails with [`EnvelopeError::BadClusterId`] if `cluster` breaks the cluster id rules.
pub fn tag_bytes(
    cluster: &str,
    seal_key: Option<&SealKey>,
    timestamp: i64,
    offset: i64,
    key: Option<&[u8]>,
    payload: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let id = match seal_key {
        Some(k) => k.record_id(cluster, timestamp, offset, key, payload),
        None => origin::record_id(cluster, timestamp, offset, key, payload),
    };
    let mut envelope = Envelope::new_origin(cluster, timestamp, id)?;
    if let Some(k) = seal_key {
        envelope.seal(k, &Binding::of(Carrier::Value, key, payload), payload);
    }
    Ok(origin::wrap(&envelope, payload))
}

/// Checks the MAC of the tag at the start of `carrier` with `seal_key`, for a record
/// whose carrier and other half are `binding`: what the modules check with a secret.
///
/// Fails with a decode error, [`EnvelopeError::MissingMac`] (no MAC, or an untagged
/// carrier) or [`EnvelopeError::BadMac`].
pub fn verify_carrier(
    carrier: &[u8],
    seal_key: &SealKey,
    binding: &Binding<'_>,
) -> Result<(), EnvelopeError> {
    match origin::decode(carrier)? {
        Decoded::Untagged => Err(EnvelopeError::MissingMac),
        Decoded::Tagged { envelope, payload } => seal_key.verify(&envelope, binding, payload),
    }
}

/// The JS error for `e`: an `Error` with `name` and `code` set to the reason.
fn origin_error(e: EnvelopeError) -> JsValue {
    let err = js_sys::Error::new(e.as_str());
    let name = error_name(e);
    err.set_name(name);
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(name));
    if let EnvelopeError::UnknownVersion(v) = e {
        let _ = Reflect::set(&err, &JsValue::from_str("version"), &JsValue::from(v));
    }
    err.into()
}

fn type_error(message: &str) -> JsValue {
    TypeError::new(message).into()
}

fn range_error(message: &str) -> JsValue {
    RangeError::new(message).into()
}

/// `value` as a `Uint8Array` (a Node `Buffer` is one), or a `TypeError` naming the argument.
fn bytes_arg(value: &JsValue, what: &str) -> Result<Uint8Array, JsValue> {
    value
        .dyn_ref::<Uint8Array>()
        .cloned()
        .ok_or_else(|| type_error(&format!("{what} must be a Uint8Array")))
}

/// A string (its UTF-8 bytes) or a `Uint8Array`, as bytes.
fn string_or_bytes(value: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(s.into_bytes());
    }
    match value.dyn_ref::<Uint8Array>() {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(type_error(&format!(
            "{what} must be a string or a Uint8Array"
        ))),
    }
}

/// `undefined` or `null`: an option left out.
fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// An optional string or `Uint8Array` option: `None` when absent (undefined or null).
fn opt_bytes(value: &JsValue, what: &str) -> Result<Option<Vec<u8>>, JsValue> {
    if is_absent(value) {
        Ok(None)
    } else {
        string_or_bytes(value, what).map(Some)
    }
}

/// An optional string option: `None` when absent (undefined or null).
fn opt_string(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if is_absent(value) {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| type_error(&format!("{what} must be a string")))
}

/// The data set's keys, or a `RangeError` for a secret the modules would refuse.
fn seal_key(secret: &[u8], scope: &str, what: &str) -> Result<SealKey, JsValue> {
    SealKey::new(secret, scope).map_err(|e| {
        let SecretError::TooShort(len) = e;
        range_error(&format!(
            "{what} must be at least {SECRET_MIN_LEN} bytes, as the modules require \
             (got {len} bytes)"
        ))
    })
}

/// An integer argument: a safe-integer number, or a bigint within i64.
fn int_arg(value: &JsValue, what: &str) -> Result<i64, JsValue> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if let Some(f) = value.as_f64() {
        if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_SAFE {
            // Exact: |f| <= 2^53 - 1 and f has no fraction.
            return Ok(f as i64);
        }
        return Err(range_error(&format!(
            "{what} must be an integer (a safe integer number, or a bigint for larger values)"
        )));
    }
    if value.is_bigint() {
        return i64::try_from(value.clone())
            .map_err(|_| range_error(&format!("{what} must fit in a signed 64-bit integer")));
    }
    Err(type_error(&format!("{what} must be a number or a bigint")))
}

/// `obj[name]`, `undefined` if missing.
fn get(obj: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &JsValue::from_str(name))
}

fn set(obj: &Object, name: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(obj, &JsValue::from_str(name), value).map(|_| ())
}

/// Copies the part of the carrier the decoder needs into wasm memory: the
/// first [`MAX_TAG_LEN`] bytes when a tag decodes from them (a tag read from a
/// prefix is the same tag, since the decoder reads front to back and stops at
/// the end of the tag), otherwise all of it, so that errors are exactly those
/// of the whole carrier.
fn carrier_bytes(input: &Uint8Array) -> Vec<u8> {
    let len = input.length();
    let head = len.min(MAX_TAG_LEN as u32);
    if head < len {
        let prefix = input.subarray(0, head).to_vec();
        if origin::decode(&prefix).is_ok() {
            return prefix;
        }
    }
    input.to_vec()
}

/// Start of the payload in `bytes`, given the payload slice the decoder returned.
fn payload_start(bytes: &[u8], payload: &[u8]) -> u32 {
    // The payload is a suffix of `bytes`, or of a prefix of the input that is
    // at most MAX_TAG_LEN long; either way its start fits in a u32.
    u32::try_from(bytes.len().saturating_sub(payload.len())).unwrap_or(u32::MAX)
}

/// Decodes the origin tag at the start of a carrier (a record's value, or its key).
///
/// Returns `{ tagged: false, payload }` (payload = the input itself) if the
/// carrier does not start with the magic bytes 0xFF 0x6F, or
/// `{ tagged: true, origin, id, hops, path, timestamp, timestampBig, flags, violation, noKey, mac, payload }`
/// where `payload` is a view of the bytes after the tag.
///
/// The MAC is not checked: see `verify`.
///
/// @throws {OriginError} `Truncated`, `UnknownVersion` (any version but 2),
/// `PathTooLong`, `EmptyPath`, `HopsMismatch`, `BadClusterId` or `Malformed` when the
/// carrier starts with the magic bytes but holds no valid tag.
/// @throws {TypeError} if `bytes` is not a Uint8Array.
#[wasm_bindgen(unchecked_return_type = "Decoded")]
pub fn decode(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
) -> Result<JsValue, JsValue> {
    let input = bytes_arg(&bytes, "bytes")?;
    let data = carrier_bytes(&input);
    let out = Object::new();
    match origin::decode(&data).map_err(origin_error)? {
        Decoded::Untagged => {
            set(&out, "tagged", &JsValue::FALSE)?;
            set(&out, "payload", &input)?;
        }
        Decoded::Tagged { envelope, payload } => {
            let path: Array = envelope
                .path()
                .iter()
                .map(|c| JsValue::from_str(c))
                .collect();
            let flags = envelope.flags();
            let timestamp = envelope.timestamp();
            set(&out, "tagged", &JsValue::TRUE)?;
            set(&out, "origin", &JsValue::from_str(envelope.origin()))?;
            set(&out, "id", &JsValue::from_str(&hex(&envelope.id())))?;
            set(&out, "hops", &JsValue::from(envelope.hops()))?;
            set(&out, "path", &path)?;
            // Exact for every real date; timestampBig is exact for every i64.
            set(&out, "timestamp", &JsValue::from_f64(timestamp as f64))?;
            set(&out, "timestampBig", &JsValue::from(timestamp))?;
            set(&out, "flags", &JsValue::from(flags))?;
            set(
                &out,
                "violation",
                &JsValue::from_bool(envelope.is_violation()),
            )?;
            set(&out, "noKey", &JsValue::from_bool(flags & FLAG_NO_KEY != 0))?;
            let mac = envelope
                .mac()
                .map_or(JsValue::NULL, |m| JsValue::from_str(&hex(m)));
            set(&out, "mac", &mac)?;
            let start = payload_start(&data, payload);
            set(&out, "payload", &input.subarray(start, input.length()))?;
        }
    }
    Ok(out.into())
}

/// The carrier without its origin tag: a view of the bytes after the tag, or
/// the input itself if it is untagged.
///
/// @throws {OriginError} as `decode` does, for a carrier that starts with the
/// magic bytes but holds no valid tag.
/// @throws {TypeError} if `bytes` is not a Uint8Array.
#[wasm_bindgen]
pub fn strip(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
) -> Result<Uint8Array, JsValue> {
    let input = bytes_arg(&bytes, "bytes")?;
    let data = carrier_bytes(&input);
    match origin::decode(&data).map_err(origin_error)? {
        Decoded::Untagged => Ok(input),
        Decoded::Tagged { payload, .. } => {
            Ok(input.subarray(payload_start(&data, payload), input.length()))
        }
    }
}

/// `options.carrier`: `"value"` (the default) or `"key"`.
fn carrier_option(value: &JsValue) -> Result<Carrier, JsValue> {
    if value.is_undefined() {
        return Ok(Carrier::Value);
    }
    match value.as_string().as_deref() {
        Some("value") => Ok(Carrier::Value),
        Some("key") => Ok(Carrier::Key),
        _ => Err(type_error("options.carrier must be \"value\" or \"key\"")),
    }
}

/// Checks the MAC of the carrier's tag (docs/FORMAT.md §7), in constant time, as
/// the modules do with their `secret` and `scope` params: against the keys derived
/// from `secret` (a string is used as its UTF-8 bytes; at least 16 bytes) and
/// `options.scope`, for a record whose tag travels in `options.carrier` (default
/// `"value"`) and whose other half is `options.other` (with carrier `"value"` the
/// record's key, absent or null when it has none; with carrier `"key"` its value).
/// Returns `true`, or throws.
///
/// @throws {OriginError} `MissingMac` if the tag carries no MAC or the carrier
/// is untagged, `BadMac` if the MAC does not match the tag, the payload, the other
/// half, the carrier and the scope, or a `decode` error.
/// @throws {TypeError} if `bytes` is not a Uint8Array, `secret` neither a string
/// nor a Uint8Array, `options` not an object, `options.scope` not a string,
/// `options.carrier` neither "value" nor "key", `options.other` not a string or
/// Uint8Array (or missing with carrier "key").
/// @throws {RangeError} if `secret` is shorter than 16 bytes.
#[wasm_bindgen]
pub fn verify(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] secret: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "VerifyOptions | null")] options: Option<
        JsValue,
    >,
) -> Result<bool, JsValue> {
    let input = bytes_arg(&bytes, "bytes")?;
    let secret = string_or_bytes(&secret, "secret")?;
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let (scope, carrier, other) = if is_absent(&options) {
        (None, Carrier::Value, None)
    } else if options.is_object() {
        (
            opt_string(&get(&options, "scope")?, "options.scope")?,
            carrier_option(&get(&options, "carrier")?)?,
            opt_bytes(&get(&options, "other")?, "options.other")?,
        )
    } else {
        return Err(type_error(
            "options must be an object { scope, carrier, other }, or undefined",
        ));
    };
    if carrier == Carrier::Key && other.is_none() {
        return Err(type_error(
            "options.other must be the record's value (a string or a Uint8Array) with carrier \"key\"",
        ));
    }
    let key = seal_key(&secret, scope.as_deref().unwrap_or_default(), "secret")?;
    let binding = Binding {
        carrier,
        other: other.as_deref(),
    };
    verify_carrier(&input.to_vec(), &key, &binding)
        .map(|()| true)
        .map_err(origin_error)
}

/// A new origin tag followed by `payload` (the record's value): the bytes the
/// origin-tag SmartModule (carrier value) writes for an untagged record produced on
/// `options.cluster` with this key. Without a secret the record id is the plain hash
/// of docs/FORMAT.md §6 and the tag is not sealed; with `options.secret` (and
/// `options.scope`) the record id is keyed (SipHash-2-4) and the MAC binds the tag,
/// the payload, the carrier, the key (or its absence) and the scope (§7). `payload` is
/// wrapped as it is, even if it starts with the magic bytes.
///
/// @throws {OriginError} `BadClusterId` if `options.cluster` is not a valid cluster id.
/// @throws {TypeError} for a missing or mistyped argument, or a scope without a secret.
/// @throws {RangeError} for a secret shorter than 16 bytes, or a timestamp or offset that
/// is not an integer within i64.
#[wasm_bindgen]
pub fn tag(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] payload: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TagOptions")] options: JsValue,
) -> Result<Vec<u8>, JsValue> {
    let payload = bytes_arg(&payload, "payload")?.to_vec();
    if !options.is_object() {
        return Err(type_error("options must be an object with a cluster"));
    }
    let cluster = get(&options, "cluster")?
        .as_string()
        .ok_or_else(|| type_error("options.cluster must be a string"))?;
    let secret = match get(&options, "secret")? {
        v if v.is_undefined() => None,
        v => Some(string_or_bytes(&v, "options.secret")?),
    };
    let scope = opt_string(&get(&options, "scope")?, "options.scope")?;
    let timestamp = match get(&options, "timestamp")? {
        v if v.is_undefined() => js_sys::Date::now() as i64,
        v => int_arg(&v, "options.timestamp")?,
    };
    let offset = match get(&options, "offset")? {
        v if v.is_undefined() => 0,
        v => int_arg(&v, "options.offset")?,
    };
    let key = opt_bytes(&get(&options, "key")?, "options.key")?;
    let seal_key = match (secret, scope) {
        (None, None) => None,
        (None, Some(_)) => {
            // origin-tag refuses `scope` without `secret` too.
            return Err(type_error(
                "options.scope needs options.secret: a scope only keys sealed tags",
            ));
        }
        (Some(secret), scope) => Some(seal_key(
            &secret,
            scope.as_deref().unwrap_or_default(),
            "options.secret",
        )?),
    };
    tag_bytes(
        &cluster,
        seal_key.as_ref(),
        timestamp,
        offset,
        key.as_deref(),
        &payload,
    )
    .map_err(origin_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_the_variant_names() {
        for e in [
            EnvelopeError::Truncated,
            EnvelopeError::UnknownVersion(1),
            EnvelopeError::PathTooLong,
            EnvelopeError::EmptyPath,
            EnvelopeError::HopsMismatch,
            EnvelopeError::BadClusterId,
            EnvelopeError::Malformed,
            EnvelopeError::MissingMac,
            EnvelopeError::BadMac,
        ] {
            let debug = format!("{e:?}");
            let variant = debug.split('(').next().unwrap_or_default();
            assert_eq!(error_name(e), variant);
        }
    }

    #[test]
    fn hex_is_lowercase_pairs() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    const SECRET: &[u8] = b"origin-test-secret-0001";
    const TS: i64 = 1_700_000_000_000;
    const VALUE: &[u8] = br#"{"temp":21}"#;

    #[test]
    fn tag_bytes_matches_the_format_doc() {
        // Vectors `origin-minimal` and `empty-payload` of docs/FORMAT.md.
        let bytes = tag_bytes("us-east", None, TS, 0, None, VALUE);
        assert_eq!(
            hex(&bytes.unwrap()),
            "ff6f020000010775732d6561737480a0abfef962e91701d4bc16c906007b2274656d70223a32317d"
        );
        let bytes = tag_bytes("us-east", None, TS, 1, Some(b"k1"), b"");
        assert_eq!(
            hex(&bytes.unwrap()),
            "ff6f020000010775732d6561737480a0abfef9625b2454871052611900"
        );
        assert_eq!(
            tag_bytes("us east", None, 0, 0, None, b""),
            Err(EnvelopeError::BadClusterId)
        );
    }

    #[test]
    fn sealed_tags_have_keyed_ids_and_bind_the_key_and_scope() {
        let orders = SealKey::new(SECRET, "orders").unwrap();
        let bytes = tag_bytes("us-east", Some(&orders), TS, 0, Some(b"k1"), VALUE).unwrap();
        let Ok(Decoded::Tagged { envelope, .. }) = origin::decode(&bytes) else {
            panic!("not a tag");
        };
        // Vector `keyed-record-ids` of docs/FORMAT.md: scope orders, key k1.
        assert_eq!(hex(&envelope.id()), "319e948494d01957");
        let bind = |key| Binding::of(Carrier::Value, key, VALUE);
        assert_eq!(verify_carrier(&bytes, &orders, &bind(Some(b"k1"))), Ok(()));
        assert_eq!(
            verify_carrier(&bytes, &orders, &bind(None)),
            Err(EnvelopeError::BadMac)
        );
        let payments = SealKey::new(SECRET, "payments").unwrap();
        assert_eq!(
            verify_carrier(&bytes, &payments, &bind(Some(b"k1"))),
            Err(EnvelopeError::BadMac)
        );
        assert_eq!(
            verify_carrier(VALUE, &orders, &bind(None)),
            Err(EnvelopeError::MissingMac)
        );
    }
}
