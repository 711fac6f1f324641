import { SshCommand } from '../../cli/node-commands/ssh.js';

export default class ClusterSsh extends SshCommand {
  static override examples = ['<%= config.bin %> <%= command.id %> --target node001'];
}
