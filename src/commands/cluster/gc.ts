import { GcCommand } from '../../cli/node-commands/maintenance.js';

export default class ClusterGc extends GcCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node001 node002"',
    '<%= config.bin %> <%= command.id %> --target node001 --batch   # no confirmation (CI)',
  ];
}
