// Every error the package throws, its shape, and inputs that must not trap the wasm module.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ERROR_NAMES, formatVectors, fromHex, origin, thrown, toHex } from './helpers.mjs';

const { vectors } = formatVectors();
/** A secret of the right length (16 bytes or more) that seals none of the inputs here. */
const ANY_SECRET = 'not-the-secret-of-any-tag';
const byName = (name) => {
  const v = vectors.find((x) => x.name === name);
  assert.ok(v, `vector ${name} is in docs/FORMAT.md`);
  return fromHex(v.hex);
};

// The messages are the Rust `EnvelopeError::as_str()` texts; the corpus test
// checks every one against the Rust side as well.
const MESSAGES = {
  Truncated: 'origin tag truncated',
  UnknownVersion: 'unsupported origin tag version',
  PathTooLong: 'origin path longer than 16 clusters',
  EmptyPath: 'origin path is empty',
  HopsMismatch: 'origin hop count does not match its path',
  BadClusterId: 'invalid cluster id in origin path',
  Malformed: 'malformed origin tag',
  MissingMac: 'origin tag carries no MAC',
  BadMac: 'origin tag MAC does not verify',
};

function assertOriginError(e, name) {
  assert.ok(e instanceof Error, `${name}: an Error`);
  assert.equal(e.name, name);
  assert.equal(e.code, name);
  assert.equal(e.message, MESSAGES[name]);
  assert.equal(String(e), `${name}: ${MESSAGES[name]}`);
  assert.equal(typeof e.stack, 'string');
}

test('every decode error of the doc is thrown by decode, strip and verify', () => {
  const seen = new Set();
  for (const v of vectors.filter((x) => x.expected.kind === 'error')) {
    const input = fromHex(v.hex);
    for (const fn of [origin.decode, origin.strip, (b) => origin.verify(b, ANY_SECRET)]) {
      assertOriginError(thrown(() => fn(input)), v.expected.error);
    }
    seen.add(v.expected.error);
  }
  assert.deepEqual(
    [...seen].sort(),
    ERROR_NAMES.filter((n) => n !== 'MissingMac' && n !== 'BadMac').sort(),
  );
});

test('UnknownVersion carries the version byte; version 1 is refused', () => {
  const e = thrown(() => origin.decode(byName('unknown-version')));
  assertOriginError(e, 'UnknownVersion');
  assert.equal(e.version, 3);
  // The unreleased version 1: same body layout, refused like any other version.
  for (const fn of [origin.decode, origin.strip, (b) => origin.verify(b, ANY_SECRET)]) {
    const v1 = thrown(() => fn(byName('version-1')));
    assertOriginError(v1, 'UnknownVersion');
    assert.equal(v1.version, 1);
  }
  // The same bytes with version 2 decode.
  const v2 = byName('version-1').slice();
  v2[2] = 0x02;
  assert.equal(toHex(v2), toHex(byName('origin-minimal')));
  assert.equal(origin.decode(v2).tagged, true);
  assert.equal(thrown(() => origin.decode(new Uint8Array([0xff, 0x6f, 0xff]))).version, 255);
  assert.equal(thrown(() => origin.decode(new Uint8Array([0xff, 0x6f, 0x00]))).version, 0);
  assert.equal(thrown(() => origin.decode(new Uint8Array([0xff, 0x6f, 0x01]))).version, 1);
  // Only UnknownVersion has one.
  assert.equal('version' in thrown(() => origin.decode(byName('magic-only'))), false);
});

test('MissingMac: verify of an unsealed tag or of an untagged carrier', () => {
  for (const opts of [undefined, { other: 'k1' }, { carrier: 'key', other: 'v', scope: 'orders' }]) {
    assertOriginError(thrown(() => origin.verify(byName('origin-minimal'), ANY_SECRET, opts)), 'MissingMac');
    assertOriginError(thrown(() => origin.verify(new TextEncoder().encode('{}'), ANY_SECRET, opts)), 'MissingMac');
    assertOriginError(thrown(() => origin.verify(new Uint8Array(0), ANY_SECRET, opts)), 'MissingMac');
  }
});

