import { ClusterNodeCommand } from '../../cli/cluster-node-command.js';
import { strictFlag } from '../../cli/node-flags.js';

export default class ClusterInitNode extends ClusterNodeCommand {
  static override initialise = true;
  static override aliases = ['init-node'];
  static override summary = 'Join nodes to the cluster: certificates, configuration, rebuild, confd, registration in etcd.';
  static override description = `Issues each node's client certificate and uploads it to /root/certs (0700/0400), uploads
configuration.nix, flake.nix, the --node-module as cluster_node.nix (etcdCluster = the control
nodes) and modules/, deploys the apps as deploy does (nodes/<node>.nix, app_modules/, secrets as
systemd credentials), rebuilds, restarts confd, and registers /cluster/nodes/<node> =
{"name","ipv4","services"} in etcd (services = --service-group words) through SSH tunnels to the
control nodes. Only nodes that got this far are registered. A node or overlay IP that the node
file names but that does not exist yet (registry001 before it is created, the node's own overlay
IP before flannel leased it) is a warning and renders as a marker that fails when used; run
init-node or deploy-apps again later to resolve it, or pass --strict to make it an error.`;
  static override flags = { ...ClusterNodeCommand.flags, strict: strictFlag };
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes "etcd001 etcd002 etcd003" --service-group "backends services" --batch',
    '<%= config.bin %> init-node --target ingress001 --node-module node_types/ingress_node.nix --nixos-version 25.05 --service-group frontends',
  ];
}
