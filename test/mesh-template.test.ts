import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderMeshBody } from './support/confd-mesh.js';
import { repoRoot, tempDir } from './support/repo.js';

const modules = path.join(repoRoot, 'templates', 'cluster', 'modules');
const skip = existsSync('/usr/sbin/haproxy') ? false : 'needs Debian haproxy (scripts/setup.sh --test)';

function haproxyCheck(file: string): { status: number | null; output: string } {
  const result = spawnSync('/usr/sbin/haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A representative cluster: worker001 consumes services and backends; frontends it does not. */
const state = new Map<string, string>([
  ['/cluster/nodes/worker001', JSON.stringify({ name: 'worker001', ipv4: '203.0.113.21', services: ['services', 'backends'] })],
  ['/cluster/nodes/worker002', JSON.stringify({ name: 'worker002', ipv4: '203.0.113.22', services: ['frontends'] })],
  ['/cluster/services/mongodb/meta_data', JSON.stringify({ env: { HOST: '127.0.0.1', PORT: 27017 }, env_prefix: 'MONGODB', publish: { port: 27017 } })],
  ['/cluster/services/mongodb/instances/service001', JSON.stringify({ node: 'service001', ipv4: '10.10.1.0', port: 27017 })],
  ['/cluster/services/mongodb/instances/service002', JSON.stringify({ node: 'service002', ipv4: '10.10.2.0', port: 27017 })],
  ['/cluster/services/mongodb/instances/service003', JSON.stringify({ node: 'service003', ipv4: '10.10.3.0', port: 27017 })],
  // An app that registered instances but no meta_data yet: no listen section.
  ['/cluster/services/half-registered/instances/service001', JSON.stringify({ node: 'service001', ipv4: '10.10.1.0', port: 9000 })],
  ['/cluster/backends/api/meta_data', JSON.stringify({ env: { HOST: '127.0.0.1', PORT: 8080 }, env_prefix: 'API', publish: { port: 8080 } })],
  ['/cluster/backends/api/instances/worker002', JSON.stringify({ node: 'worker002', ipv4: '10.10.5.0', port: 18080 })],
  // An app whose instances all stopped: a listen with no servers (HAProxy accepts it).
  ['/cluster/backends/idle/meta_data', JSON.stringify({ publish: { port: 7000 } })],
  ['/cluster/frontends/web/meta_data', JSON.stringify({ publish: { port: 80 } })],
  ['/cluster/frontends/web/instances/worker002', JSON.stringify({ node: 'worker002', ipv4: '10.10.5.0', port: 8081 })],
]);

describe('service-mesh HAProxy template', { skip }, () => {
  it('the head alone is a configuration HAProxy accepts (what runs before confd rendered anything)', () => {
    const check = haproxyCheck(path.join(modules, 'haproxy-mesh.head.cfg'));
    assert.equal(check.status, 0, check.output);
  });

  it('renders one listen on 127.0.0.1:<publish.port> per consumed app, balancing over its instances, and haproxy -c accepts it', async (t) => {
    const head = await readFile(path.join(modules, 'haproxy-mesh.head.cfg'), 'utf8');
    const body = renderMeshBody(state, 'worker001');
    assert.equal(
      body,
      [
        '',
        '',
        'listen services-mongodb',
        '    bind 127.0.0.1:27017',
        '    balance roundrobin',
        '    server service001 10.10.1.0:27017 check',
        '    server service002 10.10.2.0:27017 check',
        '    server service003 10.10.3.0:27017 check',
        '',
        'listen backends-api',
        '    bind 127.0.0.1:8080',
        '    balance roundrobin',
        '    server worker002 10.10.5.0:18080 check',
        '',
        'listen backends-idle',
        '    bind 127.0.0.1:7000',
        '    balance roundrobin',
      ].join('\n'),
      'groups in the order the node lists them; apps and instances sorted; no section without meta_data; frontends not consumed',
    );
    const dir = await tempDir(t);
    const file = path.join(dir, 'haproxy.cfg');
    await writeFile(file, `${head}${body}\n`);
    const check = haproxyCheck(file);
    assert.equal(check.status, 0, check.output);

    // A broken render is caught by the same check (the test can fail).
    await writeFile(file, `${head}${body}\n    server bad 10.10.9.0:notaport check\n`);
    assert.notEqual(haproxyCheck(file).status, 0);
  });

  it('a node that is not registered yet gets the head only', () => {
    assert.equal(renderMeshBody(state, 'worker009'), '');
  });

  it('the template still has every construct the test renderer mirrors', async () => {
    const template = await readFile(path.join(modules, 'haproxy-mesh.body.tmpl'), 'utf8');
    for (const construct of [
      'printf "/cluster/nodes/%s" (getenv "HOSTNAME")',
      'range $group := $node.services',
      'range $app := lsdir (printf "/cluster/%s" $group)',
      'printf "/cluster/%s/%s/meta_data" $group $app',
      'listen {{ $group }}-{{ $app }}',
      'bind 127.0.0.1:{{ $meta.publish.port }}',
      'balance roundrobin',
      'range gets (printf "/cluster/%s/%s/instances/*" $group $app)',
      'server {{ $instance.node }} {{ $instance.ipv4 }}:{{ $instance.port }} check',
    ]) {
      assert.ok(template.includes(construct), `haproxy-mesh.body.tmpl no longer contains: ${construct}`);
    }
  });
});
