import { goalActivates, type DeployGoal } from '../../domain/deploy-goal.js';
import { describeDryActivation, type DryActivation } from '../../remote/dry-activate.js';
import { UserError } from '../../domain/errors.js';
import { checkModuleName } from '../../domain/names.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { nodeCertificateSpecs } from '../pki/node-certs.js';
import { operatorCertificateSpec } from '../pki/operator-cert.js';
import { forEachHost, HostStepFailed, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { outputTail } from '../remote/output-lines.js';
import { etcdClusterText } from './etcd-members.js';
import { issueCertificates, rebuild, uploadCertificates, uploadSystemFiles, type NodeSetupDeps } from './node-setup.js';

export interface ClusterNodeParams {
  readonly targets: readonly HostTarget[];
  /** The control nodes (names and public addresses) the node's etcd clients talk to. */
  readonly ctrlNodes: readonly HostTarget[];
  readonly nixosVersion: string;
  /** Project-relative node type, default node_types/cluster_node.nix. */
  readonly nodeModule: string;
  readonly concurrency: number;
  /** init-node issues certificates and uploads them; update-node does not. */
  readonly withCertificates: boolean;
  /** `nixos-rebuild <goal>` after the upload (update-node); undefined: none. */
  readonly goal: DeployGoal | undefined;
}

export interface ClusterNodeResult {
  readonly files: number;
  readonly rebuilt: boolean;
  readonly goal?: DeployGoal;
  /** dry-activate: the units activation would stop, restart, reload and start. */
  readonly wouldActivate?: DryActivation;
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
 * Cluster (worker, service, ingress) nodes, node side: certificates (client only) and the system
 * files with the node type as cluster_node.nix (etcdCluster = the control nodes); with a `goal`,
 * `nixos-rebuild <goal>` and, when that activated (switch, test), a confd restart so the mesh is
 * rendered from the current etcd state. The node's own file, app modules and secrets are the
 * deploy's (init-node runs it next); registering the node in etcd is the caller's last step, for
 * the hosts that succeeded.
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
    const files = await uploadSystemFiles(deps, host, {
      nixosVersion,
      nodeType: nodeModule,
      nodeTypeTarget: 'cluster_node.nix',
      nodeTypeValues: new Map([['etcdCluster', members]]),
    });
    step(`${files.length} files written to /etc/nixos`);
    if (params.goal === undefined) return { files: files.length, rebuilt: false };
    step(`nixos-rebuild ${params.goal}`);
    const { dryActivation } = await rebuild(deps, host, params.goal);
    if (dryActivation !== undefined) step(describeDryActivation(dryActivation));
    const done = { files: files.length, rebuilt: true, goal: params.goal, ...(dryActivation === undefined ? {} : { wouldActivate: dryActivation }) };
    // Nothing new runs yet (boot, build, dry-activate): confd keeps what it rendered.
    if (!goalActivates(params.goal)) return done;
    // A rebuild may replace what confd rendered; a restart renders it again from etcd.
    const confd = await host.exec({ argv: ['systemctl', 'restart', 'confd'] });
    if (confd.exitCode !== 0) throw new HostStepFailed(`systemctl restart confd failed (exit ${confd.exitCode ?? 'none'})`, outputTail(confd.stdout, confd.stderr));
    return done;
  });
}

/** `systemctl restart confd` on each host: a rebuild may replace what confd rendered. */
export function restartConfd(deps: FanoutDeps, targets: readonly HostTarget[], concurrency: number): Promise<HostOutcome<{ restarted: true }>[]> {
  return forEachHost(deps, targets, concurrency, async (host) => {
    const confd = await host.exec({ argv: ['systemctl', 'restart', 'confd'] });
    if (confd.exitCode !== 0) throw new HostStepFailed(`systemctl restart confd failed (exit ${confd.exitCode ?? 'none'})`, outputTail(confd.stdout, confd.stderr));
    return { restarted: true } as const;
  });
}
