import { DeployCommand } from '../../cli/node-commands/deploy.js';

export default class FleetInitMachine extends DeployCommand {
  static override mode = 'fleet' as const;
  static override parts = 'all' as const;
  static override alwaysRebuild = true;
  static override summary = 'Set up standalone machines: system files, the node file, app modules and secrets, then rebuild.';
  static override description = `Everything deploy-apps does, plus configuration.nix, flake.nix, the node type (--node-module,
default node_types/standalone_machine.nix) as cluster_node.nix and modules/; always rebuilds.
${DeployCommand.description}`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "web1 web2" --nixos-version 25.05 --node-module node_types/standalone_machine.nix'];
}
