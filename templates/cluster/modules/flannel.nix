# The overlay network of a cluster node: flannel with its WireGuard backend, leases kept in etcd.
# Each node gets a /24 of the overlay; its overlay IP is that subnet's .0 address, which the CLI
# reads from the lease (/coreos.com/network/subnets/<subnet>, value {"PublicIP": ...}).
#
# Used by node types as `(import ./modules/flannel.nix { inherit members; })`, with `members`
# from ./modules/etcd-members.nix. Control nodes are not on the overlay.
#
# The network config (/coreos.com/network/config) is written once by `nix-infra cluster
# init-ctrl` (--overlay-network, default 10.0.0.0/8 with subnets 10.10.0.0-10.99.0.0), so the
# NixOS unit's own pre-start, which would rewrite it with the etcd v2 API at every start, is
# switched off. The values below only document what flannel will find there.
{ members }:
{ config, lib, ... }:
let
  hostName = config.networking.hostName;
  certDir = "/root/certs";
in
{
  services.flannel = {
    enable = true;
    storageBackend = "etcd";
    etcd = {
      endpoints = map (m: "https://${m.ip}:2379") members;
      # Strings, not paths: the key must never be copied into the world-readable Nix store.
      caFile = "${certDir}/ca-chain.cert.pem";
      certFile = "${certDir}/${hostName}-client-tls.cert.pem";
      keyFile = "${certDir}/${hostName}-client-tls.key.pem";
    };
    network = "10.0.0.0/8";
    subnetLen = 24;
    subnetMin = "10.10.0.0";
    subnetMax = "10.99.0.0";
    backend = {
      Type = "wireguard";
      PersistentKeepaliveInterval = 60;
    };
  };

  systemd.services.flannel.preStart = lib.mkForce "";

  # WireGuard between nodes: flannel's default UDP port, and the overlay interface trusted.
  networking.firewall.allowedUDPPorts = [ 51820 ];
  networking.firewall.trustedInterfaces = [ "flannel-wg" ];
}
