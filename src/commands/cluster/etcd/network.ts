import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

/** Also `nix-infra etcd network` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdNetwork extends EtcdViewCommand {
  static override aliases = ['etcd:network'];
  static override view = 'network' as const;
  static override summary = "The overlay network: flannel's config and the subnet lease of every node (/coreos.com/network/).";
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
