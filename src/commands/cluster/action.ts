import { ActionCommand } from '../../cli/node-commands/action.js';

export default class ClusterAction extends ActionCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target node001 --app-module mariadb --cmd "status"',
    '<%= config.bin %> <%= command.id %> --target node001 --app-module mariadb --cmd "create-admin app" --env-vars "PEER=[%%node002.ipv4%%]" --save-as-secret mariadb.admin',
  ];
}
