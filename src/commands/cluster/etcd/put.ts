import { EtcdPutCommand } from '../../../cli/etcd-commands/kv.js';

/** Also `nix-infra etcd put` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdPut extends EtcdPutCommand {
  static override aliases = ['etcd:put'];
}
