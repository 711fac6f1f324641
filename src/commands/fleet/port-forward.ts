import { PortForwardCommand } from '../../cli/node-commands/port-forward.js';

export default class FleetPortForward extends PortForwardCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target node001 --local-port 8080 --remote-port 80',
    '<%= config.bin %> <%= command.id %> --target node001 --local-port 5433 --remote-port 5432 --remote-host 10.0.0.5',
  ];
}
