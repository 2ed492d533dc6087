//! Writes the corpus the Node tests check the JS package against: what the
//! Rust decoder says about 10,000 seeded random byte strings, and records
//! tagged by the origin-tag policy.
//!
//! ```text
//! cargo run -p origin-js --example corpus --release -- OUT_FILE [SEED]
//! ```
//!
//! OUT_FILE gets JSON lines:
//!
//! - `{"kind":"meta", ...}`: the seed, the counts and the secret (hex) used for `verify`;
//! - 10,000 `{"kind":"decode","hex":...,"scope":...,"carrier":...,"other":...,"expect":...}`:
//!   an input, the record it is checked as (the scope, where the tag travels, the other half
//!   of the record: hex, or null for an absent key) and the result of `origin::decode` on it
//!   (`untagged`; `tagged` with every field, the payload and the result of verifying with
//!   the corpus secret, that scope and that record; or `error` with its name and message);
//! - `{"kind":"record", ...}`: records tagged (and some forwarded one hop) by
//!   the origin-tag module's own `Policy`, some with a secret and a scope (its params and
//!   inputs, the record it wrote, and what the carrier decodes to).
//!
//! The inputs lean towards the interesting: most start with the magic bytes and
//! version 2, many are valid tags (some sealed for one record and scope, and checked
//! against that record or another), truncations and bit flips of valid tags, or bodies
//! with hand-picked bad fields, so that every error and every verify outcome occurs.
//!
//! The decoder reads lengths as 32-bit varints on every platform (docs/FORMAT.md
//! §4), so this native run's answers are the wasm package's answers.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use origin::{
    decode, wrap, Binding, Carrier, Decoded, Envelope, EnvelopeError, SealKey, MAGIC, MAX_ID_LEN,
    MAX_PATH, SECRET_MIN_LEN, VERSION,
};
use origin_js::{error_name, hex, tag_bytes, verify_carrier};
use origin_tag::OriginTag;
use policy::{Keep, Policy, RecordView, TagBuf};

/// Random byte strings in the corpus.
const COUNT: usize = 10_000;
/// Records tagged by the origin-tag policy.
const RECORDS: usize = 300;
const DEFAULT_SEED: u64 = 0x6f72_6967_696e_6a73;
/// The secret the corpus verifies every tag with; most sealed tags use it.
const SECRET: &[u8] = b"corpus-secret-0001";
/// The secret of the other sealed tags.
const OTHER_SECRET: &[u8] = b"another-secret-0002";
/// The scopes tags are sealed for and checked in (`""`: none set).
const SCOPES: &[&str] = &["", "orders", "payments"];
const CLUSTER_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

