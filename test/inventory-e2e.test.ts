import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { runCli, type CliResult } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/** Six hosts, two tiers, three roles; tags on some. */
const attributes: Record<string, { role: string; tier: string; tags?: string[] }> = {
  node001: { role: 'web', tier: 'test', tags: ['canary'] },
  node002: { role: 'web', tier: 'test' },
  node003: { role: 'db', tier: 'test' },
  node004: { role: 'web', tier: 'prod', tags: ['eu'] },
  node005: { role: 'db', tier: 'prod', tags: ['eu'] },
  node006: { role: 'cache', tier: 'prod' },
};

/** The CLI in the background, as a second operator's terminal: its pid, and its end. */
function startCli(args: readonly string[]): { pid: number; signal: (sig: NodeJS.Signals) => void; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { pid: child.pid ?? -1, signal: (sig) => child.kill(sig), done };
}

/** Waits for a fact (bounded): a file the holder's remote command creates once it runs. */
async function until(what: string, check: () => Promise<boolean>, bail?: Promise<CliResult>): Promise<void> {
  let ended: CliResult | undefined;
  void bail?.then((r) => (ended = r));
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    if (ended !== undefined) throw new Error(`${what}: the command ended first: ${ended.code} ${ended.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not after 60 s`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('inventory on 6 sandbox hosts', { skip, timeout: 300_000 }, () => {
 it('selectors, tier guard, lock and audit (one sandbox)', async (t) => {
  let dir: string;
  let sandbox: Sandbox;
  const hits = (host: string) => path.join(sandbox.hosts.find((h) => h.name === host)?.upperDir ?? '/nonexistent', 'root', 'hits');
  /** Which hosts a `cmd` that appends to /root/hits reached, counted on the hosts themselves. */
  async function reached(): Promise<string[]> {
    const found: string[] = [];
    for (const host of sandbox.hosts) if (await exists(hits(host.name))) found.push(host.name);
    return found;
  }
  async function clearHits(): Promise<void> {
    for (const host of sandbox.hosts) await sandbox.exec(host.name, ['rm', '-f', '/root/hits']);
  }
  const cmd = (target: string[], script = 'echo hit >> /root/hits; hostname', extra: string[] = []) =>
    runCli(['fleet', 'cmd', '-d', dir, ...target.flatMap((t) => ['--target', t]), ...extra, script]);

  {
    dir = await tempDir(t, 'nix-infra-inventory-');
    sandbox = await startSandbox(t, { hosts: 6, project: dir });
    const file = path.join(dir, 'servers.yaml');
    const doc = parse(await readFile(file, 'utf8')) as { servers: Record<string, Record<string, unknown>> };
    for (const [name, attrs] of Object.entries(attributes)) Object.assign(doc.servers[name] ?? {}, attrs);
    await writeFile(file, stringify(doc));
  }

  await t.test('refused selections connect to nothing: a bad selector, an unnamed prod tier, a bare all', async () => {
    for (const bad of ['tier:test+role:wbe', 'nosuch', 'foo:bar']) {
      const result = await cmd([bad]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, bad === 'nosuch' ? /unknown node\(s\): nosuch/ : /role:wbe|not a valid node name or selector: "foo:bar"/);
    }
    const prod = await cmd(['node004 node001']);
    assert.equal(prod.code, 2, prod.stderr);
    assert.match(prod.stderr, /protected tier prod: node004: name the tier/);
    assert.match(prod.stderr, /--allow-tier prod/);
    const all = await cmd(['all']);
    assert.equal(all.code, 2);
    assert.match(all.stderr, /bare "all" is refused/);
    // Nothing connected: no host ran the command, and no host key was ever pinned.
    assert.deepEqual(await reached(), []);
    assert.equal(await exists(path.join(dir, 'ssh', 'known_hosts')), false, 'no connection was made');
  });

  await t.test('select and servers list print the selection without connecting', async () => {
    // A copy whose addresses lead nowhere: any connection attempt would fail or hang.
    const offline = await tempDir(t, 'nix-infra-offline-');
    await cp(dir, offline, { recursive: true });
    const yamlText = await readFile(path.join(offline, 'servers.yaml'), 'utf8');
    await writeFile(path.join(offline, 'servers.yaml'), yamlText.replace(/ip: \S+/g, (_m) => `ip: 192.0.2.${Math.floor(Math.random() * 200) + 1}`));
    const selected = await runCli(['select', '-d', offline, 'tier:test+role:web']);
    assert.equal(selected.code, 0, selected.stderr);
    assert.equal(selected.stdout, 'node001\nnode002\n');
    const union = await runCli(['select', '-d', offline, 'role:db @canary', '!node005', '--json']);
    assert.deepEqual((JSON.parse(union.stdout) as { nodes: string[] }).nodes, ['node003', 'node001']);
    const none = await runCli(['select', '-d', offline, 'role:cache+tier:test']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /selector matches no node: "role:cache\+tier:test"/);
    const list = await runCli(['servers', 'list', '-d', offline, '--on', 'tier:prod']);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split('\n');
    assert.match(rows[0] ?? '', /^NAME\s+ADDRESS\s+PORT\s+USER\s+PROVIDER\s+ROLE\s+TIER\s+TAGS$/);
    assert.deepEqual(rows.slice(1).map((r) => r.split(/\s+/).filter((_, i) => [0, 5, 6, 7].includes(i))), [
      ['node004', 'web', 'prod', 'eu'],
      ['node005', 'db', 'prod', 'eu'],
      ['node006', 'cache', 'prod', '-'],
    ]);
  });

  await t.test("fleet cmd --target 'tier:test+role:web' reaches exactly node001 and node002", async () => {
    await clearHits();
    const result = await cmd(['tier:test+role:web']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), ['node001: node001', 'node002: node002']);
    assert.deepEqual(await reached(), ['node001', 'node002']);

    await clearHits();
    const prod = await runCli(['fleet', 'cmd', '-d', dir, '--on', 'role:web+tier:prod', '--on', 'node005+tier:prod', 'echo hit >> /root/hits']);
    assert.equal(prod.code, 0, prod.stderr);
    assert.deepEqual(await reached(), ['node004', 'node005']);

    await clearHits();
    const allowed = await cmd(['@eu !node005'], undefined, ['--allow-tier', 'prod']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(await reached(), ['node004']);
  });

  await t.test('upstream\'s --target "a b" form behaves as before (order, commas, repeats)', async () => {
    await clearHits();
    const result = await cmd(['node003 node001', 'node002,node003'], 'echo hit >> /root/hits; hostname', ['--concurrency', '1']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['node003: node003', 'node001: node001', 'node002: node002']);
    assert.deepEqual(await reached(), ['node001', 'node002', 'node003']);
  });

  // A run that holds node003's lock until the test creates /root/go on it.
  const upper = (host: string, ...rel: string[]) => path.join(sandbox.hosts.find((h) => h.name === host)?.upperDir ?? '/nonexistent', ...rel);
  const holdScript = 'rm -f /root/go; touch /root/started; while [ ! -e /root/go ]; do sleep 0.1; done; echo holder >> /root/changes';
  async function startHolder(): Promise<ReturnType<typeof startCli>> {
    await sandbox.exec('node003', ['rm', '-f', '/root/started', '/root/go']);
    const holder = startCli(['fleet', 'cmd', '-d', dir, '--target', 'node003', holdScript]);
    await until('holder started', () => exists(upper('node003', 'root', 'started')), holder.done);
    return holder;
  }
  const gcCalls = async () => (await sandbox.calls('node003')).filter((c) => c[0] === 'nix-collect-garbage').length;
  const lockState = async () => (await runCli(['lock', 'status', '-d', dir, '--target', 'node003'])).stdout.trim();

  await t.test('two runs on one node: the second exits 75 naming the owner and changes nothing', async () => {
    const holder = await startHolder();
    const gcBefore = await gcCalls();
    const second = await runCli(['fleet', 'gc', '-d', dir, '--target', 'node003', '--batch']);
    assert.equal(second.code, 75, second.stderr);
    assert.match(second.stderr, new RegExp(`node003: deploy lock held by \\S+@\\S+ \\(pid ${holder.pid}, nix-infra fleet cmd --target "node003"\\) for \\d+s; nothing was changed`));
    assert.equal(await gcCalls(), gcBefore, 'the second run did not change the node');
    const third = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node003 node002', '--lock-timeout', '0', 'echo third >> /root/changes']);
    assert.equal(third.code, 75);
    assert.equal(await exists(upper('node002', 'root', 'changes')), false, 'all or nothing: node002 untouched too');
    assert.match(await lockState(), new RegExp(`^node003: locked by \\S+ \\(pid ${holder.pid}, `));

    await sandbox.exec('node003', ['touch', '/root/go']);
    const held = await holder.done;
    assert.equal(held.code, 0, held.stderr);
    assert.equal(await readFile(upper('node003', 'root', 'changes'), 'utf8'), 'holder\n');
    assert.equal(await lockState(), 'node003: free');
    const after = await runCli(['fleet', 'gc', '-d', dir, '--target', 'node003', '--batch']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(await gcCalls(), gcBefore + 1);
  });

  await t.test('--lock-timeout waits for the holder and then runs', async () => {
    const holder = await startHolder();
    const waiter = startCli(['fleet', 'cmd', '-d', dir, '--target', 'node003', '--lock-timeout', '120', 'echo waiter >> /root/changes']);
    await sandbox.exec('node003', ['touch', '/root/go']);
    assert.equal((await holder.done).code, 0);
    const waited = await waiter.done;
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(await readFile(upper('node003', 'root', 'changes'), 'utf8'), 'holder\nholder\nwaiter\n');
  });

  await t.test('Ctrl-C releases the lock; a killed holder\'s lock is released by lock release', async () => {
    const interrupted = await startHolder();
    interrupted.signal('SIGINT');
    const ended = await interrupted.done;
    assert.equal(ended.code, 130, ended.stderr);
    assert.equal(await lockState(), 'node003: free');
    await sandbox.exec('node003', ['touch', '/root/go']);

    const killed = await startHolder();
    killed.signal('SIGKILL');
    await killed.done;
    assert.match(await lockState(), /^node003: locked by /);
    const blocked = await runCli(['fleet', 'gc', '-d', dir, '--target', 'node003', '--batch']);
    assert.equal(blocked.code, 75);
    // Its process is gone and it was this machine's: stale, released without --force.
    const released = await runCli(['lock', 'release', '-d', dir, '--target', 'node003']);
    assert.equal(released.code, 0, released.stderr);
    assert.equal(await lockState(), 'node003: free');
    await sandbox.exec('node003', ['touch', '/root/go']);

    // A lock from another machine is refused without --force, and broken with it.
    const foreign = JSON.stringify({ id: 'f00', who: 'bob@elsewhere', pid: 1, command: 'nix-infra fleet deploy-apps --target "node003"', started: new Date().toISOString() });
    await sandbox.exec('node003', ['sh', '-c', 'mkdir -p /run/nix-infra/lock/node && cat > /run/nix-infra/lock/node/owner.json'], foreign);
    const refused = await runCli(['lock', 'release', '-d', dir, '--target', 'node003']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /held by bob@elsewhere \(pid 1, nix-infra fleet deploy-apps --target "node003"\).*not released/);
    const forced = await runCli(['lock', 'release', '-d', dir, '--target', 'node003', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await lockState(), 'node003: free');
  });

  await t.test('the audit trail: one line per run with per-node results, on the nodes too, no secret value', async () => {
    const secret = 's3cr3t-Value-4711';
    const before = (await readFile(path.join(dir, '.nix-infra', 'audit.jsonl'), 'utf8')).trim().split('\n').length;
    const ran = await cmd(['node001 node002'], `test "$(hostname)" = node001 || exit 4; echo ${secret} > /dev/null`);
    assert.equal(ran.code, 1);
    const lines = (await readFile(path.join(dir, '.nix-infra', 'audit.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, before + 1, 'one line for the run');
    const last = JSON.parse(lines.at(-1) ?? '{}') as { command: string; selector: string[]; nodes: string[]; result: string; results: { node: string; ok: boolean; error?: string }[] };
    assert.equal(last.command, 'nix-infra fleet cmd');
    assert.deepEqual(last.selector, ['node001 node002']);
    assert.deepEqual(last.nodes, ['node001', 'node002']);
    assert.equal(last.result, 'failed');
    assert.deepEqual(last.results.map((r) => [r.node, r.ok, r.error]), [['node001', true, undefined], ['node002', false, 'command failed (exit 4)']]);
    const results = lines.map((l) => (JSON.parse(l) as { command: string; result: string }));
    assert.deepEqual(results.filter((r) => r.result === 'interrupted').map((r) => r.command), ['nix-infra fleet cmd']);

    const node = await readFile(upper('node002', 'var', 'lib', 'nix-infra', 'deploys.jsonl'), 'utf8');
    const nodeLast = JSON.parse(node.trim().split('\n').at(-1) ?? '{}') as { command: string; ok: boolean; error?: string };
    assert.deepEqual([nodeLast.command, nodeLast.ok, nodeLast.error], ['nix-infra fleet cmd', false, 'command failed (exit 4)']);

    const json = await runCli(['audit', '-d', dir, '--target', 'node002', '--json', '--limit', '1']);
    assert.equal(json.code, 0, json.stderr);
    const [only] = (JSON.parse(json.stdout) as { records: { nodes: string[] }[] }).records;
    assert.deepEqual(only?.nodes, ['node002']);
    const text = await runCli(['audit', '-d', dir, '--target', 'tier:test+role:web']);
    assert.match(text.stdout, /nix-infra fleet cmd --target "node001 node002"  failed in \d+\.\ds: node001 ok, node002 failed \(command failed \(exit 4\)\)$/m);

    for (const file of [path.join(dir, '.nix-infra', 'audit.jsonl'), ...sandbox.hosts.map((h) => upper(h.name, 'var', 'lib', 'nix-infra', 'deploys.jsonl'))]) {
      const content = await readFile(file, 'utf8').catch(() => '');
      assert.ok(!content.includes(secret), `${file} holds the secret`);
    }
  });
 });
});
