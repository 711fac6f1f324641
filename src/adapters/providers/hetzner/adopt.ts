/**
 * Adopting servers this project did not create (the upstream tool made them without labels):
 * one listing, then one PUT per unlabelled server that adds our ownership labels and keeps the
 * labels it already had (PUT replaces the whole set, so they are sent back).
 */
import { UserError } from '../../../domain/errors.js';
import type { AdoptOutcome, AdoptResult, OwnershipLabels } from '../../../ports/provider.js';
import { createLimiter } from '../../../util/concurrency.js';
import { describeFailure, field, type HetznerClient } from './client.js';
import { checkOwnershipLabels, notOurs, ownershipOf, serverLabels } from './labels.js';
import { idOf } from './server-info.js';
import { checkUnique, serversByName } from './servers.js';

function existingLabels(raw: unknown): Record<string, string> {
  const labels = field(raw, 'labels');
  if (typeof labels !== 'object' || labels === null) return {};
  return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

async function relabel(client: HetznerClient, name: string, raw: unknown, labels: OwnershipLabels): Promise<AdoptOutcome> {
  const operation = `labelling server ${name}`;
  try {
    await client.request(operation, 'PUT', `/servers/${idOf(raw, operation, 'server')}`, {
      body: { labels: { ...existingLabels(raw), ...serverLabels(labels) } },
    });
    return { name, state: 'adopted' };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { name, state: 'failed', reason: describeFailure(error) };
  }
}

export async function adoptServers(
  client: HetznerClient,
  names: readonly string[],
  labels: OwnershipLabels,
  concurrency: number,
  confirm: (adoptable: readonly string[]) => Promise<boolean>,
): Promise<AdoptResult> {
  checkOwnershipLabels(labels);
  checkUnique(names);
  const existing = await serversByName(client, () => {});
  const outcomes = new Map<string, AdoptOutcome>();
  const adoptable: string[] = [];
  for (const name of names) {
    const raw = existing.get(name);
    const ownership = raw === undefined ? undefined : ownershipOf(raw, labels.project);
    if (ownership === undefined) outcomes.set(name, { name, state: 'absent' });
    else if (ownership.kind === 'ours') outcomes.set(name, { name, state: 'owned' });
    else if (ownership.kind === 'other-project') {
      outcomes.set(name, {
        name,
        state: 'refused',
        reason: `${notOurs(raw, labels.project) ?? ''} (to manage it from this folder, set NIX_INFRA_PROJECT=${ownership.owner})`,
      });
    } else adoptable.push(name);
  }
  if (adoptable.length > 0 && !(await confirm(adoptable))) {
    return { cancelled: true, outcomes: names.map((name) => outcomes.get(name) ?? { name, state: 'failed', reason: 'not adopted: cancelled' }) };
  }
  const limit = createLimiter(concurrency);
  const done = await Promise.all(adoptable.map((name) => limit(() => relabel(client, name, existing.get(name), labels))));
  for (const outcome of done) outcomes.set(outcome.name, outcome);
  return { cancelled: false, outcomes: names.map((name) => outcomes.get(name) as AdoptOutcome) };
}
