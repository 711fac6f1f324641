import { DestroyCommand } from '../../cli/node-commands/destroy.js';

export default class ClusterDestroy extends DestroyCommand {
  static override role = 'cluster' as const;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node004 node005"',
    '<%= config.bin %> <%= command.id %> --target node004 --batch   # no confirmation (CI)',
  ];
}
