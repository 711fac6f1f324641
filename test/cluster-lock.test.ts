import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEtcdControlPlane } from '../src/adapters/etcd/etcd-control-plane.js';
import { CLUSTER_AUDIT_PREFIX, recordInControlPlane } from '../src/core/audit/cluster-audit.js';
import { CLUSTER_LOCK_PREFIX, lockInControlPlane } from '../src/core/lock/cluster-locks.js';
import type { LockOwner } from '../src/core/lock/owner.js';
import type { AuditRecord } from '../src/domain/audit.js';
import { LockHeld } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import type { ControlPlane, ControlPlaneLeases } from '../src/ports/control-plane.js';
import { startEtcdCluster, type EtcdTestCluster } from './support/etcd.js';
import { repoRoot } from './support/repo.js';

const owner = (id: string, who: string): LockOwner => ({ id, who, pid: 42, command: 'nix-infra cluster deploy-apps --target "worker*"', started: '2026-12-02T10:00:00.000Z' });

/** Bounded wait on a fact (the key is gone), not on a duration. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${what}: not within 60 s`);
}

describe('cluster deploy lock and audit in a real etcd', { timeout: 180_000 }, () => {
  let cluster: EtcdTestCluster | undefined;
  const clients: (ControlPlane & ControlPlaneLeases)[] = [];
  function client(): ControlPlane & ControlPlaneLeases {
    assert.ok(cluster);
    const pki = cluster.pki;
    const cp = createEtcdControlPlane({
      endpoints: cluster.members.map((m) => ({ address: m.endpoint, label: m.name })),
      tls: { caChain: pki.caChain, clientCert: pki.client.cert, clientKey: new SecretValue('etcd-client-key', pki.client.key) },
    });
    clients.push(cp);
    return cp;
  }
  before(async () => {
    cluster = await startEtcdCluster(1);
  });
  after(async () => {
    for (const cp of clients) await cp.close();
    await cluster?.destroy();
  });

  it('two runs on one node: exactly one holds it; the other gets 75 naming the owner; all or nothing', async () => {
    const alice = client();
    const bob = client();
    const now = () => new Date('2026-12-02T10:00:42.000Z');
    const noSleep = async () => undefined;
    const held = await lockInControlPlane({ leases: alice, sleep: noSleep, now }, { nodes: ['worker1', 'worker2'], owner: owner('a1', 'alice@laptop'), timeoutMs: 0 });
    await assert.rejects(
      lockInControlPlane({ leases: bob, sleep: noSleep, now }, { nodes: ['worker3', 'worker2'], owner: owner('b1', 'bob@ci'), timeoutMs: 0 }),
      (err: unknown) =>
        err instanceof LockHeld &&
        err.exitCode === 75 &&
        err.message === 'worker2: cluster deploy lock held by alice@laptop (pid 42, nix-infra cluster deploy-apps --target "worker*") for 42s; nothing was changed',
    );
    assert.equal(await alice.get(`${CLUSTER_LOCK_PREFIX}worker3`), undefined, 'bob took nothing');
    assert.equal(JSON.parse((await alice.get(`${CLUSTER_LOCK_PREFIX}worker1`)) ?? '{}').id, 'a1');
    await held.release();
    assert.equal((await alice.getPrefix(CLUSTER_LOCK_PREFIX)).size, 0, 'released: the keys are gone');
    const bobs = await lockInControlPlane({ leases: bob, sleep: noSleep, now }, { nodes: ['worker3', 'worker2'], owner: owner('b1', 'bob@ci'), timeoutMs: 0 });
    await bobs.release();
  });

  it('a waiting run gets the lock once the holder releases it', async () => {
    const alice = client();
    const bob = client();
    const held = await lockInControlPlane({ leases: alice, sleep: async () => undefined, now: () => new Date() }, { nodes: ['worker9'], owner: owner('a2', 'alice@laptop'), timeoutMs: 0 });
    let sleeps = 0;
    const waiting = await lockInControlPlane(
      {
        leases: bob,
        // The holder finishes while the waiter sleeps: the next try succeeds.
        sleep: async () => {
          sleeps++;
          await held.release();
        },
        now: () => new Date(),
      },
      { nodes: ['worker9'], owner: owner('b2', 'bob@ci'), timeoutMs: 60_000, retryMs: 10 },
    );
    assert.equal(sleeps, 1);
    assert.equal(JSON.parse((await bob.get(`${CLUSTER_LOCK_PREFIX}worker9`)) ?? '{}').id, 'b2');
    await waiting.release();
  });

  it("a killed holder's lock expires with its lease", async (t) => {
    assert.ok(cluster);
    // The holder is its own process, killed with SIGKILL: no release, no more keep-alives.
    const pki = cluster.pki;
    const script = `
      import { createEtcdControlPlane } from ${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'adapters', 'etcd', 'etcd-control-plane.js'))};
      import { lockInControlPlane } from ${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'core', 'lock', 'cluster-locks.js'))};
      import { SecretValue } from ${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'domain', 'secret-value.js'))};
      const cp = createEtcdControlPlane({ endpoints: ${JSON.stringify(cluster.members.map((m) => ({ address: m.endpoint })))},
        tls: { caChain: ${JSON.stringify(pki.caChain)}, clientCert: ${JSON.stringify(pki.client.cert)}, clientKey: new SecretValue('k', ${JSON.stringify(pki.client.key)}) } });
      await lockInControlPlane({ leases: cp, sleep: async () => {}, now: () => new Date() }, { nodes: ['worker7'], owner: ${JSON.stringify(owner('d1', 'dead@host'))}, timeoutMs: 0, ttlSeconds: 2 });
      console.log('locked');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => (chunk.toString().includes('locked') ? resolve() : undefined));
      child.on('close', (code) => reject(new Error(`holder exited ${code}`)));
    });
    const other = client();
    const blocked = lockInControlPlane({ leases: other, sleep: async () => undefined, now: () => new Date() }, { nodes: ['worker7'], owner: owner('n1', 'next@host'), timeoutMs: 0 });
    await assert.rejects(blocked, /worker7: cluster deploy lock held by dead@host/);
    child.kill('SIGKILL');
    await eventually(async () => (await other.get(`${CLUSTER_LOCK_PREFIX}worker7`)) === undefined, 'the lease expires');
    const next = await lockInControlPlane({ leases: other, sleep: async () => undefined, now: () => new Date() }, { nodes: ['worker7'], owner: owner('n1', 'next@host'), timeoutMs: 0 });
    await next.release();
  });

  it('more keys than one etcd transaction holds are still all or nothing', async () => {
    const alice = client();
    const bob = client();
    const many = Array.from({ length: 150 }, (_, i) => `node${String(i).padStart(3, '0')}`);
    const last = await lockInControlPlane({ leases: alice, sleep: async () => undefined, now: () => new Date() }, { nodes: ['node149'], owner: owner('a3', 'alice@laptop'), timeoutMs: 0 });
    await assert.rejects(lockInControlPlane({ leases: bob, sleep: async () => undefined, now: () => new Date() }, { nodes: many, owner: owner('b3', 'bob@ci'), timeoutMs: 0 }), /node149: cluster deploy lock held by alice@laptop/);
    assert.deepEqual([...(await bob.getPrefix(CLUSTER_LOCK_PREFIX)).keys()], [`${CLUSTER_LOCK_PREFIX}node149`], "bob's first chunks were undone");
    await last.release();
    const all = await lockInControlPlane({ leases: bob, sleep: async () => undefined, now: () => new Date() }, { nodes: many, owner: owner('b3', 'bob@ci'), timeoutMs: 0 });
    assert.equal((await bob.getPrefix(CLUSTER_LOCK_PREFIX)).size, 150);
    await all.release();
    assert.equal((await bob.getPrefix(CLUSTER_LOCK_PREFIX)).size, 0);
  });

  it('the audit copy in /cluster/audit/ is compact and bounded', async () => {
    const cp = client();
    const record = (i: number): AuditRecord => ({
      v: 1,
      id: `r${i}`,
      who: 'alice@laptop',
      when: `2026-12-02T10:00:0${i}.000Z`,
      command: 'nix-infra cluster cmd',
      selector: ['tier:test'],
      nodes: ['w1', 'w2'],
      result: 'failed',
      results: [
        { node: 'w1', ok: true, durationMs: 5 },
        { node: 'w2', ok: false, error: 'exit 1', durationMs: 6 },
      ],
      durationMs: 100,
    });
    for (let i = 0; i < 5; i++) await recordInControlPlane(cp, record(i), 3);
    const kept = await cp.getPrefix(CLUSTER_AUDIT_PREFIX);
    assert.deepEqual([...kept.keys()], [2, 3, 4].map((i) => `${CLUSTER_AUDIT_PREFIX}2026-12-02T10:00:0${i}.000Z-r${i}`));
    assert.deepEqual(JSON.parse([...kept.values()][2] ?? '{}'), {
      who: 'alice@laptop',
      when: '2026-12-02T10:00:04.000Z',
      command: 'nix-infra cluster cmd',
      selector: ['tier:test'],
      nodes: 2,
      result: 'failed',
      failed: ['w2'],
      durationMs: 100,
    });
    await cp.deletePrefix(CLUSTER_AUDIT_PREFIX);
  });
});
