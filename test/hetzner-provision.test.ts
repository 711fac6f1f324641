import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { HetznerProvider, type ProvisioningOptions } from '../src/adapters/providers/hetzner/hetzner-provider.js';
import { md5Fingerprint } from '../src/adapters/providers/hetzner/ssh-keys.js';
import { UserError } from '../src/domain/errors.js';
import type { EnsureOutcome, EnsureServersRequest, ProviderEvent, ServerRequest } from '../src/ports/provider.js';
import type { HetznerApi, HetznerApiOptions } from './hetzner-api/server.js';
import { startHetznerApi } from './hetzner-api/server.js';
import { fingerprintOf } from './hetzner-api/state.js';

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example';
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7Ovbt5rJ5sVKkcQyMOfl4NbsJ9nTFKDsnFPkWWsVSq other@example';
const LABELS = { project: 'demo', role: 'fleet' };
const OUR_LABELS = { 'managed-by': 'nix-infra', 'nix-infra/project': 'demo', 'nix-infra/role': 'fleet' };

/**
 * The fake API and a provider sharing one manual clock: the provider's sleeps (action polls and
 * 429 waits) move the clock instead of waiting, and the fake finishes actions by that clock.
 */
async function setup(t: TestContext, apiOptions: HetznerApiOptions = {}, options: ProvisioningOptions & { key?: boolean } = {}) {
  const clock = { ms: 1_700_000_000_000 };
  const api = await startHetznerApi({ now: () => clock.ms, actionMs: 500, ...apiOptions });
  t.after(() => api.close());
  if (options.key !== false) api.state.addSshKey('deploy', PUBLIC_KEY, fingerprintOf(PUBLIC_KEY) as string, {});
  const sleeps: number[] = [];
  const hetzner = new HetznerProvider({
    token: api.token,
    endpoint: api.endpoint,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.ms += ms;
    },
    now: () => clock.ms,
    ...options,
  });
  const events: ProviderEvent[] = [];
  return { api, clock, hetzner, sleeps, events, onEvent: (event: ProviderEvent) => events.push(event) };
}

const names = (count: number, prefix = 'web'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

function request(serverNames: readonly string[], extra: Partial<EnsureServersRequest> = {}): EnsureServersRequest {
  const servers: ServerRequest[] = serverNames.map((name) => ({ name, machineType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04' }));
  return { servers, labels: LABELS, sshKeyName: 'deploy', ...extra };
}

/** A server made directly through the fake's API, as a colleague or another tool would. */
async function seedServer(api: HetznerApi, name: string, labels: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${api.endpoint}/servers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, server_type: 'cx22', image: 'ubuntu-24.04', location: 'hel1', labels }),
  });
  assert.equal(response.status, 201, await response.text());
  api.completeActions();
}

const serverNamed = (api: HetznerApi, name: string) => [...api.state.servers.values()].find((server) => server.name === name);
const route = (api: HetznerApi, key: string): number => api.counters.byRoute[key] ?? 0;
const states = (outcomes: readonly { name: string; state: string }[]) => outcomes.map((outcome) => [outcome.name, outcome.state]);

