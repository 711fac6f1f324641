import { UserError } from '../../domain/errors.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { nodeCertificateSpecs } from '../pki/node-certs.js';
import { operatorCertificateSpec } from '../pki/operator-cert.js';
import { forEachHost, type FanoutDeps, type HostOutcome } from '../remote/fanout.js';
import { checkClusterUuid, etcdClusterText } from './etcd-members.js';
import { issueCertificates, rebuild, uploadCertificates, uploadSystemFiles, type NodeSetupDeps } from './node-setup.js';

export interface InitCtrlDeps extends FanoutDeps, NodeSetupDeps {}

export interface InitCtrlParams {
  readonly targets: readonly HostTarget[];
  /**
   * Every member of the etcd cluster (the targets when not given). Setting up a subset (a member
   * that failed the first time) must still write the whole member list, or it bootstraps a new
   * cluster of its own.
   */
  readonly members?: readonly HostTarget[];
  readonly nixosVersion: string;
  readonly clusterUuid: string;
  readonly concurrency: number;
  /** init-ctrl issues and uploads certificates; update-ctrl keeps the ones on the nodes. */
  readonly withCertificates?: boolean;
  /** Default true; update-ctrl rebuilds only with --rebuild. */
  readonly rebuild?: boolean;
}

export interface ControlNodeResult {
  readonly certificates: string[];
  readonly files: number;
  readonly rebuilt: boolean;
}

/**
 * The etcd control plane, node side: certificates (client + peer, and the operator's), the
 * system files with control_node.nix (etcdCluster = the targets, etcdClusterToken = the cluster
 * UUID), then `nixos-rebuild switch`. Talking to etcd afterwards is the caller's next step.
 */
export async function initControlNodes(deps: InitCtrlDeps, params: InitCtrlParams): Promise<HostOutcome<ControlNodeResult>[]> {
  const uuid = checkClusterUuid(params.clusterUuid);
  const nixosVersion = checkNixosVersion(params.nixosVersion);
  if (params.targets.length === 0) throw new UserError('no control nodes given');
  const all = params.members ?? params.targets;
  const outside = params.targets.filter((t) => !all.some((m) => m.name === t.name));
  if (outside.length > 0) {
    throw new UserError(`${outside.map((t) => t.name).join(', ')}: not among the control nodes (${all.map((m) => m.name).join(', ')})`, {
      hints: ['list every control node with --ctrl-nodes (or CTRL_NODES); --target picks the ones to set up'],
    });
  }
  const members = etcdClusterText(all.map((t) => ({ name: t.name, address: t.address })));

  // Every certificate first, the operator's included, so the CA password is asked once and a
  // wrong one changes nothing on any node.
  const withCertificates = params.withCertificates ?? true;
  if (withCertificates) await issueCertificates(deps, [...params.targets.flatMap((t) => nodeCertificateSpecs({ name: t.name, addresses: [t.address], control: true })), operatorCertificateSpec()]);

  return forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const name = host.target.name;
    const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: name, message });
    if (withCertificates) step('certificates to /root/certs');
    const certificates = withCertificates ? await uploadCertificates(deps, host, true) : [];
    const files = await uploadSystemFiles(deps, host, {
      nixosVersion,
      nodeType: 'node_types/control_node.nix',
      nodeTypeTarget: 'control_node.nix',
      nodeTypeValues: new Map([
        ['etcdCluster', members],
        ['etcdClusterToken', uuid],
      ]),
    });
    step(`${files.length} files written to /etc/nixos`);
    if (params.rebuild === false) return { certificates, files: files.length, rebuilt: false };
    step('nixos-rebuild switch');
    await rebuild(deps, host);
    return { certificates, files: files.length, rebuilt: true };
  });
}
