#!/usr/bin/env node
// Writes schema/servers.schema.json (the JSON Schema editors use to complete and check
// servers.yaml) from the zod schema in src/config/servers-schema.ts. Run after `npm run build`.
//
//   node scripts/export-schema.js           regenerate the file
//   node scripts/export-schema.js --check   exit 1 if the file on disk is stale (for CI)
//
// The text comes from renderServersJsonSchema(), the same function the test suite compares the
// committed file against, so this script and the test cannot disagree about formatting.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderServersJsonSchema } from '../dist/src/config/servers-schema.js';

const target = fileURLToPath(new URL('../schema/servers.schema.json', import.meta.url));
const shown = path.relative(process.cwd(), target) || target;
const expected = renderServersJsonSchema();

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === expected) {
    console.log(`${shown} is up to date`);
  } else {
    console.error(`${shown} is ${current === undefined ? 'missing' : 'out of date'} with src/config/servers-schema.ts`);
    console.error('regenerate it with: npm run build && node scripts/export-schema.js');
    process.exitCode = 1;
  }
} else {
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, expected);
  console.log(`wrote ${shown}`);
}
