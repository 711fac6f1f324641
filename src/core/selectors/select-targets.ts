import type { ServerInfo } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { resolveTargets } from '../targets.js';
import { selectNodes, type Selection } from './resolve.js';
import { guardTiers, type TierPolicy } from './tier-guard.js';

/** A command that changes nodes: the tier guard applies to it. */
export interface MutationGuard {
  readonly policy: TierPolicy;
  /** `--allow-tier` values. */
  readonly allowTiers: readonly string[];
}

export interface SelectedTargets {
  readonly selection: Selection;
  readonly targets: HostTarget[];
}

/**
 * `--target` values to the hosts to connect to: selectors resolved against the provider's list,
 * the tier guard for a mutating command, then addresses and keys. All of it before any connection.
 */
export function selectTargets(servers: readonly ServerInfo[], values: readonly string[], guard: MutationGuard | undefined, defaultKeyPath: string | undefined): SelectedTargets {
  const selection = selectNodes(servers, values);
  if (guard !== undefined) guardTiers(servers, selection, guard.policy, guard.allowTiers);
  return { selection, targets: resolveTargets(servers, selection.names, defaultKeyPath) };
}
