// Writes a few record values as they could sit in a topic, one base64-encoded
// value a line: the input of consume.mjs, so that the example runs without a
// cluster. Tags are made with `tag`, as the origin-tag SmartModule makes them.
//
//   node examples/produce.mjs | ORIGIN_SECRET=demo-secret node examples/consume.mjs
import { createRequire } from 'node:module';

const origin = createRequire(import.meta.url)('../pkg');
const secret = 'demo-secret';
const json = (v) => new TextEncoder().encode(JSON.stringify(v));
const t0 = Date.UTC(2024, 0, 15, 9, 30); // 2024-01-15T09:30:00Z

const values = [
  origin.tag(json({ order: 1, sku: 'A-17' }), { cluster: 'us-east', secret, timestamp: t0, offset: 0 }),
  origin.tag(json({ order: 2, sku: 'B-03' }), { cluster: 'us-east', secret, timestamp: t0 + 250, offset: 1 }),
  origin.tag(json({ order: 3, sku: 'A-17' }), { cluster: 'eu-west', secret, timestamp: t0 + 900, key: 'cust-42' }),
  // Written before origin-tag was attached to the topic: no tag.
  json({ order: 4, sku: 'C-99' }),
  // Sealed with a secret the consumer does not share.
  origin.tag(json({ order: 5, sku: 'X-00' }), { cluster: 'eu-west', secret: 'guessed', timestamp: t0 + 1200 }),
  // Vector three-hops of docs/FORMAT.md: mirrored us-east > eu-west > ap-south > sa-east, not sealed.
  Buffer.from(
    'ff6f010003040775732d656173740765752d776573740861702d736f7574680773612d6561737480a0abfef962e91701d4bc16c906007b2274656d70223a32317d',
    'hex',
  ),
  // The magic bytes and a cut-off tag.
  Uint8Array.from([0xff, 0x6f, 0x01, 0x00, 0x00]),
];

for (const value of values) {
  process.stdout.write(`${Buffer.from(value).toString('base64')}\n`);
}
