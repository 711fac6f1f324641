import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

/** Also `nix-infra etcd services` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdServices extends EtcdViewCommand {
  static override aliases = ['etcd:services'];
  static override view = 'services' as const;
  static override summary = 'The apps of the services group (/cluster/services/): published port and instances.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
