import type { ControlPlane } from '../../ports/control-plane.js';
import { parseLease, type FlannelLease } from './flannel.js';
import { FLANNEL_CONFIG_KEY, FLANNEL_SUBNETS_PREFIX, viewPrefix, type ServiceGroup, type ViewName } from './layout.js';
import { parseNodeRecord, type NodeRecord } from './membership.js';

/**
 * Read-only views of the control plane, parsed from the /cluster/ layout and flannel's keys
 * (upstream-templates.md §4.1, upstream-cli.md §6.7/§10.1). Parsing never throws: an entry that
 * does not fit is listed in `problems` with its key, so nothing in the store is hidden.
 */

export interface ViewProblem {
  readonly key: string;
  readonly reason: string;
}

export interface NodesView {
  readonly view: 'nodes';
  /** Sorted by key. `key` is where the record is stored. */
  readonly nodes: readonly (NodeRecord & { readonly key: string })[];
  readonly problems: readonly ViewProblem[];
}

/** `/cluster/<group>/<app>/meta_data` */
export interface ServiceMetaData {
  readonly publishPort?: number;
  readonly envPrefix?: string;
  readonly env: Readonly<Record<string, string | number | boolean | null>>;
}

/** `/cluster/<group>/<app>/instances/<host>` */
export interface ServiceInstance {
  readonly key: string;
  /** The last key segment (the unit writes its hostname there). */
  readonly host: string;
  readonly node: string;
  readonly ipv4: string;
  readonly port: number;
}

export interface ServiceApp {
  readonly group: ServiceGroup;
  readonly app: string;
  readonly metaData?: ServiceMetaData;
  readonly instances: readonly ServiceInstance[];
}

export interface ServiceGroupView {
  readonly view: ServiceGroup;
  /** Sorted by app name. */
  readonly apps: readonly ServiceApp[];
  readonly problems: readonly ViewProblem[];
}

export interface NetworkView {
  readonly view: 'network';
  /** The parsed `/coreos.com/network/config`, when present and valid JSON. */
  readonly config?: unknown;
  readonly configText?: string;
  readonly leases: readonly FlannelLease[];
  readonly problems: readonly ViewProblem[];
}

export type ControlPlaneView = NodesView | ServiceGroupView | NetworkView;

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(text);
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
}

function parseNodes(entries: ReadonlyMap<string, string>): NodesView {
  const prefix = viewPrefix('nodes');
  const nodes: (NodeRecord & { key: string })[] = [];
  const problems: ViewProblem[] = [];
  for (const [key, value] of entries) {
    const name = key.slice(prefix.length);
    if (!key.startsWith(prefix) || name === '' || name.includes('/')) {
      problems.push({ key, reason: 'not a node key (/cluster/nodes/<node>)' });
      continue;
    }
    const record = parseNodeRecord(value);
    if (record === undefined) problems.push({ key, reason: 'not a node record {"name","ipv4","services":[...]}' });
    else if (record.name !== name) problems.push({ key, reason: `the record names node ${JSON.stringify(record.name)}` });
    else nodes.push({ key, ...record });
  }
  return { view: 'nodes', nodes, problems };
}

function parseMetaData(value: string): ServiceMetaData | undefined {
  const data = parseObject(value);
  if (data === undefined) return undefined;
  const publish = data['publish'];
  const publishPort = publish !== null && typeof publish === 'object' ? (publish as Record<string, unknown>)['port'] : undefined;
  if (publishPort !== undefined && !isPort(publishPort)) return undefined;
  const envPrefix = data['env_prefix'];
  if (envPrefix !== undefined && typeof envPrefix !== 'string') return undefined;
  const envData = data['env'] ?? {};
  if (envData === null || typeof envData !== 'object' || Array.isArray(envData)) return undefined;
  const env: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(envData as Record<string, unknown>)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
    env[k] = v;
  }
  return { ...(publishPort === undefined ? {} : { publishPort }), ...(envPrefix === undefined ? {} : { envPrefix }), env };
}

function parseInstance(key: string, host: string, value: string): ServiceInstance | undefined {
  const data = parseObject(value);
  if (data === undefined) return undefined;
  const { node, ipv4, port } = data;
  if (typeof node !== 'string' || typeof ipv4 !== 'string' || !isPort(port)) return undefined;
  return { key, host, node, ipv4, port };
}

