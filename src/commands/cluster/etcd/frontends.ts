import { EtcdViewCommand } from '../../../cli/etcd-commands/view.js';

/** Also `nix-infra etcd frontends` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdFrontends extends EtcdViewCommand {
  static override aliases = ['etcd:frontends'];
  static override view = 'frontends' as const;
  static override summary = 'The apps of the frontends group (/cluster/frontends/): published port and instances.';
  static override examples = ['<%= config.bin %> <%= command.id %> --ctrl-nodes "etcd001 etcd002"', '<%= config.bin %> <%= command.id %> --json'];
}
