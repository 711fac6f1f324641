import { ClusterNodeCommand } from '../../cli/cluster-node-command.js';

export default class ClusterUpdateNode extends ClusterNodeCommand {
  static override initialise = false;
  static override summary = "Upload the nodes' system files again (node type, modules); rebuild with --goal (or --rebuild).";
  static override description = `The system files of init-node again (configuration.nix, flake.nix, the node type, modules/),
without certificates, apps or registration, as upstream. With --goal (--rebuild: switch), the nodes are
rebuilt with nixos-rebuild <goal>, and confd restarted when the goal activated (switch, test). Apps and secrets: deploy.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 --rebuild'];
}
