# Infrastructure modules of this project (the CLI uploads the top-level files of modules/ to
# /etc/nixos/modules/ on every node; subfolders are NOT uploaded, so keep this folder flat).
#
# Add a module by placing e.g. modules/my-module.nix next to this file and listing it below.
# A module here should only declare options and do nothing until a node type or a node file
# enables it, because every node imports this list.
{ ... }:
{
  imports = [
    # ./my-module.nix
  ];
}
