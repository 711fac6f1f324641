#!/usr/bin/env node
// Provisioning benchmark against the local Hetzner-API server (test/hetzner-api/) with real
// latency on every request.
//   (a) provider only, in-process: creating N servers vs creating ONE server (the baseline, same
//       run, same latency): wall time, requests per server, gap between action polls.
//   (b) with --full (root): `nix-infra provision` of N nodes end to end, the API's servers backed
//       by sandbox hosts (scripts/sandbox-backing), conversion by the nixos-infect stand-in.
// Usage: node bench/provision.js [--nodes 20] [--latency-ms 200] [--action-ms 8000] [--runs 3] [--full] [--write]
// Run `npm run build` first (it reads dist/).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const nodes = Number(option('--nodes', '20'));
const latencyMs = Number(option('--latency-ms', '200'));
const actionMs = Number(option('--action-ms', '8000'));
const runs = Number(option('--runs', '3'));
const full = args.includes('--full');

const { startHetznerApi } = await import(path.join(root, 'dist/test/hetzner-api/server.js'));
const { commandHooks } = await import(path.join(root, 'dist/test/hetzner-api/backing.js'));
const { HetznerProvider } = await import(path.join(root, 'dist/src/adapters/providers/hetzner/hetzner-provider.js'));

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench';
const labels = { project: 'bench', role: 'cluster' };

/**
 * Gaps (ms) between the starts of consecutive poll rounds, from the API's own request log. A round
 * with more ids than one request takes sends its requests back to back, one latency apart; a poll
 * that follows the previous one by more than 1.5 latencies starts a new round.
 */
function pollGaps(requests) {
  const times = requests.filter((r) => r.method === 'GET' && r.path === '/v1/actions').map((r) => r.time);
  const starts = times.filter((t, i) => i === 0 || t - times[i - 1] > latencyMs * 1.5);
  return starts.slice(1).map((t, i) => t - starts[i]);
}

