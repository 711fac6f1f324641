# Example node file: what `deploy-apps` uploads as /etc/nixos/<node>.nix for a node called
# example001. Copy it to nodes/<your node>.nix (e.g. nodes/worker001.nix); this file is only
# deployed to a node that really is called example001.
#
# Before the deploy: `nix-infra secrets store --name hello.token` (the deploy stops, with no node
# changed, if a referenced secret is not stored). The node must have joined the cluster
# (`cluster init-node`), so that flannel gave it the overlay IP below. Consumers reach the app at
# 127.0.0.1:18181 when their --service-group includes "services".
{ ... }:
{
  imports = [ ./app_modules/hello-mesh ];

  apps.hello-mesh = {
    enable = true;
    group = "services";
    # Rendered to this node's flannel address, e.g. 10.10.42.0.
    bindToIp = "[%%localhost.overlayIp%%]";
    # Rendered to the bare name "hello.token"; the CLI deploys that secret to this node.
    tokenSecret = "[%%secrets/hello.token%%]";
  };
}
