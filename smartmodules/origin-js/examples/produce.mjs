// Writes a few records as they could sit in a topic, one a line: the key in base64
// (or `-` for a record without a key), a space, and the value in base64. This is the
// input of consume.mjs, so that the example runs without a cluster. Tags are made with
// `tag`, as the origin-tag SmartModule makes them (in the value), sealed with the
// clusters' secret for the data set `orders`.
//
//   node examples/produce.mjs | ORIGIN_SECRET=demo-shared-secret ORIGIN_SCOPE=orders node examples/consume.mjs
import { createRequire } from 'node:module';

const origin = createRequire(import.meta.url)('../pkg');
const secret = 'demo-shared-secret';
const scope = 'orders';
const json = (v) => new TextEncoder().encode(JSON.stringify(v));
const t0 = Date.UTC(2024, 0, 15, 9, 30); // 2024-01-15T09:30:00Z

/** A record: its key (null for none) and its value. */
const record = (key, value) => ({ key, value });
/** A record tagged on `cluster`: the tag in the value, sealed for its key. */
const tagged = (cluster, key, value, opts) =>
  record(key, origin.tag(json(value), { cluster, secret, scope, key, ...opts }));

const records = [
  tagged('us-east', null, { order: 1, sku: 'A-17' }, { timestamp: t0, offset: 0 }),
  tagged('us-east', 'cust-7', { order: 2, sku: 'B-03' }, { timestamp: t0 + 250, offset: 1 }),
  tagged('eu-west', 'cust-42', { order: 3, sku: 'A-17' }, { timestamp: t0 + 900 }),
  // Written before origin-tag was attached to the topic: no tag.
  record('cust-9', json({ order: 4, sku: 'C-99' })),
  // Sealed with a secret the consumer does not share.
  tagged('eu-west', null, { order: 5, sku: 'X-00' }, { timestamp: t0 + 1200, secret: 'guessed-secret-123' }),
  // Sealed for another data set whose clusters share the secret.
  tagged('eu-west', null, { order: 6, sku: 'P-01' }, { timestamp: t0 + 1300, scope: 'payments' }),
  // A genuine sealed value moved under another key.
  record('cust-666', tagged('us-east', 'cust-42', { order: 7, sku: 'A-17' }, { timestamp: t0 + 1500 }).value),
  // Vector three-hops of docs/FORMAT.md: mirrored us-east > eu-west > ap-south > sa-east, not sealed.
  record(
    null,
    Buffer.from(
      'ff6f020003040775732d656173740765752d776573740861702d736f7574680773612d6561737480a0abfef962b7c9afd3c511e776007b2274656d70223a32317d',
      'hex',
    ),
  ),
  // The magic bytes and a cut-off tag.
  record(null, Uint8Array.from([0xff, 0x6f, 0x02, 0x00, 0x00])),
  // Vector version-1: a tag of the unreleased version 1.
  record(
    null,
    Buffer.from('ff6f010000010775732d6561737480a0abfef962b7c9afd3c511e776007b2274656d70223a32317d', 'hex'),
  ),
];

const base64 = (bytes) => Buffer.from(bytes).toString('base64');
for (const { key, value } of records) {
  process.stdout.write(`${key === null ? '-' : base64(Buffer.from(key))} ${base64(value)}\n`);
}
