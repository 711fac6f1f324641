import path from 'node:path';
import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { Workspace } from '../../ports/workspace.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { checkClusterUuid } from '../cluster/etcd-members.js';
import { checkNodeModule } from '../cluster/init-node.js';
import { substituteDeployFile, type DeployMode, type NodeAddresses, type NodeMap, type PlaceholderContext, type PlaceholderValues } from './placeholders.js';

/**
 * What one node receives in a deploy, computed from the project folder alone (no SSH): the file
 * contract of upstream-templates §1.1, every placeholder resolved, and the secret names the node
 * file asks for. Executing the plan (uploads, secrets, stale files, rebuild) is the caller's job.
 */

export const NIXOS_DIR = '/etc/nixos';
export const APP_MODULES_ROOT = '/etc/nixos/app_modules';
const MODULES_ROOT = '/etc/nixos/modules';

/** Files the node file may not replace: `/etc/nixos/<node>.nix` must not be one of these. */
// (cluster_node, control_node and standalone_machine are not hostname labels, so they cannot occur.)
const RESERVED_NODE_NAMES = new Set(['configuration', 'flake', 'hardware-configuration', 'networking']);

export interface PlannedFile {
  readonly remotePath: string;
  readonly content: Buffer;
  readonly mode: number;
}

export interface DeployPlan {
  /** configuration.nix, flake.nix, the node type, modules/ (top level), nodes/<node>.nix. */
  readonly files: readonly PlannedFile[];
  /** The whole app_modules/ tree, verbatim. */
  readonly appModules: readonly PlannedFile[];
  readonly appModulesRoot: typeof APP_MODULES_ROOT;
  /** Folders to create (parents first): modules/, app_modules/ and every folder inside it. */
  readonly directories: readonly string[];
  /** Secret names the node file references (regular and pre-build), unique and sorted. */
  readonly secrets: readonly string[];
  /** Secret names referenced as pre-build secrets (also in `secrets`), unique and sorted. */
  readonly preBuildSecrets: readonly string[];
  /** Forward references in the node file that were let through (see forwardReferences). */
  readonly warnings: readonly string[];
}

export interface DeployNode {
  readonly name: string;
  /** Public IPv4. */
  readonly ipv4: string;
  readonly overlayIp?: string | undefined;
}

export interface DeployPlanParams {
  readonly mode: DeployMode;
  readonly node: DeployNode;
  /** Every server of the project; `node` is added (or replaces its entry). */
  readonly nodes: NodeMap;
  readonly nixosVersion: string;
  /** The public key configuration.nix authorizes (one line). */
  readonly sshPublicKey: string;
  /** Nix system of the node, e.g. x86_64-linux. */
  readonly hwArch: string;
  /** Project-relative node type (node_types/<file>.nix); uploaded as cluster_node.nix. */
  readonly nodeModule: string;
  /** Cluster mode: the control nodes as etcdClusterText renders them. */
  readonly etcdCluster?: string;
  /** Cluster mode, control nodes: the node type goes to control_node.nix with etcdClusterToken. */
  readonly control?: { readonly clusterToken: string };
  /** Values for `[%%nix-store.trusted-public-keys%%]`. */
  readonly trustedPublicKeys: readonly string[];
  /** Where nodes/<node>.nix is read from (upstream's --test-dir); the project by default. */
  readonly nodeFileSource?: Workspace;
  /** A node or overlay IP the node file names that does not exist yet: error (default) or warning. */
  readonly forwardReferences?: 'error' | 'warn';
}

const FILE_MODE = 0o644;
const EXECUTABLE_MODE = 0o755;

