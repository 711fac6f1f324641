#!/usr/bin/env bash
# The main job on this machine, without any cloud account: create a cluster project, provision
# three nodes through a local Hetzner-Cloud-compatible API whose servers are sandbox hosts
# (network namespaces with their own sshd), convert them to NixOS (with the sandbox's
# nixos-infect stand-in), set up the etcd control plane and join the workers, then work on them.
# Re-running it reuses the project.
#   DEMO_DIR=/path/to/project scripts/demo.sh   (default: ./demo-project)
#   KEEP_SANDBOX=1                               leave the hosts and the API server running
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
demo="${DEMO_DIR:-$repo/demo-project}"
sandbox_id="${DEMO_SANDBOX_ID:-1}"
cli() { node "$repo/bin/run.js" "$@"; }

if [[ -n "${HCLOUD_TOKEN:-}" ]]; then
  echo "demo: HCLOUD_TOKEN is set; this demo only runs against the local API server, so it is ignored" >&2
  unset HCLOUD_TOKEN
fi

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
# A re-run starts from fresh hosts: forget what the previous run's hosts presented.
rm -f "$demo/ssh/known_hosts" "$demo/servers.yaml"

echo "== init"
cli init -d "$demo" --batch

echo "== sandbox hosts and a local Hetzner Cloud API (see scripts/sandbox, test/hetzner-api/)"
"$repo/scripts/sandbox" up 3 --id "$sandbox_id"
rm -f "/tmp/nix-infra-sandbox/$sandbox_id/backing.map"
api_log=$(mktemp)
SANDBOX_ID=$sandbox_id BACKING_PUBKEY="$demo/ssh/demo.pub" \
  node "$repo/dist/test/hetzner-api/main.js" --action-ms 1500 --backing-command "$repo/scripts/sandbox-backing" >"$api_log" 2>&1 &
api_pid=$!
cleanup() {
  kill "$api_pid" 2>/dev/null || true
  "$repo/scripts/sandbox" down --id "$sandbox_id" >/dev/null
  rm -f "$api_log"
}
[[ "${KEEP_SANDBOX:-0}" == 1 ]] || trap cleanup EXIT
for _ in $(seq 50); do grep -q '^HCLOUD_ENDPOINT=' "$api_log" && break; sleep 0.1; done
export HCLOUD_ENDPOINT; HCLOUD_ENDPOINT=$(sed -n 's/^HCLOUD_ENDPOINT=//p' "$api_log")
export HCLOUD_TOKEN=test-token
[[ -n $HCLOUD_ENDPOINT ]] || { echo "demo: the local API server did not start: $(cat "$api_log")" >&2; exit 1; }
echo "HCLOUD_ENDPOINT=$HCLOUD_ENDPOINT"

echo "== ssh-key add"
cli ssh-key add -d "$demo" --name demo

echo "== provision: create the servers, convert them to NixOS"
cli provision -d "$demo" --node-names "etcd001 worker001 worker002" --nixos-version 25.05 \
  --machine-type cx22 --location fsn1 --placement-group demo \
  --nixos-infect-source file:///usr/local/lib/nix-infra-sandbox/nixos-infect --nixos-infect-ref test --batch

echo "== servers list"
cli servers list -d "$demo"

echo "== init-ctrl: certificates, control_node.nix, etcd with mutual TLS, mesh seeded"
cli init-ctrl -d "$demo" --target etcd001 --nixos-version 25.05 --cluster-uuid demo-cluster --batch

echo "== init-node: the workers join and are registered in etcd"
cli init-node -d "$demo" --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 \
  --service-group "backends services" --batch

echo "== secrets store, then deploy: the workers' own files, app modules and secrets as systemd credentials"
openssl rand -hex 24 | cli secrets store -d "$demo" --name demo.db-password --batch
mkdir -p "$demo/nodes" "$demo/app_modules/demo"
for node in worker001 worker002; do
  cat > "$demo/nodes/$node.nix" <<NIX
# Deployed by the demo: the secret is named here; its value reaches the node only as a credential.
{ ... }: {
  environment.etc."demo/db-password-name".text = "[%%secrets/demo.db-password%%]";
  environment.etc."demo/peers".text = "etcd001=[%%etcd001.ipv4%%] me=[%%localhost.hostname%%]";
}
NIX
done
cli deploy -d "$demo" --target "worker001 worker002" --nixos-version 25.05 --ctrl-nodes etcd001 --rebuild --batch

echo "== cluster state"
cli etcd nodes -d "$demo" --ctrl-nodes etcd001
cli etcd network -d "$demo" --ctrl-nodes etcd001
cli cluster cmd -d "$demo" --target "worker001 worker002" "ls -l /root/secrets | tail -n +2; systemd-creds decrypt --name=demo.db-password /root/secrets/demo.db-password - | wc -c"

echo "== status: what runs where, and whether it matches this checkout (exit 3 when a node needs attention; the action module written below would show as drift)"
cli status -d "$demo" --target "worker001 worker002" --ctrl-nodes etcd001

echo "== cluster cmd"
cli cluster cmd -d "$demo" --target "etcd001 worker001 worker002" "hostname; nixos-version; grep PRETTY_NAME /etc/os-release"

echo "== cluster upload"
mkdir -p "$demo/payload"
date > "$demo/payload/uploaded-at.txt"
cli cluster upload -d "$demo" --target worker001,worker002 --file "$demo/payload" --remote-path /root/demo
cli cluster cmd -d "$demo" --target worker002 "cat /root/demo/payload/uploaded-at.txt"

echo "== cluster action, its output kept as a secret"
cat > "$demo/app_modules/demo/action.sh" <<'SH'
#!/usr/bin/env bash
# Prints a fresh token: with --save-as-secret it goes into the secret store, not the terminal.
echo "token for $1 from $(hostname)" >&2
head -c 24 /dev/urandom | base64
SH
cli cluster action -d "$demo" --target worker001 --app-module demo --cmd "api" --save-as-secret demo.api-token --batch

echo "== secrets"
cli secrets list -d "$demo"

echo "== cluster destroy worker002: unregistered from etcd, then deleted (only servers labelled as this project's)"
cli cluster destroy -d "$demo" --target worker002 --ctrl-nodes etcd001 --batch
cli etcd nodes -d "$demo" --ctrl-nodes etcd001
cli servers list -d "$demo"
echo "== done: project in $demo"
echo "   live view of its status: nix-infra dashboard -d $demo (then open the printed http://127.0.0.1:8480/login URL; needs KEEP_SANDBOX=1 so the hosts stay up)"