function parseGroup(group: ServiceGroup, entries: ReadonlyMap<string, string>): ServiceGroupView {
  const prefix = viewPrefix(group);
  const apps = new Map<string, { metaData?: ServiceMetaData; instances: ServiceInstance[] }>();
  const problems: ViewProblem[] = [];
  const appEntry = (app: string) => {
    let entry = apps.get(app);
    if (entry === undefined) {
      entry = { instances: [] };
      apps.set(app, entry);
    }
    return entry;
  };
  for (const [key, value] of entries) {
    const parts = key.startsWith(prefix) ? key.slice(prefix.length).split('/') : [];
    const [app, kind, host] = parts;
    if (app !== undefined && app !== '' && parts.length === 2 && kind === 'meta_data') {
      const metaData = parseMetaData(value);
      if (metaData === undefined) problems.push({ key, reason: 'not a meta_data record {"publish":{"port"},"env_prefix","env":{...}}' });
      else appEntry(app).metaData = metaData;
    } else if (app !== undefined && app !== '' && parts.length === 3 && kind === 'instances' && host !== undefined && host !== '') {
      const instance = parseInstance(key, host, value);
      if (instance === undefined) problems.push({ key, reason: 'not an instance record {"node","ipv4","port"}' });
      else appEntry(app).instances.push(instance);
    } else {
      problems.push({ key, reason: `not part of the layout (${prefix}<app>/meta_data or ${prefix}<app>/instances/<host>)` });
    }
  }
  const sorted = [...apps.keys()].sort();
  return {
    view: group,
    apps: sorted.map((app) => {
      const entry = apps.get(app) as { metaData?: ServiceMetaData; instances: ServiceInstance[] };
      return { group, app, ...(entry.metaData === undefined ? {} : { metaData: entry.metaData }), instances: entry.instances };
    }),
    problems,
  };
}

function parseNetwork(entries: ReadonlyMap<string, string>): NetworkView {
  const leases: FlannelLease[] = [];
  const problems: ViewProblem[] = [];
  let config: unknown;
  let configText: string | undefined;
  for (const [key, value] of entries) {
    if (key === FLANNEL_CONFIG_KEY) {
      configText = value;
      try {
        config = JSON.parse(value) as unknown;
      } catch {
        problems.push({ key, reason: 'the network config is not JSON' });
      }
    } else if (key.startsWith(FLANNEL_SUBNETS_PREFIX)) {
      const parsed = parseLease(key, value);
      if (parsed.ok) leases.push(parsed.lease);
      else problems.push({ key, reason: parsed.reason });
    } else {
      problems.push({ key, reason: 'not a flannel config or lease key' });
    }
  }
  return {
    view: 'network',
    ...(config === undefined ? {} : { config }),
    ...(configText === undefined ? {} : { configText }),
    leases,
    problems,
  };
}

/** Pure: the view of `entries` (as returned by `getPrefix(viewPrefix(view))`). */
export function parseView(view: 'nodes', entries: ReadonlyMap<string, string>): NodesView;
export function parseView(view: 'network', entries: ReadonlyMap<string, string>): NetworkView;
export function parseView(view: ServiceGroup, entries: ReadonlyMap<string, string>): ServiceGroupView;
export function parseView(view: ViewName, entries: ReadonlyMap<string, string>): ControlPlaneView;
export function parseView(view: ViewName, entries: ReadonlyMap<string, string>): ControlPlaneView {
  switch (view) {
    case 'nodes':
      return parseNodes(entries);
    case 'network':
      return parseNetwork(entries);
    default:
      return parseGroup(view, entries);
  }
}

export interface ViewResult<V extends ControlPlaneView = ControlPlaneView> {
  readonly prefix: string;
  /** The raw entries the view was parsed from (for `etcdctl get --prefix`-style output). */
  readonly entries: ReadonlyMap<string, string>;
  readonly parsed: V;
}

/** Reads one prefix and parses it. */
export async function readView(controlPlane: ControlPlane, view: ViewName): Promise<ViewResult> {
  const prefix = viewPrefix(view);
  const entries = await controlPlane.getPrefix(prefix);
  return { prefix, entries, parsed: parseView(view, entries) };
}
