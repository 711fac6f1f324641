import { StatusCommand } from '../../cli/node-commands/status.js';

export default class FleetStatus extends StatusCommand {
  static override mode = 'fleet' as const;
  static override examples = ['<%= config.bin %> <%= command.id %> --target "web1 web2"', '<%= config.bin %> <%= command.id %> --target web1,web2 --json'];
}
