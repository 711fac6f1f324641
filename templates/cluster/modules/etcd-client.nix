# What every non-control node of the cluster needs to reach the etcd control plane: etcdctl, and
# environment variables that point a bare `etcdctl` (run as root) at the control nodes with this
# node's client certificate, which the CLI deploys to /root/certs (only root can read the key).
# The CLI registers the node in etcd (/cluster/nodes/<host>) by running etcdctl here.
#
# Used by node types as `(import ./modules/etcd-client.nix { inherit members; file = "..."; })`,
# with `members` from ./modules/etcd-members.nix.
{ members, file }:
{ config, lib, pkgs, ... }:
let
  hostName = config.networking.hostName;
  certDir = "/root/certs";
in
{
  assertions = [
    {
      assertion = members != [ ];
      message = "${file}: no etcd members; the etcdCluster placeholder must be filled in by `nix-infra cluster init-node --ctrl-nodes=...`";
    }
  ];

  environment.systemPackages = [ pkgs.etcd ];

  environment.variables = {
    ETCDCTL_ENDPOINTS = lib.concatMapStringsSep "," (m: "https://${m.ip}:2379") members;
    ETCDCTL_CACERT = "${certDir}/ca-chain.cert.pem";
    ETCDCTL_CERT = "${certDir}/${hostName}-client-tls.cert.pem";
    ETCDCTL_KEY = "${certDir}/${hostName}-client-tls.key.pem";
  };
}
