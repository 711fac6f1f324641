import { DestroyCommand } from '../../cli/node-commands/destroy.js';

export default class FleetDestroy extends DestroyCommand {
  static override role = 'fleet' as const;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node004 node005"',
    '<%= config.bin %> <%= command.id %> --target node004 --batch   # no confirmation (CI)',
  ];
}
