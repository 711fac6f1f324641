import { etcdClusterText } from '../core/cluster/etcd-members.js';
import { lookupOverlayAddresses } from '../core/control-plane/overlay.js';
import type { NodeAddresses } from '../core/deploy/placeholders.js';
import { resolveTargets } from '../core/targets.js';
import type { ServerInfo } from '../ports/provider.js';
import type { ProjectSession } from './base-command.js';
import type { ControlPlane } from '../ports/control-plane.js';

/**
 * What a cluster deploy renders with: every server's public IPv4 and, from flannel's leases in
 * etcd, its overlay IP (vanished leases skipped with a warning), and the control nodes as the
 * etcdCluster text.
 */
export async function clusterNodeMap(
  session: ProjectSession,
  servers: readonly ServerInfo[],
  cp: ControlPlane,
  options: { ctrlNodes: readonly string[]; sshKeyName: string | undefined },
): Promise<{ nodes: Map<string, NodeAddresses>; etcdCluster: string }> {
  const nodes = new Map<string, NodeAddresses>(servers.map((s) => [s.name, { ipv4: s.address }]));
  const defaultKey = options.sshKeyName === undefined ? undefined : session.workspace.resolve(`ssh/${options.sshKeyName}`);
  const etcdCluster = etcdClusterText(resolveTargets(servers, options.ctrlNodes, defaultKey).map((t) => ({ name: t.name, address: t.address })));
  const lookup = await lookupOverlayAddresses(cp, servers.flatMap((s) => (s.address === undefined ? [] : [{ name: s.name, ipv4: s.address }])));
  for (const skipped of lookup.skipped) session.reporter.emit({ kind: 'warning', message: `flannel lease ${skipped.key} skipped: ${skipped.reason}` });
  for (const [node, address] of lookup.addresses) nodes.set(node, { ...nodes.get(node), overlayIp: address.overlayIp });
  return { nodes, etcdCluster };
}
