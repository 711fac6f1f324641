# Node type of an ingress node: the public entry point that terminates HTTP(S) and forwards to
# the apps inside the cluster. Pass it with `nix-infra cluster init-node
# --node-module=node_types/ingress_node.nix`; the CLI uploads it as /etc/nixos/cluster_node.nix
# after filling in the etcdCluster placeholder with the control nodes from --ctrl-nodes.
#
# Like cluster_node.nix it only gives the node access to the etcd control plane for now; the
# overlay network, confd and HAProxy modules arrive with the control-plane work (an ingress node
# gets those, but no podman: it runs no app containers). The web server itself (e.g. nginx with
# ACME) is configured per node in nodes/<node>.nix.
{ config, lib, pkgs, ... }:

let
  # The etcdCluster placeholder sits inside an indented string because the CLI substitutes raw
  # text: the bare placeholder is not valid Nix, and the substituted value (attrsets such as
  # { name = "etcd001"; ip = "203.0.113.10"; } separated by spaces) contains double quotes, so
  # a "double-quoted" string would break. See control_node.nix for the full reasoning. The text
  # is read back into a list of { name; ip; } with a regular expression.
  parseEtcdCluster = text:
    let
      entries = builtins.filter builtins.isList (builtins.split "[{]([^}]*)[}]" text);
      field = key: body:
        let found = builtins.match "(.*[^[:alnum:]_-])?${key}[[:space:]]*=[[:space:]]*\"([^\"]*)\".*" body;
        in if found == null
          then throw "cluster_node.nix (ingress_node.nix): etcd member `{${body}}` has no ${key} attribute"
          else builtins.elemAt found 1;
    in
    map (e: { name = field "name" (builtins.head e); ip = field "ip" (builtins.head e); }) entries;

  etcdCluster = parseEtcdCluster ''[%%etcdCluster%%]'';

  hostName = config.networking.hostName;
  certDir = "/root/certs";
in
{
  assertions = [
    {
      assertion = etcdCluster != [ ];
      message = "cluster_node.nix (ingress_node.nix): no etcd members; the etcdCluster placeholder must be filled in by `nix-infra cluster init-node --ctrl-nodes=...`";
    }
  ];

  # etcdctl: the CLI registers this node in etcd (/cluster/nodes/<host>) by running it here.
  environment.systemPackages = [ pkgs.etcd ];

  # Lets root run a bare `etcdctl` against the control plane with this node's client certificate
  # (deployed by the CLI to /root/certs; only root can read the key).
  environment.variables = {
    ETCDCTL_ENDPOINTS = lib.concatMapStringsSep "," (m: "https://${m.ip}:2379") etcdCluster;
    ETCDCTL_CACERT = "${certDir}/ca-chain.cert.pem";
    ETCDCTL_CERT = "${certDir}/${hostName}-client-tls.cert.pem";
    ETCDCTL_KEY = "${certDir}/${hostName}-client-tls.key.pem";
  };

  # An ingress node serves the web: HTTP (also for ACME challenges) and HTTPS.
  networking.firewall.allowedTCPPorts = [ 80 443 ];
}
