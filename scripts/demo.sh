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
  # Random passwords, in a file only its owner can read: the .env an operator would write by hand.
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

echo "== sandbox hosts (network namespaces with their own sshd; see scripts/sandbox)"
# Three local test hosts stand in for servers; servers.yaml and ssh/sandbox are written for them.
"$repo/scripts/sandbox" up 3 --id "${DEMO_SANDBOX_ID:-1}" --project "$demo"
# Fresh hosts have fresh host keys: pin the ones the sandbox generated (as an operator would pin
# fingerprints obtained out of band), replacing those of an earlier demo run.
cp "/tmp/nix-infra-sandbox/${DEMO_SANDBOX_ID:-1}/hosts.keys" "$demo/ssh/known_hosts"
[[ "${KEEP_SANDBOX:-0}" == 1 ]] || trap '"$repo/scripts/sandbox" down --id "${DEMO_SANDBOX_ID:-1}" >/dev/null' EXIT

echo "== servers list"
cli servers list -d "$demo"

echo "== fleet cmd"
cli fleet cmd -d "$demo" --target "node001 node002 node003" "hostname; nixos-version"

echo "== fleet upload"
mkdir -p "$demo/payload"
date > "$demo/payload/uploaded-at.txt"
cli fleet upload -d "$demo" --target node001,node002,node003 --file "$demo/payload" --remote-path /root/demo
cli fleet cmd -d "$demo" --target node002 "cat /root/demo/payload/uploaded-at.txt"

echo "== fleet action, its output kept as a secret"
mkdir -p "$demo/app_modules/demo"
cat > "$demo/app_modules/demo/action.sh" <<'SH'
#!/usr/bin/env bash
# Prints a fresh token: with --save-as-secret it goes into the secret store, not the terminal.
echo "token for $1 from $(hostname)" >&2
head -c 24 /dev/urandom | base64
SH
cli fleet action -d "$demo" --target node001 --app-module demo --cmd "api" --save-as-secret demo.api-token --batch

echo "== secrets"
openssl rand -hex 24 | cli secrets store -d "$demo" --name demo.db-password --batch
cli secrets list -d "$demo"
echo "== done: project in $demo"
