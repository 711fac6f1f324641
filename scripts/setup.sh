#!/usr/bin/env bash
# Installs what nix-infra needs on a Debian machine and builds it.
#   scripts/setup.sh          system packages for running the CLI, npm ci, build
#   scripts/setup.sh --test   also the packages the test suite runs against
#   scripts/setup.sh --bench  also the baselines bench/fanout.js compares with
# Idempotent: packages already installed are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
with_bench=0
[[ "${1:-}" == "--test" ]] && with_tests=1
[[ "${1:-}" == "--bench" ]] && with_tests=1 && with_bench=1

# "command:package" pairs: a package is installed only when its command is missing, so tools
# provided another way (python3 from pyenv, node from nodesource) are left alone.
needs=(openssl:openssl update-ca-certificates:ca-certificates)
# Tests drive the real tools: openssl verifies the CA, ssh-keygen reads the keys we write,
# python3 gives the prompt tests a pseudo-terminal, nix-instantiate parses every Nix template.
((with_tests)) && needs+=(ssh-keygen:openssh-client python3:python3 nix-instantiate:nix-bin)
# etcd 3.4 with mutual TLS: sandbox control nodes run it (the demo and the tests); haproxy -c
# checks the configuration the confd template renders.
needs+=(etcd:etcd-server etcdctl:etcd-client)
# Sandbox hosts also need what the stand-ins and the uploaded scripts call: curl (the install
# script fetches nixos-infect), systemd-creds (deployed secrets), pgrep (the etcd member script).
needs+=(curl:curl systemd-creds:systemd pgrep:procps)
((with_tests)) && needs+=(haproxy:haproxy)
# The dashboard test drives Debian's own Chromium through playwright-core (no browser download).
((with_tests)) && needs+=(/usr/bin/chromium:chromium)
# Sandbox hosts (scripts/sandbox): network namespaces and a real sshd per host; also what the
# README's main job runs on.
needs+=(ip:iproute2 unshare:util-linux)
needs+=(/usr/sbin/sshd:openssh-server)
((with_bench)) && needs+=(parallel-ssh:pssh ansible:ansible /usr/bin/time:time)

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v npm >/dev/null || (( $(node_major) < 20 )); then
  needs+=(node:nodejs npm:npm)
fi

missing=()
for pair in "${needs[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or install them first" >&2
    exit 2
  fi
  apt-get update -qq
  # policy-rc.d keeps openssh-server's package scripts from starting a system sshd here.
  policy=/usr/sbin/policy-rc.d
  [[ -e $policy ]] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( $(node_major) < 20 )); then
  echo "setup: nix-infra needs Node.js 20 or later; this machine has $(node --version 2>/dev/null || echo none)" >&2
  exit 2
fi

npm ci --no-audit --no-fund --loglevel=error
npm run --silent build >/dev/null
echo "setup: ready ($(node bin/run.js --version))"
