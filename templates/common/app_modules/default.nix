# Application modules of this project. The CLI uploads the whole app_modules/ tree (subfolders
# included) to /etc/nixos/app_modules/ on deploy-apps.
#
# Add an app as app_modules/<app>/default.nix (plus an optional app_modules/<app>/action.sh for
# `nix-infra ... action`) and list its folder below; a folder that is not listed is ignored.
# Apps should stay disabled until a node file (nodes/<node>.nix) enables them.
{ ... }:
{
  imports = [
    # ./my-app
  ];
}
