#!/usr/bin/env node
// Deploy benchmark on sandbox hosts (needs root): `fleet deploy-apps --no-rebuild` of a node file
// with 2 secrets and 4 app modules (25 files, 225 KB) against a parallel `tar c | ssh tar x` and
// a parallel rsync of the same bytes, measured in the same run on the same hosts.
//   - first deploy (nodes emptied before each round) and repeat deploy (nothing changed)
//   - added round-trip latency +0/+20/+50 ms (tc netem on each host's interface, in its namespace)
//   - at the largest N: one host stopped (deployed count, time, exit code)
//   - peak RSS of nix-infra (GNU time), SSH sessions per host per deploy (sshd's own log)
// Usage: node bench/deploy.js [--sizes 8,32,64] [--delays 0,20,50] [--runs 3] [--write]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { median, timed } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option('--sizes', '8,32,64').split(',').map(Number);
const delays = option('--delays', '0,20,50').split(',').map(Number);
const runs = Number(option('--runs', '3'));
const CONNECT_TIMEOUT = 5;
const SANDBOX_ID = option('--id', '41');
const state = `/tmp/nix-infra-sandbox/${SANDBOX_ID}`;
const sandbox = (...a) => execFileSync(path.join(root, 'scripts', 'sandbox'), [...a, '--id', SANDBOX_ID], { stdio: ['ignore', 'pipe', 'inherit'] });
const bin = path.join(root, 'bin', 'run.js');
const env = { ...process.env, SSH_KEY: 'sandbox', SECRETS_PASS: 'bench-deploy-pass', NO_COLOR: '1' };

/** The deploy environment by default; `allowFail` accepts any exit status (the stopped-host round). */
const measure = (argv, options = {}) => timed(argv, { env, ...options }, options.allowFail ? null : [0]);


