#!/usr/bin/env node
// Fan-out benchmark on sandbox hosts (needs root): nix-infra against the usual tools, measured in
// the same run on the same hosts.
//   (a) `fleet cmd true` vs parallel-ssh (pssh) and `ansible -m command -f N`
//   (b) `fleet upload` of a 300-file, 5 MB tree vs a `tar c | ssh tar x` fan-out
// Usage: node bench/fanout.js [--sizes 8,32,64] [--runs 5] [--write]
// Needs: scripts/sandbox, Debian pssh, ansible, GNU time (scripts/setup.sh --bench installs them).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { median, timed } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option('--sizes', '8,32,64').split(',').map(Number);
const runs = Number(option('--runs', '5'));
const SANDBOX_ID = '40';
const sandbox = (...a) => execFileSync(path.join(root, 'scripts', 'sandbox'), [...a, '--id', SANDBOX_ID], { stdio: ['ignore', 'pipe', 'inherit'] });
const bin = path.join(root, 'bin', 'run.js');

const measure = (argv, options = {}) => timed(argv, options);


function makeTree(dir) {
  // 300 files, 5 MB in all, in 10 folders: sizes vary like a real bundle.
  let total = 0;
  for (let i = 0; i < 300; i++) {
    const folder = path.join(dir, 'tree', `d${i % 10}`);
    mkdirSync(folder, { recursive: true });
    const size = i === 299 ? 5 * 2 ** 20 - total : Math.floor(((i % 7) + 1) * 2500);
    writeFileSync(path.join(folder, `f${i}.bin`), randomBytes(size));
    total += size;
  }
}

