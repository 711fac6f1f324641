import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { Prompter } from '../../ports/prompter.js';
import type { DestroyOutcome, OwnershipLabels, ServerFactory, ServerProvider } from '../../ports/provider.js';
import type { Reporter } from '../../ports/reporter.js';
import type { HostOutcome } from '../remote/fanout.js';
import { progressOf } from './provider-events.js';

export type DestroyResult =
  /** The provider cannot delete servers (servers.yaml): nothing was done, `message` says why. */
  | { readonly kind: 'unsupported'; readonly message: string }
  /** The operator answered no. */
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'done'; readonly outcomes: HostOutcome<DestroyOutcome['state']>[] };

/**
 * Deletes the named servers, only those labelled as this project's (the provider refuses the
 * rest). Asks first unless the prompter is in batch mode, which answers yes.
 */
export async function destroyNodes(
  deps: { provider: ServerProvider; prompter: Prompter; reporter: Reporter },
  params: {
    names: readonly string[];
    labels: () => Promise<OwnershipLabels>;
    /** Runs after the confirmation and before any deletion (cluster: leave the cluster first). */
    beforeDelete?: (names: readonly string[]) => Promise<void>;
  },
): Promise<DestroyResult> {
  const names = [...new Set(params.names)];
  if (names.length === 0) throw new UserError('no target given', { hints: ['pass --target with one or more node names'] });
  const invalid = names.filter((name) => !isHostnameLabel(name));
  if (invalid.length > 0) throw new UserError(`not a valid node name: ${invalid.map((n) => JSON.stringify(n)).join(', ')}`);
  const provider = deps.provider as ServerProvider & Partial<ServerFactory>;
  const unsupported = `${provider.name} does not delete machines: they are yours. Remove ${names.join(', ')} from servers.yaml and shut them down by hand.`;
  if (!provider.capabilities.destroyServers || provider.destroyServers === undefined) {
    if (params.beforeDelete === undefined) return { kind: 'unsupported', message: unsupported };
    if (!(await deps.prompter.confirm(`Remove ${names.join(', ')} from the cluster?`))) return { kind: 'cancelled' };
    await params.beforeDelete(names);
    return { kind: 'unsupported', message: unsupported };
  }
  // Labels are resolved only here: a servers.yaml project needs no key to be told the above.
  const labels = await params.labels();
  if (!(await deps.prompter.confirm(`Delete ${names.join(', ')} in ${provider.name}? This cannot be undone.`))) return { kind: 'cancelled' };
  // Only this project's servers leave the cluster: a same-named server of someone else's is
  // refused below and must not lose its registration or its flannel on the way.
  if (params.beforeDelete !== undefined) {
    const owned = await provider.ownedServers?.(names, labels);
    if (owned !== undefined && owned.length > 0) await params.beforeDelete(owned);
  }
  const outcomes = await provider.destroyServers(names, labels, (event) => deps.reporter.emit(progressOf(event)));
  return {
    kind: 'done',
    outcomes: outcomes.map((outcome) => {
      const ok = outcome.state === 'deleted' || outcome.state === 'absent';
      const reason = outcome.state === 'refused' || outcome.state === 'failed' ? outcome.reason : undefined;
      return { host: outcome.name, ok, value: outcome.state, ...(reason === undefined ? {} : { error: reason }), durationMs: 0 };
    }),
  };
}
