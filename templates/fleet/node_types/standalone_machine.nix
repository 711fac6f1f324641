# Node type of a standalone (fleet) machine: no etcd, no overlay network, no shared service
# mesh. `nix-infra fleet init-machine --node-module=node_types/standalone_machine.nix` uploads
# it as /etc/nixos/cluster_node.nix (the CLI uses that name in both modes), which
# configuration.nix imports.
#
# Fleet mode uploads this file verbatim: placeholders are NOT filled in here. Per-machine
# settings (apps, extra open ports, addresses of other machines) belong in nodes/<machine>.nix,
# where the node placeholders are available.
{ pkgs, ... }:

{
  # Tools for looking around on a machine over `nix-infra fleet ssh` / `fleet cmd`.
  environment.systemPackages = with pkgs; [
    curl
    htop
    jq
    wget
  ];

  # Keep the store from filling the disk: every deploy builds a new system generation.
  nix.gc = {
    automatic = true;
    dates = "weekly";
    options = "--delete-older-than 30d";
  };
  nix.settings.auto-optimise-store = true;
}
