#!/usr/bin/env node
// Fails when the command reference in README.md is not what `oclif readme` generates from the
// current commands, so the README cannot drift from --help. Fix with `npm run readme`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'nix-infra-readme-'));
try {
  const copy = path.join(tmp, 'README.md');
  copyFileSync(path.join(root, 'README.md'), copy);
  const oclif = path.join(root, 'node_modules', '.bin', 'oclif');
  const result = spawnSync(oclif, ['readme', '--readme-path', copy, '--no-aliases'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    process.exit(1);
  }
  if (readFileSync(copy, 'utf8') !== readFileSync(path.join(root, 'README.md'), 'utf8')) {
    process.stderr.write('README.md: the command reference is stale; run `npm run readme` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('README.md command reference is up to date\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
