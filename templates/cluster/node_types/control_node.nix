# Node type of the etcd control plane. `nix-infra cluster init-ctrl` / `update-ctrl` upload it
# as /etc/nixos/control_node.nix after filling in two placeholders:
#
#   etcdClusterToken  the --cluster-uuid value; must stay the same for the life of the cluster
#   etcdCluster       the control nodes as Nix attrsets separated by spaces, for example
#                     { name = "etcd001"; ip = "203.0.113.10"; } { name = "etcd002"; ip = "203.0.113.11"; }
#
# etcdCluster sits inside an indented string ('' ... ''), read back into a list of { name; ip; }
# by modules/etcd-members.nix, which explains why (the CLI uploads modules/ next to this file).
#
# Certificates: the CLI deploys them to /root/certs (directory 0700, files 0400):
#   ca-chain.cert.pem, <host>-client-tls.{cert,key}.pem, <host>-peer-tls.{cert,key}.pem
# They are referred to by STRING paths only, so they never enter the world-readable Nix store.
# etcd runs as the unprivileged `etcd` user and cannot read /root/certs, so systemd hands it
# private copies through LoadCredential (in /run/credentials/etcd.service, a tmpfs that only
# the service can read).
{ config, lib, ... }:

let
  members = import ./modules/etcd-members.nix ''[%%etcdCluster%%]'';

  hostName = config.networking.hostName;

  # This member's public address: its own entry in the list, else the first static IPv4
  # address on eth0 (networking.nix from the NixOS conversion).
  ownEntry = lib.findFirst (m: m.name == hostName) null members;
  eth0 = config.networking.interfaces.eth0.ipv4.addresses or [ ];
  ownIp =
    if members == [ ] then
      throw "control_node.nix: no etcd members; the etcdCluster placeholder must be filled in by `nix-infra cluster init-ctrl`"
    else if ownEntry != null then ownEntry.ip
    else if eth0 != [ ] then (builtins.head eth0).address
    else throw "control_node.nix: ${hostName} is not in the etcd member list and eth0 has no static IPv4 address";

  certDir = "/root/certs";
  credDir = "/run/credentials/etcd.service";
in
{
  services.etcd = {
    enable = true;
    name = hostName;

    initialClusterToken = "[%%etcdClusterToken%%]";
    initialCluster = map (m: "${m.name}=https://${m.ip}:2380") members;
    # "new" bootstraps the members listed together. A member added to a running cluster has to
    # be registered with `etcdctl member add` first and started with "existing".
    initialClusterState = "new";

    # Clients (the CLI over SSH, cluster nodes, later flannel and confd) connect to the public
    # address; 127.0.0.1 is covered by 0.0.0.0 and is in every certificate's SAN.
    listenClientUrls = [ "https://0.0.0.0:2379" ];
    advertiseClientUrls = [ "https://${ownIp}:2379" ];
    listenPeerUrls = [ "https://0.0.0.0:2380" ];
    initialAdvertisePeerUrls = [ "https://${ownIp}:2380" ];

    # Client traffic: TLS with this node's client-tls pair, client certificates required.
    clientCertAuth = true;
    trustedCaFile = "${credDir}/ca-chain.cert.pem";
    certFile = "${credDir}/client-tls.cert.pem";
    keyFile = "${credDir}/client-tls.key.pem";

    # Peer traffic: TLS with the peer-tls pair, peers must present a certificate of our CA.
    peerClientCertAuth = true;
    peerTrustedCaFile = "${credDir}/ca-chain.cert.pem";
    peerCertFile = "${credDir}/peer-tls.cert.pem";
    peerKeyFile = "${credDir}/peer-tls.key.pem";
  };

  systemd.services.etcd.serviceConfig.LoadCredential = [
    "ca-chain.cert.pem:${certDir}/ca-chain.cert.pem"
    "client-tls.cert.pem:${certDir}/${hostName}-client-tls.cert.pem"
    "client-tls.key.pem:${certDir}/${hostName}-client-tls.key.pem"
    "peer-tls.cert.pem:${certDir}/${hostName}-peer-tls.cert.pem"
    "peer-tls.key.pem:${certDir}/${hostName}-peer-tls.key.pem"
  ];

  # 2379 (clients) and 2380 (peers) are open on the public interface: cluster nodes and the
  # other control nodes reach etcd by public IP. Both ports require a client certificate signed
  # by the project CA, so an open port grants nothing without one. (Set explicitly rather than
  # through services.etcd.openFirewall, which older NixOS releases do not have.)
  networking.firewall.allowedTCPPorts = [ 2379 2380 ];

  # The etcd module also installs etcdctl, which the CLI's `etcd` commands run as root with the
  # certificates in /root/certs.
}
