#!/usr/bin/env node
// `status` benchmark on sandbox hosts (needs root): `nix-infra fleet status` of N hosts against
// parallel-ssh running the very same probe script (src/remote/status-probe.ts) on the same hosts,
// measured in the same run. nix-infra also parses, re-renders nothing (never deployed) and
// prints a table; the baseline only collects the raw output.
// Usage: node bench/status.js [--sizes 8,64] [--runs 3]
// Needs: scripts/sandbox, Debian pssh, GNU time (scripts/setup.sh --bench installs them); `npm run build` first.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timed } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option('--sizes', '8,64').split(',').map(Number);
const runs = Number(option('--runs', '3'));
const SANDBOX_ID = '42';
const sandbox = (...a) => execFileSync(path.join(root, 'scripts', 'sandbox'), [...a, '--id', SANDBOX_ID], { stdio: ['ignore', 'pipe', 'inherit'] });
const bin = path.join(root, 'bin', 'run.js');
const { STATUS_SCRIPT } = await import(path.join(root, 'dist', 'src', 'remote', 'status-probe.js'));

const measure = timed;


function benchSize(n, work) {
  rmSync(work.project, { recursive: true, force: true });
  mkdirSync(work.project);
  // --project also pins the hosts' keys in the project's known_hosts: both sides trust the same keys.
  sandbox('up', String(n), '--project', work.project);
  const state = `/tmp/nix-infra-sandbox/${SANDBOX_ID}`;
  const key = path.join(work.project, 'ssh', 'sandbox');
  const knownHosts = path.join(state, 'hosts.keys');
  const ips = Array.from({ length: n }, (_, i) => `10.250.${SANDBOX_ID}.${11 + i}`);
  writeFileSync(path.join(work.dir, 'hosts'), ips.join('\n') + '\n');
  writeFileSync(path.join(work.dir, 'probe.sh'), STATUS_SCRIPT + '\n');
  const sshOpts = ['-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  const cases = {
    // Exit 3 is status's answer for "not in sync" (never deployed here), not a failure.
    'nix-infra fleet status': () => measure([process.execPath, bin, 'fleet', 'status', '-d', work.project, '--target', 'all', '--concurrency', String(n)], {}, [0, 3]),
    'parallel-ssh (same script)': () =>
      measure(['bash', '-c', `parallel-ssh -h ${work.dir}/hosts -l root -p ${n} -t 60 -x '${sshOpts.join(' ')}' -I -i 'bash -s' < ${work.dir}/probe.sh > /dev/null`]),
  };
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const order = Object.keys(cases);
  for (let r = 0; r < runs; r++) for (const name of r % 2 ? [...order].reverse() : order) results[name].push(cases[name]());
  sandbox('down');
  const paired = median(results['nix-infra fleet status'].map((s, i) => s.wall / results['parallel-ssh (same script)'][i].wall));
  return {
    status: median(results['nix-infra fleet status'].map((s) => s.wall)),
    pssh: median(results['parallel-ssh (same script)'].map((s) => s.wall)),
    ratio: paired,
    rss: Math.max(...results['nix-infra fleet status'].map((s) => s.rssMb)),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nix-infra-bench-status-'));
const work = { dir, project: path.join(dir, 'project') };
const rows = [];
try {
  for (const n of sizes) {
    const s = benchSize(n, work);
    rows.push(`| ${n} | ${s.status.toFixed(2)} | ${s.pssh.toFixed(2)} | ${s.ratio.toFixed(2)}x | ${s.rss.toFixed(0)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  try {
    sandbox('down');
  } catch {
    /* already down */
  }
}
console.log(
  [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}; median of ${runs} rounds, seconds; ratio = median of per-round ratios.`,
    '',
    '| hosts | nix-infra fleet status | parallel-ssh, same probe script | ratio | nix-infra peak RSS MB |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n'),
);
