#!/usr/bin/env node
// Start-up cost of the CLI against the floor (`node -e 0`), measured in the same run.
// Usage: node bench/startup.js [--runs N] [--write]   (--write updates docs/benchmarks.md)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) > 0 && args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 30;
const bin = path.join(root, 'bin', 'run.js');

const cases = [
  { name: 'node -e 0 (baseline)', argv: ['-e', '0'] },
  { name: 'nix-infra --version', argv: [bin, '--version'] },
  { name: 'nix-infra --help', argv: [bin, '--help'] },
  { name: 'nix-infra help cluster deploy-apps', argv: [bin, 'help', 'cluster', 'deploy-apps'] },
  { name: 'nix-infra secrets list (empty project)', argv: [bin, 'secrets', 'list', '-d', os.tmpdir()] },
];

function timeOnce(argv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'ignore'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}`);
  return ms;
}


// Interleave the cases so that machine noise hits all of them alike; one warm-up round first.
for (const c of cases) timeOnce(c.argv);
const samples = cases.map(() => []);
for (let i = 0; i < runs; i++) cases.forEach((c, j) => samples[j].push(timeOnce(c.argv)));

const baseline = median(samples[0]);
const rows = cases.map((c, j) => {
  const m = median(samples[j]);
  return `| ${c.name} | ${m.toFixed(1)} | ${(m / baseline).toFixed(2)}x |`;
});
const versionRatio = median(samples[1]) / baseline;
const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; median of ${runs} interleaved runs.`,
  '',
  '| command | median ms | vs `node -e 0` |',
  '|---|---|---|',
  ...rows,
  '',
  `Target: \`--version\` at most 2.5x of \`node -e 0\`: ${versionRatio <= 2.5 ? 'met' : 'NOT met'} (${versionRatio.toFixed(2)}x).`,
].join('\n');
console.log(report);

if (args.includes('--write')) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- startup:begin -->';
  const end = '<!-- startup:end -->';
  const updated = text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${report}\n${end}`);
  writeFileSync(file, updated);
  console.log(`\nwrote ${path.relative(root, file)}`);
}