function reasonOf(outcome: EnsureOutcome | undefined): string {
  assert.ok(outcome && outcome.state === 'failed', `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

/** Clock times of the action polls, one entry per round (a round may span several requests). */
function pollRounds(api: HetznerApi): number[] {
  return [...new Set(api.requests.filter((r) => r.method === 'GET' && r.path === '/v1/actions').map((r) => r.time))].sort((a, b) => a - b);
}

test('5 nodes in a placement group: 5 creates, 1 group, all labelled; a second run creates nothing', async (t) => {
  const { api, hetzner, events, onEvent } = await setup(t);

  const outcomes = await hetzner.ensureServers(request(names(5), { placementGroup: 'web' }), onEvent);
  assert.deepEqual(states(outcomes), names(5).map((name) => [name, 'created']));
  assert.equal(route(api, 'POST /v1/servers'), 5);
  assert.equal(route(api, 'POST /v1/placement_groups'), 1);
  for (const outcome of outcomes) {
    const record = serverNamed(api, outcome.name);
    assert.ok(record && outcome.state === 'created');
    assert.deepEqual(record.labels, OUR_LABELS);
    assert.equal(record.status, 'running');
    assert.deepEqual(outcome.server, { name: outcome.name, address: record.ipv4, username: 'root', port: 22, provider: 'hetzner', description: 'cx22 in fsn1' });
  }
  const [group, ...others] = api.state.placementGroups.values();
  assert.equal(others.length, 0);
  assert.ok(group);
  assert.equal(group.name, 'web');
  assert.deepEqual(group.labels, { 'managed-by': 'nix-infra', 'nix-infra/project': 'demo' });
  assert.deepEqual(api.state.placementGroupJson(group).servers, [...api.state.servers.keys()]);

  const create = api.requests.find((r) => r.method === 'POST' && r.path === '/v1/servers' && (r.body as { name: string }).name === 'web1');
  assert.deepEqual(create?.body, {
    name: 'web1',
    server_type: 'cx22',
    location: 'fsn1',
    image: 'ubuntu-24.04',
    ssh_keys: ['deploy'],
    labels: OUR_LABELS,
    public_net: { enable_ipv4: true, enable_ipv6: true },
    placement_group: group.id,
    start_after_create: true,
  });
  // Shared: 1 listing, 1 key lookup, 1 group listing, 1 group create; then 5 creates; 1 poll round.
  assert.equal(pollRounds(api).length, 1);
  assert.equal(api.counters.total, 4 + 5 + 1);
  assert.ok(events.some((e) => e.kind === 'step' && e.message === 'creating web1' && e.server === 'web1'));
  assert.ok(events.some((e) => e.kind === 'waiting' && e.what === 'start_server' && e.server === 'web1'));

  const before = api.counters.total;
  const again = await hetzner.ensureServers(request(names(5), { placementGroup: 'web' }));
  assert.deepEqual(states(again), names(5).map((name) => [name, 'existing']));
  assert.equal(route(api, 'POST /v1/servers'), 5, 'no second create');
  assert.equal(api.counters.total - before, 1, 'one listing and nothing else');
  assert.deepEqual(again.map((o) => (o.state === 'existing' ? o.server.address : undefined)), outcomes.map((o) => (o.state === 'created' ? o.server.address : undefined)));
});

test('role, tier and tags become labels on new servers and are read back by the listing', async (t) => {
  const { api, hetzner } = await setup(t);
  const attributes = { role: 'web', tier: 'prod', tags: ['eu', 'canary'] };
  const servers: ServerRequest[] = [{ name: 'web1', machineType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04', attributes }];
  const [outcome] = await hetzner.ensureServers({ ...request([]), servers });
  assert.equal(outcome?.state, 'created');
  assert.deepEqual(serverNamed(api, 'web1')?.labels, {
    ...OUR_LABELS,
    'nix-infra/node-role': 'web',
    'nix-infra/tier': 'prod',
    'nix-infra-tag/eu': 'true',
    'nix-infra-tag/canary': 'true',
  });
  const [listed] = await hetzner.listServers();
  assert.deepEqual([listed?.name, listed?.role, listed?.tier, listed?.tags], ['web1', 'web', 'prod', ['canary', 'eu']]);
  const bad: ServerRequest[] = [{ name: 'web2', machineType: 'cx22', location: 'fsn1', image: 'ubuntu-24.04', attributes: { tier: 'a b' } }];
  const before = api.counters.total;
  await assert.rejects(hetzner.ensureServers({ ...request([]), servers: bad }), /nix-infra\/tier="a b" is not a valid Hetzner label value/);
  assert.equal(api.counters.total, before, 'refused before any request');
});

test('12 servers fill placement group web with 10 and web-2 with 2; 3 more reuse web-2', async (t) => {
  const { api, hetzner } = await setup(t);
  const members = () => Object.fromEntries([...api.state.placementGroups.values()].map((g) => [g.name, (api.state.placementGroupJson(g).servers as number[]).length]));

  const outcomes = await hetzner.ensureServers(request(names(12), { placementGroup: 'web' }));
  assert.equal(outcomes.filter((o) => o.state === 'created').length, 12);
  assert.deepEqual(members(), { web: 10, 'web-2': 2 });
  assert.equal(route(api, 'POST /v1/placement_groups'), 2);

  await hetzner.ensureServers(request(names(15), { placementGroup: 'web' }));
  assert.deepEqual(members(), { web: 10, 'web-2': 5 });
  assert.equal(route(api, 'POST /v1/placement_groups'), 2, 'web-2 had room');
  assert.equal(route(api, 'POST /v1/servers'), 15);
});

test('a placement group of the same name that is not ours stops the batch before any create', async (t) => {
  const { api, hetzner } = await setup(t);
  api.state.addPlacementGroup('web', {});
  await assert.rejects(hetzner.ensureServers(request(names(2), { placementGroup: 'web' })), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^placement group web exists, but it was not created by this nix-infra project/);
    return true;
  });
  assert.equal(route(api, 'POST /v1/servers'), 0);
});

test('429 answers and a failed poll slow provisioning down, but it completes', async (t) => {
  const { api, hetzner, sleeps } = await setup(t);
  api.faults.rateLimitNext(2);
  api.faults.push({ method: 'POST', path: /^\/v1\/servers$/, status: 429 }, { method: 'GET', path: /^\/v1\/actions$/, status: 429 });
  api.faults.push({ method: 'GET', path: /^\/v1\/actions$/, status: 503 });

  const outcomes = await hetzner.ensureServers(request(names(3)));
  assert.deepEqual(states(outcomes), names(3).map((name) => [name, 'created']));
  assert.equal(api.faults.pending, 0, 'every injected fault was hit');
  assert.equal(api.counters.byStatus['429'], 4);
  assert.equal(api.counters.byStatus['503'], 1);
  assert.equal(route(api, 'POST /v1/servers'), 4, '3 creates, one of them retried');
  assert.ok(sleeps.length >= 4 + 2, `rate-limit waits and poll intervals: ${sleeps.join(', ')}`);
});

test('a refused create fails that server only, with the machine type, location and API answer', async (t) => {
  const { api, hetzner } = await setup(t);
  api.faults.push({ method: 'POST', path: /^\/v1\/servers$/, status: 503, message: 'maintenance', match: (body) => (body as { name?: string }).name === 'web2' });
  const req = request(names(4));
  const servers = req.servers.map((s) => (s.name === 'web4' ? { ...s, machineType: 'cx999' } : s));

  const outcomes = await hetzner.ensureServers({ ...req, servers });
  assert.deepEqual(states(outcomes), [['web1', 'created'], ['web2', 'failed'], ['web3', 'created'], ['web4', 'failed']]);
  assert.equal(reasonOf(outcomes[1]), 'cx22 in fsn1: the Hetzner API answered 503 unavailable: maintenance');
  assert.match(reasonOf(outcomes[3]), /^cx999 in fsn1: the Hetzner API answered 422 invalid_input: .*server_type/);
  assert.deepEqual([...api.state.servers.values()].map((s) => s.name).sort(), ['web1', 'web3']);
});

/** A fixture where, before the first poll, one action of `server` goes wrong in the cloud. */
async function setupFailingAction(t: TestContext, server: string, command: string, message: string) {
  let failed = false;
  const fixture = await setup(t, {}, {
    sleep: async (ms) => {
      if (!failed) {
        const record = serverNamed(fixture.api, server);
        const action = record && fixture.api.state.actionsFor('server', record.id).find((a) => a.command === command);
        assert.ok(action);
        fixture.api.state.failAction(action.id, 'action_failed', message);
        failed = true;
      }
      fixture.clock.ms += ms;
    },
  });
  return fixture;
}

test('an action that ends in error fails that server with the action\'s message', async (t) => {
  const fixture = await setupFailingAction(t, 'web2', 'start_server', 'host has no capacity');
  const outcomes = await fixture.hetzner.ensureServers(request(names(3)));
  assert.deepEqual(states(outcomes), [['web1', 'created'], ['web2', 'failed'], ['web3', 'created']]);
  assert.match(reasonOf(outcomes[1]), /^cx22 in fsn1: start_server \(action \d+\) failed: host has no capacity$/);
});

test('a server whose create_server action failed is not adopted by a later run; it says why and what to do', async (t) => {
  const fixture = await setupFailingAction(t, 'web2', 'create_server', 'image could not be written');
  const first = await fixture.hetzner.ensureServers(request(names(2)));
  assert.deepEqual(states(first), [['web1', 'created'], ['web2', 'failed']]);
  assert.ok(serverNamed(fixture.api, 'web2'), 'the half-made server is still in the project');

  const again = await fixture.hetzner.ensureServers(request(names(2)));
  assert.deepEqual(states(again), [['web1', 'existing'], ['web2', 'failed']]);
  assert.match(
    reasonOf(again[1]),
    /^a server with this name already exists, but its create_server \(action \d+\) failed: image could not be written; delete it \(destroy --target web2\) and provision again$/,
  );
});

test('polls are batched, at least a second apart, and a batch costs at most 3 requests per server plus polls', async (t) => {
  // 30 servers have 60 actions: three requests of at most 25 ids per round.
  const { api, hetzner } = await setup(t, { actionMs: 3500 });

  const outcomes = await hetzner.ensureServers(request(names(30)));
  assert.equal(outcomes.filter((o) => o.state === 'created').length, 30);

  const rounds = pollRounds(api);
  const pollRequests = route(api, 'GET /v1/actions');
  assert.equal(rounds.length, 4, `rounds at ${rounds.join(', ')}`);
  assert.equal(pollRequests, rounds.length * 3, 'one request per 25 pending ids per round');
  for (let i = 1; i < rounds.length; i += 1) assert.ok((rounds[i] as number) - (rounds[i - 1] as number) >= 1000);
  const firstCreate = api.requests.find((r) => r.method === 'POST' && r.path === '/v1/servers');
  assert.ok(firstCreate && (rounds[0] as number) - firstCreate.time >= 1000, 'no poll right after the creates');

  const others = api.counters.total - pollRequests;
  assert.equal(others, 30 + 2, '30 creates, one listing, one key lookup');
  assert.ok(api.counters.total <= 3 * 30 + pollRequests);
});

test('the wait is bounded and its failure says what it waited for', async (t) => {
  const { api, hetzner } = await setup(t, { actionMs: 3_600_000 }, { waitTimeoutMs: 5000 });
  const outcomes = await hetzner.ensureServers(request(['web1']));
  const web1 = serverNamed(api, 'web1');
  assert.ok(web1);
  const [create, start] = api.state.actionsFor('server', web1.id);
  assert.equal(
    reasonOf(outcomes[0]),
    `cx22 in fsn1: timed out after 5 s waiting for server web1 to be created and start (action ${create?.id} create_server, action ${start?.id} start_server)`,
  );
  assert.ok(pollRounds(api).length <= 6);
});

test('servers with a requested name that are not ours are reported and left alone', async (t) => {
  const { api, hetzner } = await setup(t);
  await seedServer(api, 'web1');
  await seedServer(api, 'web2', { 'managed-by': 'nix-infra', 'nix-infra/project': 'other' });

  const outcomes = await hetzner.ensureServers(request(names(3)));
  assert.deepEqual(states(outcomes), [['web1', 'failed'], ['web2', 'failed'], ['web3', 'created']]);
  assert.match(reasonOf(outcomes[0]), /already exists, but it was not created by this nix-infra project .*; left alone\. .*adopt it: `nix-infra servers adopt --target web1 --role fleet`$/);
  assert.match(reasonOf(outcomes[1]), /already exists, but it belongs to nix-infra project "other", not "demo"; left alone$/);
  assert.deepEqual(serverNamed(api, 'web1')?.labels, {});
  assert.equal(serverNamed(api, 'web1')?.serverType.name, 'cx22');
  assert.equal(serverNamed(api, 'web1')?.datacenter.location.name, 'hel1', 'untouched');
  assert.equal(route(api, 'POST /v1/servers'), 2 + 1, 'two seeded, one created');
});

test('destroy deletes only servers labelled as this project\'s and waits for the deletes', async (t) => {
  const { api, hetzner, events, onEvent } = await setup(t);
  await hetzner.ensureServers(request(['web1', 'web2']));
  await seedServer(api, 'stray');
  await seedServer(api, 'theirs', { 'managed-by': 'nix-infra', 'nix-infra/project': 'other' });
  // Ownership as cluster destroy asks before unregistering: only our own, existing servers.
  assert.deepEqual((await hetzner.ownedServers(['web1', 'stray', 'theirs', 'ghost', 'web2'], LABELS)).sort(), ['web1', 'web2']);
  const before = api.counters.total;

  const outcomes = await hetzner.destroyServers(['web1', 'stray', 'theirs', 'ghost', 'web2'], LABELS, onEvent);
  assert.deepEqual(states(outcomes), [['web1', 'deleted'], ['stray', 'refused'], ['theirs', 'refused'], ['ghost', 'absent'], ['web2', 'deleted']]);
  const refused = outcomes[1];
  assert.ok(refused?.state === 'refused');
  assert.match(refused.reason, /not created by this nix-infra project.*`nix-infra servers adopt --target stray --role fleet`$/);
  const theirs = outcomes[2];
  assert.ok(theirs?.state === 'refused');
  assert.doesNotMatch(theirs.reason, /adopt/, "another project's server is not offered for adoption");
  assert.deepEqual([...api.state.servers.values()].map((s) => s.name).sort(), ['stray', 'theirs']);
  assert.equal(route(api, 'DELETE /v1/servers/{id}'), 2);
  const deletes = [...api.state.actions.values()].filter((a) => a.command === 'delete_server');
  assert.ok(deletes.length === 2 && deletes.every((a) => a.status === 'success'), 'the delete actions were waited for');
  // 1 listing + 2 deletes + 1 poll round.
  assert.equal(api.counters.total - before, 4);
  assert.ok(events.some((e) => e.kind === 'waiting' && e.what === 'delete_server' && e.server === 'web1'));
});

test('destroy removes a placement group of ours once it is empty, not before', async (t) => {
  const { api, hetzner } = await setup(t);
  await hetzner.ensureServers(request(['db1', 'db2'], { placementGroup: 'db' }));
  const groupNames = () => [...api.state.placementGroups.values()].map((g) => g.name);

  await hetzner.destroyServers(['db1'], LABELS);
  assert.deepEqual(groupNames(), ['db'], 'db2 is still in it');
  assert.equal(route(api, 'DELETE /v1/placement_groups/{id}'), 0);

  await hetzner.destroyServers(['db2'], LABELS);
  assert.deepEqual(groupNames(), []);
  assert.equal(route(api, 'DELETE /v1/placement_groups/{id}'), 1);
});

test('a delete the API refuses fails that server; a server gone meanwhile is absent', async (t) => {
  const { api, hetzner } = await setup(t);
  await hetzner.ensureServers(request(['web1', 'web2', 'web3']));
  api.faults.push({ method: 'DELETE', path: /^\/v1\/servers\/\d+$/, status: 423, message: 'server is locked' });
  api.faults.push({ method: 'DELETE', path: /^\/v1\/servers\/\d+$/, status: 404 });
  const outcomes = await hetzner.destroyServers(['web1', 'web2', 'web3'], LABELS);
  // Deletes run concurrently, so which server meets which fault is not fixed; the mix is.
  assert.deepEqual(outcomes.map((o) => o.state).sort(), ['absent', 'deleted', 'failed']);
  const failed = outcomes.find((o) => o.state === 'failed');
  assert.ok(failed?.state === 'failed');
  assert.equal(failed.reason, 'the Hetzner API answered 423 locked: server is locked');
});

test('the SSH key must exist in the cloud before anything is created', async (t) => {
  const { api, hetzner } = await setup(t, {}, { key: false });
  await assert.rejects(hetzner.ensureServers(request(names(2), { placementGroup: 'web' })), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /no SSH key named "deploy"; run `nix-infra ssh-key add --name deploy` first/);
    return true;
  });
  assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`), [
    'GET /v1/servers {"page":"1","per_page":"50"}',
    'GET /v1/ssh_keys {"name":"deploy"}',
  ]);
});