/// The host's seeded generator (SplitMix64), with the draws the corpus makes.
struct Rng(host_harness::simulate::random::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True `pct` percent of the time.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    /// `lo..=hi` random bytes.
    fn bytes_in(&mut self, lo: usize, hi: usize) -> Vec<u8> {
        let n = self.range(lo, hi);
        self.bytes(n)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Canonical LEB128.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// LEB128 with `extra` needless continuation bytes (not canonical).
fn overlong_varint(v: u64, extra: usize, out: &mut Vec<u8>) {
    let mut enc = Vec::new();
    varint(v, &mut enc);
    if let Some(last) = enc.last_mut() {
        *last |= 0x80;
    }
    enc.extend(std::iter::repeat_n(0x80, extra.saturating_sub(1)));
    enc.push(0x00);
    out.extend_from_slice(&enc);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// A length or count varint, mostly canonical, sometimes in an encoding that
/// a decoder must refuse or that reads differently on 32 and 64 bits.
fn length_varint(rng: &mut Rng, v: u64, out: &mut Vec<u8>) {
    match rng.below(20) {
        0 => overlong_varint(v, rng.range(1, 3), out),
        // 6 or more bytes: the 32-bit decoder stops at 5.
        1 => overlong_varint(v, rng.range(5, 9), out),
        // A value of 2^32 or more in 5 bytes.
        2 => varint(rng.range(1 << 32, (1 << 35) - 1) as u64, out),
        // Any 64-bit value.
        3 => varint(rng.next() >> rng.below(64), out),
        // Continuation bytes, then the end of the input or an 11th byte.
        4 => out.extend(std::iter::repeat_n(0xFF, rng.range(4, 11))),
        _ => varint(v, out),
    }
}

fn cluster_id(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0 => MAX_ID_LEN,
        1 => rng.range(9, MAX_ID_LEN),
        _ => rng.range(1, 8),
    };
    (0..len)
        .map(|_| char::from(*rng.pick(CLUSTER_CHARS)))
        .collect()
}

/// A cluster id that is usually valid, sometimes empty, too long, not
/// `[A-Za-z0-9._-]`, or not UTF-8 at all.
fn maybe_bad_cluster_id(rng: &mut Rng) -> Vec<u8> {
    let mut id = cluster_id(rng).into_bytes();
    match rng.below(14) {
        0 => id.clear(),
        1 => id = vec![b'x'; MAX_ID_LEN + rng.range(1, 8)],
        2 => {
            let at = rng.below(id.len());
            id[at] = *rng.pick(b" :/@\x00\x7f");
        }
        3 => id.extend_from_slice("é".as_bytes()),
        4 => id.push(0xC3),
        5 => id.extend_from_slice(&[0xF0, 0x9F, 0x98]),
        6 => id = rng.bytes_in(1, 6),
        _ => {}
    }
    id
}

fn timestamp(rng: &mut Rng) -> i64 {
    match rng.below(12) {
        0 => *rng.pick(&[0, -1, 1, -64, 63, -65, 64, i64::MIN, i64::MAX]),
        1 => rng.next() as i64,
        2 => (1i64 << 53) + rng.range(0, 4) as i64 - 2,
        3 => -(rng.range(0, 1 << 41) as i64),
        _ => 1_500_000_000_000 + rng.range(0, 600_000_000_000) as i64,
    }
}

fn payload(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => Vec::new(),
        1 => format!("{{\"temp\":{}}}", rng.below(100)).into_bytes(),
        // A payload that itself starts with the magic bytes (a nested tag, or just binary).
        2 => {
            let mut p = MAGIC.to_vec();
            p.extend(rng.bytes_in(0, 20));
            p
        }
        _ => rng.bytes_in(1, 40),
    }
}

/// The record a carrier is checked as: the scope, where the tag travels and the other
/// half of the record (the key for carrier value, `None` when absent; the value for
/// carrier key).
#[derive(Clone)]
struct Check {
    scope: String,
    carrier: Carrier,
    other: Option<Vec<u8>>,
}

impl Check {
    fn binding(&self) -> Binding<'_> {
        Binding {
            carrier: self.carrier,
            other: self.other.as_deref(),
        }
    }
}

fn random_check(rng: &mut Rng) -> Check {
    let scope = rng.pick(SCOPES).to_string();
    let (carrier, other) = if rng.chance(70) {
        let key = match rng.below(4) {
            0 => None,
            1 => Some(format!("k{}", rng.below(10)).into_bytes()),
            _ => Some(rng.bytes_in(0, 12)),
        };
        (Carrier::Value, key)
    } else {
        (Carrier::Key, Some(rng.bytes_in(0, 30)))
    };
    Check {
        scope,
        carrier,
        other,
    }
}

/// `check` with one of its parts changed: the scope, the carrier or the other half.
fn altered(rng: &mut Rng, mut check: Check) -> Check {
    match rng.below(3) {
        0 => {
            let i = SCOPES.iter().position(|s| *s == check.scope).unwrap_or(0);
            check.scope = SCOPES[(i + rng.range(1, SCOPES.len() - 1)) % SCOPES.len()].to_string();
        }
        // The same other half, said of the other carrier (a key carrier's value is never absent).
        1 => {
            check.carrier = match check.carrier {
                Carrier::Value => Carrier::Key,
                Carrier::Key => Carrier::Value,
            };
            check.other.get_or_insert_with(Vec::new);
        }
        _ => {
            check.other = match (&check.other, check.carrier) {
                (None, _) => Some(Vec::new()),
                (Some(_), Carrier::Value) if rng.chance(50) => None,
                (Some(o), _) => {
                    let mut o = o.clone();
                    o.push(rng.byte());
                    Some(o)
                }
            }
        }
    }
    check
}

