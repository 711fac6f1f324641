import type { StatusReport } from '../../remote/status-probe.js';
import type { DeployPart, NodeState } from './node-state.js';

/**
 * The rules that turn what a node reports into the answers an operator wants. Each is a pure
 * function of the report, the recorded state and (for drift) what this checkout renders now, so
 * every rule has its own tests and the CLI, the dashboard and MCP show the same verdicts.
 */

export type Drift =
  | { readonly kind: 'in-sync' }
  | { readonly kind: 'drift'; readonly parts: readonly DeployPart[] }
  | { readonly kind: 'never-deployed' }
  | { readonly kind: 'unknown'; readonly reason: string };

/** The checkout's rendering (per part recorded on the node) against the recorded hashes. */
export function driftOf(state: NodeState | undefined, expected: Partial<Record<DeployPart, string | { unknown: string }>>): Drift {
  if (state === undefined) return { kind: 'never-deployed' };
  const drifted: DeployPart[] = [];
  for (const part of ['system', 'apps'] as const) {
    const recorded = state.parts[part];
    if (recorded === undefined) continue;
    if (recorded.fromTestDir) return { kind: 'unknown', reason: `the last ${part} deploy rendered a --test-dir node file` };
    const now = expected[part];
    if (now === undefined) return { kind: 'unknown', reason: `${part} was not rendered` };
    if (typeof now !== 'string') return { kind: 'unknown', reason: now.unknown };
    if (now !== recorded.inputsHash) drifted.push(part);
  }
  if (state.parts.system === undefined && state.parts.apps === undefined) return { kind: 'never-deployed' };
  return drifted.length === 0 ? { kind: 'in-sync' } : { kind: 'drift', parts: drifted };
}

export type OutOfBand =
  | { readonly kind: 'ok' }
  | { readonly kind: 'changed'; readonly recorded: string; readonly current: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** Someone activated another system than our last rebuild did (nixos-rebuild by hand, a rollback). */
export function outOfBandOf(state: NodeState | undefined, report: StatusReport): OutOfBand {
  if (state?.storePath === undefined) return { kind: 'unknown', reason: 'no rebuild recorded' };
  if (report.currentSystem === '') return { kind: 'unknown', reason: 'the node has no /run/current-system' };
  return state.storePath === report.currentSystem ? { kind: 'ok' } : { kind: 'changed', recorded: state.storePath, current: report.currentSystem };
}

/** The system profile (what the next boot runs) is not the running system: a `boot` waits. */
export function pendingBootOf(report: StatusReport): { readonly pending: boolean; readonly next?: string } {
  if (report.profileSystem === '' || report.currentSystem === '') return { pending: false };
  return report.profileSystem === report.currentSystem ? { pending: false } : { pending: true, next: report.profileSystem };
}

/** The running system's kernel or initrd is not the one the machine booted with. */
export function rebootNeededOf(report: StatusReport): boolean {
  if (report.bootedKernel === '' || report.currentKernel === '') return false;
  return report.bootedKernel !== report.currentKernel;
}

export interface HostStatus {
  readonly host: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly nixosVersion?: string;
  readonly drift?: Drift;
  readonly outOfBand?: OutOfBand;
  readonly pendingBoot?: { readonly pending: boolean; readonly next?: string };
  readonly rebootNeeded?: boolean;
  readonly failedUnits?: readonly string[];
  readonly lastDeploy?: { readonly at: string; readonly operator: string; readonly cliVersion: string };
  readonly stateProblem?: string;
}

/** In sync: reachable, rendering unchanged, nothing activated behind our back, no failed unit. */
export function isInSync(status: HostStatus): boolean {
  return (
    status.reachable &&
    status.drift?.kind === 'in-sync' &&
    status.outOfBand?.kind !== 'changed' &&
    status.pendingBoot?.pending !== true &&
    (status.failedUnits?.length ?? 0) === 0 &&
    status.stateProblem === undefined
  );
}

/** One word per compartment, for tables and the dashboard. */
export function describe(status: HostStatus): { system: string; drift: string; units: string; boot: string } {
  const drift =
    status.drift === undefined ? '-' : status.drift.kind === 'drift' ? `drift (${status.drift.parts.join(', ')})` : status.drift.kind === 'unknown' ? 'unknown' : status.drift.kind;
  const system = status.outOfBand === undefined ? '-' : status.outOfBand.kind === 'changed' ? 'changed by hand' : status.outOfBand.kind === 'ok' ? 'as deployed' : 'unknown';
  const units = status.failedUnits === undefined ? '-' : status.failedUnits.length === 0 ? 'ok' : `failed: ${status.failedUnits.join(', ')}`;
  const boot = status.rebootNeeded ? 'reboot needed' : status.pendingBoot?.pending ? 'pending boot' : status.pendingBoot === undefined ? '-' : 'ok';
  return { system, drift, units, boot };
}

/** A host's status with its overall verdict, as `status --json` and the dashboard show it. */
export type HostStatusView = HostStatus & { readonly inSync: boolean };
