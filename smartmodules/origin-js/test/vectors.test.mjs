// Every test vector of docs/FORMAT.md, decoded and verified by the JS package, and
// every record id (plain and keyed) rebuilt by its `tag`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatVectors, fromHex, origin, tagDiffs, thrown, toHex, toInt } from './helpers.mjs';

const { vectors, recordIds, keyedRecordIds } = formatVectors();

/** A secret of the right length that seals none of the vectors. */
const ANY_SECRET = 'not-the-secret-of-any-vector';

/** The UTF-8 text of `bytes`, or null if they are not UTF-8. */
function utf8(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** The `verify` options of a vector's MAC check. */
function checkOptions(exp) {
  return {
    scope: exp.scope,
    carrier: exp.carrier,
    other: exp.other === null ? null : fromHex(exp.other),
  };
}

test('the doc has vectors of every kind', () => {
  const kinds = new Set(vectors.map((v) => v.expected.kind));
  assert.deepEqual([...kinds].sort(), ['error', 'tagged', 'untagged']);
  assert.ok(vectors.length >= 30, `${vectors.length} vectors`);
  const checks = vectors.filter((v) => v.expected.secret !== undefined).map((v) => v.expected);
  assert.deepEqual(
    [...new Set(checks.map((c) => c.verify))].sort(),
    ['BadMac', 'MissingMac', 'ok'],
    'MAC vectors of every outcome',
  );
  assert.ok(checks.some((c) => c.carrier === 'key' && c.verify === 'ok'), 'a tag sealed in the key');
  assert.ok(checks.some((c) => c.other === null), 'a record without a key');
  assert.ok(new Set(checks.map((c) => c.scope)).size >= 2, 'two scopes');
  assert.ok(recordIds.length >= 1);
  assert.ok(keyedRecordIds.length >= 1);
  assert.ok(keyedRecordIds.some((r) => r.scope === ''), 'a keyed id without a scope');
  assert.ok(keyedRecordIds.some((r) => r.key !== null), 'a keyed id of a record with a key');
});

for (const v of vectors) {
  test(`vector ${v.name}`, () => {
    const input = fromHex(v.hex);
    const exp = v.expected;
    if (exp.kind === 'untagged') {
      const d = origin.decode(input);
      assert.deepEqual(Object.keys(d), ['tagged', 'payload']);
      assert.equal(d.tagged, false);
      assert.equal(d.payload, input, 'an untagged payload is the input itself');
      assert.equal(origin.strip(input), input);
      assert.equal(thrown(() => origin.verify(input, ANY_SECRET)).name, 'MissingMac');
    } else if (exp.kind === 'error') {
      for (const [what, fn] of [
        ['decode', () => origin.decode(input)],
        ['strip', () => origin.strip(input)],
        ['verify', () => origin.verify(input, ANY_SECRET)],
        ['verify (carrier key)', () => origin.verify(input, ANY_SECRET, { carrier: 'key', other: 'v' })],
      ]) {
        const e = thrown(fn);
        assert.ok(e instanceof Error, `${what} throws an Error`);
        assert.equal(e.name, exp.error, what);
        assert.equal(e.code, exp.error, what);
        assert.equal(typeof e.message, 'string');
        assert.equal(e.version, exp.version, `${what}: version`);
      }
    } else {
      const d = origin.decode(input);
      assert.deepEqual(tagDiffs(d, exp), []);
      assert.equal(toHex(origin.strip(input)), exp.payload);
      if (exp.secret !== undefined) {
        const secret = fromHex(exp.secret);
        const opts = checkOptions(exp);
        if (exp.verify === 'ok') {
          assert.equal(origin.verify(input, secret, opts), true);
          // The same secret as a string (the modules' `secret` param is text), the other
          // half as text, and the defaults spelled out or left out.
          const text = utf8(secret);
          assert.equal(typeof text, 'string', 'the vectors secret is text');
          assert.equal(origin.verify(input, text, opts), true);
          const otherText = opts.other === null ? null : utf8(opts.other);
          if (otherText !== null) assert.equal(origin.verify(input, secret, { ...opts, other: otherText }), true);
          if (opts.carrier === 'value') {
            const { carrier: _c, ...rest } = opts;
            assert.equal(origin.verify(input, secret, rest), true, 'carrier defaults to value');
          }
          // The MAC JS computes is the listed one: any other MAC fails.
          const macAt = input.length - exp.payload.length / 2 - 16;
          assert.equal(toHex(input.subarray(macAt, macAt + 16)), exp.mac);
          const forged = input.slice();
          forged[macAt + 15] ^= 0x01;
          assert.equal(thrown(() => origin.verify(forged, secret, opts)).name, 'BadMac');
          // Another secret, scope, carrier or other half: BadMac.
          const bad = [
            [ANY_SECRET, opts],
            [secret, { ...opts, scope: opts.scope === 'orders' ? 'payments' : 'orders' }],
            [secret, { ...opts, carrier: opts.carrier === 'value' ? 'key' : 'value', other: opts.other ?? '' }],
            [secret, { ...opts, other: opts.other === null ? '' : new Uint8Array([...opts.other, 0x21]) }],
          ];
          for (const [s, o] of bad) {
            assert.equal(thrown(() => origin.verify(input, s, o)).name, 'BadMac', JSON.stringify(o));
          }
        } else {
          assert.equal(thrown(() => origin.verify(input, secret, opts)).name, exp.verify);
        }
      } else if (exp.mac === null) {
        assert.equal(thrown(() => origin.verify(input, ANY_SECRET)).name, 'MissingMac');
      } else {
        assert.equal(thrown(() => origin.verify(input, ANY_SECRET)).name, 'BadMac');
      }
    }
  });
}

for (const r of recordIds) {
  test(`record id ${r.origin} ${r.ts} ${r.offset} ${r.key ?? '-'} ${r.value}`, () => {
    const value = fromHex(r.value);
    const opts = { cluster: r.origin, timestamp: toInt(r.ts), offset: toInt(r.offset) };
    if (r.key !== null) opts.key = fromHex(r.key);
    const tagged = origin.tag(value, opts);
    const d = origin.decode(tagged);
    assert.deepEqual(
      tagDiffs(d, { path: [r.origin], ts: r.ts, id: r.id, flags: 0, mac: null, payload: r.value }),
      [],
    );
    // The timestamp and offset as bigints give the same tag.
    const big = { ...opts, timestamp: BigInt(r.ts), offset: BigInt(r.offset) };
    assert.deepEqual(origin.tag(value, big), tagged);
    if (r.key === null) {
      assert.deepEqual(origin.tag(value, { ...opts, key: null }), tagged, 'key null = no key');
    } else {
      // A key given as text is its UTF-8 bytes.
      const text = Buffer.from(fromHex(r.key)).toString('utf8');
      assert.deepEqual(origin.tag(value, { ...opts, key: text }), tagged);
    }
  });
}

for (const r of keyedRecordIds) {
  test(`keyed record id ${r.scope || '-'} ${r.origin} ${r.ts} ${r.offset} ${r.key ?? '-'} ${r.value}`, () => {
    const value = fromHex(r.value);
    const secret = fromHex(r.secret);
    const key = r.key === null ? null : fromHex(r.key);
    const opts = { cluster: r.origin, secret, timestamp: toInt(r.ts), offset: toInt(r.offset), key };
    if (r.scope !== '') opts.scope = r.scope;
    const tagged = origin.tag(value, opts);
    const d = origin.decode(tagged);
    assert.match(d.mac ?? '', /^[0-9a-f]{32}$/, 'sealed');
    assert.deepEqual(
      tagDiffs(d, { path: [r.origin], ts: r.ts, id: r.id, flags: 0, mac: d.mac, payload: r.value }),
      [],
    );
    // Sealed for this scope and this key (or no key), in the value.
    const check = { scope: r.scope, other: key };
    assert.equal(origin.verify(tagged, secret, check), true);
    assert.equal(origin.verify(tagged, secret, { ...check, carrier: 'value' }), true);
    if (r.scope === '') {
      assert.equal(origin.verify(tagged, secret, { other: key }), true, 'scope defaults to none');
      assert.deepEqual(origin.tag(value, { ...opts, scope: '' }), tagged, "scope '' = none");
    }
    assert.equal(thrown(() => origin.verify(tagged, secret, { ...check, scope: `${r.scope}x` })).name, 'BadMac');
    assert.equal(thrown(() => origin.verify(tagged, secret, { ...check, other: key === null ? '' : null })).name, 'BadMac');
    // The secret as text gives the same tag.
    assert.deepEqual(origin.tag(value, { ...opts, secret: Buffer.from(secret).toString('utf8') }), tagged);
    // Without the secret the id is the plain one, and different.
    const { secret: _s, scope: _scope, ...plain } = opts;
    const unkeyed = origin.decode(origin.tag(value, plain));
    assert.notEqual(unkeyed.id, r.id);
    assert.equal(unkeyed.mac, null);
  });
}

test('tag makes vectors origin-minimal and empty-payload byte for byte', () => {
  const byName = (name) => {
    const v = vectors.find((x) => x.name === name);
    assert.ok(v, `vector ${name} is in the doc`);
    return v;
  };
  const minimal = byName('origin-minimal');
  const payload = fromHex(minimal.expected.payload);
  const bytes = origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000, offset: 0 });
  assert.equal(toHex(bytes), minimal.hex);
  // Default offset is 0.
  assert.equal(toHex(origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000 })), minimal.hex);
  // `empty-payload` is the tag of an empty value with key k1 at batch position 1.
  const empty = byName('empty-payload');
  const opts = { cluster: 'us-east', timestamp: 1700000000000, offset: 1, key: 'k1' };
  assert.equal(toHex(origin.tag(new Uint8Array(0), opts)), empty.hex);
});

