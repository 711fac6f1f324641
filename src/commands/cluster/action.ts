import { ActionCommand } from '../../cli/node-commands/action.js';
import { ctrlNodesOption } from '../../cli/control-plane-session.js';

export default class ClusterAction extends ActionCommand {
  static override overlay = true;
  static override description = `${ActionCommand.description}

In a cluster, values may also use [%%<node>.overlayIp%%] and [%%localhost.overlayIp%%]: the
node's overlay address, read from flannel's leases in etcd through the control nodes
(--ctrl-nodes, CTRL_NODES or those init-ctrl remembered) only when a value asks for it.`;
  static override flags = {
    ...ActionCommand.flags,
    'ctrl-nodes': ctrlNodesOption('Control nodes, for overlay IPs (default: CTRL_NODES, else those init-ctrl remembered).'),
  };
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target node001 --app-module mariadb --cmd "status"',
    '<%= config.bin %> <%= command.id %> --target node001 --app-module mariadb --cmd "create-admin app" --env-vars "PEER=[%%node002.overlayIp%%]" --save-as-secret mariadb.admin',
  ];
}
