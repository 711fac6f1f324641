# confd on a cluster node: watches etcd (v3 API, mutual TLS with the node's client certificate)
# and renders the resources other modules declare under services.confd-mesh.resources, e.g. the
# mesh HAProxy configuration (./haproxy-mesh.nix).
#
# Used as `(import ./modules/confd.nix { inherit members; })`, with `members` from
# ./modules/etcd-members.nix.
{ members }:
{ config, lib, pkgs, ... }:
let
  hostName = config.networking.hostName;
  certDir = "/root/certs";
  cfg = config.services.confd-mesh;
  quote = s: "\"${lib.escape [ "\"" "\\" ] s}\"";
  list = xs: "[ ${lib.concatMapStringsSep ", " quote xs} ]";
  resourceFile = name: r: pkgs.writeText "confd-${name}.toml" ''
    [template]
    src = ${quote "${name}.tmpl"}
    dest = ${quote r.dest}
    mode = ${quote r.mode}
    keys = ${list r.keys}
    check_cmd = ${quote r.checkCmd}
    reload_cmd = ${quote r.reloadCmd}
  '';
in
{
  options.services.confd-mesh.resources = lib.mkOption {
    description = "confd template resources: name -> { template; dest; mode; keys; checkCmd; reloadCmd; }";
    default = { };
    type = lib.types.attrsOf (lib.types.submodule {
      options = {
        template = lib.mkOption { type = lib.types.lines; };
        dest = lib.mkOption { type = lib.types.str; };
        mode = lib.mkOption { type = lib.types.str; default = "0644"; };
        keys = lib.mkOption { type = lib.types.listOf lib.types.str; };
        checkCmd = lib.mkOption { type = lib.types.str; default = ""; };
        reloadCmd = lib.mkOption { type = lib.types.str; default = ""; };
      };
    });
  };

  config = {
    environment.etc = {
      "confd/confd.toml".text = ''
        backend = "etcdv3"
        confdir = "/etc/confd"
        nodes = ${list (map (m: "https://${m.ip}:2379") members)}
        scheme = "https"
        client_cakeys = ${quote "${certDir}/ca-chain.cert.pem"}
        client_cert = ${quote "${certDir}/${hostName}-client-tls.cert.pem"}
        client_key = ${quote "${certDir}/${hostName}-client-tls.key.pem"}
        watch = true
        interval = 10
        log-level = "info"
      '';
    }
    // lib.mapAttrs' (name: r: lib.nameValuePair "confd/conf.d/${name}.toml" { source = resourceFile name r; }) cfg.resources
    // lib.mapAttrs' (name: r: lib.nameValuePair "confd/templates/${name}.tmpl" { text = r.template; }) cfg.resources;

    systemd.services.confd = {
      description = "confd: renders configuration from etcd";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      # The templates look the node up under its own name.
      environment.HOSTNAME = hostName;
      serviceConfig = {
        ExecStart = "${pkgs.confd}/bin/confd -config-file /etc/confd/confd.toml";
        Restart = "always";
        RestartSec = 5;
      };
    };
  };
}
