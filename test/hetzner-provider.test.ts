import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { HetznerClient } from '../src/adapters/providers/hetzner/client.js';
import { HetznerProvider } from '../src/adapters/providers/hetzner/hetzner-provider.js';
import { HybridProvider } from '../src/adapters/providers/hybrid.js';
import { SelfHostedProvider } from '../src/adapters/providers/self-hosted.js';
import type { ServerEntry } from '../src/config/inventory.js';
import { OperationFailed, UserError } from '../src/domain/errors.js';
import type { ServerInfo } from '../src/ports/provider.js';
import type { HetznerApi, HetznerApiOptions } from './hetzner-api/server.js';
import { startHetznerApi } from './hetzner-api/server.js';

async function start(t: TestContext, options: HetznerApiOptions = {}): Promise<HetznerApi> {
  const api = await startHetznerApi(options);
  t.after(() => api.close());
  return api;
}

/** Creates servers through the fake's own API, as a real project would get them. */
async function createServers(api: HetznerApi, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const response = await fetch(`${api.endpoint}/servers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, server_type: 'cx22', image: 'ubuntu-22.04', location: 'hel1' }),
    });
    assert.equal(response.status, 201, await response.text());
  }
}

/** A provider on the fake that records rate-limit waits instead of sleeping. */
function provider(api: HetznerApi, options: { token?: string; perPage?: number; maxRetries?: number; maxWaitMs?: number; onSleep?: (ms: number) => void } = {}) {
  const waits: number[] = [];
  const hetzner = new HetznerProvider({
    token: options.token ?? api.token,
    endpoint: api.endpoint,
    sleep: async (ms) => {
      waits.push(ms);
      options.onSleep?.(ms);
    },
    ...(options.perPage === undefined ? {} : { perPage: options.perPage }),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
  });
  return { hetzner, waits };
}

const serverListRequests = (api: HetznerApi, from = 0) => api.requests.slice(from).filter((r) => r.method === 'GET' && r.path === '/v1/servers');

const names = (count: number, prefix = 'node'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

test('listServers reads every page exactly once and maps each server', async (t) => {
  const api = await start(t);
  await createServers(api, names(60));
  const before = api.requests.length;

  const servers = await provider(api, { perPage: 25 }).hetzner.listServers();
  assert.deepEqual(servers.map((s) => s.name), names(60));
  const pages = serverListRequests(api, before).map((r) => [r.query.page, r.query.per_page, r.status]);
  assert.deepEqual(pages, [['1', '25', 200], ['2', '25', 200], ['3', '25', 200]]);

  const first = servers[0] as ServerInfo;
  const fromApi = [...api.state.servers.values()].find((s) => s.name === first.name);
  assert.ok(fromApi?.ipv4);
  assert.deepEqual(first, { name: 'node-01', address: fromApi.ipv4, username: 'root', port: 22, provider: 'hetzner', description: 'cx22 in hel1' });
  assert.equal(new Set(servers.map((s) => s.address)).size, 60, 'every server keeps its own address');

  // The default asks for the documented maximum of 50 per page.
  const mark = api.requests.length;
  assert.equal((await provider(api).hetzner.listServers()).length, 60);
  assert.deepEqual(serverListRequests(api, mark).map((r) => [r.query.page, r.query.per_page]), [['1', '50'], ['2', '50']]);
});

test('a rejected token is a UserError (exit 2) naming HCLOUD_TOKEN', async (t) => {
  const api = await start(t);
  await assert.rejects(provider(api, { token: 'not-the-token' }).hetzner.listServers(), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.ok(!(error instanceof OperationFailed));
    assert.equal(error.message, 'HCLOUD_TOKEN was rejected by the Hetzner API (unauthorized)');
    assert.equal(error.exitCode, 2);
    return true;
  });
  assert.deepEqual(serverListRequests(api).map((r) => r.status), [401]);
});

test('429 answers are waited out and retried; the listing still completes', async (t) => {
  const api = await start(t);
  await createServers(api, names(3));
  const before = api.requests.length;
  api.faults.rateLimitNext(2);

  const { hetzner, waits } = provider(api);
  assert.equal((await hetzner.listServers()).length, 3);
  assert.deepEqual(serverListRequests(api, before).map((r) => [r.query.page, r.status]), [['1', 429], ['1', 429], ['1', 200]]);
  // The forced limit answers `Retry-After: 1`: each wait is exactly that second.
  assert.deepEqual(waits, [1000, 1000]);
  assert.equal(api.faults.pending, 0);
});

test('an exhausted hourly budget is waited out for exactly the time the API names, once', async (t) => {
  // One clock for the API and the client's sleep, so the budget refills as it would in real time.
  let clock = 1_700_000_000_000;
  const api = await start(t, { now: () => clock, rateLimit: 60 });
  const { hetzner, waits } = provider(api, { onSleep: (ms) => (clock += ms) });
  for (let i = 0; i < 60; i++) await hetzner.listServers();
  assert.deepEqual(waits, [], 'the budget of 60 lasts 60 requests');

  // 60 per hour refill one request a minute: `Retry-After: 60`, inside the 60 s this client waits.
  assert.deepEqual(await hetzner.listServers(), []);
  assert.deepEqual(waits, [60_000]);
  assert.deepEqual(serverListRequests(api).slice(-2).map((r) => r.status), [429, 200]);
});

test('rate limiting gives up after the retry budget, or at once when the wait is too long', async (t) => {
  const api = await start(t);
  api.faults.rateLimitNext(10);
  const limited = provider(api, { maxRetries: 3 });
  await assert.rejects(limited.hetzner.listServers(), (error: unknown) => {
    assert.ok(error instanceof OperationFailed);
    assert.match(error.message, /listing servers failed: the Hetzner API rate limit was still exceeded after 3 retries/);
    return true;
  });
  assert.deepEqual(serverListRequests(api).map((r) => r.status), [429, 429, 429, 429]);
  assert.equal(limited.waits.length, 3);

  // One request per hour: the second one would have to wait about an hour.
  api.reset();
  api.rateLimiter.setLimit(1);
  const slow = provider(api);
  assert.equal((await slow.hetzner.listServers()).length, 0);
  await assert.rejects(slow.hetzner.listServers(), /rate limit is exhausted for \d+ s, longer than the 60 s this command waits/);
  assert.deepEqual(slow.waits, [], 'no sleeping when the wait exceeds the bound');
});

test('a server error becomes OperationFailed naming the operation and the code', async (t) => {
  const api = await start(t);
  api.faults.push({ method: 'GET', path: /^\/v1\/servers$/, status: 500, message: 'database on fire' });
  await assert.rejects(provider(api).hetzner.listServers(), (error: unknown) => {
    assert.ok(error instanceof OperationFailed);
    assert.equal(error.exitCode, 1);
    assert.equal(error.message, 'listing servers failed: the Hetzner API answered 500 server_error: database on fire');
    return true;
  });
});

test('a 503 (or 502, 504) on a GET is retried with a backoff; a POST is not, it may have been processed', async (t) => {
  const api = await start(t);
  await createServers(api, names(2));
  const before = api.requests.length;
  api.faults.push({ method: 'GET', path: /^\/v1\/servers$/, status: 503, times: 2 }, { method: 'GET', path: /^\/v1\/servers$/, status: 504 });
  const { hetzner, waits } = provider(api);
  assert.deepEqual((await hetzner.listServers()).map((s) => s.name), names(2));
  assert.deepEqual(serverListRequests(api, before).map((r) => r.status), [503, 503, 504, 200]);
  assert.deepEqual(waits, [1000, 2000, 4000]);

  // Still unavailable after the retries: the error says so.
  api.faults.push({ method: 'GET', path: /^\/v1\/servers$/, status: 503, times: 4 });
  await assert.rejects(provider(api).hetzner.listServers(), /listing servers failed: the Hetzner API answered 503 unavailable/);
  assert.equal(api.faults.pending, 0, 'tried 4 times');
});

test('findServerAddress asks for one name only', async (t) => {
  const api = await start(t);
  await createServers(api, ['web-1', 'db-1']);
  const before = api.requests.length;
  const { hetzner } = provider(api);
  const db = [...api.state.servers.values()].find((s) => s.name === 'db-1');
  assert.equal(await hetzner.findServerAddress('db-1'), db?.ipv4);
  assert.equal(await hetzner.findServerAddress('nope'), undefined);
  assert.deepEqual(serverListRequests(api, before).map((r) => r.query), [{ name: 'db-1' }, { name: 'nope' }]);
});

function entry(name: string, fields: Partial<ServerEntry>): ServerEntry {
  return { name, sshKeyPath: '/keys/k', sshKeyRef: './ssh/k', username: 'admin', port: 2222, metadata: {}, ...fields };
}

test('hybrid entries get their address from Hetzner; a missing name is reported', async (t) => {
  const api = await start(t);
  await createServers(api, ['db-1', 'db-2']);
  const { hetzner } = provider(api);
  const inventory = (entries: ServerEntry[]) => new SelfHostedProvider({ file: '/p/servers.yaml', servers: entries });
  const before = api.requests.length;

  const servers = await new HybridProvider(
    inventory([entry('web-1', { ip: '192.0.2.10' }), entry('db-1', { provider: 'hetzner' }), entry('db-2', { provider: 'hetzner' })]),
    hetzner,
  ).listServers();
  const ip = (name: string) => [...api.state.servers.values()].find((s) => s.name === name)?.ipv4;
  assert.deepEqual(servers.map((s) => [s.name, s.address, s.username, s.port, s.provider]), [
    ['web-1', '192.0.2.10', 'admin', 2222, 'self-hosted'],
    ['db-1', ip('db-1'), 'admin', 2222, 'hetzner'],
    ['db-2', ip('db-2'), 'admin', 2222, 'hetzner'],
  ]);
  // One filtered lookup per hetzner entry, never a full listing.
  assert.deepEqual(serverListRequests(api, before).map((r) => r.query.name).sort(), ['db-1', 'db-2']);

  const missing = new HybridProvider(inventory([entry('db-1', { provider: 'hetzner' }), entry('ghost', { provider: 'hetzner' })]), hetzner);
  await assert.rejects(missing.listServers(), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, 'servers.yaml: servers.ghost: not found in Hetzner Cloud');
    return true;
  });
});

test('hybrid lookups run in parallel, at most 8 at once', async () => {
  let active = 0;
  let peak = 0;
  const lookup = {
    findServer: async (name: string): Promise<ServerInfo> => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setImmediate(resolve));
      active -= 1;
      return { name, address: '198.51.100.1', username: 'root', port: 22, provider: 'hetzner' };
    },
  };
  const entries = names(20, 'h').map((name) => entry(name, { provider: 'hetzner' }));
  const servers = await new HybridProvider(new SelfHostedProvider({ file: '/p/servers.yaml', servers: entries }), lookup).listServers();
  assert.equal(servers.filter((s) => s.address === '198.51.100.1').length, 20);
  assert.equal(peak, 8);
});

test('HCLOUD_ENDPOINT decides where requests go', async (t) => {
  const api = await start(t);
  const other = await start(t);
  await createServers(api, ['only-here']);
  const before = api.requests.length;

  const client = new HetznerClient({ token: api.token, endpoint: `${api.endpoint}/` });
  assert.equal(client.endpoint, api.endpoint);
  assert.deepEqual((await new HetznerProvider(client).listServers()).map((s) => s.name), ['only-here']);
  assert.equal(serverListRequests(api, before).length, 1);
  assert.equal(other.requests.length, 0);

  assert.deepEqual(await new HetznerProvider({ token: other.token, endpoint: other.endpoint }).listServers(), []);
  assert.equal(other.requests.length, 1);
  assert.throws(() => new HetznerClient({ token: 't', endpoint: 'ftp://example.test/v1' }), /HCLOUD_ENDPOINT must be an http\(s\) URL/);
});
