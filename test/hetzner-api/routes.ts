// Endpoint handlers: parse and validate a request, change the model, answer in the documented shape.
// Transport concerns (auth, rate limit, faults, latency, logging) are the HTTP layer's job.

import { byNameOrId, datacenters, images, locations, serverTypes } from './catalog.js';
import { ApiError, invalidInput, notFound } from './errors.js';
import type { Pagination } from './query.js';
import { labelSelector, paginate } from './query.js';
import type { ActionRecord, HetznerState, ServerRecord } from './state.js';
import { fingerprintOf } from './state.js';

/** What a backing hook learns about a server: enough to create or find a matching host. */
export interface ServerSummary {
  readonly id: number;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serverType: string;
  readonly location: string;
  readonly image: string;
  readonly ipv4: string | null;
}

export interface ServerHooks {
  /** Runs before the create answer; an `ipv4` it returns becomes the server's public address. */
  readonly onServerCreated?: (server: ServerSummary) => Promise<{ ipv4?: string } | void>;
  readonly onServerDeleted?: (server: ServerSummary) => Promise<void>;
}

export interface RouteRequest {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface RouteResponse {
  readonly status: number;
  readonly body?: unknown;
  /** Present on list answers, so the HTTP layer can add the documented `Link` header. */
  readonly pagination?: Pagination;
}

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;
}

// ---- body parsing --------------------------------------------------------------------------------

type Body = Record<string, unknown>;

function objectBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(422, 'invalid_input', 'request body must be a JSON object');
  }
  return body as Body;
}

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) throw invalidInput(field, 'is missing');
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, 'must be a non-empty string');
  return value;
}

function labelsOf(body: Body): Record<string, string> {
  const value = body.labels;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput('labels', 'must be an object');
  const labels: Record<string, string> = {};
  for (const [key, label] of Object.entries(value)) {
    if (typeof label !== 'string') throw invalidInput('labels', `value of ${key} must be a string`);
    labels[key] = label;
  }
  return labels;
}

function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidInput(field, 'must be a boolean');
  return value;
}

/** Server names must be valid hostnames (RFC 1123), as the API documents. */
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function id(params: readonly string[]): number {
  return Number(params[0]);
}

// ---- list helpers --------------------------------------------------------------------------------

function list<T>(key: string, items: readonly T[], query: URLSearchParams, toJson: (item: T) => unknown): RouteResponse {
  const page = paginate(items, query);
  return { status: 200, body: { [key]: page.items.map(toJson), meta: { pagination: page.pagination } }, pagination: page.pagination };
}

/** Applies the `name` and `label_selector` filters most collections share. */
function filtered<T extends { readonly name: string; readonly labels: Readonly<Record<string, string>> }>(items: readonly T[], query: URLSearchParams): T[] {
  const name = query.get('name');
  const selector = labelSelector(query);
  return items.filter((item) => (name === null || item.name === name) && (selector === null || selector(item.labels)));
}

const byId = <T extends { readonly id: number }>(items: Iterable<T>): T[] => [...items].sort((a, b) => a.id - b.id);

function summary(server: ServerRecord): ServerSummary {
  return {
    id: server.id,
    name: server.name,
    labels: { ...server.labels },
    serverType: server.serverType.name,
    location: server.datacenter.location.name,
    image: server.image.name,
    ipv4: server.ipv4,
  };
}

// ---- handlers ------------------------------------------------------------------------------------

