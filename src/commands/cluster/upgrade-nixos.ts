import { UpgradeNixosCommand } from '../../cli/node-commands/maintenance.js';

export default class ClusterUpgradeNixos extends UpgradeNixosCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node001 node002" --nixos-version 25.11',
    '<%= config.bin %> <%= command.id %> --target node001 --nixos-version 25.11 --batch   # no confirmation (CI)',
  ];
}
