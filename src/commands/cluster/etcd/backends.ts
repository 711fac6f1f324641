import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

/** Also `nix-infra etcd backends` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdBackends extends EtcdViewCommand {
  static override aliases = ['etcd:backends'];
  static override view = 'backends' as const;
  static override summary = 'The apps of the backends group (/cluster/backends/): published port and instances.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
