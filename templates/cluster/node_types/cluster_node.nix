# Node type of a cluster worker (and service) node. `nix-infra cluster init-node` / `update-node`
# upload the file given with --node-module (this one by default) as /etc/nixos/cluster_node.nix,
# after filling in the etcdCluster placeholder with the control nodes from --ctrl-nodes.
#
# A worker joins the overlay network (flannel over WireGuard), runs confd and the local HAProxy
# of the service mesh (every group the node consumes is reachable at 127.0.0.1:<port>), and
# podman for app containers. The modules live in modules/, which the CLI uploads next to this file.
{ ... }:

let
  # The placeholder sits in an indented string; modules/etcd-members.nix explains why.
  members = import ./modules/etcd-members.nix ''[%%etcdCluster%%]'';
in
{
  imports = [
    (import ./modules/etcd-client.nix { inherit members; file = "cluster_node.nix"; })
    (import ./modules/flannel.nix { inherit members; })
    (import ./modules/haproxy-mesh.nix { inherit members; })
  ];

  virtualisation.podman.enable = true;
}
