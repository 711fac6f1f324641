import { EtcdCtlCommand } from '../../../cli/etcd-commands/ctl.js';

/** Also `nix-infra etcd ctl` (upstream's top-level form): one class, so the two cannot drift apart. */
export default class ClusterEtcdCtl extends EtcdCtlCommand {
  static override aliases = ['etcd:ctl'];
}