/// A valid tagged carrier: random path, flags, timestamp and id; often sealed
/// with the corpus secret for a random record and scope, sometimes with another
/// secret or with a random MAC. Gives the record it was sealed for, if it was.
fn valid_tag(rng: &mut Rng) -> (Vec<u8>, Option<Check>) {
    let hops = if rng.chance(10) {
        MAX_PATH - 1
    } else {
        rng.range(0, 3)
    };
    let ids: Vec<String> = (0..=hops).map(|_| cluster_id(rng)).collect();
    let flags = match rng.below(6) {
        0 => rng.byte(),
        1 => *rng.pick(&[origin::FLAG_VIOLATION, origin::FLAG_NO_KEY, 0x03]),
        _ => 0,
    };
    let payload = payload(rng);
    let mac = rng.chance(10).then(|| {
        let mut m = [0u8; origin::MAC_LEN];
        m.iter_mut().for_each(|b| *b = rng.byte());
        m
    });
    let path: Vec<&str> = ids.iter().map(String::as_str).collect();
    let id = rng.next().to_le_bytes();
    let mut envelope =
        Envelope::from_parts(flags, path, timestamp(rng), id, mac).expect("random parts are valid");
    let check = random_check(rng);
    let secret = match rng.below(10) {
        0..=4 => SECRET,
        5 => OTHER_SECRET,
        _ => return (wrap(&envelope, &payload), Some(check)),
    };
    let key = SealKey::new(secret, &check.scope).expect("the corpus secrets are long enough");
    envelope.seal(&key, &check.binding(), &payload);
    (wrap(&envelope, &payload), Some(check))
}

/// Magic, a version byte (nearly always 2) and a body built field by field,
/// each field valid or not, in a valid or a bad encoding; sometimes cut short.
fn structured(rng: &mut Rng) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.push(if rng.chance(95) { VERSION } else { rng.byte() });
    let count = match rng.below(10) {
        0 => 0,
        1 => rng.range(MAX_PATH + 1, MAX_PATH + 3),
        2 => MAX_PATH,
        _ => rng.range(1, 3),
    };
    b.push(if rng.chance(80) { 0 } else { rng.byte() });
    b.push(match rng.below(5) {
        0 => rng.byte(),
        1 => (count as u8).wrapping_add(rng.range(0, 2) as u8),
        _ => (count as u8).wrapping_sub(1),
    });
    length_varint(rng, count as u64, &mut b);
    for _ in 0..count.min(MAX_PATH + 1) {
        let id = maybe_bad_cluster_id(rng);
        length_varint(rng, id.len() as u64, &mut b);
        b.extend_from_slice(&id);
    }
    let ts = zigzag(timestamp(rng));
    match rng.below(12) {
        0 => overlong_varint(ts, rng.range(1, 3), &mut b),
        1 => b.extend(std::iter::repeat_n(0xFF, rng.range(9, 11))),
        2 => b.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]),
        _ => varint(ts, &mut b),
    }
    b.extend(rng.bytes(8));
    match rng.below(10) {
        0 => b.push(rng.byte()),
        1..=3 => {
            b.push(1);
            b.extend(rng.bytes(16));
        }
        _ => b.push(0),
    }
    b.extend(rng.bytes_in(0, 12));
    if rng.chance(15) {
        b.truncate(rng.range(2, b.len()));
    }
    b
}

