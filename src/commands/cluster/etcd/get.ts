import { EtcdGetCommand } from '../../../cli/etcd-commands/kv.js';

/** Also `nix-infra etcd get` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdGet extends EtcdGetCommand {
  static override aliases = ['etcd:get'];
}
