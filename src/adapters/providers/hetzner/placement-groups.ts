/**
 * Spread placement groups: Hetzner puts the servers of one group on different physical hosts, at
 * most 10 per group. A project's base name `web` therefore stands for `web`, `web-2`, `web-3`, ...
 * filled in order; a group is created only when the existing ones have no room left.
 */
import { UserError } from '../../../domain/errors.js';
import type { OwnershipLabels, ProviderEvent } from '../../../ports/provider.js';
import { field, unexpected, type HetznerClient } from './client.js';
import { notOurs, projectLabels } from './labels.js';
import { idOf } from './server-info.js';

/** Documented limit of a spread placement group. */
export const SPREAD_GROUP_LIMIT = 10;

/** Position of `name` in the sequence `base`, `base-2`, `base-3`, ...; undefined outside it. */
function sequenceIndex(base: string, name: string): number | undefined {
  if (name === base) return 1;
  if (!name.startsWith(`${base}-`)) return undefined;
  const suffix = name.slice(base.length + 1);
  // `web-02` is not `web-2`: only the canonical spelling belongs to the sequence.
  return /^[1-9]\d*$/.test(suffix) && Number(suffix) >= 2 ? Number(suffix) : undefined;
}

function groupName(base: string, index: number): string {
  return index === 1 ? base : `${base}-${index}`;
}

function members(raw: unknown): number[] {
  const servers = field(raw, 'servers');
  return Array.isArray(servers) ? servers.filter((id): id is number => typeof id === 'number') : [];
}

/**
 * Picks a group for each of `count` new servers: one listing of the project's placement groups,
 * then groups with room in sequence order, creating (labelled as ours) only the groups still
 * needed. Returns the group id for each new server, in order. A group in the sequence that is not
 * this project's stops everything before any server is created.
 */
export async function allocatePlacement(
  client: HetznerClient,
  base: string,
  count: number,
  labels: OwnershipLabels,
  onEvent: (event: ProviderEvent) => void,
): Promise<number[]> {
  const operation = 'listing placement groups';
  const existing = new Map<number, unknown>();
  for (const raw of await client.listAll(operation, '/placement_groups', 'placement_groups')) {
    const name = field(raw, 'name');
    const index = typeof name === 'string' ? sequenceIndex(base, name) : undefined;
    if (index !== undefined) existing.set(index, raw);
  }

  const slots: number[] = [];
  // Each round either uses an existing group (finitely many) or creates one with 10 free places.
  for (let index = 1; slots.length < count; index += 1) {
    const name = groupName(base, index);
    const found = existing.get(index);
    let id: number;
    let used: number;
    if (found !== undefined) {
      const reason = notOurs(found, labels.project);
      if (reason !== undefined) {
        throw new UserError(`placement group ${name} exists, but ${reason}`, { hints: ['choose another placement group name for this project'] });
      }
      if (field(found, 'type') !== 'spread') throw new UserError(`placement group ${name} exists but is not of type spread`);
      id = idOf(found, operation, 'placement group');
      used = members(found).length;
    } else {
      const create = `creating placement group ${name}`;
      onEvent({ kind: 'step', message: create });
      const body = await client.request(create, 'POST', '/placement_groups', { body: { name, type: 'spread', labels: projectLabels(labels) } });
      const group = field(body, 'placement_group');
      if (group === undefined) throw unexpected(create, 'no "placement_group" in the answer');
      id = idOf(group, create, 'placement group');
      used = members(group).length;
    }
    for (let free = SPREAD_GROUP_LIMIT - used; free > 0 && slots.length < count; free -= 1) slots.push(id);
  }
  return slots;
}

/**
 * After servers were deleted: removes the placement groups they leave empty, when those are this
 * project's (labelled as ours). Works from the groups embedded in the server listing, so it costs
 * no extra listing; a group that cannot be removed is reported and left, since the servers are gone.
 */
export async function removeEmptiedGroups(
  client: HetznerClient,
  deleted: readonly unknown[],
  project: string,
  onEvent: (event: ProviderEvent) => void,
): Promise<void> {
  const groups = new Map<number, { raw: unknown; remaining: Set<number> }>();
  for (const server of deleted) {
    const group = field(server, 'placement_group');
    const groupId = field(group, 'id');
    if (typeof groupId !== 'number') continue;
    const entry = groups.get(groupId) ?? { raw: group, remaining: new Set(members(group)) };
    entry.remaining.delete(field(server, 'id') as number);
    groups.set(groupId, entry);
  }
  for (const [groupId, { raw, remaining }] of groups) {
    if (remaining.size > 0 || notOurs(raw, project) !== undefined) continue;
    const name = String(field(raw, 'name'));
    const operation = `removing empty placement group ${name}`;
    onEvent({ kind: 'step', message: operation });
    try {
      await client.request(operation, 'DELETE', `/placement_groups/${groupId}`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      onEvent({ kind: 'step', message: `placement group ${name} left in place: ${error.message}` });
    }
  }
}