async function providerRun(count) {
  const api = await startHetznerApi({ latencyMs, actionMs, maxLoggedRequests: 100_000 });
  try {
    const provider = new HetznerProvider({ token: api.token, endpoint: api.endpoint });
    await provider.addSshKey('bench', PUBLIC_KEY);
    const before = api.counters.total;
    const started = performance.now();
    const outcomes = await provider.ensureServers({
      servers: Array.from({ length: count }, (_, i) => ({ name: `node${String(i + 1).padStart(3, '0')}`, machineType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04' })),
      labels,
      sshKeyName: 'bench',
      placementGroup: 'bench',
    });
    const wall = (performance.now() - started) / 1000;
    if (!outcomes.every((o) => o.state === 'created')) throw new Error(`not all created: ${JSON.stringify(outcomes.filter((o) => o.state !== 'created'))}`);
    const requests = api.requests.slice(-(api.counters.total - before));
    const polls = requests.filter((r) => r.method === 'GET' && r.path === '/v1/actions').length;
    return { wall, total: requests.length, polls, nonPoll: requests.length - polls, gaps: pollGaps(requests) };
  } finally {
    await api.close();
  }
}

const rounds = [];
for (let r = 0; r < runs; r++) {
  const single = await providerRun(1);
  const many = await providerRun(nodes);
  rounds.push({ single, many, ratio: many.wall / single.wall });
  console.error(`round ${r + 1}: 1 server ${single.wall.toFixed(2)} s, ${nodes} servers ${many.wall.toFixed(2)} s, ${many.total} requests (${many.polls} polls)`);
}
const last = rounds.at(-1).many;
const minGap = Math.min(...rounds.flatMap((r) => [...r.many.gaps, ...r.single.gaps]));
const perServer = last.nonPoll / nodes;
const ratio = median(rounds.map((r) => r.ratio));
const simulated = (actionMs + latencyMs) / 1000;

let fullRow;
if (full) fullRow = await fullRun();

function run(command, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

async function fullRun() {
  const id = '41';
  const sandbox = (...a) => execFileSync(path.join(root, 'scripts', 'sandbox'), [...a, '--id', id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nix-infra-bench-provision-'));
  sandbox('up', String(nodes));
  const stateDir = `/tmp/nix-infra-sandbox/${id}`;
  process.env.SANDBOX_ID = id;
  process.env.BACKING_PUBKEY = path.join(stateDir, 'ssh', 'sandbox.pub');
  const api = await startHetznerApi({ latencyMs, actionMs, maxLoggedRequests: 100_000, ...commandHooks(path.join(root, 'scripts', 'sandbox-backing')) });
  try {
    mkdirSync(path.join(dir, 'ssh'), { mode: 0o700 });
    copyFileSync(path.join(stateDir, 'ssh', 'sandbox'), path.join(dir, 'ssh', 'sandbox'));
    copyFileSync(path.join(stateDir, 'ssh', 'sandbox.pub'), path.join(dir, 'ssh', 'sandbox.pub'));
    copyFileSync(path.join(root, 'templates', 'common', 'configuration.nix'), path.join(dir, 'configuration.nix'));
    const names = Array.from({ length: nodes }, (_, i) => `n${String(i + 1).padStart(3, '0')}`).join(' ');
    const started = performance.now();
    // Asynchronously: the API server answers from this very process.
    const result = await run(
      process.execPath,
      [path.join(root, 'bin', 'run.js'), 'provision', '-d', dir, '--ssh-key', 'sandbox', '--node-names', names, '--nixos-version', '25.05',
        '--machine-type', 'cx22', '--location', 'fsn1', '--placement-group', 'bench', '--batch',
        '--nixos-infect-source', 'file:///usr/local/lib/nix-infra-sandbox/nixos-infect', '--nixos-infect-ref', 'test'],
      { PATH: process.env.PATH, HOME: process.env.HOME, HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint },
    );
    const wall = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`provision failed (${result.status}): ${result.stderr.slice(-3000)}`);
    return { wall, requests: api.counters.total };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
    try {
      sandbox('down');
    } catch {
      /* already down */
    }
  }
}

const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; local API server with ${latencyMs} ms latency on every request and ${actionMs / 1000} s create actions; median of ${runs} rounds.`,
  '',
  '| what | wall s | requests | requests per server (without polls) | action polls (rounds) | shortest gap between poll rounds |',
  '|---|---|---|---|---|---|',
  `| 1 server (baseline) | ${median(rounds.map((r) => r.single.wall)).toFixed(2)} | ${rounds.at(-1).single.total} | ${rounds.at(-1).single.nonPoll} | ${rounds.at(-1).single.polls} (${rounds.at(-1).single.gaps.length + 1}) | |`,
  `| ${nodes} servers, placement group | ${median(rounds.map((r) => r.many.wall)).toFixed(2)} | ${last.total} | ${perServer.toFixed(2)} | ${last.polls} (${last.gaps.length + 1}) | ${(minGap / 1000).toFixed(2)} s |`,
  ...(fullRow ? [`| \`nix-infra provision\` of ${nodes} sandbox-backed nodes, conversion included | ${fullRow.wall.toFixed(2)} | ${fullRow.requests} | | | |`] : []),
  '',
  `- ${nodes} servers vs 1 server: ${ratio.toFixed(2)}x (target <= 1.5x of the slowest single server's ready time): ${ratio <= 1.5 ? 'met' : 'NOT met'}; against the simulated ready time alone (${simulated.toFixed(1)} s) ${(median(rounds.map((r) => r.many.wall)) / simulated).toFixed(2)}x.`,
  `- Requests per server ${perServer.toFixed(2)} plus ${last.polls} shared polls (target <= 3 per server): ${perServer <= 3 ? 'met' : 'NOT met'}; polls at least 1 s apart: ${minGap >= 1000 ? 'met' : 'NOT met'}.`,
].join('\n');
console.log(report);

if (args.includes('--write')) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  let text = readFileSync(file, 'utf8');
  const block = `<!-- provision:begin -->\n${report}\n<!-- provision:end -->`;
  if (text.includes('<!-- provision:begin -->')) text = text.replace(/<!-- provision:begin -->[\s\S]*<!-- provision:end -->/, block);
  else {
    text += `\n## Provisioning (\`bench/provision.js\`)\n\nThe provider's part of \`provision\` against the local Hetzner-API server (\`test/hetzner-api/\`)\nwith latency on every request: one listing for the batch, the SSH key and placement group looked\nup once, one create per server, and the create actions of all servers polled together, at most\nonce a second. The baseline is one server created alone in the same run. With \`--full\` (root) the\nwhole command also runs on sandbox hosts, conversion included (reboot delay 1 s per host).\n\nRun: \`npm run build && node bench/provision.js --nodes 20 --latency-ms 200 --runs 3 --full --write\`.\n\n${block}\n`;
  }
  writeFileSync(file, text);
  console.log(`\nwrote ${path.relative(root, file)}`);
}
