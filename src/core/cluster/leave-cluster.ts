import type { ControlPlane } from '../../ports/control-plane.js';
import type { Reporter } from '../../ports/reporter.js';
import type { HostConnector, HostTarget } from '../../ports/remote-host.js';
import { unregisterNode, type UnregisterResult } from '../control-plane/membership.js';

/**
 * Takes nodes out of the cluster before their servers go: flannel is stopped on every node that
 * can still be reached (a running flanneld renews its lease), then each node's registration, its
 * flannel leases and its app instances are deleted in etcd. A node that cannot be reached is
 * still unregistered.
 */
export async function leaveCluster(
  deps: { connector: HostConnector; reporter: Reporter },
  cp: ControlPlane,
  nodes: readonly { name: string; target?: HostTarget; ipv4?: string }[],
): Promise<UnregisterResult[]> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.target === undefined) return;
      try {
        const host = await deps.connector.connect(node.target);
        const stop = await host.exec({ argv: ['systemctl', 'stop', 'flannel'] });
        if (stop.exitCode !== 0) deps.reporter.emit({ kind: 'warning', host: node.name, message: `systemctl stop flannel failed (exit ${stop.exitCode ?? 'none'})` });
      } catch (err) {
        deps.reporter.emit({ kind: 'warning', host: node.name, message: `not reachable, flannel not stopped: ${(err as Error).message}` });
      }
    }),
  );
  const results: UnregisterResult[] = [];
  for (const node of nodes) {
    const result = await unregisterNode(cp, { name: node.name, ...(node.ipv4 === undefined ? {} : { ipv4: node.ipv4 }) });
    const deleted = [...(result.nodeKeyDeleted ? [result.key] : []), ...result.leasesDeleted, ...result.instancesDeleted];
    deps.reporter.emit({ kind: 'step', host: node.name, message: deleted.length > 0 ? `unregistered (${deleted.join(', ')})` : 'was not registered' });
    results.push(result);
  }
  return results;
}
