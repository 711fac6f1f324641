import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

export default class ClusterEtcdNetwork extends EtcdViewCommand {
  static override view = 'network' as const;
  static override summary = "The overlay network: flannel's config and the subnet lease of every node (/coreos.com/network/).";
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
