# Node type of an ingress node: the public entry point that terminates HTTP(S) and forwards to
# the apps inside the cluster. Pass it with `nix-infra cluster init-node
# --node-module=node_types/ingress_node.nix`; the CLI uploads it as /etc/nixos/cluster_node.nix
# after filling in the etcdCluster placeholder with the control nodes from --ctrl-nodes.
#
# Like a worker it is on the overlay network and runs confd and the mesh HAProxy (so the web
# server reaches apps at 127.0.0.1:<port>), but no podman: it runs no app containers. The web
# server itself (e.g. nginx with ACME) is configured per node in nodes/<node>.nix.
{ ... }:

let
  # The placeholder sits in an indented string; modules/etcd-members.nix explains why.
  members = import ./modules/etcd-members.nix ''[%%etcdCluster%%]'';
in
{
  imports = [
    (import ./modules/etcd-client.nix { inherit members; file = "ingress_node.nix"; })
    (import ./modules/flannel.nix { inherit members; })
    (import ./modules/haproxy-mesh.nix { inherit members; })
  ];

  # An ingress node serves the web: HTTP (also for ACME challenges) and HTTPS.
  networking.firewall.allowedTCPPorts = [ 80 443 ];
}