/// One input of the corpus, and the record a valid tag it comes from was sealed for.
fn input(rng: &mut Rng) -> (Vec<u8>, Option<Check>) {
    let bytes = match rng.below(100) {
        // Anything at all (rarely starts with the magic bytes).
        0..=7 => rng.bytes_in(0, 48),
        // Text and JSON: untagged.
        8..=9 => format!("{{\"n\":{}}}", rng.next()).into_bytes(),
        // The magic bytes and random bytes after them.
        10..=19 => {
            let mut b = MAGIC.to_vec();
            if rng.chance(70) {
                b.push(VERSION);
            }
            b.extend(rng.bytes_in(0, 48));
            b
        }
        20..=41 => structured(rng),
        42..=61 => return valid_tag(rng),
        // A valid tag cut short.
        62..=73 => {
            let (mut b, check) = valid_tag(rng);
            b.truncate(rng.range(2, b.len()));
            return (b, check);
        }
        // A valid tag with 1 to 3 bits flipped.
        74..=93 => {
            let (mut b, check) = valid_tag(rng);
            for _ in 0..rng.range(1, 3) {
                let bit = rng.below(b.len() * 8);
                b[bit / 8] ^= 1 << (bit % 8);
            }
            return (b, check);
        }
        // A valid tag with a byte inserted, removed or replaced.
        _ => {
            let (mut b, check) = valid_tag(rng);
            let at = rng.range(2, b.len() - 1);
            match rng.below(3) {
                0 => b.insert(at, rng.byte()),
                1 => {
                    b.remove(at);
                }
                _ => b[at] = rng.byte(),
            }
            return (b, check);
        }
    };
    (bytes, None)
}

/// The record an input is checked as: mostly the one its tag was sealed for, else
/// that record with one part changed, or any record.
fn check_for(rng: &mut Rng, sealed_for: Option<Check>) -> Check {
    match sealed_for {
        Some(c) if rng.chance(70) => c,
        Some(c) if rng.chance(50) => altered(rng, c),
        _ => random_check(rng),
    }
}

/// Minimal JSON string quoting (everything written here is ASCII).
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn error_fields(e: EnvelopeError) -> String {
    let mut s = format!(
        "\"error\":{},\"message\":{}",
        q(error_name(e)),
        q(e.as_str())
    );
    if let EnvelopeError::UnknownVersion(v) = e {
        let _ = write!(s, ",\"version\":{v}");
    }
    s
}

/// The fields of a decoded tag, as the JS `decode` names them (the timestamp as a decimal string).
fn tag_fields(envelope: &Envelope<'_>, payload: &[u8]) -> String {
    let path: Vec<String> = envelope.path().iter().map(|c| q(c)).collect();
    format!(
        "\"origin\":{},\"id\":{},\"hops\":{},\"path\":[{}],\"ts\":\"{}\",\"flags\":{},\"mac\":{},\"payload\":{}",
        q(envelope.origin()),
        q(&hex(&envelope.id())),
        envelope.hops(),
        path.join(","),
        envelope.timestamp(),
        envelope.flags(),
        envelope.mac().map_or("null".to_string(), |m| q(&hex(m))),
        q(&hex(payload)),
    )
}

#[derive(Default)]
struct Tally(Vec<(String, usize)>);

impl Tally {
    fn add(&mut self, what: &str) {
        match self.0.iter_mut().find(|(w, _)| w == what) {
            Some((_, n)) => *n += 1,
            None => self.0.push((what.to_string(), 1)),
        }
    }

    fn get(&self, what: &str) -> usize {
        self.0
            .iter()
            .find(|(w, _)| w == what)
            .map_or(0, |(_, n)| *n)
    }
}

/// One `decode` line, and what it counts as.
fn decode_line(bytes: &[u8], check: &Check, tally: &mut Tally) -> String {
    let mut line = format!(
        "{{\"kind\":\"decode\",\"hex\":{},\"scope\":{},\"carrier\":{},\"other\":{}",
        q(&hex(bytes)),
        q(&check.scope),
        q(check.carrier.as_str()),
        check
            .other
            .as_deref()
            .map_or("null".to_string(), |o| q(&hex(o))),
    );
    let key = SealKey::new(SECRET, &check.scope).expect("the corpus secret is long enough");
    match decode(bytes) {
        Ok(Decoded::Untagged) => {
            tally.add("untagged");
            line.push_str(",\"expect\":\"untagged\"");
        }
        Ok(Decoded::Tagged { envelope, payload }) => {
            tally.add("tagged");
            let verify = match key.verify(&envelope, &check.binding(), payload) {
                Ok(()) => "ok",
                Err(e) => error_name(e),
            };
            // The helper the wasm `verify` runs says the same.
            assert_eq!(
                verify_carrier(bytes, &key, &check.binding()).map_or_else(error_name, |()| "ok"),
                verify
            );
            tally.add(&format!("verify {verify}"));
            if verify == "ok" {
                if check.carrier == Carrier::Key {
                    tally.add("verify ok (carrier key)");
                }
                if check.other.is_none() {
                    tally.add("verify ok (no key)");
                }
                if !check.scope.is_empty() {
                    tally.add("verify ok (scope)");
                }
            }
            let _ = write!(
                line,
                ",\"expect\":\"tagged\",{},\"verify\":{}",
                tag_fields(&envelope, payload),
                q(verify)
            );
        }
        Err(e) => {
            tally.add(error_name(e));
            let _ = write!(line, ",\"expect\":\"error\",{}", error_fields(e));
        }
    }
    line.push('}');
    line
}

