import { DeployCommand } from '../../cli/node-commands/deploy.js';

export default class FleetUpdate extends DeployCommand {
  static override mode = 'fleet' as const;
  static override parts = 'system' as const;
  static override summary = "Upload the machines' system files (configuration.nix, flake.nix, node type, modules/) and rebuild.";
  static override description = `No node file, app modules or secrets (that is deploy-apps). Rebuilds unless --no-rebuild.
Every placeholder must resolve before any machine changes.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "web1 web2" --nixos-version 25.05', '<%= config.bin %> <%= command.id %> --target web1 --nixos-version 25.05 --no-rebuild'];
}
