import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HetznerApiOptions } from './hetzner-api/server.js';
import { startHetznerApi } from './hetzner-api/server.js';
import { tempDir } from './support/repo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example';
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7Ovbt5rJ5sVKkcQyMOfl4NbsJ9nTFKDsnFPkWWsVSq other@example';

type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Json;
}

/** A started API on a manual clock (so action completion never depends on timing) plus a caller. */
async function start(t: TestContext, options: HetznerApiOptions = {}) {
  const clock = { ms: 1_700_000_000_000 };
  const api = await startHetznerApi({ now: () => clock.ms, ...options });
  t.after(() => api.close());
  const call = async (method: string, route: string, body?: unknown, token: string | null = api.token): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${api.endpoint}${route}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? {} : (JSON.parse(text) as Json) };
  };
  return { api, clock, call };
}

const server = { server_type: 'cx22', image: 'ubuntu-22.04', location: 'hel1' };

/** Reads a nested field without `any`: `at(json, 'server', 'public_net', 'ipv4', 'ip')`. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function errorCode(reply: Reply): unknown {
  return at(reply.json, 'error', 'code');
}

function assertEnvelope(reply: Reply, status: number, code: string): void {
  assert.equal(reply.status, status, JSON.stringify(reply.json));
  assert.equal(errorCode(reply), code);
  assert.equal(typeof at(reply.json, 'error', 'message'), 'string');
  assert.equal(typeof at(reply.json, 'error', 'details'), 'object');
}

test('a missing or wrong Bearer token answers 401 unauthorized in the error envelope', async (t) => {
  const { call } = await start(t);
  const missing = await call('GET', '/servers', undefined, null);
  assertEnvelope(missing, 401, 'unauthorized');
  assertEnvelope(await call('GET', '/servers', undefined, 'wrong'), 401, 'unauthorized');
  assert.equal(missing.headers.get('ratelimit-limit'), '3600');
  assert.equal((await call('GET', '/servers')).status, 200);
});

test('creating a server returns running actions that succeed when the clock passes actionMs', async (t) => {
  const { clock, call } = await start(t, { actionMs: 500 });
  const key = await call('POST', '/ssh_keys', { name: 'deploy', public_key: PUBLIC_KEY });
  assert.equal(key.status, 201);

  const created = await call('POST', '/servers', { name: 'node1', ...server, ssh_keys: ['deploy'], labels: { role: 'web' } });
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.json).sort(), ['action', 'next_actions', 'root_password', 'server']);
  assert.equal(created.json.root_password, null);
  assert.equal(at(created.json, 'server', 'status'), 'initializing');
  assert.equal(at(created.json, 'server', 'name'), 'node1');
  assert.deepEqual(at(created.json, 'server', 'labels'), { role: 'web' });
  assert.match(String(at(created.json, 'server', 'public_net', 'ipv4', 'ip')), /^203\.0\.113\.\d+$/);
  assert.match(String(at(created.json, 'server', 'public_net', 'ipv6', 'ip')), /^2001:db8:/);
  assert.equal(at(created.json, 'server', 'server_type', 'name'), 'cx22');
  assert.equal(at(created.json, 'server', 'server_type', 'architecture'), 'x86');
  assert.equal(at(created.json, 'server', 'datacenter', 'location', 'name'), 'hel1');
  assert.equal(at(created.json, 'server', 'image', 'name'), 'ubuntu-22.04');
  assert.equal(at(created.json, 'server', 'placement_group'), null);
  assert.equal(typeof at(created.json, 'server', 'created'), 'string');
  assert.equal(at(created.json, 'action', 'command'), 'create_server');
  assert.equal(at(created.json, 'action', 'status'), 'running');
  assert.equal(at(created.json, 'action', 'finished'), null);
  assert.equal(at(created.json, 'action', 'error'), null);
  const serverId = Number(at(created.json, 'server', 'id'));
  assert.deepEqual(at(created.json, 'action', 'resources'), [{ id: serverId, type: 'server' }]);
  assert.equal(at(created.json, 'next_actions', 0, 'command'), 'start_server');

  const actionId = Number(at(created.json, 'action', 'id'));
  clock.ms += 250;
  const halfway = await call('GET', `/actions/${actionId}`);
  assert.equal(at(halfway.json, 'action', 'status'), 'running');
  assert.equal(at(halfway.json, 'action', 'progress'), 50);

  clock.ms += 250;
  const done = await call('GET', `/actions/${actionId}`);
  assert.equal(at(done.json, 'action', 'status'), 'success');
  assert.equal(at(done.json, 'action', 'progress'), 100);
  assert.equal(typeof at(done.json, 'action', 'finished'), 'string');
  const fetched = await call('GET', `/servers/${serverId}`);
  assert.equal(at(fetched.json, 'server', 'status'), 'running');

  const actions = await call('GET', `/servers/${serverId}/actions`);
  const list = at(actions.json, 'actions') as Json[];
  assert.deepEqual(list.map((action) => [action.command, action.status]), [['create_server', 'success'], ['start_server', 'success']]);
});

test('a server without SSH keys gets a root password', async (t) => {
  const { call } = await start(t);
  const created = await call('POST', '/servers', { name: 'pw', ...server });
  assert.equal(typeof created.json.root_password, 'string');
});

test('server names are unique and must be hostnames', async (t) => {
  const { call } = await start(t);
  assert.equal((await call('POST', '/servers', { name: 'dup', ...server })).status, 201);
  assertEnvelope(await call('POST', '/servers', { name: 'dup', ...server }), 409, 'uniqueness_error');
  assertEnvelope(await call('POST', '/servers', { name: 'not a host', ...server }), 422, 'invalid_input');
  const missing = await call('POST', '/servers', { ...server });
  assertEnvelope(missing, 422, 'invalid_input');
  assert.equal(at(missing.json, 'error', 'details', 'fields', 0, 'name'), 'name');
});

test('server lists paginate with exact meta across three pages', async (t) => {
  const { call } = await start(t);
  for (let index = 1; index <= 60; index += 1) {
    assert.equal((await call('POST', '/servers', { name: `n${String(index).padStart(2, '0')}`, ...server })).status, 201);
  }
  const expected = [
    { page: 1, per_page: 25, previous_page: null, next_page: 2, last_page: 3, total_entries: 60, count: 25, first: 'n01' },
    { page: 2, per_page: 25, previous_page: 1, next_page: 3, last_page: 3, total_entries: 60, count: 25, first: 'n26' },
    { page: 3, per_page: 25, previous_page: 2, next_page: null, last_page: 3, total_entries: 60, count: 10, first: 'n51' },
  ];
  for (const { count, first, ...meta } of expected) {
    const reply = await call('GET', `/servers?page=${meta.page}`);
    const servers = reply.json.servers as Json[];
    assert.equal(servers.length, count);
    assert.equal(servers[0]?.name, first);
    assert.deepEqual(at(reply.json, 'meta', 'pagination'), meta);
  }
  const capped = await call('GET', '/servers?per_page=500');
  assert.equal(at(capped.json, 'meta', 'pagination', 'per_page'), 50);
  assert.equal((capped.json.servers as Json[]).length, 50);
  assert.match(capped.headers.get('link') ?? '', /page=2&per_page=50>; rel="next"/);
  assertEnvelope(await call('GET', '/servers?per_page=0'), 422, 'invalid_input');
});

test('servers filter by name and by label selector', async (t) => {
  const { call } = await start(t);
  await call('POST', '/servers', { name: 'web1', ...server, labels: { role: 'web', env: 'prod' } });
  await call('POST', '/servers', { name: 'web2', ...server, labels: { role: 'web', env: 'staging' } });
  await call('POST', '/servers', { name: 'db1', ...server, labels: { role: 'db', env: 'prod' } });
  await call('POST', '/servers', { name: 'bare', ...server });
  const names = async (query: string): Promise<unknown[]> => ((await call('GET', `/servers?${query}`)).json.servers as Json[]).map((s) => s.name);

  assert.deepEqual(await names('name=web2'), ['web2']);
  assert.deepEqual(await names('name=absent'), []);
  assert.deepEqual(await names(`label_selector=${encodeURIComponent('role=web,env=prod')}`), ['web1']);
  assert.deepEqual(await names(`label_selector=${encodeURIComponent('role==web')}`), ['web1', 'web2']);
  assert.deepEqual(await names(`label_selector=${encodeURIComponent('env!=prod')}`), ['web2', 'bare']);
  assert.deepEqual(await names(`label_selector=${encodeURIComponent('env in (prod,staging),role!=db')}`), ['web1', 'web2']);
  assert.deepEqual(await names(`label_selector=${encodeURIComponent('!role')}`), ['bare']);
  assertEnvelope(await call('GET', `/servers?label_selector=${encodeURIComponent('a=b=c')}`), 422, 'invalid_input');
});

test('placement groups: create, find again by name, at most 10 servers', async (t) => {
  const { call } = await start(t);
  const created = await call('POST', '/placement_groups', { name: 'spread-1', type: 'spread' });
  assert.equal(created.status, 201);
  assert.equal(at(created.json, 'placement_group', 'type'), 'spread');
  assert.deepEqual(at(created.json, 'placement_group', 'servers'), []);
  const groupId = Number(at(created.json, 'placement_group', 'id'));
  assertEnvelope(await call('POST', '/placement_groups', { name: 'spread-1', type: 'spread' }), 409, 'uniqueness_error');
  assertEnvelope(await call('POST', '/placement_groups', { name: 'other', type: 'cluster' }), 422, 'invalid_input');

  const found = await call('GET', '/placement_groups?name=spread-1');
  assert.deepEqual((found.json.placement_groups as Json[]).map((group) => group.id), [groupId]);

  for (let index = 1; index <= 10; index += 1) {
    const reply = await call('POST', '/servers', { name: `pg${index}`, ...server, placement_group: groupId });
    assert.equal(reply.status, 201);
    assert.equal(at(reply.json, 'server', 'placement_group', 'id'), groupId);
  }
  const eleventh = await call('POST', '/servers', { name: 'pg11', ...server, placement_group: groupId });
  assertEnvelope(eleventh, 422, 'placement_error');
  assert.deepEqual(((await call('GET', '/servers?name=pg11')).json.servers as Json[]), []);
  const group = await call('GET', `/placement_groups/${groupId}`);
  assert.equal((at(group.json, 'placement_group', 'servers') as unknown[]).length, 10);
  assertEnvelope(await call('POST', '/servers', { name: 'x', ...server, placement_group: 999 }), 422, 'invalid_input');
});

test('ssh keys: add, look up by name, reject duplicates, delete', async (t) => {
  const { call } = await start(t);
  const added = await call('POST', '/ssh_keys', { name: 'ops', public_key: PUBLIC_KEY });
  assert.equal(added.status, 201);
  assert.match(String(at(added.json, 'ssh_key', 'fingerprint')), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  assert.equal(at(added.json, 'ssh_key', 'public_key'), PUBLIC_KEY);
  const keyId = Number(at(added.json, 'ssh_key', 'id'));

  assertEnvelope(await call('POST', '/ssh_keys', { name: 'ops', public_key: OTHER_KEY }), 409, 'uniqueness_error');
  assertEnvelope(await call('POST', '/ssh_keys', { name: 'ops2', public_key: PUBLIC_KEY }), 409, 'uniqueness_error');
  assertEnvelope(await call('POST', '/ssh_keys', { name: 'bad', public_key: 'not a key' }), 422, 'invalid_input');

  const byName = await call('GET', '/ssh_keys?name=ops');
  assert.deepEqual((byName.json.ssh_keys as Json[]).map((key) => key.id), [keyId]);
  const removed = await call('DELETE', `/ssh_keys/${keyId}`);
  assert.equal(removed.status, 204);
  assertEnvelope(await call('GET', `/ssh_keys/${keyId}`), 404, 'not_found');
  assertEnvelope(await call('DELETE', `/ssh_keys/${keyId}`), 404, 'not_found');
});

test('an injected fault fails the next matching request once, then the call succeeds', async (t) => {
  const { api, call } = await start(t);
  api.faults.push({ method: 'POST', path: /^\/v1\/servers$/, status: 500, times: 1 });
  api.faults.push({ method: 'POST', path: /^\/v1\/ssh_keys$/, status: 503, match: (body) => at(body, 'name') === 'flaky' });

  assert.equal((await call('GET', '/servers')).status, 200, 'other routes are untouched');
  assertEnvelope(await call('POST', '/servers', { name: 'retry', ...server }), 500, 'server_error');
  assert.equal((await call('POST', '/servers', { name: 'retry', ...server })).status, 201);

  assert.equal((await call('POST', '/ssh_keys', { name: 'steady', public_key: PUBLIC_KEY })).status, 201, 'body does not match');
  assertEnvelope(await call('POST', '/ssh_keys', { name: 'flaky', public_key: OTHER_KEY }), 503, 'unavailable');
  assert.equal(api.faults.pending, 0);
});

test('rate limiting: forced 429s and an exhausted hourly budget carry the documented headers', async (t) => {
  const { api, clock, call } = await start(t);
  api.faults.rateLimitNext(2);
  for (let index = 0; index < 2; index += 1) {
    const limited = await call('GET', '/servers');
    assertEnvelope(limited, 429, 'rate_limit_exceeded');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.ok(Number(limited.headers.get('ratelimit-reset')) > clock.ms / 1000);
  }
  assert.equal((await call('GET', '/servers')).status, 200);

  api.rateLimiter.setLimit(3); // 3 per hour: one more request every 1200 s
  const remaining: (string | null)[] = [];
  for (let index = 0; index < 3; index += 1) {
    const reply = await call('GET', '/servers');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('ratelimit-limit'), '3');
    remaining.push(reply.headers.get('ratelimit-remaining'));
  }
  assert.deepEqual(remaining, ['2', '1', '0']);
  const exhausted = await call('GET', '/servers');
  assertEnvelope(exhausted, 429, 'rate_limit_exceeded');
  assert.equal(exhausted.headers.get('retry-after'), '1200');
  assert.equal(exhausted.headers.get('ratelimit-reset'), String(Math.ceil(clock.ms / 1000) + 3600));
  clock.ms += 1_200_000;
  assert.equal((await call('GET', '/servers')).status, 200);
});

test('deleting a server removes it at once and returns a delete_server action', async (t) => {
  const deleted: string[] = [];
  const { api, call } = await start(t, { onServerDeleted: async (s) => void deleted.push(s.name) });
  const created = await call('POST', '/servers', { name: 'gone', ...server });
  const serverId = Number(at(created.json, 'server', 'id'));

  const reply = await call('DELETE', `/servers/${serverId}`);
  assert.equal(reply.status, 200);
  assert.equal(at(reply.json, 'action', 'command'), 'delete_server');
  assert.equal(at(reply.json, 'action', 'status'), 'running');
  assert.deepEqual(at(reply.json, 'action', 'resources'), [{ id: serverId, type: 'server' }]);
  assert.deepEqual(deleted, ['gone']);
  assertEnvelope(await call('GET', `/servers/${serverId}`), 404, 'not_found');
  assertEnvelope(await call('DELETE', `/servers/${serverId}`), 404, 'not_found');

  assert.equal(api.completeActions(), 3, 'create, start and delete were still running');
  const action = await call('GET', `/actions/${String(at(reply.json, 'action', 'id'))}`);
  assert.equal(at(action.json, 'action', 'status'), 'success');
  assert.equal(api.state.servers.size, 0);
});

test('unknown server type, image or location and malformed bodies are rejected', async (t) => {
  const { call } = await start(t);
  const type = await call('POST', '/servers', { ...server, name: 'a', server_type: 'cx999' });
  assertEnvelope(type, 422, 'invalid_input');
  assert.equal(at(type.json, 'error', 'details', 'fields', 0, 'name'), 'server_type');
  const location = await call('POST', '/servers', { ...server, name: 'a', location: 'mars1' });
  assertEnvelope(location, 422, 'invalid_input');
  assert.equal(at(location.json, 'error', 'details', 'fields', 0, 'name'), 'location');
  assertEnvelope(await call('POST', '/servers', { ...server, name: 'a', image: 'windows-95' }), 422, 'invalid_input');
  assertEnvelope(await call('POST', '/servers', { ...server, name: 'a', ssh_keys: ['nobody'] }), 422, 'invalid_input');
  assertEnvelope(await call('POST', '/servers', '{"name": '), 400, 'json_error');
  assertEnvelope(await call('GET', '/volumes'), 404, 'not_found');
  assertEnvelope(await call('PUT', '/servers'), 405, 'method_not_allowed');
});

test('an ARM server type gets the ARM build of the image', async (t) => {
  const { call } = await start(t);
  const created = await call('POST', '/servers', { name: 'arm1', server_type: 'cax11', image: 'debian-12', location: 'fsn1' });
  assert.equal(at(created.json, 'server', 'image', 'architecture'), 'arm');
  assert.equal(at(created.json, 'server', 'datacenter', 'location', 'name'), 'fsn1');
});

test('the catalogue lists server types, locations and images in documented shapes', async (t) => {
  const { call } = await start(t);
  const types = (await call('GET', '/server_types')).json.server_types as Json[];
  assert.deepEqual(types.map((type) => type.name), ['cx22', 'cpx21', 'cax11']);
  for (const type of types) {
    for (const field of ['id', 'name', 'architecture', 'cores', 'memory', 'disk']) assert.ok(field in type, field);
  }
  const locations = (await call('GET', '/locations')).json.locations as Json[];
  assert.deepEqual(locations.map((location) => location.name).sort(), ['fsn1', 'hel1', 'nbg1']);
  const images = (await call('GET', '/images?name=ubuntu-24.04&architecture=x86')).json.images as Json[];
  assert.deepEqual(images.map((image) => [image.name, image.architecture]), [['ubuntu-24.04', 'x86']]);
  assert.equal(at((await call('GET', '/server_types?name=cpx21')).json, 'server_types', 0, 'cores'), 3);
});

test('the backing hook supplies the server address; a failing hook creates nothing', async (t) => {
  const { call } = await start(t, {
    onServerCreated: async (s) => {
      if (s.name === 'broken') throw new Error('no capacity');
      return { ipv4: '10.99.0.7' };
    },
  });
  const created = await call('POST', '/servers', { name: 'backed', ...server });
  assert.equal(at(created.json, 'server', 'public_net', 'ipv4', 'ip'), '10.99.0.7');
  const failed = await call('POST', '/servers', { name: 'broken', ...server });
  assertEnvelope(failed, 500, 'server_error');
  assert.match(String(at(failed.json, 'error', 'message')), /no capacity/);
  assert.deepEqual(((await call('GET', '/servers')).json.servers as Json[]).map((s) => s.name), ['backed']);
});

test('the IPv4 generator is configurable', async (t) => {
  const { call } = await start(t, { allocateIpv4: (taken) => `198.51.100.${taken.size + 10}` });
  const first = await call('POST', '/servers', { name: 'ip1', ...server });
  const second = await call('POST', '/servers', { name: 'ip2', ...server });
  assert.equal(at(first.json, 'server', 'public_net', 'ipv4', 'ip'), '198.51.100.10');
  assert.equal(at(second.json, 'server', 'public_net', 'ipv4', 'ip'), '198.51.100.11');
});

test('the request log and counters record what clients sent; reset empties everything', async (t) => {
  const { api, clock, call } = await start(t);
  await call('GET', '/servers?name=web1&per_page=5');
  await call('POST', '/placement_groups', { name: 'g', type: 'spread' });
  await call('GET', '/placement_groups/1');
  await call('GET', '/servers', undefined, null);

  assert.deepEqual(
    api.requests.map(({ method, path: route, query, status, body }) => ({ method, route, query, status, body })),
    [
      { method: 'GET', route: '/v1/servers', query: { name: 'web1', per_page: '5' }, status: 200, body: undefined },
      { method: 'POST', route: '/v1/placement_groups', query: {}, status: 201, body: { name: 'g', type: 'spread' } },
      { method: 'GET', route: '/v1/placement_groups/1', query: {}, status: 200, body: undefined },
      { method: 'GET', route: '/v1/servers', query: {}, status: 401, body: undefined },
    ],
  );
  assert.ok(api.requests.every((entry) => entry.time === clock.ms));
  assert.equal(api.counters.total, 4);
  assert.equal(api.counters.byStatus['401'], 1);
  assert.equal(api.counters.byRoute['GET /v1/servers'], 2);
  assert.equal(api.counters.byRoute['GET /v1/placement_groups/{id}'], 1);

  api.reset();
  assert.equal(api.requests.length, 0);
  assert.equal(api.counters.total, 0);
  assert.equal(api.state.placementGroups.size, 0);
  const again = await call('POST', '/placement_groups', { name: 'g', type: 'spread' });
  assert.equal(at(again.json, 'placement_group', 'id'), 1, 'ids restart after a reset');
});

test('the request log is bounded', async (t) => {
  const { api, call } = await start(t, { maxLoggedRequests: 3 });
  for (let index = 1; index <= 5; index += 1) await call('GET', `/servers?page=${index}`);
  assert.deepEqual(api.requests.map((entry) => entry.query.page), ['3', '4', '5']);
  assert.equal(api.counters.total, 5);
});

test('main.js serves as a child process, prints the endpoint and uses the backing command', async (t) => {
  const dir = await tempDir(t);
  const backing = path.join(dir, 'backing.sh');
  const log = path.join(dir, 'calls.log');
  await writeFile(backing, `#!/bin/sh\necho "$1 $2" >> '${log}'\necho "working on $2"\necho 192.0.2.77\n`, { mode: 0o755 });

  const child = spawn(process.execPath, [path.join(here, 'hetzner-api', 'main.js'), '--token', 'child-token', '--action-ms', '0', '--backing-command', backing], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^HCLOUD_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+\/v1)$/m.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`main.js exited early with ${code}`)));
  });

  const headers = { Authorization: 'Bearer child-token', 'Content-Type': 'application/json' };
  const created = await fetch(`${endpoint}/servers`, { method: 'POST', headers, body: JSON.stringify({ name: 'sandboxed', ...server }) });
  assert.equal(created.status, 201);
  const body = (await created.json()) as Json;
  assert.equal(at(body, 'server', 'public_net', 'ipv4', 'ip'), '192.0.2.77');
  const removed = await fetch(`${endpoint}/servers/${String(at(body, 'server', 'id'))}`, { method: 'DELETE', headers });
  assert.equal(removed.status, 200);
  assert.equal(await readFile(log, 'utf8'), 'create sandboxed\ndelete sandboxed\n');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
});
