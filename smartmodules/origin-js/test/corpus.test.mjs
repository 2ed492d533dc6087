// The JS package against the Rust decoder, field by field, on the corpus
// written by `cargo run -p origin-js --example corpus` (10,000 random byte
// strings), and on records tagged by the origin-tag policy in Rust.
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

/** Differences between the JS package and one `decode` line. */
function decodeDiffs(line) {
  const input = fromHex(line.hex);
  const diffs = [];
  const d = outcome(() => origin.decode(input));
  const s = outcome(() => origin.strip(input));
  const v = outcome(() => origin.verify(input, secret));
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

test(`corpus: all random byte strings decode as in Rust`, (t) => {
  assert.equal(decodes.length, meta.count, `${file} holds ${decodes.length} inputs, meta says ${meta.count}`);
  assert.equal(decodes.length, 10000);
  const failures = [];
  const tally = {};
  for (const line of decodes) {
    const diffs = decodeDiffs(line);
    if (diffs.length) failures.push(`${line.hex}:\n    ${diffs.join('\n    ')}`);
    const kind = line.expect === 'error' ? line.error : line.expect;
    tally[kind] = (tally[kind] ?? 0) + 1;
    if (line.verify) tally[`verify ${line.verify}`] = (tally[`verify ${line.verify}`] ?? 0) + 1;
  }
  t.diagnostic(`${decodes.length} inputs (seed ${meta.seed}): ${JSON.stringify(tally)}`);
  assert.equal(failures.length, 0, `${failures.length} disagreements, first ones:\n${failures.slice(0, 10).join('\n')}`);
});

test('corpus: records tagged by origin-tag in Rust decode, strip and verify in JS', (t) => {
  assert.equal(records.length, meta.records);
  let compared = 0;
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

    if (r.secret !== null) {
      assert.equal(origin.verify(carrier, r.secret), true, what);
      assert.equal(origin.verify(carrier, new TextEncoder().encode(r.secret)), true, what);
      assert.equal(thrown(() => origin.verify(carrier, `${r.secret}x`)).name, 'BadMac', what);
    } else {
      assert.equal(thrown(() => origin.verify(carrier, 'any')).name, 'MissingMac', what);
    }

    // JS makes the origin's tag exactly as origin-tag did.
    const opts = { cluster: r.cluster, timestamp: toInt(r.timestamp), offset: toInt(r.offset) };
    if (r.key !== null) opts.key = fromHex(r.key);
    if (r.secret !== null) opts.secret = r.secret;
    const ours = origin.tag(fromHex(r.value), opts);
    if (!r.hop && r.carrier === 'value') {
      assert.equal(toHex(ours), r.outValue, what);
      compared++;
    }
    // The record id does not change on hops, and does not depend on the carrier.
    assert.equal(origin.decode(ours).id, r.id, what);
  }
  t.diagnostic(`${records.length} records, ${compared} compared byte for byte with tag()`);
  assert.ok(compared > 50);
});