function checkParams(params: DeployPlanParams): void {
  if (!isHostnameLabel(params.node.name)) throw new UserError(`${JSON.stringify(params.node.name)} is not a node name (1-63 letters, digits or "-")`);
  if (RESERVED_NODE_NAMES.has(params.node.name)) {
    throw new UserError(`node ${params.node.name}: its file /etc/nixos/${params.node.name}.nix would replace a system file`, {
      hints: ['rename the node'],
    });
  }
  checkNixosVersion(params.nixosVersion);
  if (!/^[a-z0-9_]+-[a-z0-9_]+$/.test(params.hwArch)) throw new UserError(`${JSON.stringify(params.hwArch)} is not a Nix system such as x86_64-linux`);
  // It sits inside a Nix string in configuration.nix.
  if (!/^[A-Za-z0-9@._-]+ [A-Za-z0-9+/=]+( [^"\\$\p{Cc}]*)?$/u.test(params.sshPublicKey)) {
    throw new UserError('the SSH public key must be one line "<type> <base64> [comment]" without quotes, backslashes or "$"');
  }
  if (params.mode === 'cluster' && (params.etcdCluster === undefined || params.etcdCluster.trim() === '')) {
    throw new UserError('a cluster deploy needs the control nodes (etcdCluster)', { hints: ['pass --ctrl-nodes or set CTRL_NODES'] });
  }
  if (params.control !== undefined) {
    if (params.mode !== 'cluster') throw new UserError('control nodes exist only in cluster mode');
    checkClusterUuid(params.control.clusterToken);
  }
}

/** A path inside the project as a list of segments that are safe as remote names. */
function safeSegments(rel: string, where: string): string[] {
  const segments = rel.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || /\p{Cc}/u.test(segment)) {
      throw new UserError(`${where}: ${JSON.stringify(rel)} is not a file name that can be uploaded`, {
        hints: ['rename it: no empty, "." or ".." parts and no control characters'],
      });
    }
  }
  return segments;
}

async function readRequired(project: Workspace, rel: string): Promise<Buffer> {
  const info = await project.stat(rel);
  if (info === undefined) throw new UserError(`${rel}: not found in ${project.root}`);
  if (info.isDirectory) throw new UserError(`${rel}: is a folder in ${project.root}, expected a file`);
  return project.readFile(rel);
}

/** Files below `rel`, or none when the folder does not exist. */
async function listFolder(project: Workspace, rel: string): Promise<string[]> {
  const info = await project.stat(rel);
  if (info === undefined) return [];
  if (!info.isDirectory) throw new UserError(`${rel}: is a file in ${project.root}, expected a folder`);
  return project.listFiles(rel);
}

/**
 * Builds the plan for one node. Every input is checked and every placeholder resolved first, so a
 * problem anywhere (a bad name, an unknown placeholder in any file) fails before anything is sent.
 */
export async function buildDeployPlan(project: Workspace, params: DeployPlanParams): Promise<DeployPlan> {
  checkParams(params);
  const nodeModule = checkNodeModule(params.nodeModule);
  const self = params.node;
  const nodes = new Map<string, NodeAddresses>(params.nodes);
  nodes.set(self.name, { ipv4: self.ipv4, overlayIp: self.overlayIp });
  const values: PlaceholderValues = {
    mode: params.mode,
    nodeName: self.name,
    nixVersion: params.nixosVersion,
    sshKey: params.sshPublicKey,
    hwArch: params.hwArch,
    ...(params.mode === 'cluster' && params.etcdCluster !== undefined ? { etcdCluster: params.etcdCluster } : {}),
    ...(params.control === undefined ? {} : { etcdClusterToken: params.control.clusterToken }),
    nodes,
    localhost: { name: self.name, ipv4: self.ipv4, overlayIp: self.overlayIp },
    trustedPublicKeys: params.trustedPublicKeys,
    ...(params.forwardReferences === undefined ? {} : { forwardReferences: params.forwardReferences }),
  };
  const render = async (source: Workspace, rel: string, context: PlaceholderContext, remotePath: string) => {
    const label = source === project ? rel : path.join(source.root, rel);
    const result = substituteDeployFile(await readRequired(source, rel), context, values, label);
    return { file: { remotePath, content: result.content, mode: FILE_MODE }, result };
  };

  const files: PlannedFile[] = [];
  files.push((await render(project, 'configuration.nix', 'configuration.nix', `${NIXOS_DIR}/configuration.nix`)).file);
  files.push((await render(project, 'flake.nix', 'flake.nix', `${NIXOS_DIR}/flake.nix`)).file);
  const nodeType =
    params.control === undefined
      ? await render(project, nodeModule, 'node-type', `${NIXOS_DIR}/cluster_node.nix`)
      : await render(project, nodeModule, 'control-node-type', `${NIXOS_DIR}/control_node.nix`);
  files.push(nodeType.file);

  // modules/: top-level files only, verbatim (node types import ./modules/<file>).
  for (const rel of await listFolder(project, 'modules')) {
    if (rel.includes('/')) continue;
    safeSegments(rel, 'modules');
    files.push({ remotePath: `${MODULES_ROOT}/${rel}`, content: await project.readFile(`modules/${rel}`), mode: FILE_MODE });
  }

  let secrets: string[] = [];
  let preBuildSecrets: string[] = [];
  let warnings: string[] = [];
  const nodeSource = params.nodeFileSource ?? project;
  const nodeRel = `nodes/${self.name}.nix`;
  if ((await nodeSource.stat(nodeRel)) !== undefined) {
    const nodeFile = await render(nodeSource, nodeRel, 'node-file', `${NIXOS_DIR}/${self.name}.nix`);
    files.push(nodeFile.file);
    ({ secrets, preBuildSecrets, warnings } = nodeFile.result);
  }

  // app_modules/: the whole tree, verbatim (action scripts may print placeholders on purpose).
  const appModules: PlannedFile[] = [];
  const directories = new Set<string>([MODULES_ROOT, APP_MODULES_ROOT]);
  for (const rel of await listFolder(project, 'app_modules')) {
    const segments = safeSegments(rel, 'app_modules');
    for (let i = 1; i < segments.length; i += 1) directories.add(`${APP_MODULES_ROOT}/${segments.slice(0, i).join('/')}`);
    const source = `app_modules/${rel}`;
    const info = await project.stat(source);
    const mode = info !== undefined && (info.mode & 0o111) !== 0 ? EXECUTABLE_MODE : FILE_MODE;
    appModules.push({ remotePath: `${APP_MODULES_ROOT}/${rel}`, content: await project.readFile(source), mode });
  }

  return {
    files,
    appModules,
    appModulesRoot: APP_MODULES_ROOT,
    // Sorted paths list every parent before its children.
    directories: [...directories].sort(),
    secrets,
    preBuildSecrets,
    warnings,
  };
}

