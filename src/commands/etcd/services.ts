import { EtcdViewCommand } from '../../cli/etcd-commands/view.js';

export default class EtcdServices extends EtcdViewCommand {
  static override view = 'services' as const;
  static override summary = 'The apps of the services group (/cluster/services/): published port and instances.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