fn origin_tag(
    cluster: &str,
    secret: Option<&str>,
    scope: Option<&str>,
    key_carrier: bool,
) -> OriginTag {
    let mut params = vec![("cluster", cluster)];
    if let Some(secret) = secret {
        params.push(("secret", secret));
    }
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    if key_carrier {
        params.push(("carrier", "key"));
    }
    OriginTag::build(params).expect("valid origin-tag params")
}

/// The record origin-tag writes: (key, value).
fn run(
    policy: &mut OriginTag,
    key: Option<&[u8]>,
    value: &[u8],
    timestamp: i64,
    offset: i64,
    key_carrier: bool,
) -> (Option<Vec<u8>>, Vec<u8>) {
    let rec = RecordView {
        key,
        value,
        timestamp,
        offset,
    };
    let mut scratch = TagBuf::new();
    match policy.decide(&rec, &mut scratch) {
        Ok(Keep::Rewrite {
            payload, absent, ..
        }) => {
            let mut carrier = scratch.as_slice().to_vec();
            carrier.extend_from_slice(payload);
            if key_carrier {
                ((!absent).then_some(carrier), value.to_vec())
            } else {
                (key.map(<[u8]>::to_vec), carrier)
            }
        }
        other => panic!("origin-tag did not rewrite the record: {other:?}"),
    }
}

fn secret_text(rng: &mut Rng) -> String {
    (0..rng.range(SECRET_MIN_LEN, 40))
        .map(|_| char::from(*rng.pick(CLUSTER_CHARS)))
        .collect()
}