function benchSize(n, work) {
  sandbox('up', String(n), '--project', work.project);
  const state = `/tmp/nix-infra-sandbox/${SANDBOX_ID}`;
  const key = path.join(work.project, 'ssh', 'sandbox');
  const knownHosts = path.join(state, 'hosts.keys');
  const names = Array.from({ length: n }, (_, i) => `node${String(i + 1).padStart(3, '0')}`);
  const ips = Array.from({ length: n }, (_, i) => `10.250.${SANDBOX_ID}.${11 + i}`);
  writeFileSync(path.join(work.dir, 'hosts'), ips.join('\n') + '\n');
  writeFileSync(path.join(work.dir, 'inventory'), ['[all]', ...ips].join('\n') + '\n');
  // Same trust for everyone: nix-infra's pinned keys come from the sandbox's host keys.
  mkdirSync(path.join(work.project, 'ssh'), { recursive: true });
  writeFileSync(path.join(work.project, 'ssh', 'known_hosts'), readFileSync(knownHosts));
  const sshOpts = ['-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  const targets = names.join(' ');

  const cases = {
    'nix-infra fleet cmd': () => measure([process.execPath, bin, 'fleet', 'cmd', '-d', work.project, '--target', targets, '--concurrency', String(n), 'true']),
    'parallel-ssh': () => measure(['parallel-ssh', '-h', path.join(work.dir, 'hosts'), '-l', 'root', '-p', String(n), '-t', '60', '-x', sshOpts.join(' '), 'true']),
    'ansible -m command': () =>
      measure(['ansible', 'all', '-i', path.join(work.dir, 'inventory'), '-u', 'root', '-f', String(n), '-m', 'command', '-a', 'true', '--private-key', key], {
        env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${knownHosts}`, ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' },
      }),
    'nix-infra fleet upload': () =>
      measure([process.execPath, bin, 'fleet', 'upload', '-d', work.project, '--target', targets, '--concurrency', String(n), '--file', path.join(work.dir, 'tree'), '--remote-path', '/root/bench-upload']),
    'tar | ssh fan-out': () =>
      measure([
        'bash', '-c',
        `for ip in $(cat ${work.dir}/hosts); do tar c -C ${work.dir} tree | ssh ${sshOpts.join(' ')} root@$ip 'mkdir -p /root/bench-tar && tar x -C /root/bench-tar' & done; wait`,
      ]),
  };
  const results = {};
  for (const name of Object.keys(cases)) results[name] = [];
  // Each round runs every case once, in an order that is reversed every other round, so slow
  // drifts of this shared machine hit both sides of a comparison alike.
  const order = Object.keys(cases);
  for (let r = 0; r < runs; r++) for (const name of r % 2 ? [...order].reverse() : order) results[name].push(cases[name]());
  sandbox('down');
  const summary = {};
  for (const [name, samples] of Object.entries(results)) {
    summary[name] = { wall: median(samples.map((s) => s.wall)), rssMb: Math.max(...samples.map((s) => s.rssMb)), samples };
  }
  // Ratios are the median of per-round ratios (paired), which is steadier than a ratio of medians.
  const paired = (a, b) => median(results[a].map((s, i) => s.wall / results[b][i].wall));
  summary.ratios = {
    cmdVsPssh: paired('nix-infra fleet cmd', 'parallel-ssh'),
    cmdVsAnsible: paired('nix-infra fleet cmd', 'ansible -m command'),
    uploadVsTar: paired('nix-infra fleet upload', 'tar | ssh fan-out'),
  };
  return summary;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nix-infra-bench-'));
const work = { dir, project: path.join(dir, 'project') };
mkdirSync(work.project);
makeTree(dir);
const rows = [];
const verdicts = [];
try {
  for (const n of sizes) {
    const s = benchSize(n, work);
    const cmd = s['nix-infra fleet cmd'];
    const pssh = s['parallel-ssh'];
    const ans = s['ansible -m command'];
    const up = s['nix-infra fleet upload'];
    const tar = s['tar | ssh fan-out'];
    const r = s.ratios;
    const spread = (x) => `${Math.min(...x.samples.map((v) => v.wall)).toFixed(2)}-${Math.max(...x.samples.map((v) => v.wall)).toFixed(2)}`;
    rows.push(`| ${n} | ${cmd.wall.toFixed(2)} | ${pssh.wall.toFixed(2)} (${r.cmdVsPssh.toFixed(2)}x) | ${ans.wall.toFixed(2)} (${r.cmdVsAnsible.toFixed(2)}x) | ${up.wall.toFixed(2)} [${spread(up)}] | ${tar.wall.toFixed(2)} [${spread(tar)}] (${r.uploadVsTar.toFixed(2)}x) | ${Math.max(cmd.rssMb, up.rssMb).toFixed(0)} |`);
    if (n >= 32) verdicts.push(`N=${n}: cmd ${r.cmdVsPssh < 1 ? 'faster' : 'NOT faster'} than parallel-ssh (${r.cmdVsPssh.toFixed(2)}x)`);
    verdicts.push(`N=${n}: upload ${r.uploadVsTar.toFixed(2)}x of tar|ssh (target <= 1.3x)${r.uploadVsTar <= 1.3 ? '' : ' NOT met'}`);
    if (n === 64) verdicts.push(`N=64: peak RSS ${Math.max(cmd.rssMb, up.rssMb).toFixed(0)} MB (target <= 200 MB)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  try {
    sandbox('down');
  } catch {
    /* already down */
  }
}

const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; sandbox hosts (network namespaces, OpenSSH sshd); median of ${runs} rounds, seconds, [min-max]; ratios are medians of per-round ratios.`,
  '',
  '| hosts | nix-infra cmd | parallel-ssh (ratio) | ansible (ratio) | nix-infra upload | tar\\|ssh (ratio) | nix-infra peak RSS MB |',
  '|---|---|---|---|---|---|---|',
  ...rows,
  '',
  ...verdicts.map((v) => `- ${v}`),
].join('\n');
console.log(report);

if (args.includes('--write')) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const updated = text.replace(/<!-- fanout:begin -->[\s\S]*<!-- fanout:end -->/, `<!-- fanout:begin -->\n${report}\n<!-- fanout:end -->`);
  writeFileSync(file, updated);
  console.log(`\nwrote ${path.relative(root, file)}`);
}
