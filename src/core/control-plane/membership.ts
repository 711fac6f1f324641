import { UserError } from '../../domain/errors.js';
import { isHostnameLabel } from '../../domain/names.js';
import type { ControlPlane, PutOutcome } from '../../ports/control-plane.js';
import { readLeases } from './flannel.js';
import { isIpv4 } from './ipv4.js';
import { groupPrefix, nodeKey, SERVICE_GROUPS } from './layout.js';

/**
 * Cluster membership (upstream-cli.md §7.9, §10.1): a node is registered by writing
 * `/cluster/nodes/<node>` = `{"name":"<node>","ipv4":"<public ip>","services":[<group>...]}`
 * (compact JSON, fields in that order). confd on every node watches that prefix and renders
 * HAProxy from it; `services` names the service groups the node *consumes*.
 *
 * Unregistering also removes the node's flannel subnet lease, which upstream left behind (a
 * stale lease then broke every overlay lookup until its 24 h TTL ran out), and the node's app
 * instances, which the apps' units delete only when they stop cleanly (a destroyed server never
 * runs its preStop, and confd would keep sending traffic to the dead address).
 */

export interface NodeRecord {
  readonly name: string;
  readonly ipv4: string;
  readonly services: readonly string[];
}

const GROUP_WORD = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks and normalises a registration: the name is a hostname label, ipv4 a dotted quad,
 * service groups single words; empty words are dropped (upstream's `--service-group=""` gave
 * `[""]`) and duplicates removed, order kept.
 */
export function nodeRecord(name: string, ipv4: string, services: readonly string[]): NodeRecord {
  if (!isHostnameLabel(name)) throw new UserError(`node name ${JSON.stringify(name)} is not a hostname label (letters, digits, "-")`);
  if (!isIpv4(ipv4)) throw new UserError(`node ${name}: ${JSON.stringify(ipv4)} is not an IPv4 address`);
  const groups: string[] = [];
  for (const word of services) {
    if (word === '') continue;
    if (!GROUP_WORD.test(word)) throw new UserError(`node ${name}: service group ${JSON.stringify(word)} must be one word (letters, digits, ".", "_", "-")`);
    if (!groups.includes(word)) groups.push(word);
  }
  return { name, ipv4, services: groups };
}

/** The registration value, exactly as upstream writes it. */
export function nodeRecordJson(record: NodeRecord): string {
  return JSON.stringify({ name: record.name, ipv4: record.ipv4, services: [...record.services] });
}

/** Parses a registration value; undefined when it is not one. */
export function parseNodeRecord(value: string): NodeRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { name, ipv4, services } = data as Record<string, unknown>;
  if (typeof name !== 'string' || typeof ipv4 !== 'string') return undefined;
  if (!Array.isArray(services) || !services.every((s): s is string => typeof s === 'string')) return undefined;
  return { name, ipv4, services };
}

export interface RegisterResult {
  readonly key: string;
  readonly value: string;
  /** `unchanged` when the node was already registered with exactly this record. */
  readonly outcome: PutOutcome;
  readonly previous?: string;
}

/** Writes `/cluster/nodes/<node>` in one compare-and-put transaction. */
export async function registerNode(controlPlane: ControlPlane, record: NodeRecord): Promise<RegisterResult> {
  const checked = nodeRecord(record.name, record.ipv4, record.services);
  const key = nodeKey(checked.name);
  const value = nodeRecordJson(checked);
  const result = await controlPlane.putIfChanged(key, value);
  return { key, value, ...result };
}

export interface UnregisterInput {
  readonly name: string;
  /** The node's public IPv4 as the provider lists it (if the server still exists). */
  readonly ipv4?: string;
}

export interface UnregisterResult {
  readonly key: string;
  /** False when the node was not registered (nothing to delete). */
  readonly nodeKeyDeleted: boolean;
  /** The public addresses whose leases were looked for (from the input and the registration). */
  readonly publicIps: readonly string[];
  /** Lease keys that were deleted. */
  readonly leasesDeleted: readonly string[];
  /** `/cluster/<group>/<app>/instances/<node>` keys that were deleted. */
  readonly instancesDeleted: readonly string[];
}

/**
 * Removes a node from the cluster: every flannel lease whose PublicIP is the node's (taken from
 * the input and from its registration), its app instances in every service group, then
 * `/cluster/nodes/<node>`. Leases go first, so a run
 * that fails half way can be repeated and still finds the node's address in its registration.
 * Idempotent: unregistering an unknown node deletes nothing and succeeds.
 *
 * flanneld renews its lease while it runs; the caller stops flannel on the node first (when the
 * node is still reachable), as upstream did.
 */
export async function unregisterNode(controlPlane: ControlPlane, input: UnregisterInput): Promise<UnregisterResult> {
  if (!isHostnameLabel(input.name)) throw new UserError(`node name ${JSON.stringify(input.name)} is not a hostname label (letters, digits, "-")`);
  if (input.ipv4 !== undefined && !isIpv4(input.ipv4)) throw new UserError(`node ${input.name}: ${JSON.stringify(input.ipv4)} is not an IPv4 address`);
  const key = nodeKey(input.name);
  const publicIps = new Set<string>();
  if (input.ipv4 !== undefined) publicIps.add(input.ipv4);
  const registered = await controlPlane.get(key);
  const record = registered === undefined ? undefined : parseNodeRecord(registered);
  if (record !== undefined && isIpv4(record.ipv4)) publicIps.add(record.ipv4);
  const leasesDeleted: string[] = [];
  if (publicIps.size > 0) {
    const { leases } = await readLeases(controlPlane);
    for (const lease of leases) {
      if (!publicIps.has(lease.publicIp)) continue;
      if ((await controlPlane.delete(lease.key)) > 0) leasesDeleted.push(lease.key);
    }
  }
  const instancesDeleted: string[] = [];
  for (const key of await instanceKeysOf(controlPlane, input.name)) {
    if ((await controlPlane.delete(key)) > 0) instancesDeleted.push(key);
  }
  const nodeKeyDeleted = (await controlPlane.delete(key)) > 0;
  return { key, nodeKeyDeleted, publicIps: [...publicIps], leasesDeleted, instancesDeleted };
}

/** The node's `/cluster/<group>/<app>/instances/<node>` keys (exact node name, any app). */
async function instanceKeysOf(controlPlane: ControlPlane, node: string): Promise<string[]> {
  const keys: string[] = [];
  for (const group of SERVICE_GROUPS) {
    const prefix = groupPrefix(group);
    for (const key of (await controlPlane.getPrefix(prefix)).keys()) {
      const parts = key.slice(prefix.length).split('/');
      if (parts.length === 3 && parts[1] === 'instances' && parts[2] === node) keys.push(key);
    }
  }
  return keys;
}
