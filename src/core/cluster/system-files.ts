import { UserError } from '../../domain/errors.js';
import type { Workspace } from '../../ports/workspace.js';
import { substitutePlaceholders } from '../placeholders.js';

/** One file for /etc/nixos on a node, already rendered. */
export interface NodeFile {
  readonly remotePath: string;
  readonly content: Buffer;
}

export interface SystemFileParams {
  readonly nodeName: string;
  readonly nixosVersion: string;
  readonly sshPublicKey: string;
  /** Nix system, e.g. x86_64-linux (flake.nix's hwArch). */
  readonly hwArch: string;
  /** Project-relative node type, e.g. node_types/control_node.nix. */
  readonly nodeType: string;
  /** Its name in /etc/nixos: control_node.nix or cluster_node.nix. */
  readonly nodeTypeTarget: string;
  /** Placeholders of the node type file (etcdCluster, etcdClusterToken). */
  readonly nodeTypeValues: ReadonlyMap<string, string>;
}

async function projectFile(project: Workspace, rel: string): Promise<string> {
  if ((await project.stat(rel)) === undefined) throw new UserError(`${rel}: not found in ${project.root}`);
  return (await project.readFile(rel)).toString('utf8');
}

/**
 * configuration.nix, flake.nix, the node type and the top-level files of modules/, as upstream's
 * file contract puts them in /etc/nixos. Every placeholder must resolve (an unknown one is an
 * error naming file and line); modules are uploaded as they are.
 */
export async function renderSystemFiles(project: Workspace, params: SystemFileParams): Promise<NodeFile[]> {
  const base = new Map([
    ['nodeName', params.nodeName],
    ['nixVersion', params.nixosVersion],
    ['sshKey', params.sshPublicKey],
    ['hwArch', params.hwArch],
  ]);
  const render = async (rel: string, values: ReadonlyMap<string, string>): Promise<Buffer> =>
    Buffer.from(substitutePlaceholders(await projectFile(project, rel), (key) => values.get(key), rel, [...values.keys()].map((k) => `[%%${k}%%]`).join(', ')));
  const files: NodeFile[] = [
    { remotePath: '/etc/nixos/configuration.nix', content: await render('configuration.nix', base) },
    { remotePath: '/etc/nixos/flake.nix', content: await render('flake.nix', base) },
    { remotePath: `/etc/nixos/${params.nodeTypeTarget}`, content: await render(params.nodeType, new Map([...base, ...params.nodeTypeValues])) },
  ];
  // Top-level files only: node types import ./modules/<file>, and subfolders were never uploaded.
  const modules = (await project.stat('modules')) === undefined ? [] : await project.listFiles('modules');
  for (const name of modules) {
    if (name.includes('/')) continue;
    files.push({ remotePath: `/etc/nixos/modules/${name}`, content: await project.readFile(`modules/${name}`) });
  }
  return files;
}
