// A consumer loop: reads record values (one base64-encoded value a line) from
// stdin, logs where each record comes from, and prints the value without its tag.
// With ORIGIN_SECRET set, it also checks each tag's MAC.
//
//   node examples/produce.mjs | ORIGIN_SECRET=demo-secret node examples/consume.mjs
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

// In another project: require('@mirror-safety/origin') once the package is installed.
const { decode, verify } = createRequire(import.meta.url)('../pkg');

const secret = process.env.ORIGIN_SECRET;
const text = new TextDecoder();
let n = 0;

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  n += 1;
  const value = Buffer.from(line, 'base64');
  let record;
  try {
    record = decode(value);
  } catch (e) {
    // A value that starts with the magic bytes but holds no valid tag.
    console.log(`#${n} bad tag: ${e.code} (${e.message})`);
    continue;
  }
  if (!record.tagged) {
    console.log(`#${n} untagged  ${text.decode(record.payload)}`);
    continue;
  }
  let mac = record.mac === null ? 'none' : 'not checked';
  if (secret !== undefined) {
    try {
      verify(value, secret);
      mac = 'ok';
    } catch (e) {
      mac = e.code; // MissingMac or BadMac
    }
  }
  const at = new Date(record.timestamp).toISOString();
  const flags = record.violation ? ' VIOLATION' : '';
  console.log(
    `#${n} from ${record.path.join(' > ')} (hops ${record.hops}) id ${record.id} at ${at} mac ${mac}${flags}  ` +
      text.decode(record.payload),
  );
}
