# Example app: a small HTTP service that takes a secret and joins the service mesh. Copy it as a
# starting point; it does nothing until a node file sets `apps.hello-mesh.enable = true` (see
# nodes/example001.nix and docs/deploy.md, "Putting an app into the mesh").
#
# Secret: the node file sets tokenSecret to the secrets/hello.token placeholder, which the CLI
# renders to the bare name `hello.token` and deploys to /root/secrets/hello.token (systemd-creds). The
# unit below loads it with LoadCredentialEncrypted; systemd decrypts it for this unit only, at
# $CREDENTIALS_DIRECTORY/hello.token. The plaintext never sits on the node's disk.
#
# Mesh: before the start the unit puts /cluster/<group>/hello-mesh/meta_data
# ({"publish":{"port":...}}); once it listens, /cluster/<group>/hello-mesh/instances/<host>
# ({"node","ipv4","port"}); on stop it deletes the instance first. Every node whose
# --service-group lists <group> then reaches the app at 127.0.0.1:<publishPort> through its local
# HAProxy (modules/haproxy-mesh.body.tmpl), balanced over every instance's overlay IP.
{ config, lib, pkgs, ... }:
let
  cfg = config.apps.hello-mesh;
  hostName = config.networking.hostName;
  prefix = "/cluster/${cfg.group}/hello-mesh";
  metaData = builtins.toJSON { publish = { port = cfg.publishPort; }; };
  instance = builtins.toJSON { node = hostName; ipv4 = cfg.bindToIp; port = cfg.port; };
  etcdctl = "${pkgs.etcd}/bin/etcdctl";
  # Answers every request that carries the token with a greeting naming this node.
  server = pkgs.writeText "hello-mesh.py" ''
    import http.server, os, pathlib
    token = pathlib.Path(os.environ["CREDENTIALS_DIRECTORY"], "${cfg.tokenSecret}").read_text().strip()
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == "Bearer " + token
            self.send_response(200 if ok else 401)
            self.end_headers()
            self.wfile.write(b"hello from ${hostName}\n" if ok else b"unauthorized\n")
    http.server.HTTPServer(("${cfg.bindToIp}", ${toString cfg.port}), Hello).serve_forever()
  '';
in
{
  options.apps.hello-mesh = {
    enable = lib.mkEnableOption "the hello-mesh example app";
    group = lib.mkOption {
      type = lib.types.enum [ "frontends" "backends" "services" ];
      default = "services";
      description = "Mesh group the app is published in; consumers list it in --service-group.";
    };
    bindToIp = lib.mkOption {
      type = lib.types.str;
      description = "This node's overlay IP (the node file passes the localhost.overlayIp placeholder).";
    };
    port = lib.mkOption { type = lib.types.port; default = 8181; description = "Port the instance listens on, on bindToIp."; };
    publishPort = lib.mkOption { type = lib.types.port; default = 18181; description = "Port consumers reach at 127.0.0.1."; };
    tokenSecret = lib.mkOption {
      type = lib.types.str;
      description = "Name of the secret holding the bearer token (the node file passes the secrets/<name> placeholder).";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.hello-mesh = {
      description = "hello-mesh example app";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" "flannel.service" ];
      wants = [ "network-online.target" ];
      # etcdctl finds the control nodes and this node's client certificate as in a root shell.
      environment = { inherit (config.environment.variables) ETCDCTL_ENDPOINTS ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY; };
      serviceConfig = {
        LoadCredentialEncrypted = "${cfg.tokenSecret}:/root/secrets/${cfg.tokenSecret}";
        # "+": the etcd steps run as root (the client key in /root/certs is root's); the app does not.
        ExecStartPre = "+${etcdctl} put ${prefix}/meta_data ${lib.escapeShellArg metaData}";
        ExecStart = "${pkgs.python3}/bin/python3 ${server}";
        # Registered once the port answers, so HAProxy never balances onto a starting instance.
        ExecStartPost = "+" + pkgs.writeShellScript "hello-mesh-register" ''
          for _ in $(seq 50); do ${pkgs.curl}/bin/curl -s -o /dev/null http://${cfg.bindToIp}:${toString cfg.port}/ && break; sleep 0.2; done
          ${etcdctl} put ${prefix}/instances/${hostName} ${lib.escapeShellArg instance}
        '';
        # ExecStop runs before the main process is stopped: consumers stop using it first.
        ExecStop = "+${etcdctl} del ${prefix}/instances/${hostName}";
        DynamicUser = true;
        Restart = "on-failure";
      };
    };
  };
}
