import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startHetznerApi, type HetznerApi } from './hetzner-api/server.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';

async function createServer(api: HetznerApi, name: string, labels: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${api.endpoint}/servers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, server_type: 'cx22', image: 'ubuntu-24.04', location: 'hel1', labels }),
  });
  assert.equal(response.status, 201, await response.text());
}

interface Listing {
  provider: string;
  servers: Array<{ name: string; address?: string; provider: string }>;
}

describe('servers list through the Hetzner provider (local API server)', () => {
  it('lists every Hetzner server when only HCLOUD_TOKEN is set, and refuses a bad token with exit 2', async (t) => {
    const api = await startHetznerApi();
    t.after(() => api.close());
    for (const name of ['web1', 'web2', 'db1']) await createServer(api, name);
    const dir = await tempDir(t);
    const env = { HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint };
    const result = await runCli(['servers', 'list', '-d', dir, '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    const listing = JSON.parse(result.stdout) as Listing;
    assert.equal(listing.provider, 'Hetzner Cloud');
    assert.deepEqual(listing.servers.map((s) => s.name), ['web1', 'web2', 'db1']);
    assert.ok(listing.servers.every((s) => /^\d+\.\d+\.\d+\.\d+$/.test(s.address ?? '')), result.stdout);

    const rejected = await runCli(['servers', 'list', '-d', dir], { env: { ...env, HCLOUD_TOKEN: 'wrong' } });
    assert.equal(rejected.code, 2);
    assert.match(rejected.stderr, /HCLOUD_TOKEN was rejected/);
  });

  it('resolves servers.yaml entries marked provider: hetzner by name, and names a missing one', async (t) => {
    const api = await startHetznerApi();
    t.after(() => api.close());
    await createServer(api, 'cloud1');
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'ssh'));
    await writeFile(path.join(dir, 'ssh', 'k'), 'not used by servers list');
    const yaml = (extra: string) => `servers:\n  local1:\n    ip: 203.0.113.5\n    ssh_key: ssh/k\n  cloud1:\n    provider: hetzner\n    ssh_key: ssh/k\n${extra}`;
    await writeFile(path.join(dir, 'servers.yaml'), yaml(''));
    const env = { HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint };

    const result = await runCli(['servers', 'list', '-d', dir, '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    const listing = JSON.parse(result.stdout) as Listing;
    const expected = [...api.state.servers.values()].find((s) => s.name === 'cloud1')?.ipv4 ?? undefined;
    assert.deepEqual(listing.servers.map((s) => [s.name, s.address]), [['local1', '203.0.113.5'], ['cloud1', expected]]);

    const noToken = await runCli(['servers', 'list', '-d', dir], { env: { HCLOUD_ENDPOINT: api.endpoint } });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /servers\.yaml: servers\.cloud1: provider hetzner needs HCLOUD_TOKEN/);

    await writeFile(path.join(dir, 'servers.yaml'), yaml('  ghost:\n    provider: hetzner\n    ssh_key: ssh/k\n'));
    const missing = await runCli(['servers', 'list', '-d', dir], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /servers\.ghost: not found in Hetzner Cloud/);
  });
});

describe('servers adopt (local API server)', () => {
  it("labels the upstream tool's unlabelled servers after confirmation, so destroy may delete them", async (t) => {
    const api = await startHetznerApi();
    t.after(() => api.close());
    await createServer(api, 'old1', { keep: 'me' });
    await createServer(api, 'theirs', { 'managed-by': 'nix-infra', 'nix-infra/project': 'other' });
    const dir = await tempDir(t);
    const env = { HCLOUD_TOKEN: api.token, HCLOUD_ENDPOINT: api.endpoint, NIX_INFRA_PROJECT: 'proj1' };
    const labelsOf = (name: string) => [...api.state.servers.values()].find((s) => s.name === name)?.labels;

    const refused = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'old1', '--batch'], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /old1: .*left alone\. .*`nix-infra servers adopt --target old1 --role cluster`/);

    // No terminal and no --batch: the confirmation cannot be asked, so nothing changes.
    const unconfirmed = await runCli(['servers', 'adopt', '-d', dir, '--target', 'old1', '--role', 'cluster'], { env });
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.match(unconfirmed.stderr, /confirmation needed: Label old1 in Hetzner Cloud as nix-infra project "proj1" \(role cluster\)/);
    assert.deepEqual(labelsOf('old1'), { keep: 'me' });

    const adopted = await runCli(['servers', 'adopt', '-d', dir, '--target', 'old1 theirs ghost', '--role', 'cluster', '--batch', '--json'], { env });
    assert.equal(adopted.code, 1, adopted.stderr);
    const doc = JSON.parse(adopted.stdout) as { hosts: Array<{ host: string; state: string; error?: string }> };
    assert.deepEqual(doc.hosts.map((h) => [h.host, h.state]), [['old1', 'adopted'], ['theirs', 'refused'], ['ghost', 'absent']]);
    assert.match(doc.hosts[1]?.error ?? '', /belongs to nix-infra project "other".*NIX_INFRA_PROJECT=other/);
    assert.deepEqual(labelsOf('old1'), { keep: 'me', 'managed-by': 'nix-infra', 'nix-infra/project': 'proj1', 'nix-infra/role': 'cluster' });
    assert.deepEqual(labelsOf('theirs'), { 'managed-by': 'nix-infra', 'nix-infra/project': 'other' });

    const again = await runCli(['servers', 'adopt', '-d', dir, '--target', 'old1', '--role', 'cluster'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /1 ok/);

    const destroyed = await runCli(['cluster', 'destroy', '-d', dir, '--target', 'old1', '--batch'], { env });
    assert.equal(destroyed.code, 0, destroyed.stderr);
    api.completeActions();
    assert.equal(labelsOf('old1'), undefined, 'deleted');
  });
});
