/**
 * Creating and deleting a batch of servers with as few requests as the job allows: one listing
 * for the whole batch (never one lookup per name), one request per server to create or delete
 * it, and shared action polls. Ownership labels decide what may be reused or deleted; anything
 * else with a requested name is reported and left alone.
 */
import { UserError } from '../../../domain/errors.js';
import type {
  DestroyOutcome,
  EnsureOutcome,
  EnsureServersRequest,
  OwnershipLabels,
  ProviderEvent,
  ServerInfo,
  ServerRequest,
} from '../../../ports/provider.js';
import { createLimiter } from '../../../util/concurrency.js';
import { readAction, startedActions, waitForActions, type ActionState, type WaitOptions, type WaitResult } from './actions.js';
import { describeFailure, field, HetznerApiError, type HetznerClient } from './client.js';
import { attributeLabels, checkOwnershipLabels, serverLabels, serverNotOurs } from './labels.js';
import { allocatePlacement, removeEmptiedGroups } from './placement-groups.js';
import { idOf, toServerInfo } from './server-info.js';
import { requireSshKey } from './ssh-keys.js';

export interface BatchSettings extends WaitOptions {
  /** Create or delete requests in flight at once. */
  readonly concurrency: number;
}

type Emit = (event: ProviderEvent) => void;

export function checkUnique(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new UserError(`server ${name} is named twice in one request`);
    seen.add(name);
  }
}

/** Every server of the project, all pages, by name: the one listing a batch is planned from. */
export async function serversByName(client: HetznerClient, onEvent: Emit): Promise<Map<string, unknown>> {
  onEvent({ kind: 'step', message: 'looking up existing servers' });
  const byName = new Map<string, unknown>();
  for (const raw of await client.listAll('listing servers', '/servers', 'servers')) {
    const name = field(raw, 'name');
    if (typeof name === 'string') byName.set(name, raw);
  }
  return byName;
}

/**
 * Why an existing server of ours must not be adopted: an earlier run's create_server (or the
 * start_server that follows it) ended in error, so the machine may never have been set up. Only a
 * server that is not `running` is looked into, so a re-run over healthy servers costs nothing.
 */
async function failedCreation(client: HetznerClient, name: string, raw: unknown): Promise<string | undefined> {
  if (field(raw, 'status') === 'running') return undefined;
  const operation = `checking server ${name}`;
  const failed = await client.listAll(operation, `/servers/${idOf(raw, operation, 'server')}/actions`, 'actions', { status: 'error' });
  for (const action of failed.map(readAction)) {
    if (action === undefined || (action.command !== 'create_server' && action.command !== 'start_server')) continue;
    return `its ${action.command} (action ${action.id}) failed${action.error === undefined ? '' : `: ${action.error}`}; delete it (destroy --target ${name}) and provision again`;
  }
  return undefined;
}

/** A create or delete request that went through: the server as answered and the actions it started. */
interface Started {
  readonly name: string;
  readonly raw: unknown;
  readonly actions: ActionState[];
}

type Attempt = Started | { readonly name: string; readonly reason: string };

function createBody(server: ServerRequest, request: EnsureServersRequest, placementGroup: number | undefined): Record<string, unknown> {
  return {
    name: server.name,
    server_type: server.machineType,
    location: server.location,
    image: server.image,
    ssh_keys: [request.sshKeyName],
    labels: { ...serverLabels(request.labels), ...attributeLabels(server.attributes) },
    public_net: { enable_ipv4: true, enable_ipv6: true },
    ...(placementGroup === undefined ? {} : { placement_group: placementGroup }),
    start_after_create: true,
  };
}

async function createOne(client: HetznerClient, server: ServerRequest, body: Record<string, unknown>, onEvent: Emit): Promise<Attempt> {
  const subject = `${server.machineType} in ${server.location}`;
  onEvent({ kind: 'step', message: `creating ${server.name}`, server: server.name });
  const operation = `creating server ${server.name}`;
  try {
    const answer = await client.request(operation, 'POST', '/servers', { body });
    const raw = field(answer, 'server');
    if (raw === undefined) return { name: server.name, reason: `${subject}: unexpected answer from the Hetzner API (no "server")` };
    return { name: server.name, raw, actions: startedActions(answer) };
  } catch (error) {
    // One refused create fails that server only; the rest of the batch goes on.
    if (!(error instanceof UserError)) throw error;
    return { name: server.name, reason: `${subject}: ${describeFailure(error)}` };
  }
}

/** One shared wait for the actions of every request that went through. */
function waitForStarted(client: HetznerClient, attempts: readonly object[], settings: WaitOptions, onEvent: Emit): Promise<Map<string, WaitResult>> {
  const started = attempts.filter((attempt): attempt is Started => 'raw' in attempt);
  return waitForActions(client, started.map(({ name, actions }) => ({ server: name, actions })), settings, onEvent);
}

/** The created server's details; fetched again only when the create answer had no address yet. */
async function readyServer(client: HetznerClient, started: Started): Promise<ServerInfo> {
  const operation = `creating server ${started.name}`;
  const info = toServerInfo(started.raw, operation);
  if (info.address !== undefined) return info;
  const reading = `reading server ${started.name}`;
  try {
    const fresh = field(await client.request(reading, 'GET', `/servers/${idOf(started.raw, operation, 'server')}`), 'server');
    return fresh === undefined ? info : toServerInfo(fresh, reading);
  } catch (error) {
    // The server exists and runs; an address we could not read is still "created".
    if (!(error instanceof UserError)) throw error;
    return info;
  }
}

