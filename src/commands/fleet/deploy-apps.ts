import { DeployCommand } from '../../cli/node-commands/deploy.js';

export default class FleetDeployApps extends DeployCommand {
  static override mode = 'fleet' as const;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "web1 web2" --nixos-version 25.05',
    '<%= config.bin %> <%= command.id %> --target web1 --nixos-version 25.05 --no-rebuild --json',
    '<%= config.bin %> <%= command.id %> --target "web1 web2" --goal dry-activate',
  ];
}
