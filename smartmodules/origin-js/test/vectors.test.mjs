// Every test vector of docs/FORMAT.md, decoded by the JS package.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatVectors, fromHex, origin, tagDiffs, thrown, toHex, toInt } from './helpers.mjs';

const { vectors, recordIds } = formatVectors();

test('the doc has vectors of every kind', () => {
  const kinds = new Set(vectors.map((v) => v.expected.kind));
  assert.deepEqual([...kinds].sort(), ['error', 'tagged', 'untagged']);
  assert.ok(vectors.length >= 20, `${vectors.length} vectors`);
  assert.ok(recordIds.length >= 1);
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
      assert.equal(thrown(() => origin.verify(input, 'any')).name, 'MissingMac');
    } else if (exp.kind === 'error') {
      for (const [what, fn] of [
        ['decode', () => origin.decode(input)],
        ['strip', () => origin.strip(input)],
        ['verify', () => origin.verify(input, 'any')],
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
        if (exp.verify === 'ok') {
          assert.equal(origin.verify(input, secret), true);
          // The same secret as a string (the modules' `secret` param is text).
          assert.equal(origin.verify(input, Buffer.from(secret).toString('utf8')), true);
        } else {
          assert.equal(thrown(() => origin.verify(input, secret)).name, exp.verify);
        }
      } else if (exp.mac === null) {
        assert.equal(thrown(() => origin.verify(input, 'any')).name, 'MissingMac');
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

test('tag makes vector origin-minimal byte for byte', () => {
  const minimal = vectors.find((v) => v.name === 'origin-minimal');
  assert.ok(minimal, 'vector origin-minimal is in the doc');
  const payload = fromHex(minimal.expected.payload);
  const bytes = origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000, offset: 0 });
  assert.equal(toHex(bytes), minimal.hex);
  // Default offset is 0.
  assert.equal(toHex(origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000 })), minimal.hex);
});

test('tag seals with the secret so that verify accepts it', () => {
  const payload = new TextEncoder().encode('{"temp":21}');
  const secret = 'origin-test-secret-0001';
  const bytes = origin.tag(payload, { cluster: 'us-east', secret, timestamp: 1700000000000 });
  const d = origin.decode(bytes);
  assert.match(d.mac, /^[0-9a-f]{32}$/);
  assert.equal(origin.verify(bytes, secret), true);
  assert.equal(origin.verify(bytes, new TextEncoder().encode(secret)), true);
  assert.equal(thrown(() => origin.verify(bytes, 'another secret')).name, 'BadMac');
  // The unsealed tag is the same but for the MAC.
  const plain = origin.tag(payload, { cluster: 'us-east', timestamp: 1700000000000 });
  const { mac: _mac, ...sealedFields } = d;
  const { mac: none, ...plainFields } = origin.decode(plain);
  assert.equal(none, null);
  assert.deepEqual(sealedFields, plainFields);
});

test('tag defaults the timestamp to now', () => {
  const before = Date.now();
  const d = origin.decode(origin.tag(new Uint8Array([1, 2, 3]), { cluster: 'edge-1' }));
  const after = Date.now();
  assert.ok(d.timestamp >= before && d.timestamp <= after, `${d.timestamp} in [${before}, ${after}]`);
  assert.deepEqual([...d.payload], [1, 2, 3]);
});
