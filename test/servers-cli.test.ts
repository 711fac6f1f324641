import assert from 'node:assert/strict';
import { cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startHetznerApi } from './hetzner-api/server.js';
import { runCli } from './support/cli.js';
import { fixture, tempDir } from './support/repo.js';

/** What an operator sees for each broken servers.yaml: the key path the message must name. */
const expectations: Record<string, RegExp> = {
  'syntax-error': /^Error: servers\.yaml:\d+:\d+: /,
  empty: /^Error: servers\.yaml: /,
  'missing-ip': /servers\.yaml: servers\.\S+: /,
  'bad-ip': /servers\.yaml: servers\.\S+\.ip: "10\.0\.0" is not an IP address/,
  'unknown-key': /servers\.yaml: servers\.\S+\.\S+: /,
  'duplicate-name': /servers\.yaml: servers\.\S+: duplicate server name/,
  'duplicate-address': /servers\.yaml: servers\.\S+: /,
  'missing-key-file': /servers\.yaml: servers\.\S+\.ssh_key: /,
  'name-semicolon': /servers\.yaml: servers\["a;b"\]: /,
  'name-dotdot': /servers\.yaml: servers\["\.\.\/x"\]: /,
};

describe('servers list with a broken servers.yaml', () => {
  it('has an expectation for every bad fixture', async () => {
    const bad = (await readdir(fixture('servers'))).filter((name) => name !== 'valid');
    for (const name of Object.keys(expectations)) assert.ok(bad.includes(name), `fixture ${name} exists`);
  });

  for (const [name, pattern] of Object.entries(expectations)) {
    it(`${name}: exit 2, one clear line naming file and key path, no stack trace`, async (t) => {
      const dir = await tempDir(t);
      await cp(fixture('servers', name), dir, { recursive: true });
      const { code, stdout, stderr } = await runCli(['servers', 'list', '-d', dir]);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      const [first, ...rest] = stderr.trimEnd().split('\n');
      assert.match(first ?? '', pattern);
      // Anything after the message is a hint line, never a stack frame.
      for (const line of rest) assert.match(line, /^ {2}hint: /, `unexpected line: ${line}`);
    });
  }

  it('the valid fixture lists its servers, also as JSON', async (t) => {
    const dir = await tempDir(t);
    await cp(fixture('servers', 'valid'), dir, { recursive: true });
    // Its `10` entry is a hybrid one: its address comes from (a local stand-in for) Hetzner.
    const api = await startHetznerApi();
    t.after(() => api.close());
    const created = await fetch(`${api.endpoint}/servers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: '10', server_type: 'cx22', image: 'ubuntu-24.04', location: 'hel1' }),
    });
    assert.equal(created.status, 201);
    const env = { HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint };
    const table = await runCli(['servers', 'list', '-d', dir], { env });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+ADDRESS\s+PORT\s+USER\s+PROVIDER\s+ROLE\s+TIER\s+TAGS$/m);
    const json = await runCli(['servers', 'list', '-d', dir, '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { provider: string; servers: Array<{ name: string; address?: string; port: number; username: string; provider: string; keyPath?: string }> };
    assert.match(parsed.provider, /self-hosted/);
    assert.deepEqual(parsed.servers.map((s) => s.name), ['web2', 'web1', '10'], 'file order kept');
    assert.deepEqual(parsed.servers[1], {
      name: 'web1',
      address: '2001:db8::1',
      username: 'deploy',
      port: 2222,
      provider: 'self-hosted',
      description: 'front end',
      keyPath: path.join(dir, 'ssh', 'test-key'),
    });
    assert.equal(parsed.servers[2]?.provider, 'hetzner');
    assert.match(parsed.servers[2]?.address ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'the hybrid entry got its address from Hetzner');
  });
});
