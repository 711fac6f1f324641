import { PortForwardCommand } from '../../cli/node-commands/port-forward.js';
import { ctrlNodesOption } from '../../cli/control-plane-session.js';

export default class ClusterPortForward extends PortForwardCommand {
  static override overlay = true;
  static override description = `Listens on 127.0.0.1:<local-port> and carries every connection through the node's SSH
connection to <remote-port> on the node's overlay IP (read from flannel's lease in etcd through
the control nodes: --ctrl-nodes, CTRL_NODES or those init-ctrl remembered), where cluster services listen; --remote-host
overrides it. Ctrl-C stops it and exits 0; a lost connection exits 1.`;
  static override flags = {
    ...PortForwardCommand.flags,
    'ctrl-nodes': ctrlNodesOption('Control nodes, for the overlay IP (default: CTRL_NODES, else those init-ctrl remembered).'),
  };
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target worker001 --local-port 8080 --remote-port 8080',
    '<%= config.bin %> <%= command.id %> --target service001 --local-port 27017 --remote-port 27017 --ctrl-nodes "etcd001 etcd002"',
  ];
}
