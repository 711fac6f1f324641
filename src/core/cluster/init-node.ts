import { UserError } from '../../domain/errors.js';
import { checkModuleName } from '../../domain/names.js';
import type { ServerInfo } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { nodeCertificateSpecs } from '../pki/node-certs.js';
import { operatorCertificateSpec } from '../pki/operator-cert.js';
import { nodeAddressResolver, substitutePlaceholders } from '../placeholders.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { outputTail } from '../remote/output-lines.js';
import { etcdClusterText } from './etcd-members.js';
import { issueCertificates, rebuild, uploadCertificates, uploadSystemFiles, type NodeSetupDeps } from './node-setup.js';
import type { NodeFile } from './system-files.js';

export interface ClusterNodeParams {
  readonly targets: readonly HostTarget[];
  /** The control nodes (names and public addresses) the node's etcd clients talk to. */
  readonly ctrlNodes: readonly HostTarget[];
  /** Every server the provider knows, for `[%%<node>.ipv4%%]` in node files. */
  readonly servers: readonly ServerInfo[];
  readonly nixosVersion: string;
  /** Project-relative node type, default node_types/cluster_node.nix. */
  readonly nodeModule: string;
  readonly concurrency: number;
  /** init-node issues certificates and uploads them; update-node does not. */
  readonly withCertificates: boolean;
  readonly rebuild: boolean;
}

export interface ClusterNodeResult {
  readonly files: number;
  readonly rebuilt: boolean;
}

/** `node_types/<file>.nix`: a path inside the project, never outside it. */
export function checkNodeModule(value: string): string {
  const parts = value.split('/');
  if (parts.length !== 2 || parts[0] !== 'node_types' || !parts[1]?.endsWith('.nix')) {
    throw new UserError(`--node-module must be a file in node_types/, e.g. node_types/cluster_node.nix, not ${JSON.stringify(value)}`);
  }
  checkModuleName(parts[1], '--node-module');
  return value;
}

/**
 * The project's nodes/<node>.nix, if there is one, as /etc/nixos/<node>.nix. App deploys (secrets,
 * app_modules) come with the deploy work; until then placeholders resolve from the node map.
 */
async function nodeFile(deps: NodeSetupDeps, target: HostTarget, servers: readonly ServerInfo[]): Promise<NodeFile[]> {
  const rel = `nodes/${target.name}.nix`;
  if ((await deps.project.stat(rel)) === undefined) return [];
  const text = (await deps.project.readFile(rel)).toString('utf8');
  const resolve = nodeAddressResolver(servers, { name: target.name, address: target.address });
  return [{ remotePath: `/etc/nixos/${target.name}.nix`, content: Buffer.from(substitutePlaceholders(text, resolve, rel)) }];
}

/**
 * Cluster (worker, service, ingress) nodes, node side: certificates (client only), the system
 * files with the node type as cluster_node.nix (etcdCluster = the control nodes), the node's own
 * file, a rebuild, and a confd restart so the mesh is rendered from the current etcd state.
 * Registering the node in etcd is the caller's next step, for the hosts that succeeded.
 */
export async function setUpClusterNodes(deps: FanoutDeps & NodeSetupDeps, params: ClusterNodeParams): Promise<HostOutcome<ClusterNodeResult>[]> {
  const nixosVersion = checkNixosVersion(params.nixosVersion);
  const nodeModule = checkNodeModule(params.nodeModule);
  if (params.ctrlNodes.length === 0) throw new UserError('no control nodes given', { hints: ['pass --ctrl-nodes or set CTRL_NODES'] });
  if ((await deps.project.stat(nodeModule)) === undefined) throw new UserError(`${nodeModule}: not found in ${deps.project.root}`);
  const members = etcdClusterText(params.ctrlNodes.map((t) => ({ name: t.name, address: t.address })));
  if (params.withCertificates) {
    await issueCertificates(deps, [...params.targets.flatMap((t) => nodeCertificateSpecs({ name: t.name, addresses: [t.address], control: false })), operatorCertificateSpec()]);
  }
  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: host.target.name, message });
    if (params.withCertificates) {
      step('certificates to /root/certs');
      await uploadCertificates(deps, host, false);
    }
    const files = await uploadSystemFiles(
      deps,
      host,
      { nixosVersion, nodeType: nodeModule, nodeTypeTarget: 'cluster_node.nix', nodeTypeValues: new Map([['etcdCluster', members]]) },
      await nodeFile(deps, host.target, params.servers),
    );
    step(`${files.length} files written to /etc/nixos`);
    if (!params.rebuild) return { files: files.length, rebuilt: false };
    step('nixos-rebuild switch');
    await rebuild(deps, host);
    // A rebuild may replace what confd rendered; a restart renders it again from etcd.
    const confd = await host.exec({ argv: ['systemctl', 'restart', 'confd'] });
    if (confd.exitCode !== 0) throw new HostStepFailed(`systemctl restart confd failed (exit ${confd.exitCode ?? 'none'})`, outputTail(confd.stdout, confd.stderr));
    return { files: files.length, rebuilt: true };
  });
}
