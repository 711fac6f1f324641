import type { ServerInfo } from '../../ports/provider.js';
import type { HostTarget } from '../../ports/remote-host.js';
import { resolveTargets } from '../targets.js';
import { selectNodes, type Selection } from './resolve.js';
import { parseSelectors } from './syntax.js';
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

/**
 * `destroy`'s names: plain names pass as given (a server already gone is reported absent, as
 * before); any other selector is resolved against the provider's list. The tier guard applies to
 * every listed server the names reach.
 */
export function selectForDestroy(servers: readonly ServerInfo[], values: readonly string[], guard: MutationGuard): string[] {
  const items = parseSelectors(values);
  const plainNames = items.every((item) => !item.exclude && item.terms.length === 1 && item.terms[0]?.kind === 'name');
  if (!plainNames) {
    const selection = selectNodes(servers, values);
    guardTiers(servers, selection, guard.policy, guard.allowTiers);
    return [...selection.names];
  }
  const names = items.map((item) => item.text);
  const listed = new Set(servers.map((s) => s.name));
  guardTiers(servers, { items, names: names.filter((name) => listed.has(name)) }, guard.policy, guard.allowTiers);
  return names;
}