export function createRoutes(state: HetznerState, hooks: ServerHooks): Route[] {
  const action = (record: ActionRecord): unknown => state.actionJson(record);

  async function createServer(request: RouteRequest): Promise<RouteResponse> {
    const body = objectBody(request.body);
    const name = requiredString(body, 'name');
    if (!HOSTNAME.test(name)) throw invalidInput('name', 'must be a valid hostname');

    if (body.server_type === undefined) throw invalidInput('server_type', 'is missing');
    const serverType = byNameOrId(serverTypes, body.server_type)[0];
    if (!serverType) throw invalidInput('server_type', `server type ${JSON.stringify(body.server_type)} not found`);

    if (body.image === undefined) throw invalidInput('image', 'is missing');
    const image = byNameOrId(images, body.image).find((candidate) => candidate.architecture === serverType.architecture);
    if (!image) throw invalidInput('image', `image ${JSON.stringify(body.image)} not found for architecture ${serverType.architecture}`);

    if (body.location !== undefined && body.datacenter !== undefined) {
      throw invalidInput('location', 'must not be used together with datacenter');
    }
    let datacenter = datacenters[0];
    if (body.location !== undefined) {
      const location = byNameOrId(locations, body.location)[0];
      if (!location) throw invalidInput('location', `location ${JSON.stringify(body.location)} not found`);
      datacenter = datacenters.find((candidate) => candidate.location.id === location.id);
    } else if (body.datacenter !== undefined) {
      datacenter = byNameOrId(datacenters, body.datacenter)[0];
      if (!datacenter) throw invalidInput('datacenter', `datacenter ${JSON.stringify(body.datacenter)} not found`);
    }
    if (!datacenter) throw new ApiError(500, 'server_error', 'catalogue has no datacenter');

    const keyRefs = body.ssh_keys ?? [];
    if (!Array.isArray(keyRefs)) throw invalidInput('ssh_keys', 'must be an array');
    const sshKeyIds = keyRefs.map((ref: unknown) => {
      const key = byNameOrId([...state.sshKeys.values()], ref)[0];
      if (!key) throw invalidInput('ssh_keys', `SSH key ${JSON.stringify(ref)} not found`);
      return key.id;
    });

    // Only `placement_group` counts; upstream's misspelt "placement-group" is ignored here exactly
    // as the real API ignores unknown keys.
    let placementGroupId: number | null = null;
    if (body.placement_group !== undefined && body.placement_group !== null) {
      if (typeof body.placement_group !== 'number' || !state.placementGroups.has(body.placement_group)) {
        throw invalidInput('placement_group', `placement group ${JSON.stringify(body.placement_group)} not found`);
      }
      placementGroupId = body.placement_group;
    }

    const publicNet = body.public_net ?? {};
    if (typeof publicNet !== 'object' || publicNet === null) throw invalidInput('public_net', 'must be an object');
    const net = publicNet as Body;
    const record = state.addServer({
      name,
      labels: labelsOf(body),
      serverType,
      datacenter,
      image,
      wantsIpv4: optionalBoolean(net.enable_ipv4, 'public_net.enable_ipv4', true),
      wantsIpv6: optionalBoolean(net.enable_ipv6, 'public_net.enable_ipv6', true),
      placementGroupId,
      sshKeyIds,
    });
    const startAfterCreate = optionalBoolean(body.start_after_create, 'start_after_create', true);

    let backingIp: string | undefined;
    try {
      backingIp = (await hooks.onServerCreated?.(summary(record)))?.ipv4 ?? undefined;
    } catch (error) {
      state.servers.delete(record.id);
      throw new ApiError(500, 'server_error', `backing host could not be created: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!state.servers.has(record.id)) throw notFound('server'); // reset while the hook ran
    state.assignIpv4(record, backingIp);
    const actions = state.startServer(record, startAfterCreate);
    return {
      status: 201,
      body: {
        server: state.serverJson(record),
        action: action(actions.action),
        next_actions: actions.nextActions.map(action),
        root_password: state.rootPasswordFor(record),
      },
    };
  }

  async function deleteServer(request: RouteRequest): Promise<RouteResponse> {
    const server = state.getServer(id(request.params));
    try {
      await hooks.onServerDeleted?.(summary(server));
    } catch (error) {
      throw new ApiError(500, 'server_error', `backing host could not be deleted: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!state.servers.has(server.id)) throw notFound('server'); // deleted concurrently
    return { status: 200, body: { action: action(state.deleteServer(server.id)) } };
  }

  // The real API replaces the whole label set on PUT (it does not merge), and may rename.
  function updateServer(request: RouteRequest): RouteResponse {
    const server = state.getServer(id(request.params));
    const body = objectBody(request.body);
    if (body.name !== undefined) throw invalidInput('name', 'renaming is not modelled by this fake');
    if (body.labels !== undefined) {
      const labels = labelsOf(body);
      for (const key of Object.keys(server.labels)) delete server.labels[key];
      Object.assign(server.labels, labels);
    }
    return { status: 200, body: { server: state.serverJson(server) } };
  }

  function createSshKey(request: RouteRequest): RouteResponse {
    const body = objectBody(request.body);
    const name = requiredString(body, 'name');
    const publicKey = requiredString(body, 'public_key');
    const fingerprint = fingerprintOf(publicKey);
    if (fingerprint === undefined) throw invalidInput('public_key', 'is not a valid OpenSSH public key');
    const key = state.addSshKey(name, publicKey, fingerprint, labelsOf(body));
    return { status: 201, body: { ssh_key: state.sshKeyJson(key) } };
  }

  function createPlacementGroup(request: RouteRequest): RouteResponse {
    const body = objectBody(request.body);
    const name = requiredString(body, 'name');
    const type = requiredString(body, 'type');
    if (type !== 'spread') throw invalidInput('type', 'must be "spread"');
    const group = state.addPlacementGroup(name, labelsOf(body));
    return { status: 201, body: { placement_group: state.placementGroupJson(group), action: null } };
  }

  const catalogue = <T extends { readonly id: number }>(key: string, singular: string, items: readonly T[], match: (item: T, query: URLSearchParams) => boolean): Route[] => [
    { method: 'GET', pattern: new RegExp(`^/v1/${key}$`), handler: ({ query }) => list(key, items.filter((item) => match(item, query)), query, (item) => item) },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/${key}/(\\d+)$`),
      handler: ({ params }) => {
        const item = items.find((candidate) => candidate.id === id(params));
        if (!item) throw notFound(singular.replace('_', ' '));
        return { status: 200, body: { [singular]: item } };
      },
    },
  ];
  const nameMatches = (item: { readonly name: string }, query: URLSearchParams): boolean => {
    const name = query.get('name');
    return name === null || item.name === name;
  };

  return [
    {
      method: 'GET',
      pattern: /^\/v1\/servers$/,
      handler: ({ query }) => {
        const status = query.get('status');
        const servers = filtered(byId(state.servers.values()), query).filter((server) => status === null || server.status === status);
        return list('servers', servers, query, (server) => state.serverJson(server));
      },
    },
    { method: 'POST', pattern: /^\/v1\/servers$/, handler: createServer },
    { method: 'GET', pattern: /^\/v1\/servers\/(\d+)$/, handler: ({ params }) => ({ status: 200, body: { server: state.serverJson(state.getServer(id(params))) } }) },
    { method: 'DELETE', pattern: /^\/v1\/servers\/(\d+)$/, handler: deleteServer },
    { method: 'PUT', pattern: /^\/v1\/servers\/(\d+)$/, handler: updateServer },
    {
      method: 'GET',
      pattern: /^\/v1\/servers\/(\d+)\/actions$/,
      handler: ({ params, query }) => {
        const server = state.getServer(id(params));
        const status = query.get('status');
        const actions = state.actionsFor('server', server.id).filter((record) => status === null || record.status === status);
        return list('actions', byId(actions), query, action);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/actions$/,
      handler: ({ query }) => {
        const ids = query.getAll('id').map(Number);
        return list('actions', byId(state.actions.values()).filter((record) => ids.length === 0 || ids.includes(record.id)), query, action);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/actions\/(\d+)$/,
      handler: ({ params }) => {
        const record = state.actions.get(id(params));
        if (!record) throw notFound('action');
        return { status: 200, body: { action: action(record) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/ssh_keys$/,
      handler: ({ query }) => {
        const fingerprint = query.get('fingerprint');
        const keys = filtered(byId(state.sshKeys.values()), query).filter((key) => fingerprint === null || key.fingerprint === fingerprint);
        return list('ssh_keys', keys, query, (key) => state.sshKeyJson(key));
      },
    },
    { method: 'POST', pattern: /^\/v1\/ssh_keys$/, handler: createSshKey },
    { method: 'GET', pattern: /^\/v1\/ssh_keys\/(\d+)$/, handler: ({ params }) => ({ status: 200, body: { ssh_key: state.sshKeyJson(state.getSshKey(id(params))) } }) },
    {
      method: 'DELETE',
      pattern: /^\/v1\/ssh_keys\/(\d+)$/,
      handler: ({ params }) => {
        state.deleteSshKey(id(params));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/placement_groups$/,
      handler: ({ query }) => {
        const type = query.get('type');
        const groups = filtered(byId(state.placementGroups.values()), query).filter((group) => type === null || group.type === type);
        return list('placement_groups', groups, query, (group) => state.placementGroupJson(group));
      },
    },
    { method: 'POST', pattern: /^\/v1\/placement_groups$/, handler: createPlacementGroup },
    {
      method: 'GET',
      pattern: /^\/v1\/placement_groups\/(\d+)$/,
      handler: ({ params }) => ({ status: 200, body: { placement_group: state.placementGroupJson(state.getPlacementGroup(id(params))) } }),
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/placement_groups\/(\d+)$/,
      handler: ({ params }) => {
        state.deletePlacementGroup(id(params));
        return { status: 204 };
      },
    },
    ...catalogue('server_types', 'server_type', serverTypes, nameMatches),
    ...catalogue('locations', 'location', locations, nameMatches),
    ...catalogue('datacenters', 'datacenter', datacenters, nameMatches),
    ...catalogue('images', 'image', images, (image, query) => {
      const architecture = query.get('architecture');
      const type = query.get('type');
      const selector = labelSelector(query);
      return nameMatches(image, query) && (architecture === null || image.architecture === architecture) && (type === null || image.type === type) && (selector === null || selector(image.labels));
    }),
  ];
}

/** Finds the handler for a request; 404 for an unknown path, 405 for a known path and wrong method. */
export function resolve(routes: readonly Route[], method: string, path: string): { route: Route; params: string[] } {
  let pathKnown = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (route.method === method) return { route, params: match.slice(1).map((param) => param ?? '') };
  }
  if (pathKnown) throw new ApiError(405, 'method_not_allowed', `method ${method} is not allowed for ${path}`);
  throw new ApiError(404, 'not_found', `no such endpoint: ${path}`);
}
