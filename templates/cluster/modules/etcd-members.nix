# Reads the control nodes back from the text the CLI put in place of the etcdCluster placeholder:
# Nix attrsets separated by spaces, e.g.
#   { name = "etcd001"; ip = "203.0.113.10"; } { name = "etcd002"; ip = "203.0.113.11"; }
# into a list of { name; ip; }.
#
# Why a text at all: the CLI substitutes raw text, and the bare placeholder (square brackets and
# percent signs) is not valid Nix anywhere, not even inside a list. A "double-quoted" string would
# break after substitution, because the value contains double quotes. So node types write it in an
# indented string ('' ... ''), whose only special sequences are two single quotes and
# dollar-brace, neither possible in node names or IPv4 addresses, and pass it here. Pure
# evaluation: nothing is written to the store.
#
# Node types import this as ./modules/etcd-members.nix: on a node they live in /etc/nixos, and
# the CLI uploads the project's modules/ files to /etc/nixos/modules.
text:
let
  entries = builtins.filter builtins.isList (builtins.split "[{]([^}]*)[}]" text);
  field = key: body:
    let found = builtins.match "(.*[^[:alnum:]_-])?${key}[[:space:]]*=[[:space:]]*\"([^\"]*)\".*" body;
    in if found == null
      then throw "etcdCluster: etcd member `{${body}}` has no ${key} attribute"
      else builtins.elemAt found 1;
in
map (e: { name = field "name" (builtins.head e); ip = field "ip" (builtins.head e); }) entries