test('BadMac: wrong secret, scope, key, carrier; tampered payload; tampered tag', () => {
  const sealed = byName('mac-sealed');
  const secret = 'origin-test-secret-0001';
  const opts = { scope: 'orders', other: 'k1' };
  assert.equal(origin.verify(sealed, secret, opts), true);
  assertOriginError(thrown(() => origin.verify(sealed, 'origin-test-secret-0002', opts)), 'BadMac');
  assertOriginError(thrown(() => origin.verify(sealed, secret)), 'BadMac');
  assertOriginError(thrown(() => origin.verify(sealed, secret, { other: 'k1' })), 'BadMac');
  assertOriginError(thrown(() => origin.verify(sealed, secret, { ...opts, other: 'k1 ' })), 'BadMac');
  assertOriginError(thrown(() => origin.verify(sealed, secret, { ...opts, carrier: 'key' })), 'BadMac');
  assertOriginError(thrown(() => origin.verify(byName('mac-tampered-payload'), secret, opts)), 'BadMac');
  // Every bit flip of the sealed carrier is refused (BadMac, or a decode error).
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const b = sealed.slice();
    b[bit >> 3] ^= 1 << (bit & 7);
    const e = thrown(() => origin.verify(b, secret, opts));
    assert.ok(ERROR_NAMES.includes(e.name), `bit ${bit}: ${e.name}`);
  }
  // And of the key it is bound to.
  for (let bit = 0; bit < 16; bit++) {
    const key = new TextEncoder().encode('k1');
    key[bit >> 3] ^= 1 << (bit & 7);
    assertOriginError(thrown(() => origin.verify(sealed, secret, { ...opts, other: key })), 'BadMac');
  }
});

test('a secret shorter than 16 bytes is a RangeError, before anything else', () => {
  const sealed = byName('mac-sealed');
  const short = ['', 'a', 'origin-secret15', new Uint8Array(0), new Uint8Array(15), 'é'.repeat(7) + 'x'];
  for (const secret of short) {
    const len = typeof secret === 'string' ? Buffer.byteLength(secret) : secret.length;
    assert.ok(len < 16, `${len} bytes`);
    for (const fn of [
      () => origin.verify(sealed, secret),
      () => origin.verify(byName('magic-only'), secret),
      () => origin.verify(new Uint8Array(0), secret),
      () => origin.verify(sealed, secret, { carrier: 'key', other: 'v' }),
      () => origin.tag(new Uint8Array(0), { cluster: 'a', secret }),
      () => origin.tag(new Uint8Array(0), { cluster: 'a', secret, scope: 'orders' }),
      () => origin.tag(new Uint8Array(0), { cluster: 'not a cluster', secret }),
    ]) {
      const e = thrown(fn);
      assert.ok(e instanceof RangeError, `${JSON.stringify(secret)}: ${e}`);
      assert.match(e.message, /at least 16 bytes/);
      assert.ok(e.message.includes(`got ${len} bytes`), e.message);
    }
  }
  // The rule counts bytes, not characters: 8 two-byte characters are enough.
  const sixteen = ['origin-secret-16', new Uint8Array(16), 'é'.repeat(8)];
  for (const secret of sixteen) {
    assertOriginError(thrown(() => origin.verify(sealed, secret)), 'BadMac');
    const tagged = origin.tag(new Uint8Array(0), { cluster: 'a', secret });
    assert.equal(origin.verify(tagged, secret), true);
  }
});

test('tag refuses a bad cluster id with BadClusterId', () => {
  for (const cluster of ['', 'us east', 'a:b', 'é', 'x'.repeat(65)]) {
    assertOriginError(thrown(() => origin.tag(new Uint8Array(0), { cluster })), 'BadClusterId');
  }
  // 64 bytes is the longest allowed.
  const long = 'x'.repeat(64);
  assert.equal(origin.decode(origin.tag(new Uint8Array(0), { cluster: long })).origin, long);
});

test('bad arguments throw TypeError or RangeError', () => {
  const ok = new Uint8Array([1]);
  for (const bad of [undefined, null, 'ff6f', 42, [0xff, 0x6f], new ArrayBuffer(2), {}, new Uint16Array(2)]) {
    for (const fn of [origin.decode, origin.strip, (b) => origin.verify(b, ANY_SECRET), (b) => origin.tag(b, { cluster: 'a' })]) {
      const e = thrown(() => fn(bad));
      assert.ok(e instanceof TypeError, `${String(bad)}: ${e}`);
    }
  }
  for (const secret of [undefined, null, 7, {}, ['s']]) {
    assert.ok(thrown(() => origin.verify(byName('mac-sealed'), secret)) instanceof TypeError);
  }
  // Options of verify, checked before the tag is looked at.
  for (const options of ['orders', 1, true, { scope: 1 }, { scope: new Uint8Array(1) }, { carrier: 'both' },
    { carrier: 1 }, { carrier: null }, { carrier: 'KEY' }, { other: 5 }, { other: {} }, { carrier: 'key' },
    { carrier: 'key', other: null }]) {
    for (const input of [byName('mac-sealed'), byName('magic-only'), new Uint8Array(0)]) {
      const e = thrown(() => origin.verify(input, ANY_SECRET, options));
      assert.ok(e instanceof TypeError, `${JSON.stringify(options)}: ${e}`);
    }
  }
  for (const options of [undefined, null, 'a', 1, {}, { cluster: 1 }, { cluster: null }]) {
    assert.ok(thrown(() => origin.tag(ok, options)) instanceof TypeError, JSON.stringify(options));
  }
  for (const extra of [{ secret: 1 }, { secret: null }, { key: 5 }, { timestamp: '1' }, { offset: '1' },
    { scope: 'orders' }, { scope: '' }, { scope: 'orders', secret: undefined }, { scope: 1, secret: ANY_SECRET }]) {
    assert.ok(thrown(() => origin.tag(ok, { cluster: 'a', ...extra })) instanceof TypeError, JSON.stringify(extra));
  }
  for (const n of [1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 2n ** 63n, -(2n ** 63n) - 1n]) {
    for (const field of ['timestamp', 'offset']) {
      const e = thrown(() => origin.tag(ok, { cluster: 'a', [field]: n }));
      assert.ok(e instanceof RangeError, `${field} ${String(n)}: ${e}`);
    }
  }
});

