#!/usr/bin/env bash
# The main job on this machine, without any cloud account: create a project, list its
# self-hosted servers, store and list a secret. Re-running it reuses the project.
#   DEMO_DIR=/path/to/project scripts/demo.sh   (default: ./demo-project)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
demo="${DEMO_DIR:-$repo/demo-project}"
cli() { node "$repo/bin/run.js" "$@"; }

mkdir -p "$demo"
if [[ ! -f "$demo/.env" ]]; then
  # Random passwords, in a file only root can read: the .env the operator would write by hand.
  (umask 077; cat > "$demo/.env" <<ENV
SSH_KEY=demo
SSH_EMAIL=demo@example.invalid
CA_PASS=$(openssl rand -hex 16)
INTERMEDIATE_CA_PASS=$(openssl rand -hex 16)
CERT_EMAIL=demo@example.invalid
CERT_COMPANY=Demo
SECRETS_PASS=$(openssl rand -hex 16)
ENV
  )
fi

echo "== init"
cli init -d "$demo" --batch

if [[ ! -f "$demo/servers.yaml" ]]; then
  # Documentation addresses (TEST-NET-3): listed, never contacted.
  cat > "$demo/servers.yaml" <<'YAML'
servers:
  web001:
    ip: 203.0.113.10
    ssh_key: ./ssh/demo
    description: demo entry
  db001:
    ip: 203.0.113.11
    port: 2222
    ssh_key: ./ssh/demo
YAML
fi

echo "== servers list"
cli servers list -d "$demo"

echo "== secrets store (from stdin) and list"
openssl rand -hex 24 | cli secrets store -d "$demo" --name demo.api-token --batch
cli secrets list -d "$demo"
echo "== done: project in $demo"
