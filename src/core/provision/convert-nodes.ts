import type { HostTarget } from '../../ports/remote-host.js';
import { forEachHost, type HostOutcome } from '../remote/fanout.js';
import { ConversionFailed, convertHost, type ConversionDeps, type ConversionPlan, type ConversionResult } from './convert-host.js';

export interface ConvertNodesParams {
  readonly targets: readonly HostTarget[];
  /** Each node's plan (its own configuration.nix). */
  readonly planFor: (target: HostTarget) => ConversionPlan;
  readonly concurrency: number;
  /** Extra rounds for hosts whose failure may pass (see ConversionFailed.retryable). */
  readonly retries: number;
}

/**
 * Converts the targets in rounds: after each round, only the hosts that failed in a way worth
 * retrying go again, the others keep their outcome. Every host ends with exactly one outcome,
 * in target order.
 */
export async function convertNodes(deps: ConversionDeps, params: ConvertNodesParams): Promise<HostOutcome<ConversionResult>[]> {
  const final = new Map<string, HostOutcome<ConversionResult>>();
  let pending = [...params.targets];
  for (let round = 0; pending.length > 0; round += 1) {
    const retryable = new Set<string>();
    const outcomes = await forEachHost(deps, pending, params.concurrency, async (host) => {
      try {
        return await convertHost(deps, host, params.planFor(host.target));
      } catch (err) {
        if (err instanceof ConversionFailed && err.retryable) retryable.add(host.target.name);
        throw err;
      }
    });
    for (const outcome of outcomes) final.set(outcome.host, outcome);
    if (round >= params.retries) break;
    pending = pending.filter((target) => retryable.has(target.name));
    for (const target of pending) {
      deps.reporter.emit({ kind: 'warning', host: target.name, message: `conversion failed (${final.get(target.name)?.error ?? 'unknown'}); retrying (${round + 1} of ${params.retries})` });
    }
  }
  return params.targets.map((target) => final.get(target.name) as HostOutcome<ConversionResult>);
}