test('timestamps at the ends of i64 round-trip exactly', () => {
  for (const ts of [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 2n ** 53n + 1n]) {
    const d = origin.decode(origin.tag(new Uint8Array(0), { cluster: 'a', timestamp: ts, offset: ts }));
    assert.equal(d.timestampBig, ts);
    assert.equal(d.timestamp, Number(ts));
  }
  const safe = Number.MAX_SAFE_INTEGER;
  assert.equal(origin.decode(origin.tag(new Uint8Array(0), { cluster: 'a', timestamp: -safe })).timestamp, -safe);
});

/** A tag built by hand: the largest the format allows (16 ids of `idLen` bytes, a 10-byte timestamp, a MAC). */
function bigTag(idLen) {
  const b = [0xff, 0x6f, 0x02, 0x00, 15, 16];
  for (let i = 0; i < 16; i++) {
    b.push(idLen, ...Buffer.from(String.fromCharCode(97 + i).repeat(idLen)));
  }
  b.push(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01); // i64::MIN
  b.push(1, 2, 3, 4, 5, 6, 7, 8, 0x01, ...new Array(16).fill(0xab));
  return b;
}

test('the largest tag (1081 bytes) decodes, followed by a large payload', () => {
  const tagBytes = bigTag(64);
  assert.equal(tagBytes.length, 1081);
  const payload = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
  const carrier = new Uint8Array([...tagBytes, ...payload]);
  const d = origin.decode(carrier);
  assert.equal(d.hops, 15);
  assert.equal(d.path.length, 16);
  assert.equal(d.timestampBig, -(2n ** 63n));
  assert.equal(d.id, '0102030405060708');
  assert.equal(d.mac, 'ab'.repeat(16));
  assert.equal(d.payload.length, payload.length);
  assert.equal(Buffer.compare(d.payload, payload), 0);
  // The payload is a view of the input, not a copy.
  assert.equal(d.payload.buffer, carrier.buffer);
  assert.equal(d.payload.byteOffset, 1081);
  const s = origin.strip(carrier);
  assert.equal(s.buffer, carrier.buffer);
  assert.equal(s.length, payload.length);
  assertOriginError(thrown(() => origin.verify(carrier, ANY_SECRET)), 'BadMac');
});

test('a bad tag longer than the largest valid one reports its own error', () => {
  // Ids of 100 bytes: the tag runs past 1081 bytes; the decoder must read all
  // of it to find the ids too long, not stop at "truncated".
  const carrier = new Uint8Array([...bigTag(100), ...new Uint8Array(5000)]);
  for (const fn of [origin.decode, origin.strip, (b) => origin.verify(b, ANY_SECRET)]) {
    assertOriginError(thrown(() => fn(carrier)), 'BadClusterId');
  }
  // Cut inside the tag: truncated.
  assertOriginError(thrown(() => origin.decode(carrier.subarray(0, 1500))), 'Truncated');
});

test('garbage never traps the module, and it keeps working after errors', () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  const outcomes = new Set();
  for (let i = 0; i < 20000; i++) {
    const len = rand() % 80;
    const b = new Uint8Array(len).map(() => rand() & 0xff);
    if (len >= 3 && i % 2 === 0) b.set([0xff, 0x6f, 0x02]);
    try {
      outcomes.add(origin.decode(b).tagged ? 'tagged' : 'untagged');
    } catch (e) {
      assert.ok(ERROR_NAMES.includes(e.name), `unexpected ${e}`);
      outcomes.add(e.name);
    }
  }
  assert.ok(outcomes.has('untagged') && outcomes.has('Malformed'), [...outcomes].join(','));
  // Still decodes correctly afterwards.
  const minimal = vectors.find((x) => x.name === 'origin-minimal');
  assert.equal(origin.decode(byName('origin-minimal')).id, minimal.expected.id);
  assert.equal(toHex(origin.strip(byName('origin-minimal'))), '7b2274656d70223a32317d');
});
