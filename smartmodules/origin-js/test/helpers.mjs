// Shared by the tests: the built package, hex helpers, the test vectors of
// docs/FORMAT.md (parsed from the doc itself, so the doc stays the one source)
// and the corpus written by `cargo run -p origin-js --example corpus`.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const crateDir = join(here, '..');
export const workspaceDir = join(crateDir, '..', '..');

// Through pkg/package.json, as a consumer would load it.
export const origin = createRequire(import.meta.url)('../pkg');

export const ERROR_NAMES = [
  'Truncated',
  'UnknownVersion',
  'PathTooLong',
  'EmptyPath',
  'HopsMismatch',
  'BadClusterId',
  'Malformed',
  'MissingMac',
  'BadMac',
];

export function fromHex(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) {
    throw new Error(`not hex: ${JSON.stringify(hex)}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function toHex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A decimal i64 as the JS `tag` takes it: a number when exact, otherwise a bigint. */
export function toInt(decimal) {
  const big = BigInt(decimal);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}

/** Runs `fn`, which must throw; returns what it threw. */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception, none was thrown');
}

function fencedBlock(doc, lang) {
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'm');
  const m = doc.match(re);
  if (!m) throw new Error(`docs/FORMAT.md has no \`\`\`${lang} block`);
  return m[1].split('\n').filter((line) => line.trim() !== '');
}

/** Hex of UTF-8 text as its text (the scopes of the doc). */
export function hexText(hex) {
  return new TextDecoder('utf-8', { fatal: true }).decode(fromHex(hex));
}

/** Parses `expected` of a vector line (docs/FORMAT.md §9). */
function parseExpected(text) {
  if (text === 'untagged') return { kind: 'untagged' };
  let m = text.match(/^error=(\w+)(?:\((\d+)\))?$/);
  if (m) return { kind: 'error', error: m[1], version: m[2] === undefined ? undefined : Number(m[2]) };
  m = text.match(/^tagged (.*)$/);
  if (!m) throw new Error(`unknown expectation: ${text}`);
  const fields = {};
  for (const part of m[1].split(' ')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`bad field ${part} in: ${text}`);
    fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  for (const f of ['flags', 'path', 'ts', 'id', 'mac', 'payload']) {
    if (!(f in fields)) throw new Error(`field ${f} missing in: ${text}`);
  }
  // A MAC check: secret=<hex> scope=<hex> carrier=<value|key> other=<hex|-> verify=<...>, all or none.
  const check = ['secret', 'scope', 'carrier', 'other', 'verify'];
  const present = check.filter((f) => f in fields);
  if (present.length !== 0 && present.length !== check.length) {
    throw new Error(`MAC check needs ${check.join(', ')}, has only ${present.join(', ')}: ${text}`);
  }
  if (present.length !== 0 && !['value', 'key'].includes(fields.carrier)) {
    throw new Error(`bad carrier ${fields.carrier} in: ${text}`);
  }
  const known = ['flags', 'path', 'ts', 'id', 'mac', 'payload', ...check];
  const unknown = Object.keys(fields).filter((f) => !known.includes(f));
  if (unknown.length) throw new Error(`unknown fields ${unknown.join(', ')} in: ${text}`);
  return {
    kind: 'tagged',
    flags: parseInt(fields.flags, 16),
    path: fields.path.split(','),
    ts: fields.ts,
    id: fields.id,
    mac: fields.mac === 'none' ? null : fields.mac,
    payload: fields.payload,
    secret: fields.secret,
    scope: fields.scope === undefined ? undefined : hexText(fields.scope),
    carrier: fields.carrier,
    other: fields.other === undefined || fields.other === '-' ? null : fields.other,
    verify: fields.verify,
  };
}

/** The ```vectors, ```record-ids and ```keyed-record-ids blocks of docs/FORMAT.md. */
export function formatVectors() {
  const doc = readFileSync(join(workspaceDir, 'docs', 'FORMAT.md'), 'utf8');
  const vectors = fencedBlock(doc, 'vectors').map((line) => {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length !== 3) throw new Error(`bad vector line: ${line}`);
    return { name: cols[0], hex: cols[1], expected: parseExpected(cols[2]) };
  });
  const recordIds = fencedBlock(doc, 'record-ids').map((line) => {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length !== 6) throw new Error(`bad record-id line: ${line}`);
    const [origin, ts, offset, key, value, id] = cols;
    return { origin, ts, offset, key: key === '-' ? null : key, value, id };
  });
  const keyedRecordIds = fencedBlock(doc, 'keyed-record-ids').map((line) => {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length !== 8) throw new Error(`bad keyed-record-id line: ${line}`);
    const [secret, scope, origin, ts, offset, key, value, id] = cols;
    return {
      secret,
      scope: scope === '-' ? '' : hexText(scope),
      origin,
      ts,
      offset,
      key: key === '-' ? null : key,
      value,
      id,
    };
  });
  return { vectors, recordIds, keyedRecordIds };
}

/** The corpus lines, grouped by kind. */
export function corpus() {
  const file = process.env.ORIGIN_JS_CORPUS ?? join(workspaceDir, 'target', 'origin-js', 'corpus.jsonl');
  if (!existsSync(file)) {
    throw new Error(
      `no corpus at ${file}: run \`cargo run -p origin-js --example corpus --release -- ${file}\` ` +
        '(smartmodules/origin-js/test.sh does), or set ORIGIN_JS_CORPUS',
    );
  }
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  const meta = lines.find((l) => l.kind === 'meta');
  if (!meta) throw new Error(`${file} has no meta line`);
  return {
    file,
    meta,
    decodes: lines.filter((l) => l.kind === 'decode'),
    records: lines.filter((l) => l.kind === 'record'),
  };
}

/**
 * Differences between a decoded tag and the expected fields (corpus names:
 * ts is a decimal string, payload hex). Empty when they agree on every field.
 */
export function tagDiffs(actual, exp) {
  const diffs = [];
  const check = (field, got, want) => {
    if (got !== want) diffs.push(`${field}: got ${String(got)}, want ${String(want)}`);
  };
  check('tagged', actual.tagged, true);
  check('origin', actual.origin, exp.path[0]);
  if (exp.origin !== undefined) check('origin (Rust)', actual.origin, exp.origin);
  check('id', actual.id, exp.id);
  check('hops', actual.hops, exp.hops ?? exp.path.length - 1);
  check('path', JSON.stringify(actual.path), JSON.stringify(exp.path));
  check('timestamp', actual.timestamp, Number(BigInt(exp.ts)));
  check('timestampBig', actual.timestampBig, BigInt(exp.ts));
  check('flags', actual.flags, exp.flags);
  check('violation', actual.violation, (exp.flags & 0x01) !== 0);
  check('noKey', actual.noKey, (exp.flags & 0x02) !== 0);
  check('mac', actual.mac, exp.mac);
  check('payload instanceof Uint8Array', actual.payload instanceof Uint8Array, true);
  check('payload', toHex(actual.payload), exp.payload);
  const keys = Object.keys(actual).sort().join(',');
  check(
    'keys',
    keys,
    'flags,hops,id,mac,noKey,origin,path,payload,tagged,timestamp,timestampBig,violation',
  );
  return diffs;
}