/// One record tagged at its origin (and maybe forwarded one hop) by origin-tag.
fn record_line(rng: &mut Rng, tally: &mut Tally) -> String {
    let cluster = cluster_id(rng);
    let secret = rng.chance(50).then(|| secret_text(rng));
    // A scope only goes with a secret (origin-tag refuses it alone).
    let scope = match &secret {
        Some(_) if rng.chance(60) => Some(rng.pick(&SCOPES[1..]).to_string()),
        _ => None,
    };
    let key_carrier = rng.chance(25);
    let ts = timestamp(rng);
    let offset = match rng.below(8) {
        0 => rng.next() as i64,
        _ => rng.below(1000) as i64,
    };
    let key = match rng.below(4) {
        0 => None,
        1 => Some(Vec::new()),
        _ => Some(format!("k{}", rng.below(1000)).into_bytes()),
    };
    let mut value = payload(rng);
    if value.starts_with(&MAGIC) {
        // origin-tag reads such a value as a tag; producers write untagged values here.
        value[0] = b'{';
    }
    let (mut out_key, mut out_value) = run(
        &mut origin_tag(&cluster, secret.as_deref(), scope.as_deref(), key_carrier),
        key.as_deref(),
        &value,
        ts,
        offset,
        key_carrier,
    );
    if !key_carrier {
        // The policy's tag is the tag `tag_bytes` (JS `tag`) makes.
        let seal_key = secret.as_deref().map(|s| {
            SealKey::new(s.as_bytes(), scope.as_deref().unwrap_or_default())
                .expect("origin-tag took this secret")
        });
        let ours = tag_bytes(
            &cluster,
            seal_key.as_ref(),
            ts,
            offset,
            key.as_deref(),
            &value,
        );
        assert_eq!(ours.as_ref(), Ok(&out_value));
    }
    let hop = rng.chance(30).then(|| {
        let mut next = cluster_id(rng);
        if next == cluster {
            next.push('2');
        }
        next
    });
    if let Some(next) = &hop {
        (out_key, out_value) = run(
            &mut origin_tag(next, secret.as_deref(), scope.as_deref(), key_carrier),
            out_key.as_deref(),
            &out_value,
            ts,
            rng.below(1000) as i64,
            key_carrier,
        );
    }
    let carrier = if key_carrier {
        out_key.clone().expect("the key carries the tag")
    } else {
        out_value.clone()
    };
    let Ok(Decoded::Tagged { envelope, payload }) = decode(&carrier) else {
        panic!("origin-tag wrote a carrier that does not decode");
    };
    tally.add(if hop.is_some() {
        "record hop"
    } else {
        "record"
    });
    if secret.is_some() {
        tally.add(&format!(
            "record sealed ({}{})",
            if key_carrier { "key" } else { "value" },
            if scope.is_some() { ", scope" } else { "" }
        ));
    }
    let opt_hex = |b: &Option<Vec<u8>>| b.as_deref().map_or("null".to_string(), |b| q(&hex(b)));
    let opt_str = |s: &Option<String>| s.as_deref().map_or("null".to_string(), q);
    format!(
        "{{\"kind\":\"record\",\"cluster\":{},\"secret\":{},\"scope\":{},\"carrier\":{},\"timestamp\":\"{ts}\",\"offset\":\"{offset}\",\"key\":{},\"value\":{},\"hop\":{},\"outKey\":{},\"outValue\":{},{}}}",
        q(&cluster),
        opt_str(&secret),
        opt_str(&scope),
        q(if key_carrier { "key" } else { "value" }),
        opt_hex(&key),
        q(&hex(&value)),
        opt_str(&hop),
        opt_hex(&out_key),
        q(&hex(&out_value)),
        tag_fields(&envelope, payload),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, seed) = match args.as_slice() {
        [out] => (out, DEFAULT_SEED),
        [out, seed] => match seed.parse() {
            Ok(seed) => (out, seed),
            Err(_) => {
                eprintln!("corpus: SEED must be a number, got {seed:?}");
                return ExitCode::FAILURE;
            }
        },
        _ => {
            eprintln!("usage: corpus OUT_FILE [SEED]");
            return ExitCode::FAILURE;
        }
    };
    let mut rng = Rng(host_harness::simulate::random::Rng::new(seed));
    let mut tally = Tally::default();
    let mut text = format!(
        "{{\"kind\":\"meta\",\"seed\":\"{seed}\",\"count\":{COUNT},\"records\":{RECORDS},\"secret\":{}}}\n",
        q(&hex(SECRET))
    );
    for _ in 0..COUNT {
        let (bytes, sealed_for) = input(&mut rng);
        let check = check_for(&mut rng, sealed_for);
        text.push_str(&decode_line(&bytes, &check, &mut tally));
        text.push('\n');
    }
    for _ in 0..RECORDS {
        text.push_str(&record_line(&mut rng, &mut tally));
        text.push('\n');
    }
    if let Some(dir) = std::path::Path::new(out).parent() {
        if !dir.as_os_str().is_empty() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("corpus: cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(e) = std::fs::File::create(out).and_then(|mut f| f.write_all(text.as_bytes())) {
        eprintln!("corpus: cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    let mut summary: Vec<String> = tally.0.iter().map(|(w, n)| format!("{w} {n}")).collect();
    summary.sort();
    eprintln!(
        "corpus: {COUNT} inputs and {RECORDS} records (seed {seed}) -> {out}\n  {}",
        summary.join(", ")
    );
    let kinds = [
        "untagged",
        "tagged",
        "Truncated",
        "UnknownVersion",
        "PathTooLong",
        "EmptyPath",
        "HopsMismatch",
        "BadClusterId",
        "Malformed",
        "verify ok",
        "verify BadMac",
        "verify MissingMac",
        "verify ok (carrier key)",
        "verify ok (no key)",
        "verify ok (scope)",
        "record sealed (value)",
        "record sealed (value, scope)",
        "record sealed (key)",
        "record sealed (key, scope)",
    ];
    let missing: Vec<&str> = kinds.into_iter().filter(|k| tally.get(k) == 0).collect();
    if !missing.is_empty() {
        eprintln!("corpus: no input gave {}", missing.join(", "));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
