#!/usr/bin/env bash
# Converts this machine to NixOS. Uploaded by `nix-infra provision` to
# /root/nix-infra-provision/ together with configuration.nix, and run as root:
#   env NIX_CHANNEL=nixos-<version> NO_REBOOT=1 NIX_INFRA_INFECT_URL=<url> NIX_INFRA_MUTATION=0|1
#       [NIX_INFRA_INFECT_SHA256=<hex>] [doNetConf=y] [PROVIDER=<cloud>] bash install-nixos.sh
# NIX_CHANNEL, NO_REBOOT, doNetConf and PROVIDER are nixos-infect's own variables and reach it
# unchanged. It does not reboot: the CLI schedules the reboot once this script has succeeded.
set -euo pipefail

here=/root/nix-infra-provision
script=$here/infect-script

download() {
  if command -v curl >/dev/null; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -q -O "$2" "$1"
  else
    echo "install-nixos: neither curl nor wget is installed; install one and retry" >&2
    return 1
  fi
}

rm -f "$script.part"
if ! download "$NIX_INFRA_INFECT_URL" "$script.part"; then
  echo "install-nixos: could not download $NIX_INFRA_INFECT_URL" >&2
  exit 1
fi
if [[ -n ${NIX_INFRA_INFECT_SHA256:-} ]]; then
  actual=$(sha256sum "$script.part" | cut -d' ' -f1)
  if [[ $actual != "$NIX_INFRA_INFECT_SHA256" ]]; then
    echo "install-nixos: $NIX_INFRA_INFECT_URL has SHA-256 $actual, expected $NIX_INFRA_INFECT_SHA256; not running it" >&2
    exit 1
  fi
fi
mv -f "$script.part" "$script"

if [[ $NIX_INFRA_MUTATION == 1 ]]; then
  bash "$script" --apply
else
  bash "$script"
fi

# The host key NixOS will present after the reboot must be known before it, so that the first
# login afterwards can demand exactly that key (what a host says about itself proves nothing).
# NixOS's stage 1 moves everything not listed in /etc/NIXOS_LUSTRATE to /old-root; recent
# nixos-infect lists the /etc/ssh host keys, older ones (the default pinned commit among them)
# do not, and NixOS would make a new key at its first boot. So keep the Ed25519 key ourselves
# (made here if the machine has none): NixOS serves it, because it is on the default
# services.openssh.hostKeys path and NixOS only makes host keys that are missing. The CLI reads
# its .pub over this trusted connection. A mutation converts in place: nothing is lustrated.
if [[ $NIX_INFRA_MUTATION != 1 ]]; then
  host_key=/etc/ssh/ssh_host_ed25519_key
  if [[ ! -s $host_key || ! -s $host_key.pub ]]; then
    rm -f "$host_key" "$host_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "root@$(hostname)" -f "$host_key" </dev/null
  fi
  for kept in etc/ssh/ssh_host_ed25519_key etc/ssh/ssh_host_ed25519_key.pub; do
    grep -qxF "$kept" /etc/NIXOS_LUSTRATE 2>/dev/null || echo "$kept" >>/etc/NIXOS_LUSTRATE
  done
fi

# nixos-infect wrote a minimal configuration.nix next to the hardware (and network) files it
# generated; ours imports those and replaces it. The first `nixos-rebuild switch` builds it.
install -d -m 0755 /etc/nixos
install -m 0644 "$here/configuration.nix" /etc/nixos/configuration.nix
echo "install-nixos: done"
