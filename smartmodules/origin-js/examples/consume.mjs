// A consumer loop: reads records (one a line: the key in base64 or `-` for none, a
// space, the value in base64) from stdin, logs where each record comes from, and prints
// its value without the tag. With ORIGIN_SECRET set (and ORIGIN_SCOPE, the data set the
// clusters seal for), it also checks each tag's MAC, for this record's key.
//
//   node examples/produce.mjs | ORIGIN_SECRET=demo-shared-secret ORIGIN_SCOPE=orders node examples/consume.mjs
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

// In another project: require('@mirror-safety/origin') once the package is installed.
const { decode, verify } = createRequire(import.meta.url)('../pkg');

const secret = process.env.ORIGIN_SECRET;
const scope = process.env.ORIGIN_SCOPE;
const text = new TextDecoder();
let n = 0;

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  n += 1;
  const [k, v] = line.split(' ');
  const key = k === '-' ? null : Buffer.from(k, 'base64');
  const value = Buffer.from(v, 'base64');
  const who = key === null ? 'no key' : `key ${text.decode(key)}`;
  let record;
  try {
    record = decode(value);
  } catch (e) {
    // A value that starts with the magic bytes but holds no valid tag.
    const version = e.version === undefined ? '' : ` ${e.version}`;
    console.log(`#${n} ${who}: bad tag: ${e.code}${version} (${e.message})`);
    continue;
  }
  if (!record.tagged) {
    console.log(`#${n} ${who}: untagged  ${text.decode(record.payload)}`);
    continue;
  }
  let mac = record.mac === null ? 'none' : 'not checked';
  if (secret !== undefined) {
    try {
      // The tag is in the value: the MAC binds the key (or its absence).
      verify(value, secret, { scope, carrier: 'value', other: key });
      mac = 'ok';
    } catch (e) {
      mac = e.code; // MissingMac or BadMac
    }
  }
  const at = new Date(record.timestamp).toISOString();
  const flags = record.violation ? ' VIOLATION' : '';
  console.log(
    `#${n} ${who}: from ${record.path.join(' > ')} (hops ${record.hops}) id ${record.id} at ${at} mac ${mac}${flags}  ` +
      text.decode(record.payload),
  );
}
