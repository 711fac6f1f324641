import { ClusterNodeCommand } from '../../cli/cluster-node-command.js';

export default class ClusterUpdateNode extends ClusterNodeCommand {
  static override initialise = false;
  static override summary = "Upload the nodes' configuration again (node type, modules, node file); rebuild with --rebuild.";
  static override description = `The same files as init-node, without certificates or registration. With --rebuild, the nodes
are rebuilt and confd restarted.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 --rebuild'];
}
