import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { Workspace } from '../../ports/workspace.js';

/**
 * Which nodes are the control plane. Upstream never needed to be told: it looked on the node
 * named `etcd001`. We take, in this order: --ctrl-nodes, CTRL_NODES, the list init-ctrl
 * remembered in the project (`.nix-infra/cluster.json`), and last upstream's naming convention
 * (every server named `etcd` + digits, so the templates' etcd001..003 keep their failover).
 */

/** The project's own state, next to servers.yaml: committed with the project, no secrets in it. */
export const CLUSTER_STATE_FILE = '.nix-infra/cluster.json';

export type ControlNodeSource = 'flag' | 'env' | 'project' | 'convention';

export interface ControlNodes {
  readonly names: readonly string[];
  readonly source: ControlNodeSource;
}

/** Upstream's convention: servers named etcd001, etcd002, ... in name order. */
export function conventionalControlNodes(serverNames: readonly string[]): string[] {
  return serverNames.filter((name) => /^etcd[0-9]+$/.test(name)).sort();
}

/** `{"version":1,"controlNodes":[...]}`, one trailing newline, stable for diffs. */
export function clusterStateJson(controlNodes: readonly string[]): string {
  return `${JSON.stringify({ version: 1, controlNodes: [...controlNodes] }, null, 2)}\n`;
}

/** Parses the state file; anything unexpected is an error naming the file and what to do. */
export function parseClusterState(text: string): { controlNodes: string[] } {
  const broken = (why: string): never => {
    throw new UserError(`${CLUSTER_STATE_FILE}: ${why}`, {
      hints: ['run init-ctrl again to rewrite it, or delete it and pass --ctrl-nodes / set CTRL_NODES'],
    });
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return broken(`not JSON (${(err as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return broken('expected an object');
  const { version, controlNodes } = data as Record<string, unknown>;
  if (version !== 1) return broken(`version ${JSON.stringify(version)} is not one this nix-infra knows (1)`);
  if (!Array.isArray(controlNodes) || controlNodes.length === 0) return broken('controlNodes: expected a non-empty list of node names');
  const bad = controlNodes.filter((n) => typeof n !== 'string' || !isHostnameLabel(n));
  if (bad.length > 0) return broken(`controlNodes: not node names: ${bad.map((n) => JSON.stringify(n)).join(', ')}`);
  return { controlNodes: controlNodes as string[] };
}

/** The control nodes init-ctrl remembered, or undefined when it never ran in this project. */
export async function rememberedControlNodes(project: Workspace): Promise<string[] | undefined> {
  if ((await project.stat(CLUSTER_STATE_FILE)) === undefined) return undefined;
  return parseClusterState((await project.readFile(CLUSTER_STATE_FILE)).toString('utf8')).controlNodes;
}

/** Remembers the control nodes (temp file, then rename: a reader sees the old list or the new). */
export async function rememberControlNodes(project: Workspace, names: readonly string[]): Promise<void> {
  await project.ensureDir('.nix-infra', 0o755);
  await project.writeFile(CLUSTER_STATE_FILE, clusterStateJson(names), { mode: 0o644 });
}

/**
 * The first source that names any node. `servers` is asked only when nothing else did (it may
 * have to call the cloud provider).
 */
export async function chooseControlNodes(sources: {
  readonly flag: readonly string[];
  readonly env: readonly string[];
  readonly project: Workspace;
  readonly serverNames: () => Promise<readonly string[]>;
}): Promise<ControlNodes | undefined> {
  if (sources.flag.length > 0) return { names: sources.flag, source: 'flag' };
  if (sources.env.length > 0) return { names: sources.env, source: 'env' };
  const remembered = await rememberedControlNodes(sources.project);
  if (remembered !== undefined) return { names: remembered, source: 'project' };
  const conventional = conventionalControlNodes(await sources.serverNames());
  return conventional.length > 0 ? { names: conventional, source: 'convention' } : undefined;
}
