import type { ControlPlane } from '../../ports/control-plane.js';
import { groupPrefix, NODES_PREFIX, SERVICE_GROUPS, type ServiceGroup } from './layout.js';
import { parseView, type ServiceInstance, type ViewProblem } from './views.js';

/**
 * The apps of the mesh as one list (`apps list`, `apps status APP`), joined from the three group
 * prefixes and the node registrations: an app is whatever has keys under /cluster/<group>/<app>/,
 * and its consumers are the nodes whose registration lists its group (confd on those nodes
 * renders a listener for every app of the group).
 */

/** The prefixes the app views read; the caller merges them into one entry map. */
export const APP_PREFIXES: readonly string[] = [...SERVICE_GROUPS.map(groupPrefix), NODES_PREFIX];

export interface AppInstance {
  /** The last key segment (the registering node's hostname). */
  readonly host: string;
  readonly node: string;
  readonly ipv4: string;
  readonly port: number;
}

export interface AppRow {
  readonly app: string;
  readonly group: ServiceGroup;
  readonly publishPort?: number;
  readonly envPrefix?: string;
  /** Sorted by host. */
  readonly instances: readonly AppInstance[];
  /** Nodes whose registration consumes the app's group, sorted. */
  readonly consumers: readonly string[];
}

export interface AppList {
  /** Sorted by app, then group. */
  readonly apps: readonly AppRow[];
  readonly problems: readonly ViewProblem[];
}

function instanceOf(instance: ServiceInstance): AppInstance {
  return { host: instance.host, node: instance.node, ipv4: instance.ipv4, port: instance.port };
}

function onlyUnder(entries: ReadonlyMap<string, string>, prefix: string): Map<string, string> {
  return new Map([...entries].filter(([key]) => key.startsWith(prefix)));
}

/** Pure: the app rows of `entries` (every key under APP_PREFIXES, as read from etcd). */
export function listApps(entries: ReadonlyMap<string, string>): AppList {
  const nodes = parseView('nodes', onlyUnder(entries, NODES_PREFIX));
  const problems: ViewProblem[] = [...nodes.problems];
  const apps: AppRow[] = [];
  for (const group of SERVICE_GROUPS) {
    const view = parseView(group, onlyUnder(entries, groupPrefix(group)));
    problems.push(...view.problems);
    const consumers = nodes.nodes
      .filter((n) => n.services.includes(group))
      .map((n) => n.name)
      .sort();
    for (const app of view.apps) {
      apps.push({
        app: app.app,
        group,
        ...(app.metaData?.publishPort === undefined ? {} : { publishPort: app.metaData.publishPort }),
        ...(app.metaData?.envPrefix === undefined ? {} : { envPrefix: app.metaData.envPrefix }),
        instances: app.instances.map(instanceOf).sort((a, b) => a.host.localeCompare(b.host)),
        consumers,
      });
    }
  }
  apps.sort((a, b) => a.app.localeCompare(b.app) || a.group.localeCompare(b.group));
  return { apps, problems: problems.sort((a, b) => a.key.localeCompare(b.key)) };
}

// A field whose name says it holds a secret is never shown, only named as hidden: meta_data is
// written by node units, and an app author may have put a credential in its env by mistake.
const SECRET_LOOKING = /secret|passw|token|credential|private|api[_-]?key|auth/i;

export interface AppStatus extends AppRow {
  readonly metaDataKey: string;
  /** meta_data flattened to dotted paths (`publish.port`, `env.DB_HOST`), secret-looking ones left out. */
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
  /** Paths of the fields left out because their name looks like a secret. */
  readonly hidden: readonly string[];
  /** Keys under this app that do not parse (shown, never hidden). */
  readonly problems: readonly ViewProblem[];
}

function flatten(value: unknown, path: string, fields: Record<string, string | number | boolean | null>, hidden: string[]): void {
  const last = path.split('.').pop() ?? '';
  if (path !== '' && SECRET_LOOKING.test(last)) {
    hidden.push(path);
    return;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, path === '' ? k : `${path}.${k}`, fields, hidden);
  } else if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    fields[path] = value;
  } else {
    fields[path] = JSON.stringify(value);
  }
}

function metaDataFields(text: string | undefined): { fields: Record<string, string | number | boolean | null>; hidden: string[] } {
  const fields: Record<string, string | number | boolean | null> = {};
  const hidden: string[] = [];
  if (text === undefined) return { fields, hidden };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { fields, hidden };
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) flatten(data, '', fields, hidden);
  return { fields, hidden: hidden.sort() };
}

export type AppLookup =
  | { readonly found: true; readonly status: AppStatus }
  | { readonly found: false; readonly groups: readonly ServiceGroup[] };

/**
 * Pure: one app in detail. When the name is used in more than one group and `group` is not
 * given, `groups` lists them (found: false) so the caller can ask for --group.
 */
export function appStatus(entries: ReadonlyMap<string, string>, app: string, group?: ServiceGroup): AppLookup {
  const list = listApps(entries);
  const rows = list.apps.filter((row) => row.app === app && (group === undefined || row.group === group));
  const row = rows[0];
  if (row === undefined || rows.length > 1) return { found: false, groups: rows.map((r) => r.group) };
  const metaDataKey = `${groupPrefix(row.group)}${row.app}/meta_data`;
  const own = `${groupPrefix(row.group)}${row.app}/`;
  const problems = list.problems.filter((p) => p.key.startsWith(own));
  return { found: true, status: { ...row, metaDataKey, ...metaDataFields(entries.get(metaDataKey)), problems } };
}

/** Reads every prefix the app views need into one map. */
export async function readAppEntries(controlPlane: ControlPlane): Promise<Map<string, string>> {
  const merged = new Map<string, string>();
  for (const prefix of APP_PREFIXES) for (const [key, value] of await controlPlane.getPrefix(prefix)) merged.set(key, value);
  return merged;
}
