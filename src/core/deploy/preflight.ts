import type { LocalFiles } from '../../ports/local-files.js';
import type { HostTarget } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { checkNixosVersion } from '../../remote/nixos-install.js';
import { checkNodeModule } from '../cluster/init-node.js';
import { publicKeyOf } from '../remote/node-identity.js';
import type { DeployMode, NodeAddresses, NodeMap } from './placeholders.js';
import { buildDeployPlan, type DeployPlanParams } from './plan.js';

/** What a deploy plan needs to know about a node that only the node can tell. */
export interface HostFacts {
  readonly hwArch: string;
  readonly nixosVersion: string;
}

export interface PlanInputs {
  readonly mode: DeployMode;
  readonly nodes: NodeMap;
  readonly nodeModule: string;
  readonly etcdCluster?: string;
  readonly nodeFileSource?: Workspace;
  /** See DeployPlanParams.forwardReferences. */
  readonly forwardReferences?: 'error' | 'warn';
}

/** The plan parameters for one target; shared by the real plan and the check before it. */
export function planParams(inputs: PlanInputs, target: HostTarget, facts: HostFacts, sshPublicKey: string, trustedPublicKeys: readonly string[]): DeployPlanParams {
  return {
    mode: inputs.mode,
    node: { name: target.name, ipv4: target.address, overlayIp: inputs.nodes.get(target.name)?.overlayIp },
    nodes: inputs.nodes,
    nixosVersion: facts.nixosVersion,
    sshPublicKey,
    hwArch: facts.hwArch,
    nodeModule: inputs.nodeModule,
    ...(inputs.etcdCluster === undefined ? {} : { etcdCluster: inputs.etcdCluster }),
    trustedPublicKeys,
    ...(inputs.nodeFileSource === undefined ? {} : { nodeFileSource: inputs.nodeFileSource }),
    ...(inputs.forwardReferences === undefined ? {} : { forwardReferences: inputs.forwardReferences }),
  };
}

/** Stand-ins for what hosts report: any valid value renders the same placeholders. */
const STAND_IN_FACTS: HostFacts = { hwArch: 'x86_64-linux', nixosVersion: '25.05' };
const STAND_IN_OVERLAY_IP = '10.1.0.1';

/**
 * Input errors are the operator's, not a host's: an unknown placeholder key, a bad
 * --nixos-version or --node-module, a missing configuration.nix or node type. Every target's plan
 * is built from the project alone, with stand-ins for the host facts (and, in cluster mode, for
 * overlay IPs not known yet), so these fail as one input error (exit 2) before any target is
 * reached, instead of as a failure on every host. The plans themselves are thrown away.
 */
export async function checkDeployInputs(
  deps: { readonly project: Workspace; readonly local: LocalFiles },
  inputs: PlanInputs & { readonly targets: readonly HostTarget[]; readonly nixosVersion?: string },
): Promise<void> {
  if (inputs.nixosVersion !== undefined) checkNixosVersion(inputs.nixosVersion);
  checkNodeModule(inputs.nodeModule);
  const facts = { ...STAND_IN_FACTS, ...(inputs.nixosVersion === undefined ? {} : { nixosVersion: inputs.nixosVersion }) };
  const nodes = new Map<string, NodeAddresses>(
    [...inputs.nodes].map(([name, node]) => [name, inputs.mode === 'cluster' ? { ...node, overlayIp: node.overlayIp ?? STAND_IN_OVERLAY_IP } : node]),
  );
  for (const target of inputs.targets) {
    await buildDeployPlan(deps.project, planParams({ ...inputs, nodes }, target, facts, await publicKeyOf(deps.local, target), []));
  }
}
