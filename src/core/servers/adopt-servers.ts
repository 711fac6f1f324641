import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { Prompter } from '../../ports/prompter.js';
import { isServerAdopter, type AdoptOutcome, type OwnershipLabels, type ServerProvider } from '../../ports/provider.js';
import type { HostOutcome } from '../remote/fanout.js';

export type AdoptServersResult =
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'done'; readonly outcomes: HostOutcome<AdoptOutcome['state']>[] };

const ABSENT = 'no server with this name in the cloud project';

/**
 * Gives servers this project did not create (the upstream tool's, hand-made ones) the project's
 * ownership labels, so provision reuses them and destroy may delete them. Asks first (batch mode
 * answers yes), naming exactly the servers that would change.
 */
export async function adoptServers(
  deps: { provider: ServerProvider; prompter: Prompter },
  params: { names: readonly string[]; labels: () => Promise<OwnershipLabels> },
): Promise<AdoptServersResult> {
  const names = [...new Set(params.names)];
  if (names.length === 0) throw new UserError('no target given', { hints: ['pass --target with one or more server names'] });
  const invalid = names.filter((name) => !isHostnameLabel(name));
  if (invalid.length > 0) throw new UserError(`not a valid server name: ${invalid.map((n) => JSON.stringify(n)).join(', ')}`);
  const provider = deps.provider;
  if (!isServerAdopter(provider)) {
    throw new UserError(`${provider.name} keeps no ownership labels: its machines are listed in servers.yaml, there is nothing to adopt`, {
      hints: ['adopt is for Hetzner Cloud projects (HCLOUD_TOKEN set and no servers.yaml)'],
    });
  }
  const labels = await params.labels();
  const result = await provider.adoptServers(names, labels, (adoptable) =>
    deps.prompter.confirm(
      `Label ${adoptable.join(', ')} in ${provider.name} as nix-infra project "${labels.project}" (role ${labels.role})? provision will then reuse them and destroy may delete them.`,
    ),
  );
  if (result.cancelled) return { kind: 'cancelled' };
  return {
    kind: 'done',
    outcomes: result.outcomes.map((outcome) => {
      const ok = outcome.state === 'adopted' || outcome.state === 'owned';
      const error = outcome.state === 'absent' ? ABSENT : outcome.state === 'refused' || outcome.state === 'failed' ? outcome.reason : undefined;
      return { host: outcome.name, ok, value: outcome.state, ...(error === undefined ? {} : { error }), durationMs: 0 };
    }),
  };
}
