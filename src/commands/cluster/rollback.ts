import { RollbackCommand } from '../../cli/node-commands/maintenance.js';

export default class ClusterRollback extends RollbackCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node001 node002"',
    '<%= config.bin %> <%= command.id %> --target node001 --batch   # no confirmation (CI)',
  ];
}