test('tag seals with the secret so that verify accepts it, for that key and scope', () => {
  const payload = new TextEncoder().encode('{"temp":21}');
  const secret = 'origin-test-secret-0001';
  const opts = { cluster: 'us-east', secret, timestamp: 1700000000000 };
  const noKey = origin.tag(payload, opts);
  const d = origin.decode(noKey);
  assert.match(d.mac, /^[0-9a-f]{32}$/);
  assert.equal(origin.verify(noKey, secret), true);
  assert.equal(origin.verify(noKey, secret, {}), true);
  assert.equal(origin.verify(noKey, secret, null), true);
  assert.equal(origin.verify(noKey, secret, { other: null }), true);
  assert.equal(origin.verify(noKey, new TextEncoder().encode(secret)), true);
  assert.equal(thrown(() => origin.verify(noKey, 'another-secret-of-16')).name, 'BadMac');
  assert.equal(thrown(() => origin.verify(noKey, secret, { other: '' })).name, 'BadMac', 'an empty key is a key');
  assert.equal(thrown(() => origin.verify(noKey, secret, { scope: 'orders' })).name, 'BadMac');
  assert.equal(thrown(() => origin.verify(noKey, secret, { carrier: 'key', other: payload })).name, 'BadMac');

  const withKey = origin.tag(payload, { ...opts, key: 'k1', scope: 'orders' });
  assert.equal(origin.verify(withKey, secret, { scope: 'orders', other: 'k1' }), true);
  assert.equal(thrown(() => origin.verify(withKey, secret, { scope: 'orders', other: 'k2' })).name, 'BadMac');
  assert.equal(thrown(() => origin.verify(withKey, secret, { scope: 'orders' })).name, 'BadMac');
  assert.equal(thrown(() => origin.verify(withKey, secret, { other: 'k1' })).name, 'BadMac');

  // The unsealed tag differs in the MAC and in the record id (keyed under a secret), nothing else.
  const plain = origin.decode(origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000 }));
  const { mac: _mac, id, ...sealedFields } = d;
  const { mac: none, id: plainId, ...plainFields } = plain;
  assert.equal(none, null);
  assert.notEqual(id, plainId);
  assert.deepEqual(sealedFields, plainFields);
});

test('tag defaults the timestamp to now', () => {
  const before = Date.now();
  const d = origin.decode(origin.tag(new Uint8Array([1, 2, 3]), { cluster: 'edge-1' }));
  const after = Date.now();
  assert.ok(d.timestamp >= before && d.timestamp <= after, `${d.timestamp} in [${before}, ${after}]`);
  assert.deepEqual([...d.payload], [1, 2, 3]);
});
