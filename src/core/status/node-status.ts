import type { LocalFiles } from '../../ports/local-files.js';
import type { HostTarget } from '../../ports/remote-host.js';
import type { Workspace } from '../../ports/workspace.js';
import { nixSystemFor } from '../../remote/host-facts.js';
import { parseStatusReport, STATUS_SCRIPT, type StatusReport } from '../../remote/status-probe.js';
import { partInputsHash } from '../deploy/inputs-hash.js';
import type { DeployMode, NodeMap } from '../deploy/placeholders.js';
import { buildDeployPlan } from '../deploy/plan.js';
import { forEachHost, HostStepFailed, type FanoutDeps } from '../remote/fanout.js';
import { publicKeyOf } from '../remote/node-identity.js';
import { driftOf, outOfBandOf, pendingBootOf, rebootNeededOf, type HostStatus } from './compartments.js';
import { parseNodeState, type DeployPart, type NodeState } from './node-state.js';

export interface StatusDeps extends FanoutDeps {
  readonly project: Workspace;
  readonly local: LocalFiles;
}

export interface StatusParams {
  readonly mode: DeployMode;
  readonly targets: readonly HostTarget[];
  readonly nodes: NodeMap;
  readonly etcdCluster?: string;
  /** The keys `[%%nix-store.trusted-public-keys%%]` renders; undefined when they cannot be read. */
  readonly trustedPublicKeys: readonly string[] | undefined;
  readonly concurrency: number;
}

/**
 * Each node's status from one round trip (the status script), with the drift computed here by
 * rendering what the node's last deploy rendered, with the same parameters, from this checkout.
 * A host that cannot be reached is reported as such; it never holds the others back.
 */
export async function nodeStatus(deps: StatusDeps, params: StatusParams): Promise<HostStatus[]> {
  const outcomes = await forEachHost(deps, params.targets, params.concurrency, async (host) => {
    const result = await host.exec({ script: STATUS_SCRIPT });
    if (result.exitCode !== 0) throw new HostStepFailed(`the status script failed (exit ${result.exitCode})`);
    return parseStatusReport(result.stdout.toString('utf8'));
  });
  const statuses: HostStatus[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const target = params.targets[index] as HostTarget;
    if (!outcome.ok || outcome.value === undefined) {
      statuses.push({ host: outcome.host, reachable: false, error: outcome.error ?? 'unreachable' });
      continue;
    }
    statuses.push(await statusOf(deps, params, target, outcome.value));
  }
  return statuses;
}

async function statusOf(deps: StatusDeps, params: StatusParams, target: HostTarget, report: StatusReport): Promise<HostStatus> {
  const { state, problem } = parseNodeState(report.stateText);
  const expected = state === undefined ? {} : await expectedHashes(deps, params, target, report, state);
  return {
    host: target.name,
    reachable: true,
    nixosVersion: report.nixosVersion,
    drift: problem === undefined ? driftOf(state, expected) : { kind: 'unknown', reason: problem },
    outOfBand: outOfBandOf(state, report),
    pendingBoot: pendingBootOf(report),
    rebootNeeded: rebootNeededOf(report),
    failedUnits: report.failedUnits,
    ...(state === undefined ? {} : { lastDeploy: { at: state.activatedAt ?? latestWrite(state), operator: state.operator, cliVersion: state.cliVersion } }),
    ...(problem === undefined ? {} : { stateProblem: problem }),
  };
}

function latestWrite(state: NodeState): string {
  return [state.parts.system?.writtenAt, state.parts.apps?.writtenAt].filter((t): t is string => t !== undefined).sort().at(-1) ?? '';
}

async function expectedHashes(
  deps: StatusDeps,
  params: StatusParams,
  target: HostTarget,
  report: StatusReport,
  state: NodeState,
): Promise<Partial<Record<DeployPart, string | { unknown: string }>>> {
  const hwArch = nixSystemFor(report.arch);
  const expected: Partial<Record<DeployPart, string | { unknown: string }>> = {};
  for (const part of ['system', 'apps'] as const) {
    const recorded = state.parts[part];
    if (recorded === undefined || recorded.fromTestDir) continue;
    if (hwArch === undefined) {
      expected[part] = { unknown: `unknown architecture ${JSON.stringify(report.arch)}` };
      continue;
    }
    if (params.trustedPublicKeys === undefined && part === 'apps') {
      expected[part] = { unknown: 'trusted keys are stored as secrets: give SECRETS_PASS to compare the node file' };
      continue;
    }
    try {
      const plan = await buildDeployPlan(deps.project, {
        mode: params.mode,
        node: { name: target.name, ipv4: target.address, overlayIp: params.nodes.get(target.name)?.overlayIp },
        nodes: params.nodes,
        nixosVersion: recorded.nixosVersion,
        sshPublicKey: await publicKeyOf(deps.local, target),
        hwArch,
        nodeModule: recorded.nodeModule,
        ...(params.etcdCluster === undefined ? {} : { etcdCluster: params.etcdCluster }),
        trustedPublicKeys: params.trustedPublicKeys ?? [],
      });
      expected[part] = partInputsHash(plan, target.name, part);
    } catch (err) {
      expected[part] = { unknown: `cannot render: ${(err as Error).message}` };
    }
  }
  return expected;
}
