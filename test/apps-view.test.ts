import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appStatus, listApps } from '../src/core/control-plane/apps.js';
import { parseView } from '../src/core/control-plane/views.js';
import { appStatusText, appsTable, groupTable, nodesTable } from '../src/ui/control-plane-tables.js';

const node = (name: string, ipv4: string, services: string[]) => [`/cluster/nodes/${name}`, JSON.stringify({ name, ipv4, services })] as const;
const instance = (group: string, app: string, host: string, ipv4: string, port: number) =>
  [`/cluster/${group}/${app}/instances/${host}`, JSON.stringify({ node: host, ipv4, port })] as const;

const entries = new Map<string, string>([
  node('worker001', '203.0.113.1', ['services', 'backends']),
  node('worker002', '203.0.113.2', ['frontends']),
  node('ingress001', '203.0.113.3', ['frontends', 'services']),
  ['/cluster/services/web/meta_data', JSON.stringify({ publish: { port: 11000 }, env_prefix: 'WEB', env: { WEB_SCHEME: 'http', WEB_DB_PASSWORD: 'hunter2' }, api_token: 'x' })],
  instance('services', 'web', 'worker002', '10.10.2.0', 8080),
  instance('services', 'web', 'worker001', '10.10.1.0', 8080),
  ['/cluster/backends/db/meta_data', JSON.stringify({ publish: { port: 5432 } })],
  instance('frontends', 'web', 'worker002', '10.10.2.0', 80),
  ['/cluster/services/web/instances/broken', 'not json'],
]);

describe('apps views (pure)', () => {
  it('listApps: one row per app and group, instances sorted by host, consumers from the node registrations', () => {
    assert.deepEqual(listApps(entries), {
      apps: [
        { app: 'db', group: 'backends', publishPort: 5432, instances: [], consumers: ['worker001'] },
        { app: 'web', group: 'frontends', instances: [{ host: 'worker002', node: 'worker002', ipv4: '10.10.2.0', port: 80 }], consumers: ['ingress001', 'worker002'] },
        {
          app: 'web',
          group: 'services',
          publishPort: 11000,
          envPrefix: 'WEB',
          instances: [
            { host: 'worker001', node: 'worker001', ipv4: '10.10.1.0', port: 8080 },
            { host: 'worker002', node: 'worker002', ipv4: '10.10.2.0', port: 8080 },
          ],
          consumers: ['ingress001', 'worker001'],
        },
      ],
      problems: [{ key: '/cluster/services/web/instances/broken', reason: 'not an instance record {"node","ipv4","port"}' }],
    });
  });

  it('appsTable: aligned columns, "-" for what is missing', () => {
    assert.equal(
      appsTable(listApps(entries)),
      [
        'APP  GROUP      PUBLISH PORT  INSTANCES                                           CONSUMERS',
        'db   backends   5432          -                                                   worker001',
        'web  frontends  -             worker002 10.10.2.0:80                              ingress001 worker002',
        'web  services   11000         worker001 10.10.1.0:8080, worker002 10.10.2.0:8080  ingress001 worker001',
      ].join('\n'),
    );
  });

  it('appStatus: meta_data flattened, secret-looking fields named as hidden and never shown', () => {
    const lookup = appStatus(entries, 'web', 'services');
    assert.ok(lookup.found);
    assert.deepEqual(lookup.status.fields, { 'publish.port': 11000, env_prefix: 'WEB', 'env.WEB_SCHEME': 'http' });
    assert.deepEqual(lookup.status.hidden, ['api_token', 'env.WEB_DB_PASSWORD']);
    assert.deepEqual(lookup.status.problems, [{ key: '/cluster/services/web/instances/broken', reason: 'not an instance record {"node","ipv4","port"}' }]);
    const text = appStatusText(lookup.status);
    assert.equal(
      text,
      [
        'app:          web',
        'group:        services',
        'publish port: 11000',
        'consumers:    ingress001 worker001',
        '',
        'META_DATA       VALUE',
        'publish.port    11000',
        'env_prefix      WEB',
        'env.WEB_SCHEME  http',
        'hidden (secret-looking names): api_token env.WEB_DB_PASSWORD',
        '',
        'INSTANCE   NODE       ADDRESS',
        'worker001  worker001  10.10.1.0:8080',
        'worker002  worker002  10.10.2.0:8080',
      ].join('\n'),
    );
    assert.ok(!text.includes('hunter2') && !JSON.stringify(lookup).includes('hunter2'), 'the secret value is nowhere');
  });

  it('appStatus: a name in two groups needs --group; an unknown name is not found', () => {
    assert.deepEqual(appStatus(entries, 'web'), { found: false, groups: ['frontends', 'services'] });
    assert.deepEqual(appStatus(entries, 'nope'), { found: false, groups: [] });
    const db = appStatus(entries, 'db');
    assert.ok(db.found);
    assert.equal(appStatusText(db.status).split('\n').slice(-3).join('\n'), 'publish.port  5432\n\ninstances: none');
  });

  it('the etcd views print tables: nodes and a service group', () => {
    assert.equal(
      nodesTable(parseView('nodes', new Map([node('worker001', '203.0.113.1', ['services', 'backends']), node('ctrl001', '203.0.113.9', [])]))),
      ['NODE       IPV4         CONSUMES', 'worker001  203.0.113.1  services backends', 'ctrl001    203.0.113.9  -'].join('\n'),
    );
    const services = new Map([...entries].filter(([key]) => key.startsWith('/cluster/services/') && !key.endsWith('broken')));
    assert.equal(
      groupTable(parseView('services', services)),
      ['APP  PUBLISH PORT  ENV PREFIX  INSTANCES', 'web  11000         WEB         worker002 10.10.2.0:8080, worker001 10.10.1.0:8080'].join('\n'),
    );
  });
});