/**
 * Remote files under /etc/nixos/app_modules that the plan does not upload, to delete after the
 * upload. `remoteListing` holds absolute paths of regular files (e.g. `find <root> -type f`,
 * which does not descend into symlinked folders); empty entries are ignored. Any entry that is
 * not a canonical path strictly inside the root (`..`, `.`, `//`, a trailing `/`, control
 * characters, another folder) is refused: nothing outside the root may ever be deleted.
 */
export function staleAppModuleFiles(remoteListing: readonly string[], plan: Pick<DeployPlan, 'appModules' | 'appModulesRoot'>): string[] {
  const root = plan.appModulesRoot;
  if (root !== APP_MODULES_ROOT) throw new Error(`unexpected app modules root ${JSON.stringify(root)}`);
  const wanted = new Set(plan.appModules.map((f) => f.remotePath));
  const stale = new Set<string>();
  for (const entry of remoteListing) {
    if (entry === '') continue;
    const inside =
      entry.startsWith(`${root}/`) &&
      entry.length > root.length + 1 &&
      !/\p{Cc}/u.test(entry) &&
      path.posix.normalize(entry) === entry &&
      !entry.endsWith('/') &&
      !entry.slice(root.length + 1).split('/').some((s) => s === '' || s === '.' || s === '..');
    if (!inside) {
      throw new UserError(`refusing to delete ${JSON.stringify(entry)}: not a file inside ${root}`);
    }
    if (!wanted.has(entry)) stale.add(entry);
  }
  return [...stale].sort();
}

/**
 * The part of the plan a command deploys: `system` = configuration.nix, flake.nix, the node type,
 * modules/; `apps` = the node file, app_modules/ and secrets; `all` = both.
 */
export function selectParts(plan: DeployPlan, node: string, parts: 'system' | 'apps' | 'all'): DeployPlan {
  if (parts === 'all') return plan;
  const nodeFile = `/etc/nixos/${node}.nix`;
  if (parts === 'apps') return { ...plan, files: plan.files.filter((f) => f.remotePath === nodeFile) };
  return {
    ...plan,
    files: plan.files.filter((f) => f.remotePath !== nodeFile),
    appModules: [],
    directories: plan.directories.filter((d) => !d.startsWith(APP_MODULES_ROOT)),
    secrets: [],
    preBuildSecrets: [],
    warnings: [],
  };
}
