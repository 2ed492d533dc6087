// The JS package against the Rust decoder, field by field, on the corpus
// written by `cargo run -p origin-js --example corpus` (10,000 random byte
// strings, each verified as the carrier of a given record in a given scope), and
// on records tagged by the origin-tag policy in Rust (some sealed, some scoped, some
// in the key).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { corpus, fromHex, origin, tagDiffs, thrown, toHex, toInt } from './helpers.mjs';

const { file, meta, decodes, records } = corpus();
const secret = fromHex(meta.secret);

/** What the JS package says about `input`, in the corpus's terms. */
function outcome(fn) {
  try {
    return { value: fn() };
  } catch (e) {
    return { error: e };
  }
}

/**
 * The `verify` options of a line: its scope, carrier and other half. The n-th line leaves
 * out some defaults (no scope, carrier value, no key) and spells others out, so that both
 * ways are compared.
 */
function verifyOptions(line, n) {
  const opts = {};
  if (line.scope !== '' || n % 2 === 0) opts.scope = line.scope;
  if (line.carrier !== 'value' || n % 3 === 0) opts.carrier = line.carrier;
  if (line.other !== null) opts.other = fromHex(line.other);
  else if (n % 5 === 0) opts.other = null;
  return n % 7 === 0 && Object.keys(opts).length === 0 ? undefined : opts;
}

/** Differences between the JS package and one `decode` line (the n-th). */
function decodeDiffs(line, n) {
  const input = fromHex(line.hex);
  const diffs = [];
  const d = outcome(() => origin.decode(input));
  const s = outcome(() => origin.strip(input));
  const v = outcome(() => origin.verify(input, secret, verifyOptions(line, n)));
  if (line.expect === 'untagged') {
    if (d.error) return [`decode threw ${d.error}`];
    if (d.value.tagged !== false) diffs.push('decode: not untagged');
    if (d.value.payload !== input) diffs.push('decode: payload is not the input');
    if (s.value !== input) diffs.push('strip: not the input');
    if (v.error?.name !== 'MissingMac') diffs.push(`verify: ${v.error ?? v.value}, want MissingMac`);
  } else if (line.expect === 'tagged') {
    if (d.error) return [`decode threw ${d.error}`];
    diffs.push(...tagDiffs(d.value, line).map((x) => `decode: ${x}`));
    if (s.error || toHex(s.value) !== line.payload) diffs.push(`strip: ${s.error ?? toHex(s.value)}`);
    const got = v.error ? v.error.name : v.value === true ? 'ok' : String(v.value);
    if (got !== line.verify) diffs.push(`verify: got ${got}, want ${line.verify}`);
  } else {
    const want = line;
    for (const [what, r] of [['decode', d], ['strip', s], ['verify', v]]) {
      const e = r.error;
      if (!e) {
        diffs.push(`${what}: no error, want ${want.error}`);
        continue;
      }
      if (e.name !== want.error || e.code !== want.error) diffs.push(`${what}: ${e.name}/${e.code}, want ${want.error}`);
      if (e.message !== want.message) diffs.push(`${what}: message ${JSON.stringify(e.message)}, want ${JSON.stringify(want.message)}`);
      if (e.version !== want.version) diffs.push(`${what}: version ${e.version}, want ${want.version}`);
    }
  }
  return diffs;
}

test(`corpus: all random byte strings decode and verify as in Rust`, (t) => {
  assert.equal(decodes.length, meta.count, `${file} holds ${decodes.length} inputs, meta says ${meta.count}`);
  assert.equal(decodes.length, 10000);
  const failures = [];
  const tally = {};
  for (const [n, line] of decodes.entries()) {
    const diffs = decodeDiffs(line, n);
    if (diffs.length) failures.push(`${line.hex}:\n    ${diffs.join('\n    ')}`);
    const kind = line.expect === 'error' ? line.error : line.expect;
    tally[kind] = (tally[kind] ?? 0) + 1;
    if (line.verify) tally[`verify ${line.verify}`] = (tally[`verify ${line.verify}`] ?? 0) + 1;
    if (line.verify === 'ok') {
      for (const [what, yes] of [['carrier key', line.carrier === 'key'], ['scope', line.scope !== ''], ['no key', line.other === null]]) {
        if (yes) tally[`verify ok (${what})`] = (tally[`verify ok (${what})`] ?? 0) + 1;
      }
    }
  }
  t.diagnostic(`${decodes.length} inputs (seed ${meta.seed}): ${JSON.stringify(tally)}`);
  assert.equal(failures.length, 0, `${failures.length} disagreements, first ones:\n${failures.slice(0, 10).join('\n')}`);
  // Every outcome of verify occurs, for tags sealed in the value and in the key, in a scope.
  for (const kind of ['verify ok', 'verify BadMac', 'verify MissingMac', 'verify ok (carrier key)', 'verify ok (scope)', 'verify ok (no key)']) {
    assert.ok(tally[kind] > 0, `no ${kind} in the corpus`);
  }
});

