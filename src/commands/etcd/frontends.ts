import { EtcdViewCommand } from '../../cli/etcd-commands/view.js';

export default class EtcdFrontends extends EtcdViewCommand {
  static override view = 'frontends' as const;
  static override summary = 'The apps of the frontends group (/cluster/frontends/): published port and instances.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
