import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createEtcdControlPlane, type EtcdTlsMaterial } from '../src/adapters/etcd/etcd-control-plane.js';
import { openTunnels } from '../src/adapters/etcd/tunnels.js';
import { buildFlannelConfig, flannelConfigJson, seedFlannelConfig } from '../src/core/control-plane/flannel.js';
import { checkDeletePrefix, checkKey, checkPrefix } from '../src/domain/etcd-keys.js';
import { FLANNEL_CONFIG_KEY } from '../src/core/control-plane/layout.js';
import { nodeRecord, registerNode, unregisterNode } from '../src/core/control-plane/membership.js';
import { lookupOverlayAddresses, matchOverlayAddresses, requireOverlayAddress } from '../src/core/control-plane/overlay.js';
import { parseView, readView, type NetworkView, type NodesView, type ServiceGroupView } from '../src/core/control-plane/views.js';
import { OperationFailed, UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import type { ControlPlane } from '../src/ports/control-plane.js';
import type { RemoteHost } from '../src/ports/remote-host.js';
import { freePorts, startEtcdCluster, type CertPair, type EtcdTestCluster, type TestPki } from './support/etcd.js';

function tlsOf(pki: TestPki, pair: CertPair = pki.client, caChain: string = pki.caChain): EtcdTlsMaterial {
  return { caChain, clientCert: pair.cert, clientKey: new SecretValue('etcd-client-key', pair.key) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it passes or `limitMs` is spent (bounded wait, no timing assertion). */
async function eventually<T>(check: () => Promise<T>, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

/** A stand-in for an SSH connection: `forward` opens a plain TCP connection on this machine. */
function standInHost(name: string, forward: (host: string, port: number) => Promise<Duplex>): RemoteHost {
  let end: (reason: string) => void = () => undefined;
  const closed = new Promise<string>((resolve) => {
    end = resolve;
  });
  const unused = () => Promise.reject(new Error('not used by the tunnel'));
  return {
    target: { name, address: '127.0.0.1', port: 22, username: 'root', keyPath: '/nonexistent' },
    exec: unused,
    files: unused,
    shell: unused,
    forward,
    closed,
    close: () => end('closed by the test'),
  };
}

function tcpTo(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('key rules (no network)', () => {
  it('rejects bad keys with a clear UserError', () => {
    const bad: [string, RegExp][] = [
      ['', /is empty/],
      ['cluster/nodes/a', /must start with "\/"/],
      ['/cluster/\u0000nodes', /control character/],
      ['/cluster/no\ndes', /control character/],
      ['/cluster/../secrets', /"\.\." segment/],
      ['/cluster/./nodes', /"\." segment/],
      ['/cluster//nodes', /empty segment/],
      ['/cluster/nodes/', /ends with "\/"/],
      ['/', /names no key/],
      ['/\ud800', /UTF-8/],
      [`/${'a'.repeat(5000)}`, /longer than 4096 bytes/],
    ];
    for (const [key, message] of bad) {
      assert.throws(() => checkKey(key), (err: unknown) => err instanceof UserError && message.test(err.message) && err.message.startsWith('etcd key '), key);
    }
    assert.equal(checkKey('/coreos.com/network/subnets/10.10.93.0-24'), '/coreos.com/network/subnets/10.10.93.0-24');
    assert.equal(checkPrefix('/'), '/');
    assert.equal(checkPrefix('/cluster/'), '/cluster/');
    assert.equal(checkPrefix('/cluster/no'), '/cluster/no');
    assert.throws(() => checkPrefix('/cluster/../'), UserError);
    assert.equal(checkDeletePrefix('/cluster/services/'), '/cluster/services/');
    for (const prefix of ['/', '/c', '/cluster', '//']) assert.throws(() => checkDeletePrefix(prefix), UserError, prefix);
  });

  it('builds the flannel config upstream uses, and checks options', () => {
    assert.equal(
      flannelConfigJson(buildFlannelConfig()),
      '{"Backend":{"PersistentKeepaliveInterval":60,"Type":"wireguard"},"Network":"10.0.0.0/8","SubnetLen":24,"SubnetMax":"10.99.0.0","SubnetMin":"10.10.0.0"}',
    );
    assert.deepEqual(buildFlannelConfig({ network: '172.16.0.0/12', subnetLen: 26 }), {
      Network: '172.16.0.0/12',
      SubnetLen: 26,
      Backend: { Type: 'wireguard', PersistentKeepaliveInterval: 60 },
    });
    assert.throws(() => buildFlannelConfig({ network: '10.0.0.1/8' }), /host bits/);
    assert.throws(() => buildFlannelConfig({ network: '10.0.0.0/24', subnetLen: 24 }), /subnet length/);
    assert.throws(() => buildFlannelConfig({ subnetMin: '11.0.0.0' }), /outside/);
    assert.throws(() => buildFlannelConfig({ subnetMin: '10.10.0.5' }), /start of a \/24/);
    assert.throws(() => buildFlannelConfig({ subnetMin: '10.99.0.0', subnetMax: '10.10.0.0' }), /above/);
  });

  it('matches leases to nodes purely, skipping vanished nodes and ambiguous leases', () => {
    const lookup = matchOverlayAddresses(
      [
        { name: 'a', ipv4: '192.0.2.1' },
        { name: 'b', ipv4: '192.0.2.2' },
      ],
      new Map([
        ['/coreos.com/network/subnets/10.10.1.0-24', '{"PublicIP":"192.0.2.1"}'],
        ['/coreos.com/network/subnets/10.10.2.0-24', '{"PublicIP":"192.0.2.2"}'],
        ['/coreos.com/network/subnets/10.10.3.0-24', '{"PublicIP":"192.0.2.2"}'],
      ]),
    );
    assert.equal(lookup.addresses.get('a')?.overlayIp, '10.10.1.0');
    assert.deepEqual(lookup.missing, ['b']);
    assert.equal(lookup.skipped.length, 2);
    assert.throws(() => requireOverlayAddress(lookup, 'b'), (err: unknown) => err instanceof UserError && /node b has no overlay address/.test(err.message));
  });
});

describe('etcd control plane against a real 3-member etcd 3.4 cluster with mTLS', () => {
  let cluster: EtcdTestCluster | undefined;
  let cp: ControlPlane | undefined;
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.name);

  function etcd(): { cluster: EtcdTestCluster; cp: ControlPlane } {
    assert.ok(cluster !== undefined && cp !== undefined, 'cluster not started');
    return { cluster, cp };
  }

  before(async () => {
    process.on('warning', onWarning);
    cluster = await startEtcdCluster(3);
    cp = createEtcdControlPlane({
      endpoints: cluster.members.map((m) => ({ address: m.endpoint, label: `${m.name} (${m.endpoint})` })),
      tls: tlsOf(cluster.pki),
    });
  });

  after(async () => {
    process.off('warning', onWarning);
    await cp?.close();
    await cluster?.destroy();
  });

  it('a bad key is a UserError before anything is sent', async () => {
    const { cp } = etcd();
    await assert.rejects(cp.get('cluster/nodes'), (err: unknown) => err instanceof UserError && /must start with "\/"/.test(err.message));
    await assert.rejects(cp.put('/cluster/../x', 'v'), UserError);
    await assert.rejects(cp.deletePrefix('/'), (err: unknown) => err instanceof UserError && /cannot be deleted/.test(err.message));
  });

  it('put, get, delete and prefix round-trip', async () => {
    const { cp } = etcd();
    await cp.put('/rt/b', '2');
    await cp.put('/rt/a', '1');
    await cp.put('/rt/c/d', 'ünïcødé ✓');
    await cp.put('/rtx', 'outside the prefix');
    assert.equal(await cp.get('/rt/a'), '1');
    assert.equal(await cp.get('/rt/c/d'), 'ünïcødé ✓');
    assert.equal(await cp.get('/rt/missing'), undefined);
    assert.deepEqual([...(await cp.getPrefix('/rt/'))], [
      ['/rt/a', '1'],
      ['/rt/b', '2'],
      ['/rt/c/d', 'ünïcødé ✓'],
    ]);
    assert.equal(await cp.delete('/rt/a'), 1);
    assert.equal(await cp.delete('/rt/a'), 0);
    assert.equal(await cp.deletePrefix('/rt/'), 2);
    assert.equal((await cp.getPrefix('/rt/')).size, 0);
    assert.equal(await cp.get('/rtx'), 'outside the prefix');
    assert.equal(await cp.delete('/rtx'), 1);
  });

  it('putIfChanged reports created, unchanged and updated', async () => {
    const { cp } = etcd();
    assert.deepEqual(await cp.putIfChanged('/pic/k', 'one'), { outcome: 'created' });
    assert.deepEqual(await cp.putIfChanged('/pic/k', 'one'), { outcome: 'unchanged' });
    assert.deepEqual(await cp.putIfChanged('/pic/k', 'two'), { outcome: 'updated', previous: 'one' });
    assert.equal(await cp.get('/pic/k'), 'two');
    await cp.deletePrefix('/pic/');
  });

  it('registers a node with exactly upstream\'s JSON, once', async () => {
    const { cp } = etcd();
    const record = nodeRecord('worker001', '192.0.2.11', ['backends', '', 'services', 'backends']);
    const first = await registerNode(cp, record);
    assert.equal(first.key, '/cluster/nodes/worker001');
    assert.equal(first.outcome, 'created');
    const expected = '{"name":"worker001","ipv4":"192.0.2.11","services":["backends","services"]}';
    assert.equal(await cp.get('/cluster/nodes/worker001'), expected);
    assert.equal(first.value, expected);
    assert.equal((await registerNode(cp, record)).outcome, 'unchanged');
    const moved = await registerNode(cp, nodeRecord('worker001', '192.0.2.99', ['services']));
    assert.equal(moved.outcome, 'updated');
    assert.equal(moved.previous, expected);
    assert.throws(() => nodeRecord('../etc', '192.0.2.1', []), UserError);
    assert.throws(() => nodeRecord('worker002', '192.0.2', []), UserError);
    assert.throws(() => nodeRecord('worker002', '192.0.2.1', ['two words']), UserError);
    await cp.deletePrefix('/cluster/');
  });

  it('seeds the flannel config once; a second seed changes nothing', async () => {
    const { cp } = etcd();
    const config = buildFlannelConfig();
    const first = await seedFlannelConfig(cp, config);
    assert.deepEqual(first, { key: FLANNEL_CONFIG_KEY, outcome: 'created' });
    const stored = await cp.get(FLANNEL_CONFIG_KEY);
    assert.equal(stored, flannelConfigJson(config));
    assert.deepEqual(await seedFlannelConfig(cp, config), { key: FLANNEL_CONFIG_KEY, outcome: 'unchanged' });
    assert.equal(await cp.get(FLANNEL_CONFIG_KEY), stored);

    // The same document written by someone else (other key order, spacing) is left alone.
    const reordered = JSON.stringify(JSON.parse(stored as string), ['Network', 'SubnetLen', 'SubnetMin', 'SubnetMax', 'Backend', 'Type', 'PersistentKeepaliveInterval'], 2);
    await cp.put(FLANNEL_CONFIG_KEY, reordered);
    assert.deepEqual(await seedFlannelConfig(cp, config), { key: FLANNEL_CONFIG_KEY, outcome: 'unchanged' });
    assert.equal(await cp.get(FLANNEL_CONFIG_KEY), reordered);

    // A different config is replaced, and the old one is reported.
    const changed = await seedFlannelConfig(cp, buildFlannelConfig({ keepaliveSeconds: 25 }));
    assert.equal(changed.outcome, 'updated');
    assert.equal(changed.previous, reordered);
    assert.deepEqual(await seedFlannelConfig(cp, config), { key: FLANNEL_CONFIG_KEY, outcome: 'updated', previous: flannelConfigJson(buildFlannelConfig({ keepaliveSeconds: 25 })) });
    assert.deepEqual(await seedFlannelConfig(cp, config), { key: FLANNEL_CONFIG_KEY, outcome: 'unchanged' });
  });

  it('parses the nodes, services, backends, frontends and network views', async () => {
    const { cp } = etcd();
    await registerNode(cp, nodeRecord('worker001', '192.0.2.11', ['backends', 'services']));
    await registerNode(cp, nodeRecord('ingress001', '192.0.2.21', ['frontends']));
    await cp.put('/cluster/nodes/broken', 'not json');
    await cp.put(
      '/cluster/services/mongodb/meta_data',
      '{"env":{"HOST":"127.0.0.1","PATH":"","PORT":27017,"PROTOCOL":"mongodb"},"env_prefix":"MONGODB","publish":{"port":27017}}',
    );
    await cp.put('/cluster/services/mongodb/instances/service001', '{"node":"service001","ipv4":"10.10.5.0","port":27017}');
    await cp.put('/cluster/services/mongodb/instances/service002', '{"node":"service002","ipv4":"10.10.6.0","port":27017}');
    await cp.put('/cluster/services/stray', 'x');
    await cp.put('/cluster/backends/app-pod/instances/worker001', '{"node":"worker001","ipv4":"10.10.1.0","port":8080}');
    await cp.put('/coreos.com/network/subnets/10.10.1.0-24', '{"PublicIP":"192.0.2.11","PublicIPv6":null,"BackendType":"wireguard","BackendData":{"PublicKey":"pk1="}}');
    await cp.put('/coreos.com/network/subnets/garbage', '{}');

    const nodes = (await readView(cp, 'nodes')).parsed as NodesView;
    assert.deepEqual(nodes.nodes, [
      { key: '/cluster/nodes/ingress001', name: 'ingress001', ipv4: '192.0.2.21', services: ['frontends'] },
      { key: '/cluster/nodes/worker001', name: 'worker001', ipv4: '192.0.2.11', services: ['backends', 'services'] },
    ]);
    assert.deepEqual(nodes.problems.map((p) => p.key), ['/cluster/nodes/broken']);

    const services = await readView(cp, 'services');
    assert.equal(services.prefix, '/cluster/services/');
    assert.equal(services.entries.size, 4);
    const servicesView = services.parsed as ServiceGroupView;
    assert.deepEqual(servicesView.apps, [
      {
        group: 'services',
        app: 'mongodb',
        metaData: { publishPort: 27017, envPrefix: 'MONGODB', env: { HOST: '127.0.0.1', PATH: '', PORT: 27017, PROTOCOL: 'mongodb' } },
        instances: [
          { key: '/cluster/services/mongodb/instances/service001', host: 'service001', node: 'service001', ipv4: '10.10.5.0', port: 27017 },
          { key: '/cluster/services/mongodb/instances/service002', host: 'service002', node: 'service002', ipv4: '10.10.6.0', port: 27017 },
        ],
      },
    ]);
    assert.deepEqual(servicesView.problems.map((p) => p.key), ['/cluster/services/stray']);

    const backends = (await readView(cp, 'backends')).parsed as ServiceGroupView;
    assert.deepEqual(backends.apps.map((a) => [a.app, a.metaData, a.instances.length]), [['app-pod', undefined, 1]]);
    const frontends = (await readView(cp, 'frontends')).parsed as ServiceGroupView;
    assert.deepEqual(frontends, { view: 'frontends', apps: [], problems: [] });

    const network = (await readView(cp, 'network')).parsed as NetworkView;
    assert.deepEqual(network.config, buildFlannelConfig());
    assert.deepEqual(network.leases, [
      { key: '/coreos.com/network/subnets/10.10.1.0-24', subnet: '10.10.1.0/24', overlayIp: '10.10.1.0', publicIp: '192.0.2.11', backendType: 'wireguard', wireguardPublicKey: 'pk1=' },
    ]);
    assert.deepEqual(network.problems.map((p) => p.key), ['/coreos.com/network/subnets/garbage']);
    // Views are pure functions of the entries, too.
    assert.deepEqual(parseView('frontends', new Map()), { view: 'frontends', apps: [], problems: [] });

    await cp.deletePrefix('/cluster/');
    await cp.deletePrefix('/coreos.com/network/subnets/');
  });

  it('looks up overlay IPs and skips the lease of a vanished node', async () => {
    const { cp } = etcd();
    await cp.put('/coreos.com/network/subnets/10.10.1.0-24', '{"PublicIP":"192.0.2.11","BackendType":"wireguard"}');
    await cp.put('/coreos.com/network/subnets/10.10.2.0-24', '{"PublicIP":"192.0.2.12","BackendType":"wireguard"}');
    await cp.put('/coreos.com/network/subnets/10.10.9.0-24', '{"PublicIP":"203.0.113.99","BackendType":"wireguard"}');
    await cp.put('/coreos.com/network/subnets/10.10.10.0-24', 'not json');
    const lookup = await lookupOverlayAddresses(cp, [
      { name: 'worker001', ipv4: '192.0.2.11' },
      { name: 'service001', ipv4: '192.0.2.12' },
      { name: 'worker002', ipv4: '192.0.2.13' },
    ]);
    assert.deepEqual(Object.fromEntries([...lookup.addresses].map(([n, a]) => [n, `${a.overlayIp} ${a.subnet} ${a.publicIp}`])), {
      worker001: '10.10.1.0 10.10.1.0/24 192.0.2.11',
      service001: '10.10.2.0 10.10.2.0/24 192.0.2.12',
    });
    assert.deepEqual(lookup.missing, ['worker002']);
    assert.deepEqual(lookup.skipped.map((s) => s.key).sort(), ['/coreos.com/network/subnets/10.10.10.0-24', '/coreos.com/network/subnets/10.10.9.0-24']);
    assert.match(lookup.skipped.find((s) => s.key.endsWith('10.10.9.0-24'))?.reason ?? '', /203\.0\.113\.99 belongs to no current node/);
    assert.equal(requireOverlayAddress(lookup, 'worker001').overlayIp, '10.10.1.0');
    await cp.deletePrefix('/coreos.com/network/subnets/');
  });

  it('unregisters a node: its key, its flannel lease and its app instances, nothing else', async () => {
    const { cp } = etcd();
    await registerNode(cp, nodeRecord('worker001', '192.0.2.11', ['services']));
    const instance = (node: string, port: number) => JSON.stringify({ node, ipv4: '10.10.1.0', port });
    await cp.put('/cluster/services/mariadb/meta_data', '{"publish":{"port":3306}}');
    await cp.put('/cluster/services/mariadb/instances/worker001', instance('worker001', 3306));
    await cp.put('/cluster/services/mariadb/instances/worker0010', instance('worker0010', 3306));
    await cp.put('/cluster/backends/app-pod/instances/worker001', instance('worker001', 8080));
    await cp.put('/cluster/frontends/web/instances/worker001', instance('worker001', 80));
    await cp.put('/cluster/frontends/web/instances/worker002', instance('worker002', 80));
    await registerNode(cp, nodeRecord('worker002', '192.0.2.12', ['services']));
    await cp.put('/coreos.com/network/subnets/10.10.1.0-24', '{"PublicIP":"192.0.2.11","BackendType":"wireguard"}');
    await cp.put('/coreos.com/network/subnets/10.10.2.0-24', '{"PublicIP":"192.0.2.12","BackendType":"wireguard"}');
    await cp.put('/coreos.com/network/subnets/10.10.3.0-24', '{"PublicIP":"192.0.2.13","BackendType":"wireguard"}');

    const result = await unregisterNode(cp, { name: 'worker001' });
    assert.deepEqual(result, {
      key: '/cluster/nodes/worker001',
      nodeKeyDeleted: true,
      publicIps: ['192.0.2.11'],
      leasesDeleted: ['/coreos.com/network/subnets/10.10.1.0-24'],
      instancesDeleted: ['/cluster/frontends/web/instances/worker001', '/cluster/backends/app-pod/instances/worker001', '/cluster/services/mariadb/instances/worker001'],
    });
    assert.equal(await cp.get('/cluster/nodes/worker001'), undefined);
    // Other nodes' instances (even one whose name starts with this node's) and meta_data stay.
    assert.deepEqual([...(await cp.getPrefix('/cluster/services/')).keys()], ['/cluster/services/mariadb/instances/worker0010', '/cluster/services/mariadb/meta_data']);
    assert.deepEqual([...(await cp.getPrefix('/cluster/frontends/')).keys()], ['/cluster/frontends/web/instances/worker002']);
    assert.deepEqual([...(await cp.getPrefix('/cluster/backends/')).keys()], []);
    assert.deepEqual([...(await cp.getPrefix('/coreos.com/network/subnets/')).keys()], [
      '/coreos.com/network/subnets/10.10.2.0-24',
      '/coreos.com/network/subnets/10.10.3.0-24',
    ]);
    assert.notEqual(await cp.get('/cluster/nodes/worker002'), undefined);

    // Again: nothing left to delete, still fine.
    assert.deepEqual(await unregisterNode(cp, { name: 'worker001' }), { key: '/cluster/nodes/worker001', nodeKeyDeleted: false, publicIps: [], leasesDeleted: [], instancesDeleted: [] });
    // A node that never registered: its lease is found through the address the provider lists.
    const byAddress = await unregisterNode(cp, { name: 'worker003', ipv4: '192.0.2.13' });
    assert.deepEqual(byAddress.leasesDeleted, ['/coreos.com/network/subnets/10.10.3.0-24']);
    assert.equal(byAddress.nodeKeyDeleted, false);
    await assert.rejects(unregisterNode(cp, { name: 'a/b' }), UserError);
    await cp.deletePrefix('/cluster/');
    await cp.deletePrefix('/coreos.com/network/subnets/');
  });

  it('reports the members and which endpoint answered', async () => {
    const { cp, cluster } = etcd();
    const health = await cp.health();
    assert.equal(health.answeredBy, `etcd001 (${cluster.members[0]?.endpoint})`);
    assert.deepEqual(health.skipped, []);
    assert.equal(health.version, '3.4.23');
    assert.deepEqual(health.members.map((m) => [m.name, m.clientUrls]), cluster.members.map((m) => [m.name, [`https://${m.endpoint}`]]));
    assert.equal(health.members.filter((m) => m.isLeader).length, 1);
  });

  it('works through SSH-style tunnels (RemoteHost.forward stand-in) and names a broken tunnel', async () => {
    const { cluster } = etcd();
    const forwards: string[] = [];
    const hosts = cluster.members.map((member, index) =>
      standInHost(member.name, async (host, port) => {
        forwards.push(`${member.name}->${host}:${port}`);
        // The first node's SSH server refuses the channel.
        if (index === 0) throw new Error('(SSH) Channel open failure: Connection refused');
        assert.equal(host, '127.0.0.1');
        assert.equal(port, 2379);
        return tcpTo(member.clientPort);
      }),
    );
    const tunnels = await openTunnels(hosts, 2379);
    const viaTunnels = createEtcdControlPlane({ endpoints: tunnels.endpoints, tls: tlsOf(cluster.pki) });
    try {
      assert.deepEqual(tunnels.endpoints.map((e) => e.label?.split(' via ')[0]), ['etcd001', 'etcd002', 'etcd003']);
      assert.ok(tunnels.endpoints.every((e) => /^127\.0\.0\.1:\d+$/.test(e.address)));
      const health = await viaTunnels.health();
      assert.equal(health.answeredBy, tunnels.endpoints[1]?.label);
      assert.equal(health.skipped.length, 1);
      assert.equal(health.skipped[0]?.endpoint, tunnels.endpoints[0]?.label);
      assert.match(health.skipped[0]?.reason ?? '', /Channel open failure/);
      await viaTunnels.put('/tunnel/k', 'through ssh');
      assert.equal(await viaTunnels.get('/tunnel/k'), 'through ssh');
      assert.equal(await viaTunnels.delete('/tunnel/k'), 1);
      assert.ok(forwards.some((f) => f === 'etcd002->127.0.0.1:2379'));
    } finally {
      await viaTunnels.close();
      await tunnels.close();
    }
    // Closed tunnels no longer listen.
    const port = Number(tunnels.endpoints[1]?.address.split(':')[1]);
    await assert.rejects(tcpTo(port), /ECONNREFUSED/);
  });

  it('a tunnel that ends at another node (a certificate issued for another node) is refused', async () => {
    const { cluster } = etcd();
    const [first, second] = cluster.members;
    assert.ok(first && second);
    // etcd001's tunnel is wired to etcd002's port: TLS works, but the certificate names etcd002.
    const misrouted = standInHost(first.name, async () => tcpTo(second.clientPort));
    const tunnels = await openTunnels([misrouted], 2379);
    const cp = createEtcdControlPlane({ endpoints: tunnels.endpoints, tls: tlsOf(cluster.pki) });
    try {
      await assert.rejects(cp.get('/x'), (err: unknown) => err instanceof OperationFailed && /not issued for this address/.test(err.message));
    } finally {
      await cp.close();
      await tunnels.close();
    }
    // Wired to its own node, the same tunnel works.
    const right = await openTunnels([standInHost(first.name, async () => tcpTo(first.clientPort))], 2379);
    const ok = createEtcdControlPlane({ endpoints: right.endpoints, tls: tlsOf(cluster.pki) });
    try {
      assert.equal(await ok.get('/nothing/here'), undefined);
    } finally {
      await ok.close();
      await right.close();
    }
  });

  it('a client certificate from a different CA is rejected by every member', async () => {
    const { cluster } = etcd();
    const intruder = createEtcdControlPlane({ endpoints: cluster.members.map((m) => ({ address: m.endpoint })), tls: tlsOf(cluster.pki, cluster.pki.foreignClient) });
    try {
      await assert.rejects(intruder.get('/cluster/nodes/x'), (err: unknown) => {
        assert.ok(err instanceof OperationFailed);
        assert.match(err.message, /no endpoint answered/);
        for (const m of cluster.members) assert.ok(err.message.includes(m.endpoint), `${m.endpoint} named`);
        assert.match(err.message, /rejected our client certificate/);
        assert.match(err.hints.join('\n'), /issued by the cluster CA/);
        return true;
      });
    } finally {
      await intruder.close();
    }
  });

  it('verifies the server certificate: a different CA chain is refused', async () => {
    const { cluster } = etcd();
    const member = cluster.members[0];
    assert.ok(member !== undefined);
    const wrongTrust = createEtcdControlPlane({ endpoints: [{ address: member.endpoint }], tls: tlsOf(cluster.pki, cluster.pki.client, cluster.pki.foreignCa) });
    try {
      await assert.rejects(
        wrongTrust.get('/x'),
        (err: unknown) => err instanceof OperationFailed && /server's certificate is not trusted/.test(err.message) && /CA chain/.test(err.hints.join('\n')),
      );
    } finally {
      await wrongTrust.close();
    }
    // Connecting by a name the certificate does not carry fails too (no SAN DNS:localhost).
    const wrongName = createEtcdControlPlane({ endpoints: [{ address: `localhost:${member.clientPort}` }], tls: tlsOf(cluster.pki) });
    try {
      await assert.rejects(
        wrongName.get('/x'),
        (err: unknown) => err instanceof OperationFailed && /not issued for this address/.test(err.message) && /IP:127\.0\.0\.1/.test(err.hints.join('\n')),
      );
    } finally {
      await wrongName.close();
    }
    // serverName (grpc's ssl_target_name_override) checks the certificate against that name instead.
    const named = createEtcdControlPlane({ endpoints: [{ address: `localhost:${member.clientPort}` }], tls: tlsOf(cluster.pki), serverName: '127.0.0.1' });
    try {
      assert.equal(await named.get('/nothing/here'), undefined);
    } finally {
      await named.close();
    }
  });

  it('unusable TLS material is a UserError at creation, without echoing the key', () => {
    const { cluster } = etcd();
    const endpoints = [{ address: cluster.members[0]?.endpoint ?? '' }];
    assert.throws(
      () => createEtcdControlPlane({ endpoints, tls: tlsOf(cluster.pki, { ...cluster.pki.client, key: cluster.pki.foreignClient.key }) }),
      (err: unknown) => err instanceof UserError && /cannot be used/.test(err.message) && !err.message.includes('PRIVATE KEY'),
    );
    assert.throws(() => createEtcdControlPlane({ endpoints: [], tls: tlsOf(cluster.pki) }), /no etcd endpoint/);
    assert.throws(() => createEtcdControlPlane({ endpoints: [{ address: 'https://x:1' }], tls: tlsOf(cluster.pki) }), /not host:port/);
  });

  it('fails over when a member is killed, and names every endpoint when none answers', async () => {
    const { cluster, cp } = etcd();
    const [first, second, third] = cluster.members;
    assert.ok(first !== undefined && second !== undefined && third !== undefined);
    await cp.put('/failover/before', 'yes');
    await first.kill();
    assert.equal(first.running, false);
    // The remaining two members keep quorum; after an election (bounded wait) writes go through.
    const fresh = createEtcdControlPlane({
      endpoints: cluster.members.map((m) => ({ address: m.endpoint, label: m.name })),
      tls: tlsOf(cluster.pki),
      callTimeoutMs: 3000,
    });
    try {
      const health = await eventually(async () => {
        const h = await fresh.health();
        assert.notEqual(h.leaderId, '0');
        return h;
      });
      assert.equal(health.answeredBy, 'etcd002');
      assert.equal(health.skipped[0]?.endpoint, 'etcd001');
      assert.match(health.skipped[0]?.reason ?? '', /connection refused/);
      await eventually(() => fresh.put('/failover/after', 'yes'));
      assert.equal(await fresh.get('/failover/before'), 'yes');
      assert.equal(await fresh.get('/failover/after'), 'yes');
      // The long-lived client (which had used etcd001) moves on too.
      assert.equal(await cp.get('/failover/after'), 'yes');
    } finally {
      await fresh.close();
    }

    const [unused] = await freePorts(1);
    const dead = createEtcdControlPlane({
      endpoints: [{ address: first.endpoint, label: 'etcd001' }, { address: `127.0.0.1:${unused}`, label: 'nowhere' }],
      tls: tlsOf(cluster.pki),
      callTimeoutMs: 3000,
    });
    try {
      await assert.rejects(dead.get('/failover/after'), (err: unknown) => {
        assert.ok(err instanceof OperationFailed);
        assert.match(err.message, /no endpoint answered \(etcd001: connection refused .*; nowhere: connection refused/);
        return true;
      });
    } finally {
      await dead.close();
    }
  });

  it('printed no TLS ServerName deprecation warning', () => {
    assert.ok(!warnings.includes('DEP0123'), warnings.join(', '));
  });
});