test('corpus: records tagged by origin-tag in Rust decode, strip and verify in JS', (t) => {
  assert.equal(records.length, meta.records);
  let compared = 0;
  let comparedSealed = 0;
  const sealed = { value: 0, key: 0 };
  for (const r of records) {
    const carrier = fromHex(r.carrier === 'key' ? r.outKey : r.outValue);
    const what = `${r.cluster}${r.hop ? ` -> ${r.hop}` : ''} (${r.carrier})`;
    assert.deepEqual(tagDiffs(origin.decode(carrier), r), [], what);
    assert.deepEqual(origin.decode(carrier).path, r.hop ? [r.cluster, r.hop] : [r.cluster], what);

    // Stripping gives back what the producer wrote. A key that was absent comes
    // back empty, with noKey set.
    const stripped = toHex(origin.strip(carrier));
    if (r.carrier === 'value') {
      assert.equal(stripped, r.value, what);
      assert.equal(origin.decode(carrier).noKey, false);
    } else {
      assert.equal(stripped, r.key ?? '', what);
      assert.equal(origin.decode(carrier).noKey, r.key === null, what);
    }

    // The record as written: the tag in one half, bound to the other.
    const other = r.carrier === 'value' ? r.outKey : r.outValue;
    const check = { scope: r.scope, carrier: r.carrier, other: other === null ? null : fromHex(other) };
    if (r.secret !== null) {
      assert.equal(origin.verify(carrier, r.secret, check), true, what);
      assert.equal(origin.verify(carrier, new TextEncoder().encode(r.secret), check), true, what);
      const bad = [
        [`${r.secret}x`, check],
        [r.secret, { ...check, scope: r.scope === null ? 'orders' : null }],
        [r.secret, { ...check, carrier: r.carrier === 'value' ? 'key' : 'value', other: check.other ?? '' }],
        [r.secret, { ...check, other: check.other === null ? '' : new Uint8Array([...check.other, 0x78]) }],
      ];
      if (r.carrier === 'value' && check.other !== null) bad.push([r.secret, { ...check, other: null }]);
      for (const [s, o] of bad) {
        assert.equal(thrown(() => origin.verify(carrier, s, o)).name, 'BadMac', `${what} ${JSON.stringify(o)}`);
      }
      sealed[r.carrier]++;
    } else {
      assert.equal(thrown(() => origin.verify(carrier, 'any-secret-of-16-bytes', check)).name, 'MissingMac', what);
    }

    // JS makes the origin's tag exactly as origin-tag did.
    const opts = { cluster: r.cluster, timestamp: toInt(r.timestamp), offset: toInt(r.offset) };
    if (r.key !== null) opts.key = fromHex(r.key);
    if (r.secret !== null) opts.secret = r.secret;
    if (r.scope !== null) opts.scope = r.scope;
    const ours = origin.tag(fromHex(r.value), opts);
    if (!r.hop && r.carrier === 'value') {
      assert.equal(toHex(ours), r.outValue, what);
      compared++;
      if (r.secret !== null) comparedSealed++;
    }
    // The record id does not change on hops, and does not depend on the carrier.
    assert.equal(origin.decode(ours).id, r.id, what);
  }
  t.diagnostic(
    `${records.length} records (sealed: ${sealed.value} in the value, ${sealed.key} in the key), ` +
      `${compared} compared byte for byte with tag() (${comparedSealed} sealed)`,
  );
  assert.ok(compared > 50);
  assert.ok(comparedSealed > 20);
  assert.ok(sealed.key > 10);
});
