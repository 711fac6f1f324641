import { EtcdViewCommand } from '../../cli/etcd-commands/view.js';

export default class EtcdNodes extends EtcdViewCommand {
  static override view = 'nodes' as const;
  static override summary = 'The registered nodes (/cluster/nodes/): name, public address, the service groups each consumes.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
