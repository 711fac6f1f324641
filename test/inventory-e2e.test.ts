import assert from 'node:assert/strict';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';
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
});
});
