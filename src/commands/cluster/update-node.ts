import { ClusterNodeCommand } from '../../cli/cluster-node-command.js';

export default class ClusterUpdateNode extends ClusterNodeCommand {
  static override initialise = false;
  static override summary = "Upload the nodes' system files again (node type, modules); rebuild with --rebuild.";
  static override description = `The system files of init-node again (configuration.nix, flake.nix, the node type, modules/),
without certificates, apps or registration, as upstream. With --rebuild, the nodes are rebuilt
and confd restarted. Apps and secrets: deploy.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 --rebuild'];
}
