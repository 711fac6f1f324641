# Entry point of the node's system. The CLI uploads it to /etc/nixos/flake.nix after filling in
# nixVersion, nodeName and hwArch; `nixos-rebuild` then builds nixosConfigurations.<hostname>.
# The lock file is created on the node by its first build and the CLI never replaces it.
{
  description = "nix-infra node [%%nodeName%%]";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-[%%nixVersion%%]";

  outputs = { self, nixpkgs, ... }@inputs: {
    nixosConfigurations."[%%nodeName%%]" = nixpkgs.lib.nixosSystem {
      system = "[%%hwArch%%]";
      # Lets modules take `inputs` as an argument, should a project add more flake inputs.
      specialArgs = { inherit inputs; };
      modules = [ ./configuration.nix ];
    };
  };
}
