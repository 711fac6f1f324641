# Node type of a cluster worker (and service) node. `nix-infra cluster init-node` / `update-node`
# upload the file given with --node-module (this one by default) as /etc/nixos/cluster_node.nix,
# after filling in the etcdCluster placeholder with the control nodes from --ctrl-nodes.
#
# For now this only gives the node access to the etcd control plane. The overlay network
# (flannel over WireGuard), confd and the local HAProxy service mesh, and podman arrive as
# modules in modules/ with the control-plane work; they will take `members` below as their
# list of etcd endpoints and be enabled here.
{ ... }:

let
  # The placeholder sits in an indented string; modules/etcd-members.nix explains why.
  members = import ./modules/etcd-members.nix ''[%%etcdCluster%%]'';
in
{
  imports = [ (import ./modules/etcd-client.nix { inherit members; file = "cluster_node.nix"; }) ];
}
