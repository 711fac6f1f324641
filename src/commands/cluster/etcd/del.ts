import { EtcdDelCommand } from '../../../cli/etcd-commands/kv.js';

/** Also `nix-infra etcd del` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdDel extends EtcdDelCommand {
  static override aliases = ['etcd:del'];
}
