import { CmdCommand } from '../../cli/node-commands/cmd.js';

export default class FleetCmd extends CmdCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node001 node002" "systemctl is-active nginx"',
    '<%= config.bin %> <%= command.id %> --target node001,node002 --json -- uname -a',
  ];
}