export async function ensureServers(client: HetznerClient, request: EnsureServersRequest, settings: BatchSettings, onEvent: Emit): Promise<EnsureOutcome[]> {
  checkOwnershipLabels(request.labels);
  for (const server of request.servers) attributeLabels(server.attributes);
  checkUnique(request.servers.map((server) => server.name));
  if (request.servers.length === 0) return [];

  const existing = await serversByName(client, onEvent);
  const outcomes = new Map<string, EnsureOutcome>();
  const missing: ServerRequest[] = [];
  for (const server of request.servers) {
    const raw = existing.get(server.name);
    if (raw === undefined) {
      missing.push(server);
      continue;
    }
    const reason = serverNotOurs(raw, server.name, request.labels) ?? (await failedCreation(client, server.name, raw));
    outcomes.set(
      server.name,
      reason === undefined
        ? { name: server.name, state: 'existing', server: toServerInfo(raw, 'listing servers') }
        : { name: server.name, state: 'failed', reason: `a server with this name already exists, but ${reason}` },
    );
  }

  if (missing.length > 0) {
    // Everything that can stop the whole batch is checked before the first server is created.
    await requireSshKey(client, request.sshKeyName);
    const groups =
      request.placementGroup === undefined ? [] : await allocatePlacement(client, request.placementGroup, missing.length, request.labels, onEvent);
    const limit = createLimiter(settings.concurrency);
    const attempts = await Promise.all(missing.map((server, index) => limit(() => createOne(client, server, createBody(server, request, groups[index]), onEvent))));
    const waited = await waitForStarted(client, attempts, settings, onEvent);
    for (const [index, attempt] of attempts.entries()) {
      const server = missing[index] as ServerRequest;
      if (!('raw' in attempt)) {
        outcomes.set(attempt.name, { name: attempt.name, state: 'failed', reason: attempt.reason });
        continue;
      }
      const result = waited.get(attempt.name);
      if (result?.ok === true) {
        outcomes.set(attempt.name, { name: attempt.name, state: 'created', server: await readyServer(client, attempt) });
      } else {
        const reason = result === undefined ? 'no result from waiting' : result.reason;
        outcomes.set(attempt.name, { name: attempt.name, state: 'failed', reason: `${server.machineType} in ${server.location}: ${reason}` });
      }
    }
  }
  return request.servers.map((server) => outcomes.get(server.name) as EnsureOutcome);
}

async function deleteOne(client: HetznerClient, name: string, raw: unknown, onEvent: Emit): Promise<Attempt | DestroyOutcome> {
  onEvent({ kind: 'step', message: `deleting ${name}`, server: name });
  const operation = `deleting server ${name}`;
  try {
    const answer = await client.request(operation, 'DELETE', `/servers/${idOf(raw, operation, 'server')}`);
    return { name, raw, actions: startedActions(answer) };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // Gone between the listing and the delete: what was asked for is true.
    if (error instanceof HetznerApiError && error.status === 404) return { name, state: 'absent' };
    return { name, reason: describeFailure(error) };
  }
}

export async function destroyServers(
  client: HetznerClient,
  names: readonly string[],
  labels: OwnershipLabels,
  settings: BatchSettings,
  onEvent: Emit,
): Promise<DestroyOutcome[]> {
  checkOwnershipLabels(labels);
  checkUnique(names);
  if (names.length === 0) return [];

  const existing = await serversByName(client, onEvent);
  const outcomes = new Map<string, DestroyOutcome>();
  const ours: string[] = [];
  for (const name of names) {
    const raw = existing.get(name);
    const reason = raw === undefined ? undefined : serverNotOurs(raw, name, labels);
    if (raw === undefined) outcomes.set(name, { name, state: 'absent' });
    else if (reason !== undefined) outcomes.set(name, { name, state: 'refused', reason });
    else ours.push(name);
  }

  const limit = createLimiter(settings.concurrency);
  const attempts = await Promise.all(ours.map((name) => limit(() => deleteOne(client, name, existing.get(name), onEvent))));
  const waited = await waitForStarted(client, attempts, settings, onEvent);
  const deleted: unknown[] = [];
  for (const attempt of attempts) {
    if ('state' in attempt) {
      outcomes.set(attempt.name, attempt);
    } else if ('reason' in attempt) {
      outcomes.set(attempt.name, { name: attempt.name, state: 'failed', reason: attempt.reason });
    } else {
      const result = waited.get(attempt.name);
      if (result?.ok === true) {
        outcomes.set(attempt.name, { name: attempt.name, state: 'deleted' });
        deleted.push(attempt.raw);
      } else {
        outcomes.set(attempt.name, { name: attempt.name, state: 'failed', reason: result === undefined ? 'no result from waiting' : result.reason });
      }
    }
  }
  await removeEmptiedGroups(client, deleted, labels.project, onEvent);
  return names.map((name) => outcomes.get(name) as DestroyOutcome);
}
