import { SshCommand } from '../../cli/node-commands/ssh.js';

export default class FleetSsh extends SshCommand {
  static override examples = ['<%= config.bin %> <%= command.id %> --target node001'];
}
