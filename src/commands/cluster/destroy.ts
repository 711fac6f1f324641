import { DestroyCommand } from '../../cli/node-commands/destroy.js';
import { ctrlNodesOption } from '../../cli/control-plane-session.js';

export default class ClusterDestroy extends DestroyCommand {
  static override role = 'cluster' as const;
  static override description = `${DestroyCommand.description}
Cluster nodes leave the cluster first: flannel is stopped where the node is reachable, and its
/cluster/nodes/<node> registration, flannel leases and app instances are deleted in etcd (through
the control nodes of --ctrl-nodes, CTRL_NODES or those init-ctrl remembered), also for a
servers.yaml project.`;
  static override flags = {
    ...DestroyCommand.flags,
    'ctrl-nodes': ctrlNodesOption('Control nodes (default: CTRL_NODES, else those init-ctrl remembered).'),
  };
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node004 node005" --ctrl-nodes "etcd001 etcd002"',
    '<%= config.bin %> <%= command.id %> --target node004 --batch   # no confirmation (CI)',
  ];
}
