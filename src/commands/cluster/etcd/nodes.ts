import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

/** Also `nix-infra etcd nodes` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdNodes extends EtcdViewCommand {
  static override aliases = ['etcd:nodes'];
  static override view = 'nodes' as const;
  static override summary = 'The registered nodes (/cluster/nodes/): name, public address, the service groups each consumes.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
