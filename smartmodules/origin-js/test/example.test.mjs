// The README's example: its code is examples/consume.mjs, and its output is what
// `node examples/produce.mjs | ORIGIN_SECRET=demo-shared-secret ORIGIN_SCOPE=orders node examples/consume.mjs`
// prints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { crateDir } from './helpers.mjs';

const readme = readFileSync(join(crateDir, 'README.md'), 'utf8');
const COMMAND =
  '$ node examples/produce.mjs | ORIGIN_SECRET=demo-shared-secret ORIGIN_SCOPE=orders node examples/consume.mjs';

function fenced(lang) {
  return [...readme.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]);
}

test('the README shows examples/consume.mjs as it is', () => {
  const code = readFileSync(join(crateDir, 'examples', 'consume.mjs'), 'utf8');
  assert.ok(fenced('js').includes(code), 'a ```js block of README.md is examples/consume.mjs');
});

test('the README shows the real output of the example', () => {
  const block = fenced('console').find((b) => b.startsWith(`${COMMAND}\n`));
  assert.ok(block, `README.md has a \`\`\`console block starting with ${COMMAND}`);
  const shown = block.slice(COMMAND.length + 1);
  const values = execFileSync(process.execPath, ['examples/produce.mjs'], { cwd: crateDir });
  const output = execFileSync(process.execPath, ['examples/consume.mjs'], {
    cwd: crateDir,
    input: values,
    env: { ...process.env, ORIGIN_SECRET: 'demo-shared-secret', ORIGIN_SCOPE: 'orders' },
    encoding: 'utf8',
  });
  assert.equal(output, shown);
});
