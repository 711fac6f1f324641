import { UserError } from '../../domain/errors.js';
import type { ControlPlane } from '../../ports/control-plane.js';
import { parseLeases, type FlannelLease } from './flannel.js';
import { FLANNEL_SUBNETS_PREFIX } from './layout.js';

/**
 * Overlay addresses from flannel leases (upstream-cli.md §10.3): the node whose public IP equals
 * a lease's `PublicIP` owns that lease's subnet, and its overlay IP is the subnet's first address
 * (`10.10.93.0-24` -> `10.10.93.0`).
 *
 * Unlike upstream, a lease whose PublicIP matches no current node (a destroyed node, until
 * flannel's 24 h TTL expires) is skipped and reported, not fatal; so is an unreadable lease. Two
 * leases naming the same public IP are ambiguous: neither is used and the node is reported
 * missing, rather than guessing which one flannel is using.
 */

export interface OverlayNode {
  readonly name: string;
  /** Public IPv4 as the provider lists it. */
  readonly ipv4: string;
}

export interface OverlayAddress {
  readonly node: string;
  readonly publicIp: string;
  readonly overlayIp: string;
  /** `10.10.93.0/24` */
  readonly subnet: string;
  readonly leaseKey: string;
}

export interface SkippedLease {
  readonly key: string;
  readonly reason: string;
}

export interface OverlayLookup {
  /** Node name -> its overlay address, for every node that has exactly one lease. */
  readonly addresses: ReadonlyMap<string, OverlayAddress>;
  /** Leases that were not used, and why. */
  readonly skipped: readonly SkippedLease[];
  /** Nodes without (a single) lease, in input order. */
  readonly missing: readonly string[];
}

/** Pure: matches leases (`/coreos.com/network/subnets/...` entries) to nodes by public IP. */
export function matchOverlayAddresses(nodes: readonly OverlayNode[], entries: ReadonlyMap<string, string>): OverlayLookup {
  const { leases, problems } = parseLeases(entries);
  const skipped: SkippedLease[] = problems.map((p) => ({ key: p.key, reason: p.reason }));
  const byIp = new Map<string, FlannelLease[]>();
  for (const lease of leases) byIp.set(lease.publicIp, [...(byIp.get(lease.publicIp) ?? []), lease]);
  const known = new Set(nodes.map((n) => n.ipv4));
  for (const lease of leases) {
    if (!known.has(lease.publicIp)) skipped.push({ key: lease.key, reason: `PublicIP ${lease.publicIp} belongs to no current node` });
  }
  const addresses = new Map<string, OverlayAddress>();
  const missing: string[] = [];
  const reportedAmbiguous = new Set<string>();
  for (const node of nodes) {
    const found = byIp.get(node.ipv4) ?? [];
    const lease = found[0];
    if (found.length === 1 && lease !== undefined) {
      addresses.set(node.name, { node: node.name, publicIp: node.ipv4, overlayIp: lease.overlayIp, subnet: lease.subnet, leaseKey: lease.key });
      continue;
    }
    missing.push(node.name);
    if (found.length > 1 && !reportedAmbiguous.has(node.ipv4)) {
      reportedAmbiguous.add(node.ipv4);
      for (const l of found) skipped.push({ key: l.key, reason: `${found.length} leases name PublicIP ${node.ipv4}; none is used` });
    }
  }
  return { addresses, skipped, missing };
}

/** Reads the leases and matches them to `nodes`. */
export async function lookupOverlayAddresses(controlPlane: ControlPlane, nodes: readonly OverlayNode[]): Promise<OverlayLookup> {
  return matchOverlayAddresses(nodes, await controlPlane.getPrefix(FLANNEL_SUBNETS_PREFIX));
}

/** The overlay address of one node, or a UserError that says what to check. */
export function requireOverlayAddress(lookup: OverlayLookup, node: string): OverlayAddress {
  const address = lookup.addresses.get(node);
  if (address !== undefined) return address;
  const ambiguous = lookup.skipped.filter((s) => s.reason.includes('leases name PublicIP'));
  throw new UserError(`node ${node} has no overlay address: no single flannel lease names its public IP`, {
    hints: [
      'flannel on the node must be running and registered with the control plane (cluster init-node)',
      ...ambiguous.map((s) => `ambiguous lease ${s.key}: ${s.reason}`),
    ],
  });
}
