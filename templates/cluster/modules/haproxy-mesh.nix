# The local HAProxy of the service mesh, configured by confd from etcd (/cluster/...). Its own
# unit, `haproxy-mesh`, reads /var/lib/haproxy-mesh/haproxy.cfg, a file confd owns: a rebuild
# never replaces what confd rendered (the stock NixOS haproxy reads a store file from /etc, which
# every nixos-rebuild restores). Until confd has rendered, the head alone is a valid config.
#
# Used by node types as `(import ./modules/haproxy-mesh.nix { inherit members; })`; it enables
# confd (./confd.nix) with this template as a resource.
{ members }:
{ config, lib, pkgs, ... }:
let
  stateDir = "/var/lib/haproxy-mesh";
  cfgFile = "${stateDir}/haproxy.cfg";
  head = builtins.readFile ./haproxy-mesh.head.cfg;
  body = builtins.readFile ./haproxy-mesh.body.tmpl;
in
{
  imports = [ (import ./confd.nix { inherit members; }) ];

  users.users.haproxy = { isSystemUser = true; group = "haproxy"; };
  users.groups.haproxy = { };

  systemd.services.haproxy-mesh = {
    description = "HAProxy of the nix-infra service mesh";
    wantedBy = [ "multi-user.target" ];
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    preStart = ''
      install -d -m 0755 ${stateDir}
      [ -s ${cfgFile} ] || install -m 0644 ${pkgs.writeText "haproxy-mesh-head.cfg" head} ${cfgFile}
    '';
    serviceConfig = {
      # Master-worker mode: a reload (USR2) re-reads the file without dropping connections.
      ExecStart = "${pkgs.haproxy}/bin/haproxy -Ws -f ${cfgFile} -p /run/haproxy-mesh/haproxy.pid";
      ExecReload = "${pkgs.coreutils}/bin/kill -USR2 $MAINPID";
      RuntimeDirectory = "haproxy-mesh";
      Type = "notify";
      Restart = "always";
    };
  };

  services.confd-mesh.resources.haproxy = {
    template = head + body;
    dest = cfgFile;
    mode = "0644";
    keys = [ "/cluster" ];
    # Only a config HAProxy accepts replaces the running one.
    checkCmd = "${pkgs.haproxy}/bin/haproxy -c -f {{.src}}";
    reloadCmd = "${pkgs.systemd}/bin/systemctl reload haproxy-mesh";
  };
}