test('invalid label values are refused before any request', async (t) => {
  const { api, hetzner } = await setup(t);
  for (const labels of [{ project: 'my project', role: 'fleet' }, { project: 'a'.repeat(64), role: 'fleet' }, { project: 'demo', role: '-x' }, { project: '', role: 'fleet' }]) {
    await assert.rejects(hetzner.ensureServers({ ...request(['web1']), labels }), (error: unknown) => error instanceof UserError && /not a valid Hetzner label value/.test(error.message));
    await assert.rejects(hetzner.destroyServers(['web1'], labels), /not a valid Hetzner label value/);
  }
  assert.ok(await hetzner.ensureServers({ ...request([]), labels: { project: 'a'.repeat(63), role: 'cluster.v1_x' } }));
  assert.equal(api.counters.total, 0);
});

test('the MD5 fingerprint is computed as the API computes it', () => {
  assert.equal(md5Fingerprint(PUBLIC_KEY), fingerprintOf(PUBLIC_KEY));
  assert.equal(md5Fingerprint(`  ${OTHER_KEY}\n`), fingerprintOf(OTHER_KEY));
  assert.notEqual(md5Fingerprint(PUBLIC_KEY), md5Fingerprint(OTHER_KEY));
  assert.match(md5Fingerprint(PUBLIC_KEY), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  assert.throws(() => md5Fingerprint('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'), UserError, 'type does not match the blob');
  assert.throws(() => md5Fingerprint('-----BEGIN OPENSSH PRIVATE KEY-----'), UserError);
});

test('ssh keys: add is idempotent and refuses clashes; remove refuses a different key', async (t) => {
  const { api, hetzner } = await setup(t, {}, { key: false });
  const fingerprint = fingerprintOf(PUBLIC_KEY);

  assert.deepEqual(await hetzner.addSshKey('deploy', PUBLIC_KEY), { key: { name: 'deploy', fingerprint }, added: true });
  const [stored] = api.state.sshKeys.values();
  assert.deepEqual(stored?.labels, { 'managed-by': 'nix-infra' });
  assert.deepEqual(await hetzner.addSshKey('deploy', PUBLIC_KEY), { key: { name: 'deploy', fingerprint }, added: false });
  assert.equal(route(api, 'POST /v1/ssh_keys'), 1);

  await assert.rejects(hetzner.addSshKey('deploy', OTHER_KEY), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.message, `Hetzner Cloud already has a different SSH key named "deploy" (fingerprint ${fingerprint}; this key is ${fingerprintOf(OTHER_KEY)})`);
    return true;
  });
  await assert.rejects(hetzner.addSshKey('laptop', PUBLIC_KEY), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.message, `this key (fingerprint ${fingerprint}) is already in Hetzner Cloud under the name "deploy"`);
    return true;
  });
  assert.equal(route(api, 'POST /v1/ssh_keys'), 1, 'no clash reached the API');

  await assert.rejects(hetzner.removeSshKey('deploy', OTHER_KEY), /the SSH key "deploy" in Hetzner Cloud is a different key .*; not removed/);
  assert.equal(api.state.sshKeys.size, 1);
  assert.deepEqual(await hetzner.removeSshKey('deploy', PUBLIC_KEY), { removed: true });
  assert.equal(api.state.sshKeys.size, 0);
  assert.deepEqual(await hetzner.removeSshKey('deploy', PUBLIC_KEY), { removed: false });
  assert.equal(route(api, 'DELETE /v1/ssh_keys/{id}'), 1);

  await assert.rejects(hetzner.addSshKey('bad', 'not a key'), /not an OpenSSH public key/);
});

test('the provider declares and implements every capability', async (t) => {
  const { hetzner } = await setup(t);
  assert.deepEqual(hetzner.capabilities, { createServers: true, destroyServers: true, placementGroups: true, cloudSshKeys: true });
  const { isServerFactory, isCloudKeyRing } = await import('../src/ports/provider.js');
  assert.ok(isServerFactory(hetzner) && isCloudKeyRing(hetzner));
});