/** The project: fleet template, 2 secrets every node file uses, 4 app modules of 25 files / 225 KB. */
function makeProject(project, payload) {
  const init = spawnSync(process.execPath, [bin, 'init', '-d', project, '--batch', '--no-cert-auth', '--template', 'fleet'], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(init.stderr);
  for (const [name, value] of [['db.password', randomBytes(24).toString('base64')], ['api.token', randomBytes(32).toString('hex')]]) {
    const r = spawnSync(process.execPath, [bin, 'secrets', 'store', '-d', project, '--name', name, '--batch'], { env, input: value, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  let total = 0;
  for (let i = 0; i < 25; i++) {
    const rel = path.join('app_modules', `app${(i % 4) + 1}`, `part${i}.nix`);
    const size = i === 24 ? 225 * 1024 - total : 9000;
    const text = `# ${rel}\n{ ... }: {\n${'  # filler '.padEnd(64, 'x').concat('\n').repeat(Math.ceil(size / 65))}}\n`.slice(0, size);
    for (const dir of [project, payload]) {
      mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    total += size;
  }
}

function nodeFile(name) {
  return `{ ... }: {\n  networking.extraHosts = "[%%localhost.ipv4%%] ${name}";\n  environment.etc."app.conf".text = "[%%secrets/db.password%%] [%%secrets/api.token%%]";\n}\n`;
}

/** Runs `script` (with $ip and $k set) on every host over ssh, in parallel; untimed set-up work. */
function onEveryHost(ips, sshOpts, script) {
  const r = spawnSync('bash', ['-c', `k=0; for ip in ${ips.join(' ')}; do k=$((k+1)); ssh ${sshOpts.join(' ')} root@$ip ${JSON.stringify(script)} & done; wait`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let proxy;
const incidents = [];

/**
 * Adds `ms` of round-trip time between this machine and every host, for nix-infra and the
 * baselines alike: with tc netem when the kernel has it, else through bench/delay-proxy.js,
 * which listens on 127.0.1.<k>:22 for host k (servers.yaml and the pinned keys then name those
 * addresses). Returns the address to use for each host.
 */
function setDelay(n, ms, work) {
  if (proxy) {
    proxy.kill();
    proxy = undefined;
  }
  const real = Array.from({ length: n }, (_, i) => `10.250.${SANDBOX_ID}.${11 + i}`);
  let addresses = real;
  if (ms > 0 && !netem) {
    addresses = real.map((_, i) => `127.0.1.${i + 1}`);
    const out = path.join(work.dir, 'proxy.out');
    writeFileSync(out, '');
    proxy = spawn(process.execPath, [path.join(root, 'bench', 'delay-proxy.js'), String(ms), ...real.map((ip, i) => `${addresses[i]}=${ip}:22`)], { stdio: ['ignore', openSync(out, 'w'), 'inherit'] });
    for (let i = 0; i < 200 && !readFileSync(out, 'utf8').includes('ready'); i++) sleepMs(50);
  }
  for (let k = 1; k <= n && netem; k++) {
    const ns = `nxi${SANDBOX_ID}h${k}`;
    spawnSync('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'eth0', 'root'], { stdio: 'ignore' });
    if (ms > 0) execFileSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${ms}ms`, 'limit', '100000']);
  }
  const map = (text) => real.reduce((t, ip, i) => t.replaceAll(`${ip} `, `${addresses[i]} `).replaceAll(`ip: ${ip}\n`, `ip: ${addresses[i]}\n`), text);
  writeFileSync(path.join(work.project, 'servers.yaml'), map(readFileSync(path.join(work.dir, 'servers.yaml'), 'utf8')));
  writeFileSync(path.join(work.project, 'ssh', 'known_hosts'), map(readFileSync(path.join(state, 'hosts.keys'), 'utf8')));
  writeFileSync(path.join(work.dir, 'known_hosts'), map(readFileSync(path.join(state, 'hosts.keys'), 'utf8')));
  return addresses;
}

/** netem needs the sch_netem kernel module; probe it once on a throwaway namespace. */
const netem = (() => {
  const ns = `nxi${SANDBOX_ID}probe`;
  spawnSync('ip', ['netns', 'add', ns]);
  const ok = spawnSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']).status === 0;
  spawnSync('ip', ['netns', 'del', ns]);
  return ok;
})();

/** SSH sessions (exec, sftp, shell) each host's sshd started so far, summed over hosts. */
function sessionCount(n) {
  let count = 0;
  for (let k = 1; k <= n; k++) {
    const log = readFileSync(path.join(state, 'hosts', `node${String(k).padStart(3, '0')}`, 'sshd.log'), 'utf8');
    count += log.split('\n').filter((l) => l.includes('Starting session:')).length;
  }
  return count;
}

function benchSize(n, work, isLast) {
  sandbox('up', String(n), '--project', work.project);
  // init needs the key the sandbox writes into the project.
  if (!work.made) makeProject(work.project, work.payload);
  work.made = true;
  writeFileSync(path.join(work.dir, 'servers.yaml'), readFileSync(path.join(work.project, 'servers.yaml')));
  const knownHosts = path.join(work.dir, 'known_hosts');
  const key = path.join(work.project, 'ssh', 'sandbox');
  const names = Array.from({ length: n }, (_, i) => `node${String(i + 1).padStart(3, '0')}`);
  let ips = setDelay(n, 0, work);
  mkdirSync(path.join(work.project, 'nodes'), { recursive: true });
  for (const name of names) writeFileSync(path.join(work.project, 'nodes', `${name}.nix`), nodeFile(name));
  writeFileSync(path.join(work.payload, 'node.nix'), nodeFile('nodeNNN'));
  const sshOpts = ['-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
  const deploy = (targets, extra = []) =>
    measure([process.execPath, bin, 'fleet', 'deploy-apps', '-d', work.project, '--target', targets.join(' '), '--concurrency', String(n), '--no-rebuild', '--batch', '--json', '--connect-timeout', String(CONNECT_TIMEOUT), ...extra], { allowFail: true });
  const clean = () => onEveryHost(ips, sshOpts, 'rm -rf /etc/nixos/app_modules /etc/nixos/node*.nix /root/secrets /root/bench-tar /root/bench-rsync');
  // A deploy where some host failed is kept (its time counts) and reported, not fatal: on this
  // shared machine a connection is occasionally lost under load, and the round is still a round.
  const ok = (r) => {
    if (r.status !== 0) {
      const failed = (JSON.parse(r.stdout || '{"hosts":[]}').hosts ?? []).filter((h) => h.ok === false).map((h) => `${h.host}: ${h.error}`);
      incidents.push(`N=${n}: a deploy exited ${r.status}: ${failed.join('; ') || r.stderr.slice(-300)}`);
      console.error(incidents.at(-1));
    }
    return r;
  };
  const cases = {
    first: () => {
      clean();
      const before = sessionCount(n);
      const r = ok(deploy(names));
      return { ...r, sessions: (sessionCount(n) - before) / n };
    },
    repeat: () => {
      const before = sessionCount(n);
      const r = ok(deploy(names));
      return { ...r, sessions: (sessionCount(n) - before) / n };
    },
    tar: () => measure(['bash', '-c', `for ip in ${ips.join(' ')}; do tar c -C ${work.payload} . | ssh ${sshOpts.join(' ')} root@$ip 'mkdir -p /root/bench-tar && tar x -C /root/bench-tar' & done; wait`]),
    rsync: () => measure(['bash', '-c', `for ip in ${ips.join(' ')}; do rsync -a --delete -e 'ssh ${sshOpts.join(' ')}' ${work.payload}/ root@$ip:/root/bench-rsync/ & done; wait`]),
  };
  const rows = [];
  for (const delay of delays) {
    ips = setDelay(n, delay, work);
    const results = Object.fromEntries(Object.keys(cases).map((c) => [c, []]));
    // Each round runs every case once, the order reversed every other round (repeat always after
    // a first), so slow drifts of this shared machine hit both sides alike.
    for (let r = 0; r < runs; r++) {
      const pass = r % 2 ? ['tar', 'rsync', 'first', 'repeat'] : ['first', 'repeat', 'rsync', 'tar'];
      for (const name of pass) results[name].push(cases[name]());
    }
    const paired = (a, b) => median(results[a].map((s, i) => s.wall / results[b][i].wall));
    rows.push({
      n,
      delay,
      first: median(results.first.map((s) => s.wall)),
      repeat: median(results.repeat.map((s) => s.wall)),
      tar: median(results.tar.map((s) => s.wall)),
      rsync: median(results.rsync.map((s) => s.wall)),
      firstVsTar: paired('first', 'tar'),
      repeatVsTar: paired('repeat', 'tar'),
      sessionsFirst: median(results.first.map((s) => s.sessions)),
      sessionsRepeat: median(results.repeat.map((s) => s.sessions)),
      rssMb: Math.max(...results.first.map((s) => s.rssMb), ...results.repeat.map((s) => s.rssMb)),
    });
    console.error(`N=${n} +${delay} ms: ${JSON.stringify(rows.at(-1))}`);
  }
  ips = setDelay(n, 0, work);
  let stopped;
  if (isLast) {
    // One host stopped: the others are deployed, it is reported failed within the connect timeout.
    // Both deploys start from emptied nodes, so "normal" is a first deploy like the stopped one.
    clean();
    const normal = deploy(names);
    clean();
    sandbox('stop-host', String(n));
    const r = deploy(names);
    const report = JSON.parse(r.stdout || '{"hosts":[]}');
    const hosts = report.hosts ?? [];
    const failed = hosts.filter((h) => h.ok === false);
    stopped = { n, wall: r.wall, normal: normal.wall, status: r.status, deployed: hosts.filter((h) => h.ok !== false).length, failed: failed.map((h) => `${h.host}: ${h.error}`) };
    console.error(`stopped host: ${JSON.stringify(stopped)}`);
  }
  sandbox('down');
  return { rows, stopped };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nix-infra-bench-deploy-'));
const work = { dir, project: path.join(dir, 'project'), payload: path.join(dir, 'payload') };
mkdirSync(work.project);
mkdirSync(work.payload);
const rows = [];
let stopped;
try {
  for (const [i, n] of sizes.entries()) {
    const s = benchSize(n, work, i === sizes.length - 1);
    rows.push(...s.rows);
    stopped = s.stopped ?? stopped;
  }
} finally {
  proxy?.kill();
  rmSync(dir, { recursive: true, force: true });
  try {
    sandbox('down');
  } catch {
    /* already down */
  }
}

const verdicts = [...incidents];
for (const r of rows) {
  if (r.delay === 0) verdicts.push(`N=${r.n}: repeat deploy ${r.repeatVsTar.toFixed(2)}x of tar|ssh (target <= 1.3x)${r.repeatVsTar <= 1.3 ? '' : ' NOT met'}`);
  if (r.delay === 50) verdicts.push(`N=${r.n} +50 ms: first ${r.firstVsTar.toFixed(2)}x, repeat ${r.repeatVsTar.toFixed(2)}x of tar|ssh (target <= 2x)${Math.max(r.firstVsTar, r.repeatVsTar) <= 2 ? '' : ' NOT met'}`);
}
const peak = Math.max(...rows.map((r) => r.rssMb));
verdicts.push(`peak RSS ${peak.toFixed(0)} MB (target <= 200 MB)`);
if (stopped) {
  verdicts.push(
    `N=${stopped.n}, one host stopped: ${stopped.deployed} deployed, exit ${stopped.status}, ${stopped.wall.toFixed(2)} s (a first deploy to all: ${stopped.normal.toFixed(2)} s; + connect timeout ${CONNECT_TIMEOUT} s); ${stopped.failed.join('; ')}`,
  );
}
const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; sandbox hosts (network namespaces, OpenSSH sshd), latency added ${netem ? 'with tc netem on each host' : 'by bench/delay-proxy.js (no sch_netem in this kernel)'}; median of ${runs} rounds, seconds; ratios are medians of per-round ratios; sessions = SSH sessions (exec channels) per host per deploy, from sshd's log, plus one login each.`,
  '',
  '| hosts | +RTT ms | deploy first | deploy repeat | tar\\|ssh | rsync | first/tar | repeat/tar | sessions first/repeat | peak RSS MB |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.n} | ${r.delay} | ${r.first.toFixed(2)} | ${r.repeat.toFixed(2)} | ${r.tar.toFixed(2)} | ${r.rsync.toFixed(2)} | ${r.firstVsTar.toFixed(2)}x | ${r.repeatVsTar.toFixed(2)}x | ${r.sessionsFirst}/${r.sessionsRepeat} | ${r.rssMb.toFixed(0)} |`),
  '',
  ...verdicts.map((v) => `- ${v}`),
].join('\n');
console.log(report);

if (args.includes('--write')) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const block = `<!-- deploy:begin -->\n${report}\n<!-- deploy:end -->`;
  const updated = text.includes('<!-- deploy:begin -->') ? text.replace(/<!-- deploy:begin -->[\s\S]*<!-- deploy:end -->/, block) : `${text.trimEnd()}\n\n## Deploy\n\n${block}\n`;
  writeFileSync(file, updated);
  console.log(`\nwrote ${path.relative(root, file)}`);
}
